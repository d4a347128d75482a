"""Shared claim rounds and the listing start hint (storage/swift/claims.py),
against the real local Swift.

* Claimers of one process waiting for a queue at the same time share one
  round: fewer listings than claimers, disjoint messages.
* Shared rounds in two "processes" (independent stores) never hand a
  message to two live claims.
* A claim lists from where free messages start (the hint), not from the
  cut; a release makes the released messages claimable again at once.
"""
import concurrent.futures
import threading
import time
import uuid

from functional.test_store import claim_storm, make_store
from zaqar_swift.storage.swift import claims as claim_rounds


def _queue(catalog, store, batches, size=10, ttl=600):
    project = uuid.uuid4().hex
    catalog.put(project, 'q', {}, 0)
    record = catalog.get(project, 'q')
    ids = []
    for b in range(batches):
        ids += store.post(project, 'q', record, 'p', [(b * size + i, ttl, 0)
                                                      for i in range(size)])
    return project, record, ids


def _claim_together(store, project, record, claimers, limit):
    """``claimers`` threads of one store claim at once (a barrier)."""
    barrier = threading.Barrier(claimers)

    def claim(_):
        barrier.wait()
        return store.claim(project, 'q', record, 60, 60, limit)
    with concurrent.futures.ThreadPoolExecutor(claimers) as pool:
        return list(pool.map(claim, range(claimers)))


def test_claimers_of_one_process_share_rounds(swift):
    """Eight claimers at once: every message goes to exactly one of them,
    with fewer listings than the eight claimers would make alone (a listing
    and a verifying listing each)."""
    client, catalog, store = make_store(swift)
    project, record, ids = _queue(catalog, store, batches=8)
    before = client.totals['LIST']
    results = _claim_together(store, project, record, 8, 10)
    lists = client.totals['LIST'] - before
    got = [m.id for _, claimed, _ in results for m in claimed]
    print('claimed %d of %d with %d listings' % (len(got), len(ids), lists))
    assert len(got) == len(set(got))
    assert set(got) <= set(ids)
    assert len(got) >= len(ids) - 10           # a round may miss a batch in flight
    assert lists < 2 * 8
    for cid, claimed, _ in results:           # each claim holds what it was given
        for m in store.get(project, 'q', record, [m.id for m in claimed]):
            assert m.claim_id == cid


def test_shared_rounds_in_two_processes_are_exclusive(swift):
    """Two stores (as two API processes), six claimers each, 150 messages in
    batches of 5: no message is delivered twice while an earlier claim on
    it was live, every message is delivered, no delete is refused."""
    ttl = 30
    stores = [make_store(swift) for _ in range(2)]
    _, catalog, store = stores[0]
    project, record, posted = _queue(catalog, store, batches=30, size=5)
    deliveries, doubles, refused = claim_storm(stores, project, 'q', posted, 12, ttl, 0.3)
    print('delivered %d of %d, double deliveries %d, refused %d'
          % (len(deliveries), len(posted), doubles, len(refused)))
    assert set(deliveries) == set(posted)
    assert doubles == 0 and not refused


def test_a_claim_lists_from_where_free_messages_start(swift):
    """After 30 batches were claimed one after the other, a claim reads a
    few rows from the hint, not the 60 rows (bodies and states) of the
    claimed batches from the cut."""
    client, catalog, store = make_store(swift)
    project, record, ids = _queue(catalog, store, batches=32)
    for _ in range(30):
        assert len(store.claim(project, 'q', record, 60, 60, 10)[1]) == 10
    before = client.totals['rows']
    cid, claimed, _ = store.claim(project, 'q', record, 60, 60, 10)
    rows = client.totals['rows'] - before
    print('rows read by the 31st claim: %d' % rows)
    assert [m.id for m in claimed] == ids[300:310]
    assert rows <= 12


def test_a_release_is_claimable_again_at_once(swift):
    """The hint would skip a released batch: a release in this process
    forgets it, so the next claim gets the released messages."""
    client, catalog, store = make_store(swift)
    project, record, ids = _queue(catalog, store, batches=3)
    first = store.claim(project, 'q', record, 60, 60, 10)
    store.claim(project, 'q', record, 60, 60, 10)
    store.release(project, 'q', store.read_claim(project, 'q', record, first[0]))
    time.sleep(2 * 0.5)                        # the release's write settles
    again = store.claim(project, 'q', record, 60, 60, 10)[1]
    assert [m.id for m in again] == ids[:10]


def test_a_release_in_another_process_is_seen_within_the_hint_life(swift):
    """A release through another store (process) is not known here: the
    hint skips the batch at most HINT_LIFE seconds."""
    _, catalog, store = make_store(swift)
    _, _, other = make_store(swift)
    project, record, ids = _queue(catalog, store, batches=3)
    first = store.claim(project, 'q', record, 60, 60, 10)
    store.claim(project, 'q', record, 60, 60, 10)
    other.release(project, 'q', other.read_claim(project, 'q', record, first[0]))
    deadline = time.monotonic() + claim_rounds.HINT_LIFE + 5
    found = []
    while not found and time.monotonic() < deadline:
        found = [m.id for m in store.claim(project, 'q', record, 60, 60, 10)[1]
                 if m.id in ids[:10]]
        time.sleep(0.5)
    assert found == ids[:10]
