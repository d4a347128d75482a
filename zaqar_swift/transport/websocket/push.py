"""Push: the websocket process watches the queues its connections
subscribed to and sends them the new messages.

Messages reach Swift through any API process, REST or websocket, so the
watcher reads Swift: every ``interval`` it looks once at each watched
queue (``MessagingService.arrivals``: one bounded listing of the recent
batches after the queue's cursor, plus one GET per new batch), whatever
the number of connections subscribed to it, and sends each new message to
every live subscription of that queue. A subscription is of one project's
queue and is made by a connection acting for that project (its token's,
under keystone), so pushes never cross projects.

A subscription made while its queue is already watched also gets the
messages of the last interval the watch has not looked at yet.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import threading
import time
from typing import Any, Callable

from zaqar_swift.service import MessagingService
from zaqar_swift.transport.websocket import frames
from zaqar_swift.transport.websocket import render
from zaqar_swift.transport.websocket.subscriptions import PushSubscription

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Watch:
    """One watched queue: its cursor and its subscriptions by id."""

    project: str
    queue: str
    cursor: Any
    subscriptions: dict[str, PushSubscription]


class Watcher:
    """The queues this process watches; ``run`` looks at them."""

    def __init__(self, service: MessagingService, interval: float, window: float,
                 threads: int = 4, clock: Callable[[], float] = time.time) -> None:
        self._service = service
        self._interval = interval
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._watches: dict[tuple[str, str], Watch] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(threads, 'ws-push')
        self.looks = 0   # listings made, for tests and benchmarks

    def add(self, sub: PushSubscription) -> None:
        key = (sub.project, sub.queue)
        with self._lock:
            watch = self._watches.get(key)
            if watch is None:
                cursor = self._service.watch(self._service.now(), self._window)
                watch = self._watches[key] = Watch(sub.project, sub.queue, cursor, {})
            watch.subscriptions[sub.id] = sub

    def remove(self, sub: PushSubscription) -> None:
        key = (sub.project, sub.queue)
        with self._lock:
            watch = self._watches.get(key)
            if watch is not None:
                watch.subscriptions.pop(sub.id, None)
                if not watch.subscriptions:
                    del self._watches[key]

    def watched(self) -> int:
        with self._lock:
            return len(self._watches)

    async def run(self, stopping: asyncio.Event) -> None:
        """Look at every watched queue each interval until ``stopping``."""
        loop = asyncio.get_running_loop()
        while not stopping.is_set():
            started = loop.time()
            with self._lock:
                watches = list(self._watches.values())
            await asyncio.gather(*(self._look(loop, w) for w in watches))
            try:
                await asyncio.wait_for(stopping.wait(),
                                       max(0.0, self._interval - (loop.time() - started)))
            except asyncio.TimeoutError:
                pass
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _look(self, loop: asyncio.AbstractEventLoop, watch: Watch) -> None:
        try:
            found = await loop.run_in_executor(self._pool, self._service.arrivals,
                                               watch.project, watch.queue, watch.cursor)
        except Exception:   # Swift down: try again next interval
            LOG.warning('push: cannot look at queue %s', watch.queue, exc_info=True)
            return
        self.looks += 1
        self._deliver(watch, found)

    def _deliver(self, watch: Watch, found: list[dict[str, Any]]) -> None:
        now = self._clock()
        with self._lock:
            subscribed = list(watch.subscriptions.values())
        for sub in subscribed:
            if sub.expires <= now:
                sub.session.subscriptions.pop(sub.id, None)
                self.remove(sub)
                continue
            for msg in found:
                sub.session.push(frames.encode(render.notification(msg, watch.queue),
                                               sub.binary))
