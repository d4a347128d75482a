"""Operational metrics in Prometheus' text format.

What is counted, and where:

* ``zaqar_swift_http_requests_total{route,method,status}``: every request
  that reached the WSGI stack (refusals of auth_token and of the body limit
  included); ``route`` is the Falcon route template, ``unrouted`` when none
  matched or the request was refused before routing.
* ``zaqar_swift_swift_requests_total{operation}`` and
  ``zaqar_swift_swift_request_seconds{operation}`` (a histogram): every Swift
  request, by the client's verb (PUT, GET, HEAD, POST, DELETE, LIST, BULK),
  with the retries swiftclient makes inside it.
* ``zaqar_swift_claim_writes_total{outcome}``: claim-state writes by what
  became of them (``won``, ``lost`` to a concurrent writer, ``withdrawn``
  because it came back later than the settle delay, ``exorcised`` ghost
  claims written out). Every lost or withdrawn write makes its request try
  another round: together they are the retries.
* ``zaqar_swift_purge_backlog``: purge jobs waiting, listed when scraped.

Counters live in one registry per process (``REGISTRY``). Under a
multi-process server each process counts its own requests; with ``[metrics]
directory`` set, each process also writes its counters to
``<directory>/<pid>.json`` (at most once per ``flush_interval``), and a
scrape adds up every file there, so any process answers for the group. A
file of a process that exited stays: its counts happened.
"""
from __future__ import annotations

import bisect
import json
import os
import threading
import time
from typing import Any, Callable, Iterable

PREFIX = 'zaqar_swift_'
HTTP_REQUESTS = PREFIX + 'http_requests_total'
SWIFT_REQUESTS = PREFIX + 'swift_requests_total'
SWIFT_SECONDS = PREFIX + 'swift_request_seconds'
CLAIM_WRITES = PREFIX + 'claim_writes_total'
POST_OBJECTS = PREFIX + 'post_objects_total'
PURGE_BACKLOG = PREFIX + 'purge_backlog'
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
ROUTE_ENV = 'zaqar_swift.route'

HELP = {
    HTTP_REQUESTS: ('counter', 'API requests by route template, method and status.'),
    SWIFT_REQUESTS: ('counter', 'Swift requests by operation.'),
    SWIFT_SECONDS: ('histogram', 'Seconds a Swift request took (retries included).'),
    CLAIM_WRITES: ('counter', 'Claim state writes by outcome (won, lost, withdrawn, '
                              'exorcised); lost + withdrawn are the retried rounds.'),
    PURGE_BACKLOG: ('gauge', 'Purge jobs waiting for the purge worker.'),
    POST_OBJECTS: ('counter', 'Batch objects written for posts, by how many posts '
                              'each holds (1, 2, 3, 4+): posts that arrived together '
                              'share one.'),
}

Labels = tuple[tuple[str, str], ...]


