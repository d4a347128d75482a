"""Regression tests of the data-safety and bounded-work defects found from
outside (the hardening issue), each against the real local Swift.

Claim rounds' own branches (withdrawn, lost, ghost, failed extension, late
listing) are in test_claim_rounds.py, with faults injected into the proxy.
"""
import concurrent.futures
import math
import time
import uuid

import pytest

from functional import helpers as h
from functional.test_store import make_store
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.storage.swift import claims as claim_rounds
from zaqar_swift.storage.swift.purger import PurgeWorker
from zaqar_swift.storage.swift.clock import Clock
from zaqar_swift.storage.swift.queues import Catalog
from zaqar_swift.testing.saio.faults import Rule


@pytest.fixture(scope='module')
def quick_api(api_factory):
    """An API whose limits allow second-long TTLs, so expiry can be watched."""
    return api_factory(limits={'min_message_ttl': 1, 'min_claim_ttl': 1,
                               'min_claim_grace': 0})


def _claim_path(queue, claim_id):
    return f'/v2/queues/{queue}/claims/{claim_id}'


def test_deleted_message_never_returns_after_claim_renewal(quick_api):
    """Defect 1: the tombstone of a message deleted under a claim expired
    with the claim's old expiry, and a renewal kept the message alive, so
    it came back."""
    t = h.Tenant(quick_api.url)
    deleted, kept = t.post_bodies('q', 2, ttl=3)
    claim_id, msgs = t.claim('q', ttl=4, grace=1)
    assert {m['id'] for m in msgs} == {deleted, kept}, 'claimed %s' % msgs
    resp = t.delete(f'/v2/queues/q/messages/{deleted}', params={'claim_id': claim_id})
    assert resp.status_code == 204, h.describe(resp)
    resp = t.patch(_claim_path('q', claim_id), json={'ttl': 30, 'grace': 1})
    assert resp.status_code == 204, h.describe(resp)
    deadline = time.monotonic() + 11    # the old tombstone went at about +7 s
    while time.monotonic() < deadline:
        h.assert_json_error(t.get(f'/v2/queues/q/messages/{deleted}'), 404)
        listed = t.listed_ids('q', include_claimed=True, echo=True)
        assert deleted not in listed
        time.sleep(0.5)
    assert t.get(f'/v2/queues/q/messages/{kept}').status_code == 200   # renewed
    claim = t.get(_claim_path('q', claim_id)).json()
    assert [m['id'] for m in claim['messages']] == [kept]


def test_claims_do_not_outlive_their_queue(api):
    """Defect 2: PATCH of a claim on a deleted queue answered 204."""
    t = h.Tenant(api.url)
    ids = t.post_bodies('q', 2)
    claim_id, _ = t.claim('q')
    assert t.delete('/v2/queues/q').status_code == 204
    h.assert_json_error(t.patch(_claim_path('q', claim_id), json={'ttl': 100}), 404)
    h.assert_json_error(t.get(_claim_path('q', claim_id)), 404)
    assert t.delete(_claim_path('q', claim_id)).status_code == 204
    h.assert_json_error(t.delete(f'/v2/queues/q/messages/{ids[0]}',
                                 params={'claim_id': claim_id}), 404)
    h.assert_json_error(t.delete('/v2/queues/q/messages',
                                 params={'ids': ids[0], 'claim_ids': claim_id}), 404)

    t.create_queue('q')                    # recreated: the old claim stays gone
    fresh = t.post_bodies('q', 1)
    h.assert_json_error(t.patch(_claim_path('q', claim_id), json={'ttl': 100}), 404)
    h.assert_json_error(t.get(_claim_path('q', claim_id)), 404)
    h.assert_json_error(t.delete(f'/v2/queues/q/messages/{ids[1]}',
                                 params={'claim_id': claim_id}), 404)
    assert t.stats('q')['free'] == 1       # nothing was touched
    new_claim, msgs = t.claim('q')
    assert [m['id'] for m in msgs] == fresh


def test_claim_age_is_whole_seconds_since_the_claim(swift):
    """Defect 3: a 2-second-old claim said age 1: its start was stored as
    its expiry (rounded up to a whole second) minus its ttl. The clock is
    injected so the claim is made 0.7 s into a second."""
    now = [math.floor(time.time()) + 0.7]
    client, catalog, store = make_store(swift, clock=Clock(time_fn=lambda: now[0]))
    service = MessagingService(client, catalog, store, validation.Limits.defaults())
    project = uuid.uuid4().hex
    service.post_messages(project, 'q', 'c', {'messages': [{'body': 1}]})
    claim_id, _ = service.create_claim(project, 'q', 'c', {'ttl': 60, 'grace': 60})
    now[0] += 2.0
    assert service.get_claim(project, 'q', claim_id)['age'] == 2
    service.update_claim(project, 'q', claim_id, {'ttl': 120, 'grace': 60})
    now[0] += 1.5
    assert service.get_claim(project, 'q', claim_id)['age'] == 1   # since the renewal


