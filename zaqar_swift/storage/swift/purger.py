"""The purge worker: reclaims the space of purged and deleted queues.

Purge and queue delete only move a queue's cut (one PUT); messages below the
cut are already invisible, and Swift's expirer would remove them at their
X-Delete-At anyway. This worker deletes them sooner, in bulk.
"""
from __future__ import annotations

import logging
import random
import time
from typing import Callable

from zaqar_swift import errors
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift.store import MessageStore

LOG = logging.getLogger(__name__)


class Worker:
    """The shape of every background worker: ``run_once`` does one pass and
    returns how much it did; ``run_forever`` loops, staggers, logs, survives."""

    name = 'worker'

    def __init__(self, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = interval
        self._sleep = sleep
        self._stopped = False

    def run_once(self) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        self._stopped = True

    def run_forever(self) -> None:
        self._sleep(random.uniform(0, self.interval))   # stagger API nodes
        while not self._stopped:
            try:
                done = self.run_once()
                if done:
                    LOG.info('%s: %d done', self.name, done)
            except errors.StorageUnavailable as exc:
                LOG.warning('%s: storage unavailable: %s', self.name, exc.description)
            except Exception:
                LOG.exception('%s: pass failed', self.name)
            self._sleep(self.interval)


class PurgeWorker(Worker):
    """Deletes what purges and queue deletes left behind."""

    name = 'purge-worker'

    def __init__(self, store: MessageStore, client: swift.SwiftClient,
                 interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(interval, sleep)
        self._store = store
        self._client = client

    def run_once(self) -> int:
        removed = 0
        for job, container, cut in self._store.purge_jobs():
            removed += self._store.purge_below(container, cut)
            self._drop_if_empty(container)
            self._store.finish_job(job)
        return removed

    def _drop_if_empty(self, container: swift.Target) -> None:
        try:
            self._client.delete_container(container)
        except swift.PreconditionFailed:
            pass   # still holds newer messages: the queue lives on
