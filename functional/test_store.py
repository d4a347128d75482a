"""The Swift storage driver against the real local Swift: request counts per
operation, claim exclusivity across independent stores (as if in separate API
processes), expiry extension and purge."""
import concurrent.futures
import threading
import time
import uuid

import pytest

from zaqar_swift import errors
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift.purger import PurgeWorker
from zaqar_swift.storage.swift.queues import Catalog
from zaqar_swift.storage.swift.store import MessageStore


def make_store(swift_server, settle=0.5, **options):
    """(client, catalog, store) of their own; ``options`` go to MessageStore."""
    client = swift.SwiftClient.v1(swift_server.auth_url, swift_server.user,
                                  swift_server.key, timeout=30, retries=2)
    catalog = Catalog(client, 'zt', cache_ttl=2.0, tombstone_life=3600)
    return client, catalog, MessageStore(client, catalog, 'zt', settle=settle, **options)


@pytest.fixture
def env(swift):
    client, catalog, store = make_store(swift)
    project, queue = uuid.uuid4().hex, 'q'
    catalog.put(project, queue, {}, 0)
    return client, catalog, store, project, queue


def counted(client, func, *args, **kwargs):
    client.reset_thread_count()
    before = dict(client.totals)
    result = func(*args, **kwargs)
    print(func.__name__, {k: v - before.get(k, 0) for k, v in client.totals.items()})
    return result, client.thread_count()


def test_lifecycle_request_counts(env):
    client, catalog, store, project, queue = env
    record = catalog.get(project, queue)
    msgs = [({'n': i}, 3600, 0) for i in range(10)]
    ids, n_post = counted(client, store.post, project, queue, record, 'c1', msgs)
    # first POST to this queue also creates the container
    ids, n_post = counted(client, store.post, project, queue, record, 'c1', msgs)
    assert n_post == 1
    (cid, claimed, dead), n_claim = counted(
        client, store.claim, project, queue, record, 300, 60, 10)
    assert len(claimed) == 10 and not dead
    assert n_claim == 5
    _, n_delete = counted(client, store.delete, project, queue, record,
                          [m.id for m in claimed], [cid], True)
    assert n_delete == 2
    assert (n_post + n_claim + n_delete) / 10 <= 0.8


def test_claim_rules(env):
    client, catalog, store, project, queue = env
    record = catalog.get(project, queue)
    ids = store.post(project, queue, record, 'c1', [('a', 300, 0), ('b', 300, 0)])
    cid, claimed, _ = store.claim(project, queue, record, 300, 60, 1)
    assert [m.id for m in claimed] == ids[:1]
    with pytest.raises(errors.MessageIsClaimed):
        store.delete(project, queue, record, ids[:1], None, True)
    with pytest.raises(errors.ClaimMismatch):
        store.delete(project, queue, record, ids[:1], ['f' * 24], True)
    cid2, claimed2, _ = store.claim(project, queue, record, 300, 60, 5)
    assert [m.id for m in claimed2] == ids[1:]
    assert store.claim(project, queue, record, 300, 60, 5)[1] == []
    claim = store.read_claim(project, queue, record, cid)
    store.release(project, queue, claim)
    again = store.claim(project, queue, record, 300, 60, 5)[1]
    assert [m.id for m in again] == ids[:1]
    assert again[0].claim_count == 2


def test_claim_extends_message_life(env):
    client, catalog, store, project, queue = env
    record = catalog.get(project, queue)
    ids = store.post(project, queue, record, 'c1', [('short', 60, 0)])
    cid, claimed, _ = store.claim(project, queue, record, 600, 120, 1)
    assert claimed[0].expires >= claimed[0].created + 60
    (message,) = store.get(project, queue, record, ids)
    assert message.expires >= store.now() + 600 + 100
    headers = client.head_object(store.container(project, queue), 'm/%s/b' % ids[0][:22])
    assert int(headers['x-delete-at']) >= store.now() + 700


def test_no_double_claims_across_independent_stores(swift):
    """Eight stores (no shared lock: as if eight API processes) claim from one
    queue of 200 messages posted in batches of 5 and delete what they get with
    their claim id. Every message is delivered; none is delivered twice while
    an earlier claim on it was certainly active; no delete is refused."""
    ttl = 20
    stores = [make_store(swift) for _ in range(8)]
    _, catalog, store = stores[0]
    project, queue = uuid.uuid4().hex, 'race'
    catalog.put(project, queue, {}, 0)
    record = catalog.get(project, queue)
    posted = []
    for start in range(0, 200, 5):
        posted += store.post(project, queue, record, 'p',
                             [(i, 600, 0) for i in range(start, start + 5)])
    deliveries, doubles, refused = claim_storm(stores, project, queue, posted, 8, ttl, 0.5)
    total = sum(len(v) for v in deliveries.values())
    print('deliveries %d of %d messages, double deliveries %d, refused deletes %d'
          % (total, len(deliveries), doubles, len(refused)))
    assert set(deliveries) == set(posted)
    assert doubles == 0 and not refused


def test_purge_hides_at_once_and_worker_reclaims(env):
    client, catalog, store, project, queue = env
    record = catalog.get(project, queue)
    for _ in range(3):
        store.post(project, queue, record, 'c', [(i, 300, 0) for i in range(10)])
    cut = store.next_cut()
    catalog.put(project, queue, {}, cut)
    store.schedule_purge(project, queue, cut)
    record = catalog.get(project, queue)
    assert store.stats(project, queue, record)['total'] == 0
    survivor = store.post(project, queue, record, 'c', [('new', 300, 0)])
    worker = PurgeWorker(store, client, interval=1)
    assert worker.run_once() == 3
    listed = store.list(project, queue, record, 'x', None, 10, True, True, True).messages
    assert [m.id for m in listed] == survivor


def claim_storm(stores: list, project: str, queue: str, posted: list[str], consumers: int,
                ttl: int, idle: float) -> tuple[dict[str, list], int, list[str]]:
    """``consumers`` threads (consumer n on ``stores[n % len(stores)]``, each
    ``make_store``'s triple) claim 7 at a time with ``ttl`` and delete what
    they got, until every posted message was delivered (150 s at most);
    sleeping ``idle`` after an empty claim. Returns the deliveries (message
    id -> [(claim began, claim ended)]), how many deliveries came while an
    earlier claim on the message was certainly live, and the refused deletes."""
    deliveries: dict[str, list] = {}
    refused: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 150

    def consume(n: int) -> None:
        _, cat, st = stores[n % len(stores)]
        rec = cat.get(project, queue)
        while time.monotonic() < deadline:
            began = time.monotonic()
            cid, claimed, _ = st.claim(project, queue, rec, ttl, ttl, 7)
            ended = time.monotonic()
            with lock:
                for m in claimed:
                    deliveries.setdefault(m.id, []).append((began, ended))
                if len(deliveries) == len(posted):
                    return
            try:
                st.delete(project, queue, rec, [m.id for m in claimed], [cid], True)
            except errors.ClaimMismatch as exc:
                refused.append(str(exc))
            if not claimed:
                time.sleep(idle)

    with concurrent.futures.ThreadPoolExecutor(consumers) as pool:
        list(pool.map(consume, range(consumers)))
    doubles = 0
    for spans in deliveries.values():
        spans.sort()
        doubles += sum(1 for (b1, _), (_, e2) in zip(spans, spans[1:]) if e2 < b1 + ttl)
    return deliveries, doubles, refused
