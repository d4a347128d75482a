"""Bad input always gets a 4xx JSON ``{"title", "description"}``, never a 5xx.

Contract sources: Zaqar ``zaqar/transport/validation.py`` (limits: queue name
``^[a-zA-Z0-9_-]+$`` up to 64 chars, project id up to 256 chars, message TTL
60..1209601, delay 0..900, claim TTL and grace 60..43200, page/claim/pop
limits 1..20, JSON patch rules); unit tests
``zaqar/tests/unit/transport/wsgi/v2_0/test_messages.py``, ``test_claims.py``,
``test_queue_lifecycle.py``, ``test_validation.py``, ``test_media_type.py``.

Oversized bodies get 400, as in Zaqar (``validation.message_length`` and
``queue_metadata_length``), not 413: python-zaqarclient maps no exception to
413, so a 413 would look like a success to it. Only a body longer than any
legal request (the larger of the message POST and metadata limits) is a 413,
refused before it is read (``functional/test_limits.py``).
"""
from __future__ import annotations

import json
import uuid

import pytest
import requests

try:
    from functional import helpers as h
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h

TOO_LARGE = (400,)
BEYOND_ANY_REQUEST = (413,)
HUGE = 10 ** 100


def _msg(**fields) -> str:
    return json.dumps({'messages': [dict({'body': 1, 'ttl': 60}, **fields)]})


# -- message POST bodies -------------------------------------------------------
BAD_MESSAGE_BODIES = [
    '', '{', '[', '.', 'null', '42', '"str"', '[]', '{}',
    '[{"body": 0, "ttl": 100}]',                      # v1 style, no wrapper
    '{"messages": []}', '{"messages": {}}', '{"messages": "x"}',
    '{"messages": [1]}', '{"messages": [null]}', '{"messages": [[]]}',
    '{"messages": [{"ttl": 60}]}',                   # no body
    '{"overflow": 9223372036854775808}',
    '{"underflow": -9223372036854775809}',
    _msg(ttl='60'), _msg(ttl=1.5), _msg(ttl=True), _msg(ttl=None),
    _msg(ttl=-1), _msg(ttl=0), _msg(ttl=59), _msg(ttl=1209601), _msg(ttl=HUGE),
    _msg(ttl=-HUGE),
    _msg(delay=-1), _msg(delay=901), _msg(delay='x'), _msg(delay=1.5),
    _msg(delay=HUGE), _msg(delay=None),
]


@pytest.mark.parametrize('raw', BAD_MESSAGE_BODIES)
def test_bad_message_post(api, raw):
    t = h.Tenant(api.url)
    resp = t.post('/v2/queues/fizbit/messages', data=raw,
                  headers={'Content-Type': 'application/json'})
    h.assert_json_error(resp, 400)
    assert t.stats('fizbit')['total'] == 0


def test_message_post_that_is_not_utf8(api):
    t = h.Tenant(api.url)
    resp = t.post('/v2/queues/fizbit/messages', data=b'{"messages": [{"body": "\xff\xfe"}]}',
                  headers={'Content-Type': 'application/json'})
    h.assert_json_error(resp, 400)


def test_one_bad_message_rejects_the_whole_post(api):
    t = h.Tenant(api.url)
    doc = {'messages': [{'body': 1, 'ttl': 60}, {'body': 2, 'ttl': 10}]}
    h.assert_json_error(t.post('/v2/queues/atomic/messages', json=doc), 400)
    assert t.stats('atomic')['total'] == 0


def test_huge_integer_in_message_body_is_not_a_server_error(api):
    """Zaqar rejects integers beyond 64 bits anywhere in the document (400);
    storing them is also acceptable: either way, no 5xx."""
    t = h.Tenant(api.url)
    resp = t.post('/v2/queues/bigint/messages',
                  data=json.dumps({'messages': [{'body': {'n': HUGE}, 'ttl': 60}]}),
                  headers={'Content-Type': 'application/json'})
    assert resp.status_code in (201, 400), h.describe(resp)
    if resp.status_code == 400:
        h.assert_json_error(resp, 400)


