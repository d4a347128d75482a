"""Messages over HTTP: post, list (echo, include_claimed, include_delayed,
paging), get, get by ids, delete, delete by ids, pop, delays, tenancy.

Contract sources: Zaqar api-ref messages.inc, unit tests
``zaqar/tests/unit/transport/wsgi/v2_0/test_messages.py`` and
``zaqar/transport/wsgi/v2_0/messages.py``; python-zaqarclient 4.7
``zaqarclient/queues/v2/message.py`` (the keys a message document may carry).
"""
from __future__ import annotations

import time
import uuid

try:
    from functional import helpers as h
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h

# python-zaqarclient builds Message(**doc): any other key is a TypeError there.
CLIENT_MESSAGE_KEYS = {'href', 'ttl', 'age', 'body', 'id', 'claim_id',
                       'claim_count', 'checksum'}

# Well-formed ids that name no message.
FAKE_IDS = ['%024x' % (0xfeed << 64 | i) for i in range(30)]

BODIES = [239, {'key': 'value'}, [1, 3], 'text', None, True, 1.5,
          {'nested': {'list': [1, {'ü': 'ñ'}], 'empty': {}}}, '', []]


def assert_message_doc(msg: dict, queue: str) -> None:
    assert set(msg) <= CLIENT_MESSAGE_KEYS, f'keys python-zaqarclient rejects: {msg}'
    assert {'id', 'href', 'ttl', 'age', 'body'} <= set(msg), msg
    assert h.message_id(msg['href']) == msg['id'], msg
    assert f'/v2/queues/{queue}/messages/{msg["id"]}' in msg['href'], msg
    assert isinstance(msg['age'], int) and 0 <= msg['age'] < 120, msg
    assert isinstance(msg['ttl'], int), msg


# -- post -------------------------------------------------------------------------
def test_post_returns_resources_and_location(api):
    t = h.Tenant(api.url)
    msgs = [{'body': 239, 'ttl': 100}, {'body': {'key': 'value'}, 'ttl': 200},
            {'body': [1, 3], 'ttl': 300}]
    resp = t.post('/v2/queues/fizbit/messages', json={'messages': msgs})
    assert resp.status_code == 201, h.describe(resp)
    doc = resp.json()
    assert 'partial' not in doc
    hrefs = doc['resources']
    assert len(hrefs) == 3
    ids = [h.message_id(x) for x in hrefs]
    assert len(set(ids)) == 3
    for href, mid in zip(hrefs, ids):
        assert href.endswith(f'/v2/queues/fizbit/messages/{mid}'), href
    location = resp.headers['Location']
    assert '/v2/queues/fizbit/messages?ids=' in location, location
    assert location.rsplit('=', 1)[-1].split(',') == ids
    for href, sent in zip(hrefs, msgs):
        got = t.get(href)
        assert got.status_code == 200, h.describe(got)
        assert got.json()['body'] == sent['body']
        assert got.json()['ttl'] == sent['ttl']


def test_bodies_round_trip(api):
    t = h.Tenant(api.url)
    ids = t.post_messages('bodies', [{'body': b, 'ttl': 300} for b in BODIES])
    for mid, body in zip(ids, BODIES):
        resp = t.get(f'/v2/queues/bodies/messages/{mid}')
        assert resp.status_code == 200, h.describe(resp)
        assert resp.json()['body'] == body
    listed = t.walk_messages('bodies', echo=True)
    assert [m['body'] for m in listed] == BODIES


def test_post_without_ttl_uses_default(api):
    t = h.Tenant(api.url)
    ids = t.post_messages('defaults', [{'body': 239}, {'body': 1, 'ttl': 200}])
    ttls = [t.get(f'/v2/queues/defaults/messages/{mid}').json()['ttl'] for mid in ids]
    assert ttls == [3600, 200]


def test_post_to_missing_queue_creates_it(api):
    t = h.Tenant(api.url)
    t.post_bodies('nonexistent', 1)
    names = [q['name'] for q in t.get('/v2/queues').json()['queues']]
    assert names == ['nonexistent']
    assert t.stats('nonexistent')['total'] == 1


def test_queue_name_of_64_chars_is_fine_65_is_not(api):
    t = h.Tenant(api.url)
    name = 'v' * 64
    t.post_bodies(name, 1)
    resp = t.post(f'/v2/queues/{name}v/messages', json={'messages': [{'body': 1}]})
    h.assert_json_error(resp, 400)


