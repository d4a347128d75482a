"""The fault filter's rules and behaviour, with a stub app, a stub sleep and
a stub clock (functional/test_saio_faults.py drives it in the real Swift)."""
from __future__ import annotations

import io
import json

import pytest

from zaqar_swift.testing.saio.faults import (
    CONTROL_PATH, FaultFilter, Rule, Rules, container_of, request_target)

OBJ = '/v1/AUTH_m/zaqar.p.q/m/0123456789abcdef012345/g1.w'


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class StubSwift:
    """Records calls (and the fake time of each); answers listings."""

    def __init__(self, clock: Clock, rows: list[str] = ()) -> None:
        self.clock = clock
        self.rows = list(rows)
        self.calls: list[tuple[str, str, float]] = []

    def __call__(self, env, start_response):
        method, path, _query = request_target(env)
        self.calls.append((method, path, self.clock.now))
        if method == 'GET' and container_of(path) and container_of(path)[1] is None:
            body = json.dumps([{'name': n, 'bytes': 0} for n in self.rows]).encode()
            start_response('200 OK', [('Content-Type', 'application/json; charset=utf-8'),
                                      ('Content-Length', str(len(body))), ('Etag', 'x')])
            return [body]
        start_response('201 Created', [('Content-Length', '0')])
        return [b'']


def env(method: str, path: str, query: str = '', body: bytes = b'', **extra) -> dict:
    wsgi_path = path.encode('utf-8').decode('latin-1')
    return dict({'REQUEST_METHOD': method, 'PATH_INFO': wsgi_path, 'QUERY_STRING': query,
                 'CONTENT_LENGTH': str(len(body)), 'wsgi.input': io.BytesIO(body)}, **extra)


class Call:
    def __init__(self, app, environ) -> None:
        self.status = self.headers = None
        self.body = b''.join(app(environ, self.start_response))

    def start_response(self, status, headers, exc_info=None):
        self.status, self.headers = status, dict(headers)

    @property
    def code(self) -> int:
        return int(self.status.split()[0])


@pytest.fixture
def stack():
    clock = Clock()
    swift = StubSwift(clock, rows=['m/a/b', 'm/a/g1.w', 'm/b/b'])
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    rules = Rules(clock)
    return FaultFilter(swift, rules, sleep), swift, rules, slept, clock


# -- rules ----------------------------------------------------------------------------

def test_a_rule_matches_method_path_and_query():
    rule = Rule(method='put', path=r'/m/[0-9a-f]{22}/g', query='^$')
    assert rule.matches('PUT', OBJ, '')
    assert not rule.matches('POST', OBJ, '')
    assert not rule.matches('PUT', OBJ.replace('/g1', '/b'), '')
    assert not rule.matches('PUT', OBJ, 'multipart-manifest=put')
    assert Rule().matches('HEAD', '/v1/a', 'x=1'), 'None selects any'


@pytest.mark.parametrize('bad', [dict(action='explode'), dict(status=42), dict(seconds=-1),
                                 dict(times=-1), dict(path='(')])
def test_invalid_rules_are_refused(bad):
    with pytest.raises(ValueError):
        Rule(**bad)


def test_rules_round_trip_through_json():
    rule = Rule(method='DELETE', query='bulk-delete', action='fail', status=500, times=2)
    assert Rule.from_json(json.loads(json.dumps(rule.to_json()))) == rule
    with pytest.raises(ValueError):
        Rule.from_json({'action': 'fail', 'colour': 'red'})


def test_the_first_live_rule_acts_and_times_bounds_it():
    rules = Rules()
    once = rules.add(Rule(method='PUT', action='delay', seconds=1, times=1))
    always = rules.add(Rule(action='fail'))
    assert rules.take('PUT', OBJ, '') == (once, Rule(method='PUT', action='delay',
                                                     seconds=1, times=1))
    assert rules.take('PUT', OBJ, '')[1].action == 'fail'
    assert rules.take('GET', OBJ, '')[0] == always
    assert (rules.hits(once), rules.hits(always)) == (1, 2)
    inert = rules.add(Rule(times=0))
    rules.clear()
    assert rules.take('PUT', OBJ, '') is None and rules.idle
    with pytest.raises(KeyError):
        rules.hits(inert)
    assert rules.add(Rule()) == inert + 1, 'ids are never reused'


def test_hidden_rows_expire_on_the_clock():
    clock = Clock()
    rules = Rules(clock)
    rules.hide('/v1/a/c', 'o', 2.0)
    assert rules.hidden('/v1/a/c') == {'o'} and not rules.idle
    assert rules.hidden('/v1/a/other') == frozenset()
    clock.now += 2.0
    assert rules.hidden('/v1/a/c') == frozenset()
    rules.hide('/v1/a/c', 'o', 5.0)
    clock.now += 6
    assert rules.idle, 'expired rows do not keep the filter busy'


