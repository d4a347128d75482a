"""Round trips, order and Swift's limits for every name we build."""
import random

from zaqar_swift.storage.swift import naming


def test_plain_project_is_kept_and_odd_ones_are_hashed():
    assert naming.project_key('abc-123_X') == 'abc-123_X'
    odd = naming.project_key('a/b c')
    assert odd.startswith('~') and len(odd) == 41
    assert naming.project_key('x' * 65) != naming.project_key('x' * 66)


def test_container_names_fit_swift_limits_for_longest_inputs():
    project = 'p' * 256
    queue = 'q' * 64
    name = naming.queue_container('zaqar-swift-prefix', project, queue)
    assert len(name.encode()) <= naming.MAX_CONTAINER
    assert naming.catalog_container('zaqar', project) != name


def test_projects_never_share_containers():
    assert (naming.queue_container('z', 'a', 'b.c')
            != naming.queue_container('z', 'a.b', 'c'))


def test_message_ids_round_trip_and_sort_by_time():
    ids = []
    for micros in sorted(random.sample(range(1, 2 ** 52), 200)):
        batch = naming.batch_id(micros, random.getrandbits(32))
        for index in (0, 5, 19):
            mid = naming.message_id(batch, index)
            assert naming.split_message_id(mid) == (batch, index)
            ids.append(mid)
    assert ids == sorted(ids)


def test_foreign_ids_are_rejected():
    for bad in ('', 'abc', 'z' * 24, '5f0c' * 7, '../../etc'):
        assert naming.split_message_id(bad) is None
    assert not naming.valid_claim_id('nope')


def test_batch_objects_sort_together_and_markers_cover_them():
    batch = naming.batch_id(10 ** 15, 7)
    names = [naming.batch_object(batch), naming.gen_object(batch, 3, 1),
             naming.gen_object(batch, 12, 0), naming.tombstone_object(batch, 4)]
    assert names == sorted(names)
    prefix = naming.batch_prefix(batch)
    end = naming.batch_end_marker(batch)
    assert all(prefix < n < end for n in names)
    assert naming.cut_marker(10 ** 15) < prefix
    assert naming.cut_marker(10 ** 15 + 1) > names[-1]


def test_parse_object_inverts_builders():
    batch = naming.batch_id(12345, 99)
    assert naming.parse_object(naming.batch_object(batch)) == ('b', batch, None)
    assert naming.parse_object(naming.gen_object(batch, 300, 5)) == ('g', batch, 300)
    assert naming.parse_object(naming.tombstone_object(batch, 19)) == ('x', batch, 19)
    assert naming.parse_object('c/whatever') is None


def test_jobs_round_trip():
    name = naming.job_object(None, 'zaqar.p.q', 123456)
    assert naming.parse_job(name) == (None, 'zaqar.p.q', 123456)
    odd = naming.job_object('AUTH_a/b-', 'zaqar.x', 7)
    assert naming.parse_job(odd) == ('AUTH_a/b-', 'zaqar.x', 7)


def test_accounts_per_layout():
    assert naming.project_account(None, 'p1') is None
    assert naming.project_account('AUTH_', 'p1') == 'AUTH_p1'
