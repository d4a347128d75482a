"""Every branch of a claim round (storage/swift/claims.py), reached on purpose
against the real local Swift: faults are injected into its proxy (the
test-only fault filter) and the round's monotonic clock is injected.

Branches: a write that came back later than the settle delay (withdrawn), a
write that lost the verification (deleted), a ghost (exorcised), a failed
X-Delete-At extension, and a listing that shows a write late.
"""
import itertools
import threading
import time
import uuid

import pytest

from functional import helpers as h
from functional.test_store import make_store
from zaqar_swift import errors
from zaqar_swift.storage.swift.clock import Clock
from zaqar_swift.testing.saio.faults import Rule

GEN = r'/m/[0-9a-f]{22}/g'


def _queue(catalog, store, messages=4, ttl=600):
    project = uuid.uuid4().hex
    catalog.put(project, 'q', {}, 0)
    record = catalog.get(project, 'q')
    ids = store.post(project, 'q', record, 'p', [(n, ttl, 0) for n in range(messages)])
    return project, record, ids


def _container_path(store, project):
    return '/' + store.container(project, 'q').container + '/'


def _state_names(client, store, project):
    rows = client.list_objects(store.container(project, 'q'), 'm/')
    return [r['name'] for r in rows if '/g' in r['name']]


def _claim_with_a_slow_write(faults, store, project, record, limit, action, seconds):
    """Start ``store``'s claim in a thread with its first state PUT slowed by
    the fault filter; return once that PUT reached the proxy. The returned
    function waits for the claim and gives its result."""
    rule = faults.add(Rule(method='PUT', path=_container_path(store, project) + 'm/.*/g',
                           action=action, seconds=seconds, times=1))
    result = {}
    racer = threading.Thread(target=lambda: result.update(
        claim=store.claim(project, 'q', record, 60, 60, limit)))
    racer.start()
    h.wait_until(lambda: faults.hits(rule) == 1, 10, 0.01, 'the slow write to reach the proxy')

    def finish():
        racer.join(30)
        return result['claim']
    return finish


def test_a_write_later_than_the_settle_delay_is_withdrawn(swift):
    """Each call of the injected monotonic clock is a second later: every
    write takes 'longer' than the settle delay, is deleted, and counts for
    nothing; the messages stay free for the next claimer."""
    ticks = itertools.count(step=1.0)
    client, catalog, slow = make_store(swift, clock=Clock(monotonic=lambda: next(ticks)))
    project, record, ids = _queue(catalog, slow)
    cid, claimed, _ = slow.claim(project, 'q', record, 60, 60, 4)
    assert claimed == []
    assert _state_names(client, slow, project) == []      # every write withdrawn
    _, _, fast = make_store(swift)
    assert [m.id for m in fast.claim(project, 'q', record, 60, 60, 4)[1]] == ids


def test_a_write_that_loses_the_verification_is_deleted(swift, faults):
    """A's state PUT is held 0.5 s in the proxy, so B (reading meanwhile)
    writes the same generation with an earlier timestamp and wins the merge;
    A sees that when it verifies, deletes its write and gets nothing."""
    client, catalog, a = make_store(swift, settle=1.0)
    _, _, b = make_store(swift, settle=1.0)
    project, record, ids = _queue(catalog, a, messages=2)
    a_claim = _claim_with_a_slow_write(faults, a, project, record, 2, 'delay', 0.5)
    b_cid, b_claimed, _ = b.claim(project, 'q', record, 60, 60, 2)
    a_cid, a_claimed, _ = a_claim()
    assert [m.id for m in b_claimed] == ids
    assert a_claimed == []
    names = _state_names(client, a, project)
    assert len(names) == 1, names                          # only B's write is left
    (held,) = a.get(project, 'q', record, ids[:1])
    assert held.claim_id == b_cid