def test_renewals_leave_a_bounded_number_of_state_objects(swift):
    """Defect 7: every renewal added a state object for good, and a batch
    was read from its first listing page only. Renewals now tidy stale
    generations, and a batch is read across pages (page of 3 rows here)."""
    client, catalog, store = make_store(swift, page=3)
    project = uuid.uuid4().hex
    catalog.put(project, 'q', {}, 0)
    record = catalog.get(project, 'q')
    store.post(project, 'q', record, 'c', [('a', 600, 0), ('b', 600, 0)])
    cid, claimed, _ = store.claim(project, 'q', record, 60, 60, 2)
    claim = store.read_claim(project, 'q', record, cid)
    for ttl in range(61, 61 + 2 * claim_rounds.STALE_LIMIT + 2):
        store.renew(project, 'q', claim, ttl, 60)
    rows = client.list_objects(store.container(project, 'q'), 'm/')
    assert len(rows) <= 1 + claim_rounds.STALE_LIMIT + 2, [r['name'] for r in rows]
    (a, b) = store.get(project, 'q', record, [m.id for m in claimed])
    assert a.claim_id == b.claim_id == cid
    assert a.expires >= store.now() + 60 + 2 * claim_rounds.STALE_LIMIT + 60 - 5


def test_queue_record_cache_is_bounded(swift):
    """Defect 9: random queue names grew the metadata cache forever."""
    client, _, _ = make_store(swift)
    catalog = Catalog(client, 'zt', cache_ttl=60, tombstone_life=3600, cache_size=5)
    project = uuid.uuid4().hex
    for n in range(40):
        catalog.get(project, 'q%d' % n)
    assert catalog.cached() == 5


def test_ids_far_apart_do_not_list_the_queue_between_them(swift):
    """Defect 9: ids spanning the queue listed everything between them. Now
    one page of the range, then a listing per batch not reached."""
    client, catalog, store = make_store(swift, page=10)
    project = uuid.uuid4().hex
    catalog.put(project, 'q', {}, 0)
    record = catalog.get(project, 'q')
    ids = [store.post(project, 'q', record, 'c', [(n, 600, 0)])[0] for n in range(60)]
    before = client.totals['rows']
    found = store.get(project, 'q', record, [ids[0], ids[-1]])
    assert [m.body for m in found] == [0, 59]
    assert client.totals['rows'] - before <= 10 + 1


def test_listing_reads_a_bounded_number_of_rows_and_pages_on(swift):
    """Defect 9: a listing skipped claimed rows without a cap. With a budget
    of 20 rows a page is short, and its marker goes on from where it stopped."""
    client, catalog, store = make_store(swift, page=10, max_rows=20)
    project = uuid.uuid4().hex
    catalog.put(project, 'q', {}, 0)
    record = catalog.get(project, 'q')
    for n in range(30):
        store.post(project, 'q', record, 'c', [(n, 600, 0)])
    claimed = []
    for _ in range(3):                    # claimed rows the listing must skip
        claimed += store.claim(project, 'q', record, 60, 60, 3)[1]
    assert claimed
    seen, marker, pages = [], None, 0
    while pages < 20:
        before = client.totals['rows']
        page = store.list(project, 'q', record, 'x', marker, 5, True, False, False)
        assert client.totals['rows'] - before <= 20
        pages += 1
        if page.marker is None:
            break
        seen += [m.body for m in page.messages]
        marker = page.marker
    assert seen == sorted(set(range(30)) - {m.body for m in claimed})


def test_claims_on_one_queue_do_not_wait_for_another(swift):
    """Defect 14: locks were 64 stripes over every queue of every project,
    held across Swift I/O. Now one lock per queue: a claim proceeds while
    another queue's lock is held."""
    client, catalog, store = make_store(swift)
    project = uuid.uuid4().hex
    for queue in ('busy', 'free'):
        catalog.put(project, queue, {}, 0)
        store.post(project, queue, catalog.get(project, queue), 'c', [(1, 600, 0)])
    locks = store.claims._locks
    busy = locks.hold(store.container(project, 'busy'))
    with busy:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            done = pool.submit(store.claim, project, 'free', catalog.get(project, 'free'),
                               60, 60, 1)
            assert len(done.result(timeout=20)[1]) == 1
    assert locks.hold(store.container(project, 'busy')) is busy
    assert locks.hold(store.container(project, 'free')) is not busy


def test_a_failing_purge_job_does_not_block_the_others(swift, faults):
    """Defect 13: jobs ran in name order and a failing one stopped the pass.
    Now a failing job backs off, and the others run, oldest first."""
    client, catalog, store = make_store(swift)
    project = uuid.uuid4().hex
    for queue in ('broken', 'good'):      # "broken" is purged first: its job is older
        catalog.put(project, queue, {}, 0)
        store.post(project, queue, catalog.get(project, queue), 'c', [(1, 600, 0)])
        cut = store.next_cut()
        catalog.put(project, queue, {}, cut)
        store.schedule_purge(project, queue, cut)
    broken = store.container(project, 'broken').container
    rule = faults.add(Rule(method='GET', path='/%s$' % broken.replace('.', r'\.'),
                           action='fail', status=503))
    try:
        worker = PurgeWorker(store, client, interval=30)
        assert worker.run_once() == 1          # the good queue's batch
        jobs = [job for job in store.purge_jobs() if job.target.container == broken]
        assert len(jobs) == 1 and not worker._backoff.ready(jobs[0].name)
        hits = faults.hits(rule)
        assert worker.run_once() == 0          # backing off: not even tried
        assert faults.hits(rule) == hits
    finally:
        faults.clear()
    assert PurgeWorker(store, client, interval=30).run_once() == 1


