"""The purge worker: reclaims the space of purged and deleted queues.

Purge and queue delete only move a queue's cut (one PUT); messages below the
cut are already invisible, and Swift's expirer would remove them at their
X-Delete-At anyway. This worker deletes them sooner, in bulk.

Jobs run oldest first and fairly: one project's jobs take turns with every
other project's, and each job does a bounded amount of work per pass. A job
that fails waits before its next try (doubling, up to ``max_backoff``)
without holding up the jobs after it. Several API processes may run the
worker against one cluster: bulk deletes are idempotent, and the job object
goes only when its queue holds nothing below the cut.
"""
from __future__ import annotations

import collections
import itertools
import logging
import random
import threading
import time
from typing import Callable, Iterable

from zaqar_swift import errors
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift.store import Job, MessageStore

LOG = logging.getLogger(__name__)


class Worker:
    """The shape of every background worker: ``run_once`` does one pass and
    returns how much it did; ``run_forever`` staggers, loops, logs and
    survives until ``stop`` is called (which wakes it at once)."""

    name = 'worker'

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stopped = threading.Event()

    def run_once(self) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        self._stopped.set()

    def run_forever(self) -> None:
        if self._stopped.wait(random.uniform(0, self.interval)):   # stagger API nodes
            return
        while not self._stopped.is_set():
            try:
                done = self.run_once()
                if done:
                    LOG.info('%s: %d done', self.name, done)
            except errors.StorageUnavailable as exc:
                LOG.warning('%s: storage unavailable: %s', self.name, exc.description)
            except Exception:
                LOG.exception('%s: pass failed', self.name)
            self._stopped.wait(self.interval)


class Backoff:
    """When each failing key may be tried again: ``base`` seconds after its
    first failure, doubling with each further one, at most ``ceiling``."""

    def __init__(self, base: float, ceiling: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._base, self._ceiling, self._clock = base, ceiling, clock
        self._failures: dict[str, tuple[int, float]] = {}

    def ready(self, key: str) -> bool:
        failures = self._failures.get(key)
        return failures is None or self._clock() >= failures[1]

    def failed(self, key: str) -> float:
        """Record a failure; returns the seconds until the next try."""
        count = self._failures.get(key, (0, 0.0))[0] + 1
        delay = min(self._ceiling, self._base * 2 ** (count - 1))
        self._failures[key] = (count, self._clock() + delay)
        return delay

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def forget_except(self, keys: set[str]) -> None:
        """Drop the records of keys that no longer exist (bounded memory)."""
        for key in set(self._failures) - keys:
            del self._failures[key]


def fair_order(jobs: Iterable[Job]) -> list[Job]:
    """Jobs oldest cut first within each project; projects take turns, the
    one with the oldest job first."""
    by_owner: dict[str, list[Job]] = collections.defaultdict(list)
    for job in jobs:
        by_owner[job.target.account or naming.container_owner(job.target.container)].append(job)
    queues = sorted((sorted(owned, key=lambda j: j.cut) for owned in by_owner.values()),
                    key=lambda owned: owned[0].cut)
    turns = itertools.zip_longest(*queues)
    return [job for turn in turns for job in turn if job is not None]


class PurgeWorker(Worker):
    """Deletes what purges and queue deletes left behind."""

    name = 'purge-worker'

    def __init__(self, store: MessageStore, client: swift.SwiftClient, interval: float,
                 max_backoff: float = 300.0, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        super().__init__(interval)
        self._store = store
        self._client = client
        self._backoff = Backoff(interval, max_backoff, clock)

    def run_once(self) -> int:
        removed = 0
        jobs = self._store.purge_jobs()
        self._backoff.forget_except({job.name for job in jobs})
        for job in fair_order(jobs):
            if self._backoff.ready(job.name):
                removed += self._run(job)
        return removed

    def _run(self, job: Job) -> int:
        try:
            progress = self._store.purge_below(job.target, job.cut)
            if progress.done:
                self._drop_if_empty(job.target)
                self._store.finish_job(job)
        except Exception as exc:   # one failing job must not stop the others
            delay = self._backoff.failed(job.name)
            LOG.warning('%s: job %s failed (%s); next try in %.0f s', self.name, job.name,
                        getattr(exc, 'description', None) or repr(exc), delay)
            return 0
        self._backoff.succeeded(job.name)
        return progress.removed

    def _drop_if_empty(self, container: swift.Target) -> None:
        try:
            self._client.delete_container(container)
        except swift.PreconditionFailed:
            pass   # still holds newer messages: the queue lives on
