"""Content-type state round trips and message status from listings."""
from zaqar_swift.storage.swift import encoding
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift import views


def test_batch_round_trip():
    info = encoding.BatchInfo(encoding.client_key("6f1b0c2e"), (60, 3600), (0, 30))
    assert encoding.decode_batch(encoding.encode_batch(info)) == info


def test_state_round_trip_and_holder():
    state = encoding.BatchState((1, 0, 2), (100, 0, 200), (
        encoding.Claim('a' * 24, 150, 60, 0b101), encoding.Claim('b' * 24, 90, 60, 0b010)))
    decoded = encoding.decode_state(encoding.encode_state(state))
    assert decoded == state
    assert decoded.holder(0, 100).claim_id == 'a' * 24
    assert decoded.holder(1, 100) is None        # b expired at 90
    assert decoded.holder(2, 160) is None
    assert encoding.decode_state(encoding.encode_state(encoding.BatchState())) == \
        encoding.BatchState()


def test_garbage_decodes_to_none():
    assert encoding.decode_batch('application/json') is None
    assert encoding.decode_state('application/x-zaqar-state;c=zz') is None


def _rows(batch, info, state=None, gen=1, tombstones=()):
    rows = [{'name': naming.batch_object(batch), 'content_type': encoding.encode_batch(info),
             'hash': 'h', 'last_modified': '2026-01-01T00:00:00.000000'}]
    if state is not None:
        rows.append({'name': naming.gen_object(batch, gen, 7),
                     'content_type': encoding.encode_state(state), 'hash': 'g',
                     'last_modified': '2026-01-01T00:00:00.000000'})
    rows += [{'name': naming.tombstone_object(batch, i), 'content_type': 'x', 'hash': '',
              'last_modified': '2026-01-01T00:00:00.000000'} for i in tombstones]
    return rows


def test_fold_and_status():
    created = 1000.0
    batch = naming.batch_id(int(created * 1e6), 1)
    info = encoding.BatchInfo('c', (60, 60, 60, 60), (0, 0, 0, 30))
    state = encoding.BatchState((1, 0, 0, 0), (1500, 0, 0, 0),
                                (encoding.Claim('a' * 24, 1100, 400, 0b1),))
    (view,) = views.fold(_rows(batch, info, state, tombstones=[2]))
    now = 1010
    assert [view.status(i, now) for i in range(4)] == [
        views.CLAIMED, views.FREE, views.GONE, views.DELAYED]
    # past its ttl, the claimed message lives on to claim expiry + grace
    assert view.status(0, 1200) == views.FREE
    assert view.status(1, 1200) == views.GONE
    assert view.status(0, 1500) == views.GONE
    assert view.live(1200) == [0]


def test_fold_keeps_newest_generation_and_skips_orphans():
    orphan = naming.batch_id(5, 1)
    batch = naming.batch_id(6, 1)
    info = encoding.BatchInfo('c', (60,), (0,))
    rows = [{'name': naming.gen_object(orphan, 1, 1), 'content_type': 'x', 'hash': '',
             'last_modified': '2026-01-01T00:00:00'}]
    rows += _rows(batch, info, encoding.BatchState((1,)), gen=1)
    rows += _rows(batch, info, encoding.BatchState((2,)), gen=2)[1:]
    (view,) = views.fold(rows)
    assert view.batch == batch and view.gen == 2 and view.state.counts == (2,)


def test_merge_gives_contested_messages_to_the_first_writer():
    carried = encoding.Claim('c' * 24, 500, 60, 0b1)
    first = encoding.BatchState((1, 1, 1, 0), (0, 0, 0, 0),
                                (carried, encoding.Claim('a' * 24, 400, 60, 0b0110)))
    second = encoding.BatchState((1, 0, 1, 1), (0, 0, 0, 0),
                                 (carried, encoding.Claim('b' * 24, 400, 60, 0b1100)))
    merged = encoding.merge([first, second])
    assert merged.claim('c' * 24).mask == 0b1
    assert merged.claim('a' * 24).mask == 0b0110
    assert merged.claim('b' * 24).mask == 0b1000
    assert merged.counts == (1, 1, 1, 1)


def test_merge_keeps_latest_expiry_of_a_renewed_claim():
    old = encoding.BatchState((1,), (0,), (encoding.Claim('a' * 24, 100, 60, 1),))
    new = encoding.BatchState((1,), (0,), (encoding.Claim('a' * 24, 900, 60, 1),))
    assert encoding.merge([old, new]).claim('a' * 24).expires == 900
    assert encoding.merge([new, old]).claim('a' * 24).expires == 900


def test_encoded_content_types_use_token_characters_only():
    import re
    state = encoding.BatchState((1, 2), (3, 4), (encoding.Claim('a' * 24, 5, 6, 3),))
    info = encoding.BatchInfo(encoding.client_key('any;thing, at:all'), (60, 70), (0, 5))
    for value in (encoding.encode_state(state), encoding.encode_batch(info)):
        for param in value.split(';')[1:]:
            assert re.match(r'^[a-z]=[A-Za-z0-9._-]*$', param), param


def test_a_batch_shared_by_several_posters_keeps_each_message_s_client_key():
    keys = ('a' * 20, 'a' * 20, 'b' * 20, 'a' * 20)
    info = encoding.BatchInfo(keys[0], (60, 70, 80, 90), (0, 0, 5, 0), keys)
    content_type = encoding.encode_batch(info)
    assert ',' not in content_type and ':' not in content_type
    decoded = encoding.decode_batch(content_type)
    assert decoded == info
    assert [decoded.key(i) for i in range(4)] == list(keys)


def test_a_batch_of_one_poster_is_written_as_before():
    info = encoding.BatchInfo('c' * 20, (60, 60), (0, 0), ('c' * 20,) * 2)
    assert encoding.encode_batch(info) == encoding.encode_batch(
        encoding.BatchInfo('c' * 20, (60, 60), (0, 0)))
    assert encoding.decode_batch(encoding.encode_batch(info)).key(1) == 'c' * 20


def test_a_shared_batch_whose_keys_do_not_add_up_is_not_ours():
    bad = 'application/x-zaqar-batch;c=%s.3;m=60.0_60.0' % ('a' * 20)
    assert encoding.decode_batch(bad) is None
