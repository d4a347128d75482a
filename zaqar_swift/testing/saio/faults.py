"""Deterministic faults injected into the real local Swift (tests only).

A paste filter in the local proxy's pipeline, after ``bulk`` and just before
the final ``proxy-logging proxy-server`` (:mod:`.config`), so it sees every
account, container and object request, bulk-delete subrequests included.
It holds a list of :class:`Rule` s, empty when the proxy starts; the first
live rule that matches a request acts on it:

``delay``           sleep ``seconds``, then pass the request on (it lands late);
``delay_response``  pass it on, then sleep ``seconds`` before answering (the
                    write has landed, its client learns late);
``fail``            answer ``status`` (503) without passing it on;
``hide``            pass it on; when it succeeds, JSON listings of its
                    container omit the object for ``seconds`` (a container
                    update that lags, as Swift's async pendings do); a
                    write that fails is not counted against ``times``.

Tests drive it from any process through a control path on the proxy that the
filter answers itself, without auth (:class:`FaultsClient`, which
``LocalSwift.faults`` returns)::

    rule_id = swift.faults.add(Rule(method='PUT', path=r'/m/[0-9a-f]{22}/g',
                                    action='delay', seconds=0.6, times=1))
    swift.faults.hits(rule_id)      # requests the rule acted on
    swift.faults.clear()            # every rule and hidden row

The proxy runs one eventlet process (``workers = 0``): the filter sleeps with
``eventlet.sleep`` so a delayed request does not hold up the others, and its
state needs no lock (nothing yields between a match and its count).
Restarting the proxy forgets every rule.
"""
from __future__ import annotations

import dataclasses
import http.client
import json
import re
import time
from typing import Any, Callable, Iterable

ACTIONS = ('delay', 'delay_response', 'fail', 'hide')
CONTROL_PATH = '/__faults__'
# Bulk's subrequests carry no query string of their own; a rule's ``query``
# sees the one of the client request that caused them.
SOURCE_QUERIES = {'BD': 'bulk-delete', 'EA': 'extract-archive'}
FAIL_BODY = b'fault injected by zaqar_swift.testing.saio.faults\n'

