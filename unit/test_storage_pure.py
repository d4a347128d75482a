"""Pure parts of the storage layer: claim intents, stale generations, the
body expiry formula, page splitting, the purge worker's order and backoff."""
from zaqar_swift.storage.swift import claims
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import encoding
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift import reader
from zaqar_swift.storage.swift import views
from zaqar_swift.storage.swift.purger import Backoff, fair_order
from zaqar_swift.storage.swift.store import Job

BATCH = naming.batch_id(1_700_000_000_000_000, 7)
CREATED = 1_700_000_000.0


def _row(name, content_type='x'):
    return {'name': name, 'content_type': content_type, 'hash': '',
            'last_modified': '2026-01-01T00:00:00.000000'}


def _view(state=None, tombstones=(), size=3, ttl=60):
    info = encoding.BatchInfo('k', (ttl,) * size, (0,) * size)
    rows = [_row(naming.batch_object(BATCH), encoding.encode_batch(info))]
    if state is not None:
        rows.append(_row(naming.gen_object(BATCH, 1, 1), encoding.encode_state(state)))
    rows += [_row(naming.tombstone_object(BATCH, i)) for i in tombstones]
    return next(views.fold(rows))


def test_take_holds_the_picks_and_counts_them():
    view = _view()
    state = claims.Intent(claims.TAKE, 'a' * 24, 2_000_000_000, 60).apply(view, [0, 2], CREATED)
    assert state.claim('a' * 24).mask == 0b101
    assert state.counts == (1, 0, 1)
    assert state.kept == (2_000_000_060, 0, 2_000_000_060)
    assert claims.Intent(claims.TAKE, 'a' * 24).carried(state)
    assert not claims.Intent(claims.TAKE, 'b' * 24).carried(state)


def test_renew_never_extends_a_deleted_message():
    held = encoding.BatchState((1, 1, 0), (100, 100, 0),
                               (encoding.Claim('a' * 24, 2_000_000_000, 60, 0b011),))
    view = _view(held, tombstones=[0])
    renew = claims.Intent(claims.RENEW, 'a' * 24, 2_000_000_500, 60)
    state = renew.apply(view, list(view.indexes()), CREATED)
    assert state.kept[0] == 100            # deleted: left alone
    assert state.kept[1] == 2_000_000_560
    assert state.counts == (1, 1, 0)       # a renewal is not a new claim
    assert renew.carried(state)


def test_release_drops_only_its_claim():
    both = encoding.BatchState((1, 1, 0), (9, 9, 0), (
        encoding.Claim('a' * 24, 2_000_000_000, 60, 0b001),
        encoding.Claim('b' * 24, 2_000_000_000, 60, 0b010)))
    state = claims.Intent(claims.RELEASE, 'a' * 24).apply(_view(both), [], CREATED)
    assert [c.claim_id for c in state.claims] == ['b' * 24]
    assert claims.Intent(claims.RELEASE, 'a' * 24).carried(state)


def test_stale_names_are_generations_before_the_previous_one():
    info = encoding.BatchInfo('k', (60,), (0,))
    rows = [_row(naming.batch_object(BATCH), encoding.encode_batch(info))]
    for gen in range(1, 6):
        rows.append(_row(naming.gen_object(BATCH, gen, gen),
                         encoding.encode_state(encoding.BatchState())))
    view = next(views.fold(rows))
    assert view.gen == 5
    assert view.stale_names() == [naming.gen_object(BATCH, g, g) for g in (1, 2, 3)]


def test_body_expiry_is_one_formula_for_post_and_claims():
    assert views.body_expiry([CREATED + 60.2, CREATED + 10]) == int(CREATED) + 61 + 2
    view = _view(size=1, ttl=60)
    assert view.object_expiry() == views.body_expiry([view.created + 60])
    kept = encoding.BatchState((1,), (int(CREATED) + 500,), ())
    assert view.object_expiry(kept) == int(CREATED) + 500 + 2


def test_last_batch_rows_are_held_back_for_the_next_page():
    other = naming.batch_id(1_700_000_000_000_001, 7)
    rows = [_row(naming.batch_object(BATCH)), _row(naming.batch_object(other)),
            _row(naming.gen_object(other, 1, 1))]
    assert reader._last_batch(rows) == rows[1:]
    assert reader._last_batch([_row('c/claim')]) == []


def test_purge_jobs_take_turns_across_projects_oldest_first():
    def job(owner, cut):
        return Job('%s-%d' % (owner, cut), swift.Target(None, 'zq.%s.queue' % owner), cut)

    jobs = [job('big', c) for c in (5, 1, 3)] + [job('small', 2), job('late', 9)]
    assert [j.name for j in fair_order(jobs)] == [
        'big-1', 'small-2', 'late-9', 'big-3', 'big-5']


def test_backoff_doubles_up_to_the_ceiling_and_forgets():
    now = [0.0]
    backoff = Backoff(5, 30, clock=lambda: now[0])
    assert backoff.ready('j')
    assert [backoff.failed('j') for _ in range(4)] == [5, 10, 20, 30]
    assert not backoff.ready('j')
    now[0] = 31
    assert backoff.ready('j')
    backoff.forget_except(set())
    assert backoff.failed('j') == 5
