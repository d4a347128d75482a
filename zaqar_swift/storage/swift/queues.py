"""Queue records: metadata, existence and the purge cut, in a catalog.

Each project has a catalog container with one object per queue. The object
body is ``{"metadata": {...}, "cut": <micros>}``; a deleted queue leaves a
tombstone (``;deleted=1`` in its content type, so listings skip it without a
GET) that keeps the cut until every message older than it has expired.
Messages whose batch id is older than the cut are invisible: purge and
delete are one PUT, whatever the queue's size; the purge worker reclaims the
space in the background and Swift's expirer would in any case.
"""
from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import threading
import time
from typing import Any, Callable, Iterator

from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import naming

QUEUE_TYPE = 'application/x-zaqar-queue'
DELETED_TYPE = QUEUE_TYPE + ';deleted=1'


@dataclasses.dataclass(frozen=True)
class QueueRecord:
    """What the catalog says about one queue."""

    exists: bool
    metadata: dict[str, Any]
    cut: int = 0
    # Subscriptions made before this are gone (purged or queue deleted);
    # purges of messages only leave it alone.
    sub_cut: int = 0
    # The pool holding the queue's messages (None: the service's own Swift);
    # chosen once, when the queue is created.
    pool: str | None = None


MISSING = QueueRecord(False, {}, 0)


class Catalog:
    """Queue records of every project, with a short per-process cache of at
    most ``cache_size`` records (the least recently used go first), so
    requests for random queue names cannot grow it."""

    def __init__(self, client: swift.SwiftClient, prefix: str, cache_ttl: float,
                 tombstone_life: int, clock: Callable[[], float] = time.time,
                 reseller_prefix: str | None = None, cache_size: int = 10000,
                 placer: Callable[[str, str, dict[str, Any]], str | None] | None = None
                 ) -> None:
        self._client = client
        self._placer = placer   # pools.Pools.place when pooling is enabled
        self._prefix = prefix
        self._reseller = reseller_prefix
        self._cache_ttl = cache_ttl
        self._cache_size = cache_size
        self._tombstone_life = tombstone_life
        self._clock = clock
        self._cache: collections.OrderedDict[tuple[str, str], tuple[float, QueueRecord]] = \
            collections.OrderedDict()
        self._lock = threading.Lock()

    def container(self, project: str) -> swift.Target:
        return swift.Target(naming.project_account(self._reseller, project),
                            naming.catalog_container(self._prefix, project))

    def get(self, project: str, queue: str, fresh: bool = False) -> QueueRecord:
        now = self._clock()
        with self._lock:
            cached = self._cache.get((project, queue))
            if cached:
                self._cache.move_to_end((project, queue))
        if not fresh and cached and now - cached[0] < self._cache_ttl:
            return cached[1]
        record = self._read(project, queue)
        self._remember(project, queue, record, now)
        return record

    def _read(self, project: str, queue: str) -> QueueRecord:
        try:
            headers, body = self._client.get_object(self.container(project), queue)
        except swift.Missing:
            return MISSING
        doc = json.loads(body)
        deleted = 'deleted=1' in headers.get('content-type', '')
        return QueueRecord(not deleted, {} if deleted else doc.get('metadata', {}),
                           int(doc.get('cut', 0)), int(doc.get('sub_cut', 0)),
                           None if deleted else doc.get('pool'))

    def put(self, project: str, queue: str, metadata: dict[str, Any], cut: int,
            sub_cut: int = 0, pool: str | None = None) -> None:
        """Write a queue's record; an update passes the record's ``pool``
        on (a queue never changes pool)."""
        doc = {'metadata': metadata, 'cut': cut, 'sub_cut': sub_cut}
        if pool:
            doc['pool'] = pool
        self._write(project, queue, doc, QUEUE_TYPE, {})
        self._remember(project, queue, QueueRecord(True, metadata, cut, sub_cut, pool))

    def create(self, project: str, queue: str, metadata: dict[str, Any],
               previous: QueueRecord) -> None:
        """Write the record of a new queue (``previous``: its missing record
        or tombstone, whose cuts it keeps), placed in a pool when pooling is
        enabled."""
        pool = self._placer(project, queue, metadata) if self._placer else None
        self.put(project, queue, metadata, previous.cut, previous.sub_cut, pool)

    def bury(self, project: str, queue: str, cut: int) -> None:
        """Replace the record by a tombstone that remembers ``cut`` (for
        messages and subscriptions alike)."""
        headers = {'X-Delete-After': str(self._tombstone_life)}
        self._write(project, queue, {'metadata': {}, 'cut': cut, 'sub_cut': cut},
                    DELETED_TYPE, headers)
        self._remember(project, queue, QueueRecord(False, {}, cut, cut))

    def _write(self, project: str, queue: str, doc: dict[str, Any],
               content_type: str, headers: dict[str, str]) -> None:
        self._client.put_object_creating(self.container(project), queue,
                                         json.dumps(doc).encode('utf-8'), content_type,
                                         headers)

    def _remember(self, project: str, queue: str, record: QueueRecord,
                  now: float | None = None) -> None:
        with self._lock:
            self._cache[(project, queue)] = (self._clock() if now is None else now, record)
            self._cache.move_to_end((project, queue))
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def cached(self) -> int:
        """How many records the cache holds."""
        return len(self._cache)

    def _live(self, project: str, marker: str | None, contains: str | None,
              page: int) -> Iterator[str]:
        try:
            for row in self._client.iter_objects(self.container(project), marker=marker,
                                                 page=page):
                if 'deleted=1' not in row['content_type'] and (
                        not contains or contains in row['name']):
                    yield row['name']
        except swift.Missing:
            return

    def list(self, project: str, marker: str | None, limit: int,
             contains: str | None = None) -> list[str]:
        """Up to ``limit`` live queue names after ``marker`` (containing
        ``contains`` when given)."""
        return list(itertools.islice(self._live(project, marker, contains, 1000), limit))

    def count(self, project: str, contains: str | None = None) -> int:
        return sum(1 for _ in self._live(project, None, contains, 10000))