def test_message_post_too_large(api):
    t = h.Tenant(api.url)
    doc = {'messages': [{'body': 'some body', 'ttl': 100}] * 20}
    body = json.dumps(doc, indent=4)
    body += ' ' * (256 * 1024 - len(body) + 1)
    resp = t.post('/v2/queues/big/messages', data=body,
                  headers={'Content-Type': 'application/json'})
    h.assert_json_error(resp, *BEYOND_ANY_REQUEST)   # the POST limit is the largest
    huge = json.dumps({'messages': [{'body': 'x' * (4 * 1024 * 1024), 'ttl': 100}]})
    resp = t.post('/v2/queues/big/messages', data=huge,
                  headers={'Content-Type': 'application/json'})
    h.assert_json_error(resp, *BEYOND_ANY_REQUEST)
    assert t.stats('big')['total'] == 0


def test_message_post_over_queue_limit(api):
    t = h.Tenant(api.url)
    t.create_queue('small', {'_max_messages_post_size': 1023})
    doc = {'messages': [{'body': {'key': 'a' * 1204}}]}
    h.assert_json_error(t.post('/v2/queues/small/messages', json=doc), *TOO_LARGE)
    t.post_messages('small', [{'body': {'key': 'a' * 100}}])


# -- listing, get by ids, delete, pop ----------------------------------------------
@pytest.mark.parametrize('params', [
    {'limit': 0}, {'limit': 21}, {'limit': -1}, {'limit': 'abc'},
    {'limit': 'true'}, {'limit': HUGE}, {'limit': 1.5},
    {'echo': 'maybe'}, {'include_claimed': 'sometimes'},
])
def test_bad_listing_parameters(api, params):
    t = h.Tenant(api.url)
    t.post_bodies('listing', 1)
    h.assert_json_error(t.get('/v2/queues/listing/messages', params=params), 400)


@pytest.mark.parametrize('params', [
    {}, {'pop': 0}, {'pop': -1}, {'pop': 21}, {'pop': 'abc'}, {'pop': 'true'},
    {'pop': HUGE}, {'pop': 1, 'ids': 'a'},
    {'ids': ','.join('%024x' % i for i in range(21))},
])
def test_bad_collection_delete(api, params):
    t = h.Tenant(api.url)
    t.post_bodies('coll', 1)
    h.assert_json_error(t.delete('/v2/queues/coll/messages', params=params), 400)
    assert t.stats('coll')['total'] == 1


def test_get_by_too_many_ids(api):
    t = h.Tenant(api.url)
    [mid] = t.post_bodies('ids', 1)
    fake = ['%024x' % i for i in range(20)]
    h.assert_json_error(t.get('/v2/queues/ids/messages',
                              params={'ids': ','.join([mid] + fake)}), 400)


# -- claims -------------------------------------------------------------------------
BAD_CLAIM_BODIES = [
    '[', '[]', '.', '"fail"', '42', '{"ttl": "60", "grace": 60}',
    '{"ttl": true, "grace": 60}', '{"ttl": 60, "grace": true}',
    '{"ttl": 1.5, "grace": 60}', '{"ttl": null, "grace": 60}',
    json.dumps({'ttl': -1, 'grace': -1}), json.dumps({'ttl': 59, 'grace': 60}),
    json.dumps({'ttl': 60, 'grace': 59}), json.dumps({'ttl': 60, 'grace': 43201}),
    json.dumps({'ttl': 43201, 'grace': 60}), json.dumps({'ttl': HUGE, 'grace': 60}),
    json.dumps({'ttl': 60, 'grace': HUGE}),
]


@pytest.mark.parametrize('raw', BAD_CLAIM_BODIES)
def test_bad_claim_create(api, raw):
    t = h.Tenant(api.url)
    t.post_bodies('claimq', 2)
    resp = t.post('/v2/queues/claimq/claims', data=raw,
                  headers={'Content-Type': 'application/json'})
    h.assert_json_error(resp, 400)
    assert t.stats('claimq')['claimed'] == 0


@pytest.mark.parametrize('limit', [0, -1, 21, 'abc', 'true', HUGE, 1.5])
def test_bad_claim_limit(api, limit):
    t = h.Tenant(api.url)
    t.post_bodies('claimlim', 2)
    resp = t.post('/v2/queues/claimlim/claims', params={'limit': limit},
                  json={'ttl': 100, 'grace': 60})
    h.assert_json_error(resp, 400)
    assert t.stats('claimlim')['claimed'] == 0