def test_dashless_client_id_is_accepted(api):
    """python-zaqarclient sends uuid4().hex (no dashes) as its Client-ID."""
    t = h.Tenant(api.url, client_id=uuid.uuid4().hex)
    t.post_bodies('dashless', 2)
    assert len(t.listed_ids('dashless', echo=True)) == 2


# -- get ---------------------------------------------------------------------------
def test_get_one_message(api):
    t = h.Tenant(api.url)
    [mid] = t.post_messages('one', [{'body': {'event': 'x'}, 'ttl': 300}])
    resp = t.get(f'/v2/queues/one/messages/{mid}')
    assert resp.status_code == 200, h.describe(resp)
    msg = resp.json()
    assert_message_doc(msg, 'one')
    assert msg['id'] == mid
    assert msg['body'] == {'event': 'x'}
    assert msg['ttl'] == 300
    assert h.claim_id_of(msg['href']) is None


def test_get_missing_message_is_404(api):
    t = h.Tenant(api.url)
    [mid] = t.post_bodies('has-one', 1)
    h.assert_json_error(t.get('/v2/queues/has-one/messages/' + 'a' * len(mid)), 404)
    h.assert_json_error(t.get('/v2/queues/has-one/messages/a'), 404)
    h.assert_json_error(t.get(f'/v2/queues/notthere/messages/{mid}'), 404)