def _key(labels: dict[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


class Registry:
    """Counters and histograms of one process, thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {}
        self._clock = clock
        self._flushed = -float('inf')
        self._timer: threading.Timer | None = None

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = _key(labels)
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        """One observation of histogram ``name``: its count, sum and bucket."""
        bucket = bisect.bisect_left(BUCKETS, seconds)
        le = '%g' % BUCKETS[bucket] if bucket < len(BUCKETS) else '+Inf'
        with self._lock:
            for suffix, extra, amount in (('_count', {}, 1.0), ('_sum', {}, seconds),
                                          ('_bucket', {'le': le}, 1.0)):
                series = self._counters.setdefault(name + suffix, {})
                key = _key(dict(labels, **extra))
                series[key] = series.get(key, 0.0) + amount

    def snapshot(self) -> dict[str, dict[Labels, float]]:
        with self._lock:
            return {name: dict(series) for name, series in self._counters.items()}

    def flush(self, directory: str | None, interval: float, force: bool = False) -> None:
        """Write this process' counters to ``<directory>/<pid>.json`` when
        ``interval`` has passed since the last write (or ``force``); else
        once the interval has passed, so the last requests before a quiet
        spell are written too."""
        if not directory:
            return
        with self._lock:
            wait = 0.0 if force else self._flushed + interval - self._clock()
            if wait > 0:
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._deferred, (directory,))
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._flushed = self._clock()
        write_snapshot(directory, os.getpid(), self.snapshot())

    def _deferred(self, directory: str) -> None:
        with self._lock:
            self._timer = None
            self._flushed = self._clock()
        write_snapshot(directory, os.getpid(), self.snapshot())


REGISTRY = Registry()


def claim_write(outcome: str) -> None:
    """Count one claim-state write by its outcome (see the module doc)."""
    REGISTRY.inc(CLAIM_WRITES, outcome=outcome)


def posts_grouped(posts: int) -> None:
    """Count one batch object written for ``posts`` posts."""
    REGISTRY.inc(POST_OBJECTS, posts=str(posts) if posts < 4 else '4+')


def swift_request(operation: str, seconds: float) -> None:
    REGISTRY.inc(SWIFT_REQUESTS, operation=operation)
    REGISTRY.observe(SWIFT_SECONDS, seconds, operation=operation)


# -- sharing between the processes of a group ---------------------------------

def write_snapshot(directory: str, pid: int, snapshot: dict[str, dict[Labels, float]]
                   ) -> None:
    os.makedirs(directory, exist_ok=True)
    data = {name: [[list(map(list, key)), value] for key, value in series.items()]
            for name, series in snapshot.items()}
    path = os.path.join(directory, '%d.json' % pid)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f)
    os.replace(tmp, path)   # a reader sees the old file or the new one


def read_snapshots(directory: str, skip_pid: int | None = None
                   ) -> list[dict[str, dict[Labels, float]]]:
    """Every process' counters in ``directory`` but ``skip_pid``'s."""
    found = []
    for entry in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        if not entry.endswith('.json') or entry == '%s.json' % skip_pid:
            continue
        try:
            with open(os.path.join(directory, entry)) as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue   # a file being replaced, or not ours
        found.append({name: {tuple(map(tuple, key)): value for key, value in series}
                      for name, series in data.items()})
    return found


def merged(snapshots: Iterable[dict[str, dict[Labels, float]]]
           ) -> dict[str, dict[Labels, float]]:
    total: dict[str, dict[Labels, float]] = {}
    for snapshot in snapshots:
        for name, series in snapshot.items():
            into = total.setdefault(name, {})
            for key, value in series.items():
                into[key] = into.get(key, 0.0) + value
    return total


# -- rendering ------------------------------------------------------------------

def _escape(value: str) -> str:
    return value.replace('\\', r'\\').replace('\n', r'\n').replace('"', r'\"')


def _labels(key: Labels) -> str:
    if not key:
        return ''
    return '{%s}' % ','.join('%s="%s"' % (k, _escape(v)) for k, v in key)


def _cumulative(series: dict[Labels, float]) -> dict[Labels, float]:
    """Prometheus buckets count every observation at or below ``le``."""
    by_labels: dict[Labels, dict[str, float]] = {}
    for key, value in series.items():
        rest = tuple(kv for kv in key if kv[0] != 'le')
        by_labels.setdefault(rest, {})[dict(key)['le']] = value
    out: dict[Labels, float] = {}
    for rest, counts in by_labels.items():
        running = 0.0
        for le in ['%g' % b for b in BUCKETS] + ['+Inf']:
            running += counts.get(le, 0.0)
            out[_key(dict(rest, le=le))] = running
    return out


def render(counters: dict[str, dict[Labels, float]], gauges: dict[str, float]) -> str:
    """The text exposition format (version 0.0.4)."""
    lines = []
    families = sorted(set(HELP) | {n for n in counters if n not in HELP and
                                   not n.startswith(SWIFT_SECONDS)})
    for family in families:
        kind, text = HELP.get(family, ('counter', family))
        lines += ['# HELP %s %s' % (family, text), '# TYPE %s %s' % (family, kind)]
        if kind == 'gauge':
            if family in gauges:
                lines.append('%s %s' % (family, _number(gauges[family])))
            continue
        names = [family] if kind == 'counter' else [family + s for s in
                                                    ('_bucket', '_sum', '_count')]
        for name in names:
            series = counters.get(name, {})
            if name.endswith('_bucket'):
                series = _cumulative(series)
            for key in sorted(series, key=_order):
                lines.append('%s%s %s' % (name, _labels(key), _number(series[key])))
    return '\n'.join(lines) + '\n'


def _order(key: Labels) -> tuple:
    return tuple((k, float('inf') if v == '+Inf' else _float_or(v)) for k, v in key)


def _float_or(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


# -- WSGI and Falcon ------------------------------------------------------------

class CountRequests:
    """WSGI middleware, outermost: count every request by route, method and
    status, and flush this process' counters to the shared directory."""

    def __init__(self, app: Callable, registry: Registry = REGISTRY,
                 directory: str | None = None, flush_interval: float = 1.0) -> None:
        self._app = app
        self._registry = registry
        self._directory = directory
        self._interval = flush_interval

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        def counting(status: str, headers: list, exc_info: Any = None) -> Callable:
            self._registry.inc(HTTP_REQUESTS, route=environ.get(ROUTE_ENV) or 'unrouted',
                               method=_method(environ), status=status.split(' ', 1)[0])
            return start_response(status, headers, exc_info)

        try:
            return self._app(environ, counting)
        finally:
            self._registry.flush(self._directory, self._interval)


KNOWN_METHODS = frozenset({'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'})


def _method(environ: dict[str, Any]) -> str:
    """The method, or ``other``: a client must not grow the label set."""
    method = environ.get('REQUEST_METHOD', '')
    return method if method in KNOWN_METHODS else 'other'


class RouteLabel:
    """Falcon middleware: tell ``CountRequests`` the route template."""

    def process_resource(self, req: Any, resp: Any, resource: object,
                         params: dict[str, Any]) -> None:
        if resource is not None and req.uri_template:
            req.env[ROUTE_ENV] = req.uri_template


class Resource:
    """``GET /metrics``: the counters of this process (of every process of
    the group with a shared directory) and the purge backlog."""

    serves = ('text/plain',)

    def __init__(self, backlog: Callable[[], int], registry: Registry = REGISTRY,
                 directory: str | None = None) -> None:
        self._backlog = backlog
        self._registry = registry
        self._directory = directory

    def on_get(self, req: Any, resp: Any) -> None:
        resp.content_type = CONTENT_TYPE
        resp.text = render(self.counters(), {PURGE_BACKLOG: self._backlog()})

    def counters(self) -> dict[str, dict[Labels, float]]:
        own = self._registry.snapshot()
        if not self._directory:
            return own
        self._registry.flush(self._directory, 0.0, force=True)
        return merged([own] + read_snapshots(self._directory, skip_pid=os.getpid()))


# -- Swift ----------------------------------------------------------------------

def measured_client_class() -> type:
    """A SwiftClient that times every request it sends (imported lazily:
    the storage stack is only loaded to serve)."""
    from zaqar_swift.storage.swift import client as swift

    class MeasuredSwiftClient(swift.SwiftClient):
        def _call(self, verb: str, *args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return super()._call(verb, *args, **kwargs)
            finally:
                swift_request(verb, time.monotonic() - started)

    return MeasuredSwiftClient
