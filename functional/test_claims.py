"""Claims over HTTP: create, get, renew, release, expiry, deleting claimed messages,
dead letter queues and project isolation.

Contract sources: Zaqar api-ref claims.inc; unit test
``zaqar/tests/unit/transport/wsgi/v2_0/test_claims.py``;
``zaqar/transport/wsgi/v2_0/claims.py`` and ``messages.py`` (403 for a claimed
message deleted without its claim, 400 when a claim id is given for a message
that is no longer claimed); the dead letter queue rules of
``zaqar/storage/mongodb/claims.py`` (a claim attempt that finds a message
already claimed ``_max_claim_count`` times moves it to ``_dead_letter_queue``
with ``_dead_letter_queue_messages_ttl`` instead of returning it) and the
storage test ``test_dead_letter_queue``.
"""
from __future__ import annotations

import time

import pytest

try:
    from functional import helpers as h
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h


def _claim_path(queue: str, claim_id: str) -> str:
    return f'/v2/queues/{queue}/claims/{claim_id}'


def test_create_claim(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('fizbit', 10)
    resp = t.post('/v2/queues/fizbit/claims', params={'limit': 4},
                  json={'ttl': 100, 'grace': 60})
    assert resp.status_code == 201, h.describe(resp)
    location = resp.headers['Location']
    assert '/v2/queues/fizbit/claims/' in location, location
    claim_id = location.rstrip('/').rsplit('/', 1)[-1]
    msgs = resp.json()['messages']
    # Oldest first; the claimer's own messages are claimable (no echo rule).
    assert [h.message_id(m['href']) for m in msgs] == ids[:4]
    for m in msgs:
        assert h.claim_id_of(m['href']) == claim_id, m
        assert m['body'] == {'n': ids.index(h.message_id(m['href']))}
        assert isinstance(m['ttl'], int) and isinstance(m['age'], int)
        assert '/v2/queues/fizbit/messages/' in m['href']


def test_claim_default_limit_ttl_and_grace(api):
    t = h.Tenant(api.url)
    t.post_bodies('defaults', 15)
    resp = t.post('/v2/queues/defaults/claims', json={})
    assert resp.status_code == 201, h.describe(resp)
    assert len(resp.json()['messages']) == 10
    claim = t.get(resp.headers['Location'])
    assert claim.status_code == 200, h.describe(claim)
    assert claim.json()['ttl'] == 300
    # An empty body means defaults too.
    resp = t.post('/v2/queues/defaults/claims')
    assert resp.status_code == 201, h.describe(resp)
    assert len(resp.json()['messages']) == 5


def test_claim_empty_or_missing_queue_is_204(api):
    t = h.Tenant(api.url)
    resp = t.post('/v2/queues/nonexistent/claims', json={'ttl': 100, 'grace': 60})
    assert resp.status_code == 204, h.describe(resp)
    assert not resp.content
    t.create_queue('empty')
    resp = t.post('/v2/queues/empty/claims', json={'ttl': 100, 'grace': 60})
    assert resp.status_code == 204, h.describe(resp)
    assert not resp.content


def test_claimed_messages_are_not_claimable_again(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('exclusive', 5)
    first, msgs1 = t.claim('exclusive', limit=3)
    second, msgs2 = t.claim('exclusive', limit=3)
    assert first and second and first != second
    got1 = [h.message_id(m['href']) for m in msgs1]
    got2 = [h.message_id(m['href']) for m in msgs2]
    assert got1 == ids[:3] and got2 == ids[3:]
    assert t.claim('exclusive', limit=3) == (None, [])
    assert t.peer().claim('exclusive') == (None, [])


def test_get_claim(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('query', 3)
    claim_id, _ = t.claim('query', ttl=100, grace=60, limit=2)
    resp = t.get(_claim_path('query', claim_id))
    assert resp.status_code == 200, h.describe(resp)
    claim = resp.json()
    assert claim['ttl'] == 100
    assert isinstance(claim['age'], int) and 0 <= claim['age'] < 60
    assert claim['href'].endswith(_claim_path('query', claim_id))
    assert [h.message_id(m['href']) for m in claim['messages']] == ids[:2]
    for m in claim['messages']:
        assert h.claim_id_of(m['href']) == claim_id


def test_claimed_message_href_carries_claim_id(api):
    t = h.Tenant(api.url)
    [mid] = t.post_bodies('href', 1)
    before = t.get(f'/v2/queues/href/messages/{mid}').json()
    assert h.claim_id_of(before['href']) is None
    claim_id, _ = t.claim('href')
    after = t.get(f'/v2/queues/href/messages/{mid}').json()
    assert h.claim_id_of(after['href']) == claim_id


def test_listing_hides_claimed_unless_asked(api):
    t = h.Tenant(api.url)
    other = t.peer()
    ids = t.post_bodies('hidden', 4)
    claim_id, _ = t.claim('hidden', limit=3)
    assert t.listed_ids('hidden', echo=True) == ids[3:]
    assert other.listed_ids('hidden') == ids[3:]
    listed = t.walk_messages('hidden', echo=True, include_claimed=True)
    assert [m['id'] for m in listed] == ids
    for m in listed[:3]:
        assert h.claim_id_of(m['href']) == claim_id
    assert t.listed_ids('hidden', echo=False, include_claimed=True) == []
    assert other.listed_ids('hidden', include_claimed=True) == ids


def test_renew_claim(api):
    t = h.Tenant(api.url)
    t.post_bodies('renew', 2)
    claim_id, _ = t.claim('renew', ttl=60, grace=60)
    resp = t.patch(_claim_path('renew', claim_id), json={'ttl': 120, 'grace': 60})
    assert resp.status_code == 204, h.describe(resp)
    assert not resp.content
    claim = t.get(_claim_path('renew', claim_id)).json()
    assert claim['ttl'] == 120
    assert claim['age'] < 60
    assert len(claim['messages']) == 2
    # TTL alone is enough to renew.
    resp = t.patch(_claim_path('renew', claim_id), json={'ttl': 90})
    assert resp.status_code == 204, h.describe(resp)
    assert t.get(_claim_path('renew', claim_id)).json()['ttl'] == 90


def test_release_claim(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('release', 3)
    claim_id, _ = t.claim('release')
    resp = t.delete(_claim_path('release', claim_id))
    assert resp.status_code == 204, h.describe(resp)
    assert not resp.content
    h.assert_json_error(t.get(_claim_path('release', claim_id)), 404)
    h.assert_json_error(t.patch(_claim_path('release', claim_id),
                                json={'ttl': 100, 'grace': 60}), 404)
    assert t.delete(_claim_path('release', claim_id)).status_code == 204
    assert t.listed_ids('release', echo=True) == ids
    again, msgs = t.claim('release')
    assert again and again != claim_id
    assert [h.message_id(m['href']) for m in msgs] == ids


def test_missing_claims(api):
    t = h.Tenant(api.url)
    t.post_bodies('noclaim', 1)
    h.assert_json_error(t.get(_claim_path('noclaim', 'a')), 404)
    h.assert_json_error(t.get(_claim_path('nonexistent', 'aaabbbba')), 404)
    h.assert_json_error(t.patch(_claim_path('noclaim', 'a'), json={'ttl': 100}), 404)
    assert t.delete(_claim_path('noclaim', 'a')).status_code == 204
    assert t.delete(_claim_path('nonexistent', 'a')).status_code == 204


def test_delete_claimed_message(api):
    t = h.Tenant(api.url)
    [mid, other_mid] = t.post_bodies('claimed-del', 2)
    claim_id, msgs = t.claim('claimed-del', limit=1)
    assert h.message_id(msgs[0]['href']) == mid
    target = f'/v2/queues/claimed-del/messages/{mid}'

    h.assert_json_error(t.delete(target), 403)
    assert t.get(target).status_code == 200

    # The claim of another message does not hold this one.
    other_claim, _ = t.claim('claimed-del', limit=1)
    h.assert_json_error(t.delete(target, params={'claim_id': other_claim}), 403)
    assert t.get(target).status_code == 200

    resp = t.delete(target, params={'claim_id': claim_id})
    assert resp.status_code == 204, h.describe(resp)
    h.assert_json_error(t.get(target), 404)
    # The claimed message's href works as is for deletion.
    resp = t.delete(msgs[0]['href'])
    assert resp.status_code == 204, h.describe(resp)


def test_delete_with_released_claim_is_rejected(api):
    t = h.Tenant(api.url)
    [mid] = t.post_bodies('stale', 1)
    claim_id, msgs = t.claim('stale')
    assert t.delete(_claim_path('stale', claim_id)).status_code == 204
    # Zaqar: "A claim was specified, but the message is not currently claimed" (400).
    h.assert_json_error(t.delete(msgs[0]['href']), 400)
    assert t.get(f'/v2/queues/stale/messages/{mid}').status_code == 200


def test_delete_by_ids_with_claim_ids(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('bulkclaimed', 6)
    claim_id, msgs = t.claim('bulkclaimed', limit=4)
    claimed = [h.message_id(m['href']) for m in msgs]
    resp = t.delete('/v2/queues/bulkclaimed/messages',
                    params={'ids': ','.join(claimed), 'claim_ids': claim_id})
    assert resp.status_code == 204, h.describe(resp)
    for mid in claimed:
        assert t.get(f'/v2/queues/bulkclaimed/messages/{mid}').status_code == 404
    assert t.listed_ids('bulkclaimed', echo=True, include_claimed=True) == ids[4:]
    assert t.stats('bulkclaimed')['claimed'] == 0


def test_dead_letter_queue(api):
    t = h.Tenant(api.url)
    t.create_queue('dlq')
    t.create_queue('work', {'_max_claim_count': 1, '_dead_letter_queue': 'dlq',
                            '_dead_letter_queue_messages_ttl': 7200})
    [mid] = t.post_messages('work', [{'body': {'job': 1}, 'ttl': 3600}])
    [keep] = t.post_messages('work', [{'body': {'job': 2}, 'ttl': 3600}])

    claim_id, msgs = t.claim('work', limit=1)
    assert [h.message_id(m['href']) for m in msgs] == [mid]
    assert t.delete(_claim_path('work', claim_id)).status_code == 204

    # The next claim attempt finds mid at its max claim count: it goes to the
    # DLQ instead of being returned; the never-claimed message is claimed.
    claim_id, msgs = t.claim('work', limit=5)
    assert [h.message_id(m['href']) for m in msgs] == [keep]
    assert t.get(f'/v2/queues/work/messages/{mid}').status_code == 404
    assert t.stats('work')['total'] == 1

    moved = t.walk_messages('dlq', echo=True, include_claimed=True)
    assert len(moved) == 1
    assert moved[0]['body'] == {'job': 1}
    assert moved[0]['ttl'] == 7200
    assert t.stats('dlq')['total'] == 1


def test_dead_letter_all_claimed_out_is_204(api):
    t = h.Tenant(api.url)
    t.create_queue('work2', {'_max_claim_count': 2, '_dead_letter_queue': 'dead2'})
    [mid] = t.post_bodies('work2', 1)
    for _ in range(2):
        claim_id, msgs = t.claim('work2')
        assert [h.message_id(m['href']) for m in msgs] == [mid]
        assert t.delete(_claim_path('work2', claim_id)).status_code == 204
    assert t.claim('work2') == (None, [])
    moved = t.walk_messages('dead2', echo=True, include_claimed=True)
    assert [m['body'] for m in moved] == [{'n': 0}]


def test_other_project_cannot_see_or_use_claims(api):
    owner = h.Tenant(api.url)
    intruder = h.Tenant(api.url)
    ids = owner.post_bodies('shared', 4)
    claim_id, msgs = owner.claim('shared', limit=2)

    assert intruder.claim('shared') == (None, [])
    h.assert_json_error(intruder.get(_claim_path('shared', claim_id)), 404)
    h.assert_json_error(intruder.patch(_claim_path('shared', claim_id),
                                       json={'ttl': 120, 'grace': 60}), 404)
    assert intruder.delete(_claim_path('shared', claim_id)).status_code == 204
    for m in msgs:
        # The href carries the claim id; the intruder's project has no such
        # queue, so the claim is not found there (as on a deleted queue).
        h.assert_json_error(intruder.delete(m['href']), 404)
        assert intruder.delete('/v2/queues/shared/messages/' + m['id']).status_code == 204
    assert intruder.stats('shared')['total'] == 0
    assert intruder.get('/v2/queues').json()['queues'] == []
    assert intruder.delete('/v2/queues/shared').status_code == 204

    # Nothing changed for the owner: the claim still holds its messages.
    claim = owner.get(_claim_path('shared', claim_id))
    assert claim.status_code == 200, h.describe(claim)
    assert claim.json()['ttl'] == 60
    assert [h.message_id(m['href']) for m in claim.json()['messages']] == ids[:2]
    assert owner.listed_ids('shared', echo=True, include_claimed=True) == ids
    assert owner.stats('shared')['claimed'] == 2


# -- expiry (an API configured with short minimum TTLs) -------------------------------
@pytest.fixture(scope='module')
def fast_api(api_factory):
    """Claims and messages may live 1 s here, so expiry is testable."""
    return api_factory(limits={'min_claim_ttl': 1, 'min_claim_grace': 0,
                               'min_message_ttl': 1})


def _claim_gone(t: h.Tenant, queue: str, claim_id: str) -> bool:
    return t.get(_claim_path(queue, claim_id)).status_code == 404


def test_expired_claim_frees_its_messages(fast_api):
    t = h.Tenant(fast_api.url)
    ids = t.post_bodies('expiring', 2)
    claim_id, msgs = t.claim('expiring', ttl=2, grace=0)
    assert [h.message_id(m['href']) for m in msgs] == ids
    assert t.claim('expiring') == (None, [])
    h.wait_until(lambda: _claim_gone(t, 'expiring', claim_id), timeout=15,
                 what='claim expiry')
    h.assert_json_error(t.patch(_claim_path('expiring', claim_id), json={'ttl': 60}), 404)
    assert t.listed_ids('expiring', echo=True) == ids
    # The expired claim no longer holds the message (Zaqar: 400, not claimed).
    h.assert_json_error(t.delete(msgs[0]['href']), 400)
    # Once someone else claims it, the old claim id is refused (403).
    new_id, again = t.peer().claim('expiring')
    assert new_id and [h.message_id(m['href']) for m in again] == ids
    h.assert_json_error(t.delete(msgs[0]['href']), 403)
    assert t.delete(again[0]['href']).status_code == 204


def test_dead_letter_after_claim_expiry(fast_api):
    t = h.Tenant(fast_api.url)
    t.create_queue('work', {'_max_claim_count': 1, '_dead_letter_queue': 'dlq',
                            '_dead_letter_queue_messages_ttl': 600})
    [mid] = t.post_bodies('work', 1)
    claim_id, msgs = t.claim('work', ttl=1, grace=0)
    assert [h.message_id(m['href']) for m in msgs] == [mid]
    h.wait_until(lambda: _claim_gone(t, 'work', claim_id), timeout=15,
                 what='claim expiry')
    assert t.claim('work') == (None, [])
    moved = t.walk_messages('dlq', echo=True, include_claimed=True)
    assert [(m['body'], m['ttl']) for m in moved] == [({'n': 0}, 600)]


def test_message_expires_after_its_ttl(fast_api):
    t = h.Tenant(fast_api.url)
    [short] = t.post_messages('ttl', [{'body': 'short', 'ttl': 2}])
    [long] = t.post_messages('ttl', [{'body': 'long', 'ttl': 300}])
    h.wait_until(lambda: t.get(f'/v2/queues/ttl/messages/{short}').status_code == 404,
                 timeout=15, what='message expiry')
    assert t.listed_ids('ttl', echo=True, include_claimed=True) == [long]
    h.wait_until(lambda: t.stats('ttl')['total'] == 1, timeout=15,
                 what='expired message gone from stats')
    assert t.claim('ttl')[1][0]['body'] == 'long'


def test_claim_keeps_messages_alive_for_ttl_plus_grace(fast_api):
    t = h.Tenant(fast_api.url)
    [mid] = t.post_messages('graced', [{'body': 'keep', 'ttl': 2}])
    claim_id, msgs = t.claim('graced', ttl=6, grace=6)
    assert [h.message_id(m['href']) for m in msgs] == [mid]
    time.sleep(4)
    resp = t.get(f'/v2/queues/graced/messages/{mid}')
    assert resp.status_code == 200, 'a claimed message expired before its claim'
    assert t.delete(msgs[0]['href']).status_code == 204


def test_claim_whose_messages_are_all_deleted_is_gone(api):
    """As Zaqar: a claim is the messages it holds; once they are deleted,
    GET and PATCH of the claim are 404 (and DELETE stays 204)."""
    t = h.Tenant(api.url)
    t.post_bodies('done', 3)
    claim_id, msgs = t.claim('done')
    assert t.get(_claim_path('done', claim_id)).status_code == 200
    for message in msgs:
        assert t.delete(message['href']).status_code == 204
    h.assert_json_error(t.get(_claim_path('done', claim_id)), 404)
    h.assert_json_error(t.patch(_claim_path('done', claim_id), json={'ttl': 120}), 404)
    assert t.delete(_claim_path('done', claim_id)).status_code == 204