BAD_CLAIM_PATCHES = [
    '[', '.', '"fail"', '[]', '{"ttl": "60"}', '{"ttl": true}', '{"ttl": null}',
    json.dumps({'ttl': -1}), json.dumps({'ttl': 59}), json.dumps({'ttl': 43201}),
    json.dumps({'ttl': HUGE}), json.dumps({'ttl': 60, 'grace': HUGE}),
]


@pytest.mark.parametrize('raw', BAD_CLAIM_PATCHES)
def test_bad_claim_update(api, raw):
    t = h.Tenant(api.url)
    t.post_bodies('renewq', 1)
    claim_id, _ = t.claim('renewq', ttl=100, grace=60)
    resp = t.patch(f'/v2/queues/renewq/claims/{claim_id}', data=raw,
                   headers={'Content-Type': 'application/json'})
    h.assert_json_error(resp, 400)
    assert t.get(f'/v2/queues/renewq/claims/{claim_id}').json()['ttl'] == 100


# -- queues --------------------------------------------------------------------------
BAD_QUEUE_BODIES = [
    '{', '[]', '.', '  ', '"str"', '42', 'null', '[1, 2]',
    json.dumps({'_default_message_ttl': 59}),
    json.dumps({'_default_message_ttl': 1209601}),
    json.dumps({'_default_message_ttl': 'abc'}),
    json.dumps({'_default_message_ttl': HUGE}),
    json.dumps({'_default_message_ttl': True}),
    json.dumps({'_max_messages_post_size': 262145}),
    json.dumps({'_max_messages_post_size': -1}),
    json.dumps({'_max_messages_post_size': 'x'}),
    json.dumps({'_max_messages_post_size': HUGE}),
    json.dumps({'_default_message_delay': -1}),
    json.dumps({'_default_message_delay': 901}),
    json.dumps({'_default_message_delay': HUGE}),
]


@pytest.mark.parametrize('raw', BAD_QUEUE_BODIES)
def test_bad_queue_metadata(api, raw):
    t = h.Tenant(api.url)
    resp = t.put('/v2/queues/fizbat', data=raw, headers={'Content-Type': 'application/json'})
    h.assert_json_error(resp, 400)
    assert t.get('/v2/queues').json()['queues'] == []


def test_queue_metadata_too_large(api):
    t = h.Tenant(api.url)
    t.create_queue('fizbat')
    doc = '{{"messages": {{"ttl": 600}}, "padding": "{pad}"}}'
    just_over = doc.format(pad='x' * (64 * 1024 - (len(doc) - 10) + 1))
    way_over = doc.format(pad='x' * (64 * 1024 * 100))
    for body, statuses in ((just_over, TOO_LARGE), (way_over, BEYOND_ANY_REQUEST)):
        resp = t.put('/v2/queues/fizbat', data=body,
                     headers={'Content-Type': 'application/json'})
        h.assert_json_error(resp, *statuses)
    assert 'padding' not in t.get('/v2/queues/fizbat').json()


BAD_NAMES = [
    'Nice-Bo@t', 'v' * 65, '_niceboat' * 8, 'non-ascii-n%C5%93me',
    'non-ascii-n%C4me', 'with%20space', 'star*', 'semi%3Bcolon', 'dollar$',
    'plus+sign', 'comma,name', 'ti~lde',
]


@pytest.mark.parametrize('name', BAD_NAMES)
def test_bad_queue_names(api, name):
    t = h.Tenant(api.url)
    base = f'/v2/queues/{name}'
    h.assert_json_error(t.put(base), 400)
    h.assert_json_error(t.get(base), 400)
    h.assert_json_error(t.delete(base), 400)
    h.assert_json_error(t.get(base + '/stats'), 400)
    h.assert_json_error(t.post(base + '/messages', json={'messages': [{'body': 1}]}), 400)
    h.assert_json_error(t.get(base + '/messages'), 400)
    h.assert_json_error(t.post(base + '/claims', json={'ttl': 60, 'grace': 60}), 400)
    assert t.get('/v2/queues').json()['queues'] == []