def test_a_ghost_is_written_out(swift, faults):
    """A's state PUT lands at once but its response comes 2.5 s late, so A
    withdraws it; before that, B built the next generation on it (carrying
    A's claim). A finds its withdrawn claim alive (a ghost), writes it out,
    and claims the messages again: no message is held by a claim nobody
    knows about."""
    client, catalog, a = make_store(swift, settle=0.5)
    _, _, b = make_store(swift, settle=0.5)
    project, record, ids = _queue(catalog, a, messages=4)
    a_claim = _claim_with_a_slow_write(faults, a, project, record, 2, 'delay_response', 2.5)
    time.sleep(1.2)                  # A's write is older than 2Δ: B may build on it
    b_cid, b_claimed, _ = b.claim(project, 'q', record, 60, 60, 4)
    a_cid, a_claimed, _ = a_claim()
    assert [m.id for m in b_claimed] == ids[2:]
    assert [m.id for m in a_claimed] == ids[:2]            # after the exorcism
    stats = a.stats(project, 'q', record)
    assert stats['claimed'] == len(a_claimed) + len(b_claimed)
    holders = {m.id: m.claim_id for m in a.get(project, 'q', record, ids)}
    assert holders == {**{i: a_cid for i in ids[:2]}, **{i: b_cid for i in ids[2:]}}


def test_a_failed_expiry_extension_writes_no_state(swift, faults):
    """Defect 6: a claim that outlives its messages must move the body's
    X-Delete-At; when that POST fails nothing is claimed (503), and the
    next claim extends it before any state refers to it."""
    client, catalog, store = make_store(swift)
    project, record, ids = _queue(catalog, store, messages=1, ttl=60)
    container = _container_path(store, project)
    rule = faults.add(Rule(method='POST', path=container + 'm/.*/b$', action='fail',
                           status=503))
    with pytest.raises(errors.StorageUnavailable):
        store.claim(project, 'q', record, 600, 300, 1)
    assert faults.hits(rule) >= 1
    assert _state_names(client, store, project) == []
    faults.clear()
    cid, claimed, _ = store.claim(project, 'q', record, 600, 300, 1)
    assert [m.id for m in claimed] == ids
    headers = client.head_object(store.container(project, 'q'), 'm/%s/b' % ids[0][:22])
    assert int(headers['x-delete-at']) >= store.now() + 600 + 300


def test_a_failed_expiry_extension_is_a_503_over_http(api, swift, faults):
    t = h.Tenant(api.url)
    t.post_bodies('q', 1, ttl=60)
    faults.add(Rule(method='POST', path=r'\.q/m/.*/b$', action='fail', status=503))
    resp = t.post('/v2/queues/q/claims', json={'ttl': 600, 'grace': 60})
    _assert_json(resp, 503)
    assert resp.headers.get('Retry-After')
    faults.clear()
    assert t.stats('q')['free'] == 1
    assert len(t.claim('q', ttl=600)[1]) == 1


def test_a_write_a_listing_shows_late_is_deleted_and_never_surfaces(swift, faults):
    """A's state PUT lands but the container listing leaves it out for 1 s
    (a lagging container update). A's verification does not see it, so A
    deletes it and claims again; the hidden write never takes a message."""
    client, catalog, store = make_store(swift)
    project, record, ids = _queue(catalog, store, messages=2)
    rule = faults.add(Rule(method='PUT', path=_container_path(store, project) + 'm/.*/g',
                           action='hide', seconds=1.0, times=1))
    cid, claimed, _ = store.claim(project, 'q', record, 60, 60, 2)
    assert faults.hits(rule) == 1
    assert [m.id for m in claimed] == ids
    time.sleep(1.2)                                        # the hidden row would show now
    holders = {m.id: m.claim_id for m in store.get(project, 'q', record, ids)}
    assert holders == {i: cid for i in ids}
    assert len(_state_names(client, store, project)) == 1


def test_swift_statuses_outside_the_domain_are_not_500(api, swift, faults):
    """Defect 11: a 409, 412 or 404 from Swift where the code expects none
    was a 500. Each Swift status maps to a domain error."""
    t = h.Tenant(api.url)
    t.post_bodies('q', 1)
    claim_id, _ = t.claim('q')
    for status, expected in ((409, 409), (412, 409), (404, 404), (507, 503), (401, 503)):
        faults.clear()
        faults.add(Rule(method='PUT', path=r'\.q/c/', action='fail', status=status))
        resp = t.patch(f'/v2/queues/q/claims/{claim_id}', json={'ttl': 100})
        _assert_json(resp, expected)


def _assert_json(resp, status):
    assert resp.status_code == status, h.describe(resp)
    assert resp.headers['Content-Type'].startswith('application/json'), h.describe(resp)
    assert resp.json()['title'] and resp.json()['description']