def test_get_by_ids(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('byids', 5)
    resp = t.get('/v2/queues/byids/messages', params={'ids': ','.join(ids[:3])})
    assert resp.status_code == 200, h.describe(resp)
    msgs = resp.json()['messages']
    assert sorted(m['id'] for m in msgs) == sorted(ids[:3])
    for m in msgs:
        assert_message_doc(m, 'byids')

    # Missing or malformed ids are skipped; the poster's own messages are
    # returned whatever echo says.
    mixed = [ids[3], 'nonexistent', ids[4] + 'x', ids[4]]
    resp = t.get('/v2/queues/byids/messages',
                 params={'ids': ','.join(mixed), 'echo': 'false'})
    assert resp.status_code == 200, h.describe(resp)
    assert sorted(m['id'] for m in resp.json()['messages']) == sorted(ids[3:])


def test_get_by_ids_none_found_is_404(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('byids404', 2)
    t.delete('/v2/queues/byids404/messages', params={'ids': ','.join(ids)})
    h.assert_json_error(t.get('/v2/queues/byids404/messages',
                              params={'ids': ','.join(ids)}), 404)
    h.assert_json_error(t.get('/v2/queues/notthere/messages', params={'ids': 'a,b,c'}), 404)


# -- list -----------------------------------------------------------------------------
def test_list_echo(api):
    poster = h.Tenant(api.url)
    other = poster.peer()
    ids = poster.post_bodies('echoes', 3)
    assert poster.list_messages('echoes')['messages'] == []
    assert poster.list_messages('echoes', echo=False)['messages'] == []
    assert poster.listed_ids('echoes', echo=True) == ids
    assert other.listed_ids('echoes') == ids
    assert other.listed_ids('echoes', echo=False) == ids


def test_list_document_shape(api):
    t = h.Tenant(api.url)
    t.post_bodies('shape', 3)
    doc = t.list_messages('shape', echo=True)
    assert set(doc) >= {'messages', 'links'}
    for m in doc['messages']:
        assert_message_doc(m, 'shape')
        assert h.claim_id_of(m['href']) is None
    href = h.next_href(doc)
    assert href and href.startswith('/v2/queues/shape/messages?'), doc['links']


def test_list_default_and_max_limit(api):
    t = h.Tenant(api.url)
    t.post_bodies('limits', 25)
    assert len(t.list_messages('limits', echo=True)['messages']) == 10
    assert len(t.list_messages('limits', echo=True, limit=20)['messages']) == 20
    assert len(t.list_messages('limits', echo=True, limit=3)['messages']) == 3
    for bad in (0, 21, -1):
        h.assert_json_error(t.get('/v2/queues/limits/messages',
                                  params={'limit': bad, 'echo': 'true'}), 400)


def test_list_missing_queue_is_empty(api):
    t = h.Tenant(api.url)
    resp = t.get('/v2/queues/nonexistent/messages', params={'echo': 'true'})
    assert resp.status_code == 200, h.describe(resp)
    doc = resp.json()
    assert doc['messages'] == []
    assert h.next_href(doc) is None


def test_paging_100_messages_without_loss_or_duplicates(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('hundred', 100)
    assert len(set(ids)) == 100
    doc = t.list_messages('hundred', echo=True, limit=10)
    seen: list[str] = []
    pages = 0
    while doc['messages']:
        pages += 1
        assert len(doc['messages']) <= 10
        href = h.next_href(doc)
        assert href, f'page {pages} has messages but no next link'
        assert 'echo=true' in href.lower(), f'next link lost echo: {href}'
        seen.extend(m['id'] for m in doc['messages'])
        doc = t.follow_next(doc)
        assert pages <= 100
    assert h.next_href(doc) is None, 'the empty last page must not link further'
    assert len(seen) == len(set(seen)), 'a message was listed twice'
    assert set(seen) == set(ids), 'a message was lost'
    assert seen == ids, 'listing is not oldest first'
    assert pages == 10


def test_bad_marker_is_not_a_server_error(api):
    t = h.Tenant(api.url)
    t.post_bodies('marker', 5)
    resp = t.get('/v2/queues/marker/messages',
                 params={'limit': 3, 'echo': 'true', 'marker': 'sfhlsfdjh2048'})
    assert resp.status_code == 200, h.describe(resp)


# -- delete -----------------------------------------------------------------------------
def test_delete_one(api):
    t = h.Tenant(api.url)
    [mid] = t.post_bodies('del1', 1)
    target = f'/v2/queues/del1/messages/{mid}'
    assert t.get(target).status_code == 200
    resp = t.delete(target)
    assert resp.status_code == 204, h.describe(resp)
    assert not resp.content
    h.assert_json_error(t.get(target), 404)
    assert t.delete(target).status_code == 204
    assert t.delete(f'/v2/queues/del1/messages/{"b" * len(mid)}').status_code == 204
    assert t.delete(f'/v2/queues/never/messages/{mid}').status_code == 204


def test_delete_by_ids(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('delmany', 5)
    resp = t.delete('/v2/queues/delmany/messages', params={'ids': ','.join(ids[:3])})
    assert resp.status_code == 204, h.describe(resp)
    assert t.listed_ids('delmany', echo=True) == ids[3:]
    # Missing ids, and a missing queue, are not errors.
    resp = t.delete('/v2/queues/delmany/messages', params={'ids': ','.join(ids[:3])})
    assert resp.status_code == 204, h.describe(resp)
    resp = t.delete('/v2/queues/notthere/messages', params={'ids': 'a,b,c'})
    assert resp.status_code == 204, h.describe(resp)
    assert t.stats('delmany')['total'] == 2


def test_delete_collection_needs_ids_or_pop(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('delbad', 2)
    h.assert_json_error(t.delete('/v2/queues/delbad/messages'), 400)
    h.assert_json_error(t.delete('/v2/queues/delbad/messages',
                                 params={'pop': 1, 'ids': ids[0]}), 400)
    h.assert_json_error(t.delete('/v2/queues/delbad/messages',
                                 params={'ids': ','.join(FAKE_IDS[:21])}), 400)
    assert t.stats('delbad')['total'] == 2


def test_id_lists_count_every_value(api):
    """Zaqar validates len(ids) as sent (its unit test repeats one id 21 and
    22 times): the 21st value is over the limit even when it repeats one."""
    t = h.Tenant(api.url)
    [mid] = t.post_bodies('repeats', 1)
    h.assert_json_error(t.get('/v2/queues/repeats/messages',
                              params={'ids': ','.join([mid] * 21)}), 400)
    h.assert_json_error(t.delete('/v2/queues/repeats/messages',
                                 params={'ids': ','.join([mid] * 22)}), 400)
    assert t.stats('repeats')['total'] == 1


# -- pop ------------------------------------------------------------------------------------
def test_pop(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('popq', 5)
    resp = t.delete('/v2/queues/popq/messages', params={'pop': 2})
    assert resp.status_code == 200, h.describe(resp)
    popped = resp.json()['messages']
    assert len(popped) == 2
    assert [m['body'] for m in popped] == [{'n': 0}, {'n': 1}]
    for m in popped:
        assert set(m) <= CLIENT_MESSAGE_KEYS, m
        assert 'id' in m or 'href' in m, m
    for mid in ids[:2]:
        assert t.get(f'/v2/queues/popq/messages/{mid}').status_code == 404
    assert t.listed_ids('popq', echo=True) == ids[2:]


def test_pop_skips_claimed_and_empty_queue_gives_empty_list(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('popclaimed', 3)
    claim_id, claimed = t.claim('popclaimed', limit=1)
    assert [h.message_id(m['href']) for m in claimed] == ids[:1]
    popped = t.delete('/v2/queues/popclaimed/messages', params={'pop': 10}).json()['messages']
    assert sorted(m['body']['n'] for m in popped) == [1, 2]
    resp = t.delete('/v2/queues/popclaimed/messages', params={'pop': 1})
    assert resp.status_code == 200, h.describe(resp)
    assert resp.json()['messages'] == []
    resp = t.delete('/v2/queues/never-made/messages', params={'pop': 1})
    assert resp.status_code == 200, h.describe(resp)
    assert resp.json()['messages'] == []


def test_pop_bounds(api):
    t = h.Tenant(api.url)
    t.post_bodies('popbounds', 1)
    for bad in (0, -1, 21, 1000000, 'abc', ''):
        h.assert_json_error(t.delete('/v2/queues/popbounds/messages',
                                     params={'pop': bad}), 400)
    assert t.stats('popbounds')['total'] == 1


# -- delays ------------------------------------------------------------------------------------
def test_delayed_message_invisible_until_delay_passes(api):
    t = h.Tenant(api.url)
    [now_id] = t.post_messages('delayed', [{'body': 'now', 'ttl': 300}])
    posted = time.monotonic()
    [later_id] = t.post_messages('delayed', [{'body': 'later', 'ttl': 300, 'delay': 2}])

    assert t.listed_ids('delayed', echo=True) == [now_id]
    assert t.listed_ids('delayed', echo=True, include_delayed=True) == [now_id, later_id]
    # The delayed message can be read by id, but not claimed.
    assert t.get(f'/v2/queues/delayed/messages/{later_id}').status_code == 200
    claim_id, claimed = t.claim('delayed', limit=5)
    assert [h.message_id(m['href']) for m in claimed] == [now_id]
    assert t.claim('delayed', limit=5) == (None, [])

    h.wait_until(lambda: later_id in t.listed_ids('delayed', echo=True), timeout=15,
                 what='delayed message visible')
    assert time.monotonic() - posted >= 0.9, 'the delay was not honoured'
    claim_id, claimed = t.claim('delayed', limit=5)
    assert [h.message_id(m['href']) for m in claimed] == [later_id]


def test_queue_default_message_delay(api):
    t = h.Tenant(api.url)
    t.create_queue('slowq', {'_default_message_delay': 2})
    [slow] = t.post_messages('slowq', [{'body': 'slow'}])
    [fast] = t.post_messages('slowq', [{'body': 'fast', 'delay': 0}])
    assert t.listed_ids('slowq', echo=True) == [fast]
    h.wait_until(lambda: slow in t.listed_ids('slowq', echo=True), timeout=15,
                 what='queue-delayed message visible')


# -- tenancy ------------------------------------------------------------------------------------
def test_other_project_cannot_touch_messages(api):
    owner = h.Tenant(api.url)
    intruder = h.Tenant(api.url)
    ids = owner.post_bodies('private', 3)
    target = f'/v2/queues/private/messages/{ids[0]}'
    h.assert_json_error(intruder.get(target), 404)
    h.assert_json_error(intruder.get('/v2/queues/private/messages',
                                     params={'ids': ','.join(ids)}), 404)
    assert intruder.list_messages('private', echo=True)['messages'] == []
    assert intruder.delete(target).status_code == 204
    assert intruder.delete('/v2/queues/private/messages',
                           params={'ids': ','.join(ids)}).status_code == 204
    popped = intruder.delete('/v2/queues/private/messages', params={'pop': 5})
    assert popped.status_code == 200 and popped.json()['messages'] == []
    assert intruder.post('/v2/queues/private/purge').status_code == 204
    assert owner.listed_ids('private', echo=True) == ids
