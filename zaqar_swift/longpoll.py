"""Long polling (``?wait=N``): one look at Swift per queue and interval per
process, whatever the number of clients waiting on that queue.

A request that found nothing waits here until its deadline. While any
request of this process waits on a queue, one of them at a time (the first
whose turn it is) runs the queue's check (a bounded listing: are there free
messages?) at most once per ``interval``; when the check finds something, or
a POST through this process wakes the queue, every waiter goes and tries
again (their claims share rounds, claims.py). Nothing runs while nobody
waits: there is no background thread.

A waiting request holds one of the server's threads; at most ``max_waiters``
requests of the process wait at once, the others answer at once as without
``wait``, so waiters can never take every thread.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Hashable

KEPT = 1000   # queues remembered without waiters before the stale ones go


class _Queue:
    """What the waiters of one queue share."""

    __slots__ = ('waiters', 'news', 'checked', 'empty', 'busy', 'context')

    def __init__(self) -> None:
        self.waiters = 0
        self.news = 0              # wake-ups so far (a check found messages, a post)
        self.checked = -float('inf')   # when the last check (or empty claim) ran
        self.empty = False         # ... and found nothing
        self.busy = False          # a check is running
        self.context: Any = None   # what the last empty look knew (the queue record)


class Pollers:
    """The long-poll waiters of one process, per queue key."""

    def __init__(self, interval: float, max_waiters: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.max_waiters = max_waiters
        self._clock = clock
        self._cond = threading.Condition()
        self._queues: dict[Hashable, _Queue] = {}
        self._waiting = 0

    def deadline(self, wait: float) -> float:
        return self._clock() + wait

    def known_empty(self, key: Hashable) -> Any:
        """The context of a look within the last interval (or before the
        one running now) that found the queue empty (nothing woke it
        since), else None: a new waiter need
        not look again, nor read what that look read. None also when no
        waiter slot is free (the request answers as without ``wait``)."""
        with self._cond:
            queue = self._queues.get(key)
            if queue is not None and queue.empty and self._waiting < self.max_waiters \
                    and (queue.busy or self._clock() < queue.checked + self.interval):
                return queue.context
            return None

    def found_empty(self, key: Hashable, context: Any) -> None:
        """A request looked (a claim found nothing): that look counts as the
        queue's check of this interval."""
        with self._cond:
            queue = self._entry(key)
            if not queue.busy:
                queue.checked, queue.empty, queue.context = self._clock(), True, context

    def _entry(self, key: Hashable) -> _Queue:
        queue = self._queues.get(key)
        if queue is None:
            if len(self._queues) >= KEPT:
                stale = self._clock() - self.interval
                for old in [k for k, q in self._queues.items()
                            if not q.waiters and q.checked < stale]:
                    del self._queues[old]
            queue = self._queues[key] = _Queue()
        return queue

    def wake(self, key: Hashable) -> None:
        """Messages arrived through this process: waiters try again now."""
        with self._cond:
            queue = self._queues.get(key)
            if queue is not None:
                queue.news += 1
                queue.empty = False
                self._cond.notify_all()

    def wait(self, key: Hashable, check: Callable[[], bool], deadline: float,
             context: Any = None) -> bool:
        """Block until the queue may have messages (True) or ``deadline``
        (monotonic seconds) passes, or no waiter slot is free (False).
        ``check`` (one Swift listing) runs at most once per interval for the
        queue, by whichever waiter's turn it is."""
        with self._cond:
            if self._waiting >= self.max_waiters:
                return False
            self._waiting += 1
            queue = self._entry(key)
            queue.waiters += 1
            try:
                return self._wait(queue, check, deadline, context)
            finally:
                self._waiting -= 1
                queue.waiters -= 1

    def _wait(self, queue: _Queue, check: Callable[[], bool], deadline: float,
              context: Any) -> bool:
        seen = queue.news
        while True:
            now = self._clock()
            if queue.news != seen:
                return True
            if now >= deadline:
                return False
            due = queue.checked + self.interval
            if queue.busy or now < due:
                self._cond.wait(min(deadline, due if not queue.busy else deadline) - now)
                continue
            queue.busy = True
            self._cond.release()
            try:
                found = check()
            finally:
                self._cond.acquire()
                queue.busy = False
                queue.checked, queue.empty = self._clock(), False
                self._cond.notify_all()
            if found:
                queue.news += 1
                return True
            queue.empty, queue.context = True, context