# -- headers ---------------------------------------------------------------------------
def _bare(api, **headers) -> requests.Session:
    session = requests.Session()
    session.headers.update({'Accept': 'application/json'})
    session.headers.update(headers)
    return session


def test_missing_client_id(api):
    s = _bare(api, **{'X-Project-ID': h.new_project()})
    base = api.url + '/v2/queues/fizbit'
    h.assert_json_error(s.post(base + '/messages', json={'messages': [{'body': 1}]},
                               timeout=30), 400)
    h.assert_json_error(s.get(base + '/messages', timeout=30), 400)
    h.assert_json_error(s.post(base + '/claims', json={'ttl': 60, 'grace': 60},
                               timeout=30), 400)


@pytest.mark.parametrize('client_id', [
    '', 'textid', '0xdeadbeef', '550893e0-2b6e-11e3-835a-5cf9dd72369',
    'not-a-uuid-at-all-not-a-uuid-at-all',
])
def test_malformed_client_id(api, client_id):
    t = h.Tenant(api.url, client_id=client_id)
    h.assert_json_error(t.post('/v2/queues/fizbit/messages',
                               json={'messages': [{'body': 1}]}), 400)
    h.assert_json_error(t.get('/v2/queues/fizbit/messages', params={'echo': 'true'}), 400)


def test_missing_or_bad_project_id(api):
    client = {'Client-ID': str(uuid.uuid4())}
    for headers in (client, dict(client, **{'X-Project-ID': ''}),
                    dict(client, **{'X-Project-ID': 'JAM Project' * 24})):
        s = _bare(api, **headers)
        h.assert_json_error(s.get(api.url + '/v2/queues', timeout=30), 400)
        h.assert_json_error(s.put(api.url + '/v2/queues/fizbit', timeout=30), 400)
        h.assert_json_error(s.post(api.url + '/v2/queues/fizbit/messages',
                                   json={'messages': [{'body': 1}]}, timeout=30), 400)


def test_project_id_has_no_charset_restriction(api):
    t = h.Tenant(api.url, project='JAM Project ' + h.new_project())
    t.create_queue('Muv-Luv')
    assert [q['name'] for q in t.get('/v2/queues').json()['queues']] == ['Muv-Luv']


@pytest.mark.parametrize('method, path', [
    ('GET', '/v2/queues'),
    ('GET', '/v2/queues/nonexistent/stats'),
    ('POST', '/v2/queues/nonexistent/messages'),
    ('GET', '/v2/queues/nonexistent/messages/deadbeaf'),
    ('POST', '/v2/queues/nonexistent/claims'),
    ('GET', '/v2/queues/nonexistent/claims/0ad'),
])
def test_json_only_endpoints(api, method, path):
    t = h.Tenant(api.url)
    resp = t.request(method, path, headers={'Accept': 'application/xml'})
    assert resp.status_code == 406, h.describe(resp)


# -- routing ----------------------------------------------------------------------------
@pytest.mark.parametrize('method, path', [
    ('GET', '/v2/nothing'),
    ('GET', '/v2/queues/q/messages/a/b'),
    ('GET', '/v2/queues/q/claims/c/extra'),
    ('GET', '/v3/queues'),
    ('GET', '/v2/queues/q/unknown'),
    ('DELETE', '/v2/nothing/at/all'),
])
def test_unknown_routes_are_404_json(api, method, path):
    t = h.Tenant(api.url)
    h.assert_json_error(t.request(method, path), 404)


@pytest.mark.parametrize('method, path', [
    ('POST', '/v2/queues'),
    ('DELETE', '/v2/queues'),
    ('POST', '/v2/queues/q'),
    ('PUT', '/v2/queues/q/messages'),
    ('PATCH', '/v2/queues/q/messages'),
    ('POST', '/v2/queues/q/messages/m'),
    ('PUT', '/v2/queues/q/claims'),
    ('GET', '/v2/queues/q/claims'),
    ('POST', '/v2/queues/q/claims/c'),
    ('PUT', '/v2/queues/q/stats'),
    ('GET', '/v2/queues/q/purge'),
])
def test_wrong_method_is_405_json(api, method, path):
    t = h.Tenant(api.url)
    h.assert_json_error(t.request(method, path, json={}), 405)
