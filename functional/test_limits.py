"""Bounded work per request: body sizes and JSON nesting, over HTTP.

* A body larger than the largest legal request (the larger of
  ``max_messages_post_size`` and ``max_queue_metadata``) is refused with a
  413 before it is read, before authentication and before any header is
  checked. Bodies between a request's own limit and that size keep Zaqar's
  400 (python-zaqarclient treats a 413 as success).
* Message bodies and queue metadata nest at most ``[limits] max_json_depth``
  levels (400 beyond), so every stored document decodes again.
"""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests

try:
    from functional import helpers as h
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h

LARGEST = 256 * 1024          # max_messages_post_size by default


def _nested(depth: int, leaf=1):
    """A JSON value with ``depth`` levels of alternating arrays and objects."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {'k': value}
    return value


def _assert_json_413(resp) -> None:
    assert resp.status_code == 413, h.describe(resp)
    h.assert_json_error(resp, 413)


# -- 413 ------------------------------------------------------------------------------
def test_two_megabytes_are_refused_at_once_without_headers(api):
    """No X-Project-ID, no Client-ID: the size is checked before anything."""
    started = time.monotonic()
    resp = requests.post(api.url + '/v2/queues/big/messages', data=b'x' * (2 * 1024 * 1024),
                         headers={'Content-Type': 'application/json'}, timeout=30)
    _assert_json_413(resp)
    assert time.monotonic() - started < 5


def test_just_over_the_largest_legal_body_is_413(api):
    t = h.Tenant(api.url)
    body = json.dumps({'messages': [{'body': 'x' * LARGEST}]})
    _assert_json_413(t.post('/v2/queues/big/messages', data=body,
                            headers={'Content-Type': 'application/json'}))
    assert t.stats('big')['total'] == 0


def test_a_declared_length_is_refused_before_the_body_is_sent(api):
    """The answer comes while the client has sent only the headers."""
    with socket.create_connection(('127.0.0.1', api.port), timeout=10) as sock:
        sock.sendall(b'POST /v2/queues/big/messages HTTP/1.1\r\nHost: x\r\n'
                     b'Content-Type: application/json\r\n'
                     b'Content-Length: 104857600\r\n\r\n')
        head = sock.recv(65536).split(b'\r\n', 1)[0]
    assert head.startswith(b'HTTP/1.1 413'), head


def test_between_the_request_limit_and_the_largest_body_stays_400(api):
    """A claim body may be 64 KiB (max_queue_metadata): 100 KiB is Zaqar's
    400, not a 413."""
    t = h.Tenant(api.url)
    t.post_bodies('claims', 1)
    body = json.dumps({'ttl': 60, 'grace': 60, 'pad': 'x' * (100 * 1024)})
    resp = t.post('/v2/queues/claims/claims', data=body,
                  headers={'Content-Type': 'application/json'})
    h.assert_json_error(resp, 400)


@pytest.fixture(scope='module')
def small_api(api_factory):
    return api_factory(limits={'max_messages_post_size': 2048, 'max_queue_metadata': 1024})


def test_the_largest_body_follows_the_limits(small_api):
    t = h.Tenant(small_api.url)
    h.assert_json_error(t.put('/v2/queues/q', data=json.dumps({'p': 'x' * 1500}),
                              headers={'Content-Type': 'application/json'}), 400)
    _assert_json_413(t.post('/v2/queues/q/messages', data=json.dumps(
        {'messages': [{'body': 'x' * 3000}]}), headers={'Content-Type': 'application/json'}))
    t.post_messages('q', [{'body': 'x' * 1800}])


# -- nesting ---------------------------------------------------------------------------
def test_message_bodies_nest_at_most_max_json_depth(api):
    t = h.Tenant(api.url)
    [mid] = t.post_messages('deep', [{'body': _nested(32)}])
    resp = t.get(f'/v2/queues/deep/messages/{mid}')
    assert resp.status_code == 200 and resp.json()['body'] == _nested(32), h.describe(resp)
    doc = h.assert_json_error(t.post('/v2/queues/deep/messages',
                                     json={'messages': [{'body': _nested(33)}]}), 400)
    assert 'nest' in doc['description']
    assert t.stats('deep')['total'] == 1


@pytest.mark.parametrize('depth', [33, 200, 5000])
def test_too_deep_message_bodies_are_400(api, depth):
    t = h.Tenant(api.url)
    body = '{"messages": [{"body": ' + '[' * depth + ']' * depth + '}]}'
    h.assert_json_error(t.post('/v2/queues/deep/messages', data=body,
                               headers={'Content-Type': 'application/json'}), 400)
    assert t.stats('deep')['total'] == 0


def test_queue_metadata_nests_at_most_max_json_depth(api):
    t = h.Tenant(api.url)
    t.create_queue('meta', {'k': _nested(31)})
    assert t.get('/v2/queues/meta').json()['k'] == _nested(31)
    h.assert_json_error(t.put('/v2/queues/deeper', json={'k': _nested(32)}), 400)
    resp = t.patch('/v2/queues/meta', headers={'Content-Type': h.JSON_PATCH},
                   data=json.dumps([{'op': 'add', 'path': '/metadata/d',
                                     'value': _nested(32)}]))
    h.assert_json_error(resp, 400)
    assert 'd' not in t.get('/v2/queues/meta').json()


@pytest.fixture(scope='module')
def shallow_api(api_factory):
    return api_factory(limits={'max_json_depth': 3})


def test_max_json_depth_is_an_option(shallow_api):
    t = h.Tenant(shallow_api.url)
    t.post_messages('q', [{'body': _nested(3)}])
    h.assert_json_error(t.post('/v2/queues/q/messages',
                               json={'messages': [{'body': _nested(4)}]}), 400)
