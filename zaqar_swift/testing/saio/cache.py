"""An in-process stand-in for memcached, for a one-process local Swift proxy.

Swift's proxy keeps tempauth tokens and account/container info in
``env['swift.cache']``; without a cache tempauth cannot keep tokens and the
proxy HEADs the account and container on every request (about twice the
work). memcached is not always installed, and a local Swift runs a single
proxy process, so a dictionary in that process is coherent. Values go
through JSON like they do with memcached, so callers that mutate what they
read cannot change the cached copy.

Use it in a proxy pipeline as::

    [filter:cache]
    paste.filter_factory = zaqar_swift.testing.saio.cache:filter_factory
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

# memcached reads an expiry above 30 days as an absolute Unix time.
_RELATIVE_LIMIT = 30 * 24 * 3600


class LocalCache:
    """The subset of ``swift.common.memcached.MemcacheRing`` Swift uses."""

    def __init__(self, clock: Callable[[], float] = time.time,
                 max_items: int = 100_000) -> None:
        self._clock = clock
        self._max_items = max_items
        self._items: dict[str, tuple[float, bytes | int]] = {}
        self._lock = threading.Lock()

    def _expiry(self, ttl: float) -> float:
        if not ttl:
            return float('inf')
        return ttl if ttl > _RELATIVE_LIMIT else self._clock() + ttl

    def _live(self, key: str):
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._items[key]
            return None
        return item

    def _store(self, key: str, expiry: float, value: bytes | int) -> None:
        if len(self._items) >= self._max_items and key not in self._items:
            self._evict()
        self._items[key] = (expiry, value)

    def _evict(self) -> None:
        now = self._clock()
        for key in [k for k, (exp, _v) in self._items.items() if exp <= now]:
            del self._items[key]
        while len(self._items) >= self._max_items:
            del self._items[next(iter(self._items))]

    def set(self, key: str, value: Any, serialize: bool = True, time: float = 0,
            min_compress_len: int = 0, raise_on_error: bool = False) -> None:
        if serialize:
            if isinstance(value, bytes):
                value = value.decode('utf8')
            data = json.dumps(value).encode('ascii')
        elif isinstance(value, bytes):
            data = value
        else:
            data = str(value).encode('utf-8')
        with self._lock:
            self._store(key, self._expiry(time), data)

    def get(self, key: str, raise_on_error: bool = False) -> Any:
        with self._lock:
            item = self._live(key)
        if item is None:
            return None
        value = item[1]
        if isinstance(value, int):
            return str(value).encode('ascii')
        try:
            return json.loads(value)
        except ValueError:
            return value

    def incr(self, key: str, delta: int = 1, time: float = 0) -> int:
        with self._lock:
            item = self._live(key)
            current = _as_int(item[1]) if item else 0
            value = max(0, current + int(delta))
            self._store(key, item[0] if item else self._expiry(time), value)
            return value

    def decr(self, key: str, delta: int = 1, time: float = 0) -> int:
        return self.incr(key, -int(delta), time)

    def delete(self, key: str, server_key: str | None = None) -> None:
        with self._lock:
            self._items.pop(key, None)

    def set_multi(self, mapping: dict, server_key: str, serialize: bool = True,
                  time: float = 0, min_compress_len: int = 0) -> None:
        for key, value in mapping.items():
            self.set(key, value, serialize=serialize, time=time)

    def get_multi(self, keys: list[str], server_key: str) -> list:
        return [self.get(key) for key in keys]


def _as_int(value: bytes | int) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(json.loads(value))
    except (TypeError, ValueError):
        return 0


class LocalCacheMiddleware:
    """Puts one process-wide :class:`LocalCache` in ``env['swift.cache']``."""

    def __init__(self, app, cache: LocalCache) -> None:
        self.app = app
        self.memcache = cache

    def __call__(self, env, start_response):
        env['swift.cache'] = self.memcache
        return self.app(env, start_response)


def filter_factory(global_conf: dict, **local_conf: str):
    cache = LocalCache(max_items=int(local_conf.get('max_items', 100_000)))

    def cache_filter(app):
        return LocalCacheMiddleware(app, cache)

    return cache_filter
