"""Pools and flavors: the control plane's records, in the service's cluster.

One object per pool in ``<prefix>~pools`` (body: ``{"uri", "weight",
"flavor", "options", "facts"}``) and one per flavor in ``<prefix>~flavors``
(body: ``{"name"}``; a flavor's pools are the pools whose ``flavor`` names
it, as in Zaqar). A pool's weight and flavor are also in its content type,
so placement reads one listing, not one object per pool. The listing is
cached for ``cache_ttl`` seconds per process; writes through this process
drop the cache at once.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, NamedTuple

from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import naming

POOL_TYPE = 'application/x-zaqar-pool'
FLAVOR_TYPE = 'application/x-zaqar-flavor'
# Pools one deployment may register: placement reads them all (one page).
MAX_POOLS = 1000


class PoolRow(NamedTuple):
    """What the pool listing says about one pool (``flavor`` '' for none;
    ``etag`` changes with every write of its record)."""

    name: str
    weight: int
    flavor: str
    etag: str


def _pool_type(weight: int, flavor: str | None) -> str:
    return '%s;w=%d;f=%s' % (POOL_TYPE, weight, flavor or '')


def _parse_row(row: dict[str, Any]) -> PoolRow:
    params = dict(part.split('=', 1) for part in row['content_type'].split(';')[1:]
                  if '=' in part)
    return PoolRow(row['name'], int(params.get('w', 0)), params.get('f', ''),
                   row.get('hash', ''))


class Registry:
    """Pool and flavor records of one deployment."""

    def __init__(self, client: swift.SwiftClient, prefix: str, cache_ttl: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._pools = swift.Target(None, naming.pools_container(prefix))
        self._flavors = swift.Target(None, naming.flavors_container(prefix))
        self._cache_ttl = cache_ttl
        self._clock = clock
        self._rows: tuple[float, list[PoolRow]] | None = None
        self._lock = threading.Lock()

    # -- pools ------------------------------------------------------------------
    def pool_rows(self, fresh: bool = False) -> list[PoolRow]:
        """Every registered pool (at most MAX_POOLS), from a listing at most
        ``cache_ttl`` seconds old (``fresh``: listed now)."""
        with self._lock:
            cached = self._rows
        if not fresh and cached and self._clock() - cached[0] < self._cache_ttl:
            return cached[1]
        rows = [_parse_row(r) for r in self._list(self._pools, None, MAX_POOLS)]
        with self._lock:
            self._rows = (self._clock(), rows)
        return rows

    def list_pools(self, marker: str | None, limit: int) -> list[str]:
        return [r['name'] for r in self._list(self._pools, marker, limit)]

    def get_pool(self, name: str) -> dict[str, Any] | None:
        return self._get(self._pools, name)

    def put_pool(self, name: str, doc: dict[str, Any]) -> None:
        self._put(self._pools, name, doc, _pool_type(doc['weight'], doc.get('flavor')))
        self.forget()

    def delete_pool(self, name: str) -> None:
        self._client.delete_object(self._pools, name)
        self.forget()

    def forget(self) -> None:
        """Drop the cached listing (after a write through this process)."""
        with self._lock:
            self._rows = None

    # -- flavors ----------------------------------------------------------------
    def list_flavors(self, marker: str | None, limit: int) -> list[str]:
        return [r['name'] for r in self._list(self._flavors, marker, limit)]

    def get_flavor(self, name: str) -> dict[str, Any] | None:
        return self._get(self._flavors, name)

    def put_flavor(self, name: str, doc: dict[str, Any]) -> None:
        self._put(self._flavors, name, doc, FLAVOR_TYPE)

    def delete_flavor(self, name: str) -> None:
        self._client.delete_object(self._flavors, name)

    # -- plumbing ---------------------------------------------------------------
    def _list(self, target: swift.Target, marker: str | None,
              limit: int) -> list[dict[str, Any]]:
        try:
            return self._client.list_objects(target, marker=marker, limit=limit)
        except swift.Missing:
            return []

    def _get(self, target: swift.Target, name: str) -> dict[str, Any] | None:
        try:
            _, body = self._client.get_object(target, name)
        except swift.Missing:
            return None
        return json.loads(body)

    def _put(self, target: swift.Target, name: str, doc: dict[str, Any],
             content_type: str) -> None:
        self._client.put_object_creating(target, name, json.dumps(doc).encode('utf-8'),
                                         content_type)