def test_a_claim_record_written_after_its_expiry_is_not_refused(quick_api, faults):
    """Found by the fault runs: a claim whose record PUT landed after the
    claim's expiry sent Swift an X-Delete-At in the past, and Swift's 400
    reached the client. Expiry headers are never in the past now."""
    t = h.Tenant(quick_api.url)
    t.post_bodies('q', 1)
    faults.add(Rule(method='PUT', path=r'\.%s\.q/c/' % t.project, action='delay',
                    seconds=3.5, times=1))
    resp = t.post('/v2/queues/q/claims', json={'ttl': 2, 'grace': 0})
    assert resp.status_code == 201, h.describe(resp)


def test_a_container_not_yet_visible_after_its_creation_is_not_a_404(api, faults):
    """Found by bench/drain.py (two API processes posting to a new queue): the
    object PUT after the container PUT may still meet a proxy that answers 404
    for the new container. The post must not answer 404 for a queue that
    exists: it tries again, and answers 503 (Retry-After) only when Swift
    keeps answering so."""
    t = h.Tenant(api.url)
    t.create_queue('fresh')
    # the first object PUT (container missing) and the one after the
    # container PUT both meet a 404
    rule = faults.add(Rule(method='PUT', path=r'\.fresh/m/.*/b$', action='fail', status=404,
                           times=2))
    resp = t.post('/v2/queues/fresh/messages', json={'messages': [{'body': 1, 'ttl': 300}]})
    assert resp.status_code == 201, h.describe(resp)
    assert faults.hits(rule) == 2
    assert len(t.listed_ids('fresh', echo='true')) == 1
    faults.clear()
    faults.add(Rule(method='PUT', path=r'\.fresh/m/.*/b$', action='fail', status=404))
    resp = t.post('/v2/queues/fresh/messages', json={'messages': [{'body': 2, 'ttl': 300}]})
    assert resp.status_code == 503, h.describe(resp)
    assert resp.headers.get('Retry-After')


def test_a_delete_of_a_message_the_listing_does_not_show_yet_is_not_a_204(api, faults):
    """Found by the device fault run in CI: a device that failed in the
    middle of a body's PUT left one container replica without the body's
    row (no async pending: the object server died with the request). A
    DELETE that read that replica found nothing, answered 204 and deleted
    nothing; when the claim expired the message was delivered again. A
    message whose body exists is never reported deleted before it is: while
    no listing shows it, the delete answers 503 (Retry-After)."""
    t = h.Tenant(api.url)
    t.create_queue('lagging')
    faults.add(Rule(method='PUT', path=r'\.lagging/m/.*/b$', action='hide', seconds=60,
                    times=1))
    [mid] = t.post_bodies('lagging', 1, ttl=300)
    for resp in (t.delete(f'/v2/queues/lagging/messages/{mid}'),
                 t.delete('/v2/queues/lagging/messages', params={'ids': mid})):
        assert resp.status_code == 503, h.describe(resp)
        assert resp.headers.get('Retry-After') and resp.json()['description']
    faults.clear()                      # the replica caught up
    assert t.get(f'/v2/queues/lagging/messages/{mid}').status_code == 200
    resp = t.delete(f'/v2/queues/lagging/messages/{mid}')
    assert resp.status_code == 204, h.describe(resp)
    h.assert_json_error(t.get(f'/v2/queues/lagging/messages/{mid}'), 404)
    # messages that are really gone are still deleted at once (idempotent)
    resp = t.delete('/v2/queues/lagging/messages', params={'ids': mid})
    assert resp.status_code == 204, h.describe(resp)


def test_a_message_whose_tombstone_a_listing_lacks_is_not_claimed_again(quick_api, faults):
    """Found while fixing the torn writes of the device fault run: a
    tombstone the failing device's object server died writing is missing
    from one container replica until replication. Once the deleting claim
    expired, a claim that read that replica took the deleted message and
    handed it out again. A message claimed before (count >= 1) is handed
    out again only if its tombstone is not there by name (one HEAD)."""
    t = h.Tenant(quick_api.url)
    deleted, kept = t.post_bodies('torn', 2, ttl=300)
    claim_id, msgs = t.claim('torn', ttl=2, grace=0)
    assert {m['id'] for m in msgs} == {deleted, kept}
    faults.add(Rule(method='PUT', path=r'\.torn/m/.*/x', action='hide', seconds=60, times=1))
    resp = t.delete(f'/v2/queues/torn/messages/{deleted}', params={'claim_id': claim_id})
    assert resp.status_code == 204, h.describe(resp)
    time.sleep(3.5)                                       # the claim expired
    _, again = t.claim('torn', ttl=60, grace=0)
    assert [m['id'] for m in again] == [kept]