Headers = list[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Rule:
    """Which requests a fault applies to, and the fault.

    ``method`` and the regexes ``path`` (``re.search`` on the unquoted path
    ``/v1/<account>/<container>[/<object>]``) and ``query`` (on the query
    string) select requests; None selects any. ``times`` bounds how many
    requests the rule acts on (None: no bound); it stays inert afterwards.
    """

    method: str | None = None
    path: str | None = None
    action: str = 'fail'
    status: int = 503
    seconds: float = 0.0
    times: int | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError('action %r is not one of %s' % (self.action, ACTIONS))
        if not 100 <= int(self.status) <= 599:
            raise ValueError('status %r is not an HTTP status' % self.status)
        if float(self.seconds) < 0 or (self.times is not None and int(self.times) < 0):
            raise ValueError('seconds and times must not be negative')
        for pattern in (self.path, self.query):
            try:
                re.compile(pattern or '')
            except re.error as exc:
                raise ValueError('bad regex %r: %s' % (pattern, exc)) from None

    def matches(self, method: str, path: str, query: str) -> bool:
        return ((self.method is None or self.method.upper() == method)
                and (self.path is None or re.search(self.path, path) is not None)
                and (self.query is None or re.search(self.query, query) is not None))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> 'Rule':
        unknown = set(doc) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError('unknown rule fields: %s' % ', '.join(sorted(unknown)))
        return cls(**doc)


class Rules:
    """The rules of one proxy, their hit counts and the rows they hide."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._next_id = 1
        self._rules: dict[int, Rule] = {}
        self._hits: dict[int, int] = {}
        # container path -> {object name: hidden until}
        self._hidden: dict[str, dict[str, float]] = {}

    def add(self, rule: Rule) -> int:
        rule_id, self._next_id = self._next_id, self._next_id + 1
        self._rules[rule_id] = rule
        self._hits[rule_id] = 0
        return rule_id

    def take(self, method: str, path: str, query: str) -> tuple[int, Rule] | None:
        """The first live rule matching the request and its id, its hit
        counted."""
        for rule_id, rule in self._rules.items():
            live = rule.times is None or self._hits[rule_id] < rule.times
            if live and rule.matches(method, path, query):
                self._hits[rule_id] += 1
                return rule_id, rule
        return None

    def refund(self, rule_id: int) -> None:
        """Uncount a hit: the rule did not act after all."""
        if self._hits.get(rule_id):
            self._hits[rule_id] -= 1

    def hits(self, rule_id: int) -> int:
        """How many requests rule ``rule_id`` acted on (KeyError if unknown)."""
        return self._hits[rule_id]

    def describe(self) -> list[dict[str, Any]]:
        return [{'id': rule_id, 'rule': rule.to_json(), 'hits': self._hits[rule_id]}
                for rule_id, rule in self._rules.items()]

    def clear(self) -> None:
        """Forget every rule and every hidden row (ids keep growing)."""
        self._rules.clear()
        self._hits.clear()
        self._hidden.clear()

    def hide(self, container_path: str, name: str, seconds: float) -> None:
        rows = self._hidden.setdefault(container_path, {})
        rows[name] = max(rows.get(name, 0.0), self._clock() + seconds)

    def hidden(self, container_path: str) -> frozenset[str]:
        """Names that listings of ``container_path`` must omit now."""
        rows = self._hidden.get(container_path)
        if not rows:
            return frozenset()
        now = self._clock()
        for name in [n for n, until in rows.items() if until <= now]:
            del rows[name]
        if not rows:
            del self._hidden[container_path]
        return frozenset(rows)

    @property
    def idle(self) -> bool:
        """No rule and nothing hidden: requests can pass untouched."""
        for container_path in list(self._hidden):
            self.hidden(container_path)   # drops what has expired
        return not self._rules and not self._hidden


# -- the filter -----------------------------------------------------------------

def request_target(env: dict[str, Any]) -> tuple[str, str, str]:
    """``(method, unquoted path, query)`` of a WSGI request, as rules see it."""
    # PEP 3333: PATH_INFO holds the URL-decoded bytes as latin-1.
    path = env.get('PATH_INFO', '').encode('latin-1').decode('utf-8', 'surrogateescape')
    query = env.get('QUERY_STRING', '') or SOURCE_QUERIES.get(env.get('swift.source'), '')
    return env.get('REQUEST_METHOD', 'GET'), path, query


def container_of(path: str) -> tuple[str, str | None] | None:
    """``('/v1/a/c', 'o' or None)`` of an account path with a container."""
    parts = path.split('/', 4)
    if len(parts) < 4 or parts[0] or not parts[1].startswith('v') or not parts[3]:
        return None
    obj = parts[4] if len(parts) == 5 and parts[4] else None
    return '/'.join(parts[:4]), obj


class FaultFilter:
    """WSGI middleware applying :class:`Rules` (see the module doc)."""

    def __init__(self, app: Callable, rules: Rules,
                 sleep: Callable[[float], None]) -> None:
        self.app = app
        self.rules = rules
        self.sleep = sleep

    def __call__(self, env: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method, path, query = request_target(env)
        if path == CONTROL_PATH or path.startswith(CONTROL_PATH + '/'):
            return self._control(env, method, path, start_response)
        if self.rules.idle:
            return self.app(env, start_response)
        rule_id, rule = self.rules.take(method, path, query) or (0, None)
        if rule is not None and rule.action == 'fail':
            return _respond(start_response, rule.status, FAIL_BODY, 'text/plain')
        if rule is not None and rule.action == 'delay':
            self.sleep(rule.seconds)
        status, headers, body = call_app(self.app, env)
        if rule is not None and rule.action == 'delay_response':
            self.sleep(rule.seconds)
        target = container_of(path)
        if rule is not None and rule.action == 'hide':
            if status.startswith('2') and target and target[1]:
                self.rules.hide(target[0], target[1], rule.seconds)
            else:   # nothing hidden: a failed write does not use up ``times``
                self.rules.refund(rule_id)
        if method == 'GET' and target and target[1] is None and status.startswith('200'):
            body, headers = self._filter_listing(target[0], headers, body)
        start_response(status, headers)
        return body

    def _filter_listing(self, container_path: str, headers: Headers,
                        body: Iterable[bytes]) -> tuple[Iterable[bytes], Headers]:
        hidden = self.rules.hidden(container_path)
        ctype = dict((k.lower(), v) for k, v in headers).get('content-type', '')
        if not hidden or not ctype.startswith('application/json'):
            return body, headers
        rows = json.loads(_drain(body))
        data = json.dumps([r for r in rows if r.get('name') not in hidden]).encode()
        headers = [(k, v) for k, v in headers if k.lower() not in ('content-length', 'etag')]
        return [data], headers + [('Content-Length', str(len(data)))]

    def _control(self, env: dict[str, Any], method: str, path: str,
                 start_response: Callable) -> Iterable[bytes]:
        rule_id = path[len(CONTROL_PATH) + 1:]
        try:
            if method == 'GET' and not rule_id:
                return _json(start_response, 200, {'rules': self.rules.describe()})
            if method == 'GET':
                return _json(start_response, 200, {'id': int(rule_id),
                                                   'hits': self.rules.hits(int(rule_id))})
            if method == 'POST' and not rule_id:
                rule = Rule.from_json(json.loads(_read_body(env)))
                return _json(start_response, 201, {'id': self.rules.add(rule)})
            if method == 'DELETE' and not rule_id:
                self.rules.clear()
                return _respond(start_response, 204, b'', 'text/plain')
        except KeyError:
            return _json(start_response, 404, {'error': 'no rule %s' % rule_id})
        except (ValueError, TypeError) as exc:
            return _json(start_response, 400, {'error': str(exc)})
        return _json(start_response, 405, {'error': '%s %s' % (method, path)})


def call_app(app: Callable, env: dict[str, Any]) -> tuple[str, Headers, Iterable[bytes]]:
    """Call a WSGI app; return its status, headers and body iterable."""
    started: list[tuple[str, Headers]] = []

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> Callable:
        started[:] = [(status, list(headers))]
        return lambda data: None

    body = app(env, start_response)
    if not started:
        # An app may call start_response only when its body is first read.
        iterator = iter(body)
        first = next(iterator, b'')
        body = _Chained(first, iterator, body)
    status, headers = started[0]
    return status, headers, body


class _Chained:
    """A body whose first chunk was read early; closes the original."""

    def __init__(self, first: bytes, rest: Any, original: Any) -> None:
        self.first, self.rest, self.original = first, rest, original

    def __iter__(self):
        yield self.first
        yield from self.rest

    def close(self) -> None:
        if hasattr(self.original, 'close'):
            self.original.close()


def _drain(body: Iterable[bytes]) -> bytes:
    try:
        return b''.join(body)
    finally:
        if hasattr(body, 'close'):
            body.close()


def _read_body(env: dict[str, Any]) -> bytes:
    length = int(env.get('CONTENT_LENGTH') or 0)
    return env['wsgi.input'].read(length) if length else b''


def _respond(start_response: Callable, status: int, body: bytes,
             ctype: str) -> list[bytes]:
    reason = http.client.responses.get(status, 'Unknown')
    start_response('%d %s' % (status, reason),
                   [('Content-Type', ctype), ('Content-Length', str(len(body)))])
    return [body]


def _json(start_response: Callable, status: int, doc: Any) -> list[bytes]:
    return _respond(start_response, status, json.dumps(doc).encode(), 'application/json')


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    """Paste entry point: ``paste.filter_factory = <this module>:filter_factory``."""
    import eventlet

    rules = Rules()

    def fault_filter(app: Callable) -> FaultFilter:
        return FaultFilter(app, rules, eventlet.sleep)

    return fault_filter


# -- the client -------------------------------------------------------------------

class FaultsClient:
    """Talks to the fault filter of the proxy at ``url`` (no auth needed)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.host, _, port = url.split('://', 1)[-1].rstrip('/').partition(':')
        self.port = int(port or 80)
        self.timeout = timeout

    def add(self, rule: Rule) -> int:
        """Install ``rule`` after the others; return its id."""
        return self._call('POST', CONTROL_PATH, rule.to_json(), 201)['id']

    def hits(self, rule_id: int) -> int:
        """How many requests rule ``rule_id`` has acted on."""
        return self._call('GET', '%s/%d' % (CONTROL_PATH, rule_id), None, 200)['hits']

    def rules(self) -> list[dict[str, Any]]:
        """``[{'id', 'rule', 'hits'}]`` in matching order."""
        return self._call('GET', CONTROL_PATH, None, 200)['rules']

    def clear(self) -> None:
        """Remove every rule and every hidden row."""
        self._call('DELETE', CONTROL_PATH, None, 204)

    def _call(self, method: str, path: str, doc: Any, expect: int) -> Any:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            body = None if doc is None else json.dumps(doc)
            conn.request(method, path, body=body,
                         headers={'Content-Type': 'application/json'})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status != expect:
            raise RuntimeError('fault control %s %s answered %d: %s'
                               % (method, path, resp.status, data[:500]))
        return json.loads(data) if data else None
