"""Time and ids for the storage layer, injectable so tests need not sleep."""
from __future__ import annotations

import random
import threading
import time
from typing import Callable


class Clock:
    """Wall time (ids, expiry), a monotonic clock (how long a step took) and
    random bits. Batch ids grow strictly in one process, so listing order is
    enqueue order per API node."""

    def __init__(self, time_fn: Callable[[], float] = time.time,
                 rand: Callable[[int], int] = random.getrandbits,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.time = time_fn
        self.monotonic = monotonic
        self._rand = rand
        self._last = 0
        self._lock = threading.Lock()

    def micros(self, floor: int = 0) -> int:
        """Microseconds since the epoch, larger than any given before and
        than ``floor``."""
        with self._lock:
            self._last = max(self._last + 1, int(self.time() * 1e6), floor + 1)
            return self._last

    def nonce(self, bits: int) -> int:
        return self._rand(bits)