def test_request_target_and_container_of():
    assert request_target(env('PUT', '/v1/a/c/é')) == ('PUT', '/v1/a/c/é', '')
    bulk = env('DELETE', '/v1/a/c/o', **{'swift.source': 'BD'})
    assert request_target(bulk)[2] == 'bulk-delete'
    assert container_of('/v1/a/c/m/x/b') == ('/v1/a/c', 'm/x/b')
    assert container_of('/v1/a/c') == ('/v1/a/c', None)
    assert container_of('/v1/a/c/') == ('/v1/a/c', None)
    assert container_of('/v1/a') is None and container_of('/info') is None


# -- the filter -----------------------------------------------------------------------

def test_no_rules_pass_everything_untouched(stack):
    app, swift, _rules, slept, _clock = stack
    assert Call(app, env('PUT', OBJ)).code == 201
    assert Call(app, env('GET', '/v1/AUTH_m/c')).code == 200
    assert len(swift.calls) == 2 and not slept


def test_delay_sleeps_before_the_request_lands(stack):
    app, swift, rules, slept, _clock = stack
    rules.add(Rule(method='PUT', action='delay', seconds=0.6, times=1))
    assert Call(app, env('PUT', OBJ)).code == 201
    assert slept == [0.6] and swift.calls[0][2] == 100.6


def test_delay_response_sleeps_after_the_request_landed(stack):
    app, swift, rules, slept, _clock = stack
    rules.add(Rule(action='delay_response', seconds=2))
    assert Call(app, env('PUT', OBJ)).code == 201
    assert slept == [2] and swift.calls[0][2] == 100.0


def test_fail_answers_without_passing_the_request_on(stack):
    app, swift, rules, _slept, _clock = stack
    rules.add(Rule(method='POST', action='fail'))
    rules.add(Rule(method='PUT', action='fail', status=507))
    assert Call(app, env('POST', OBJ)).code == 503
    call = Call(app, env('PUT', OBJ, body=b'data'))
    assert call.code == 507 and call.body.startswith(b'fault injected')
    assert swift.calls == []


def test_hide_omits_the_object_from_json_listings_until_the_time_passes(stack):
    app, swift, rules, _slept, clock = stack
    rule_id = rules.add(Rule(method='PUT', action='hide', seconds=1.5))
    assert Call(app, env('PUT', '/v1/AUTH_m/c/m/a/g1.w')).code == 201
    assert rules.hits(rule_id) == 1
    listing = Call(app, env('GET', '/v1/AUTH_m/c', 'format=json'))
    assert [r['name'] for r in json.loads(listing.body)] == ['m/a/b', 'm/b/b']
    assert listing.headers['Content-Length'] == str(len(listing.body))
    assert 'Etag' not in listing.headers
    other = Call(app, env('GET', '/v1/AUTH_m/other'))
    assert len(json.loads(other.body)) == 3, 'another container is not affected'
    clock.now += 1.5
    assert len(json.loads(Call(app, env('GET', '/v1/AUTH_m/c')).body)) == 3


def test_control_path(stack):
    app, _swift, rules, _slept, _clock = stack
    added = Call(app, env('POST', CONTROL_PATH, body=json.dumps(
        Rule(method='PUT', action='fail').to_json()).encode()))
    assert added.code == 201
    rule_id = json.loads(added.body)['id']
    assert Call(app, env('PUT', OBJ)).code == 503
    assert json.loads(Call(app, env('GET', '%s/%d' % (CONTROL_PATH, rule_id))).body) == \
        {'id': rule_id, 'hits': 1}
    assert json.loads(Call(app, env('GET', CONTROL_PATH)).body)['rules'][0]['hits'] == 1
    assert Call(app, env('GET', CONTROL_PATH + '/999')).code == 404
    assert Call(app, env('POST', CONTROL_PATH, body=b'{"action": "nope"}')).code == 400
    assert Call(app, env('PUT', CONTROL_PATH)).code == 405
    assert Call(app, env('DELETE', CONTROL_PATH)).code == 204
    assert rules.idle


def test_a_hide_rule_counts_only_the_writes_it_hid(stack):
    app, swift, rules, _slept, _clock = stack
    rule_id = rules.add(Rule(method='PUT', action='hide', seconds=5, times=1))

    def missing_container(env, start_response):
        start_response('404 Not Found', [('Content-Length', '0')])
        return [b'']

    app.app = missing_container
    assert Call(app, env('PUT', '/v1/AUTH_m/c/m/a/b')).code == 404
    assert rules.hits(rule_id) == 0 and rules.hidden('/v1/AUTH_m/c') == frozenset()
    app.app = swift
    assert Call(app, env('PUT', '/v1/AUTH_m/c/m/a/b')).code == 201
    assert rules.hits(rule_id) == 1 and rules.hidden('/v1/AUTH_m/c') == {'m/a/b'}
