"""Round trips, order and Swift's limits for every name we build."""
import random

import pytest

from zaqar_swift import errors
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


# -- full-string matches ---------------------------------------------------------
def test_ids_with_a_trailing_newline_are_not_ids():
    batch = naming.batch_id(10 ** 15, 7)
    mid = naming.message_id(batch, 10)
    assert naming.split_message_id(mid) == (batch, 10)
    assert naming.split_message_id(mid[:-1] + '\n') is None
    cid = naming.claim_id(10 ** 15, 3)
    assert naming.valid_claim_id(cid)
    assert not naming.valid_claim_id(cid[:-1] + '\n')
    assert naming.parse_object(f'm/{batch}/x0a\n') is None
    assert naming.parse_object(f'm/{batch}/g00000a\n.1') is None


def test_a_project_with_a_trailing_newline_is_hashed():
    assert naming.project_key('abc') == 'abc'
    assert naming.project_key('abc\n').startswith('~')


# -- reserved names: the service's containers ----------------------------------------
TRICKY_PROJECTS = ['jobs', 'JOBS', '~jobs', '.jobs', 'jobs.', 'jobs.x', 'jobs\n', '', '~',
                   '.', '..', '/', 'a/b', 'p~jobs', 'zaqar', 'zaqar~jobs', 'x' * 64, 'y' * 256]
QUEUES = ['jobs', 'q', '~jobs', 'a.b', '...', 'x' * 64]


@pytest.mark.parametrize('prefix', ['zaqar', 'z', 'a.b', 'pre~fix'])
@pytest.mark.parametrize('reserved', sorted(naming.SERVICE_CONTAINERS))
def test_no_project_or_queue_maps_onto_a_service_container(prefix, reserved):
    service = naming.service_container(prefix, reserved)
    projects = TRICKY_PROJECTS + [reserved, '~' + reserved, prefix + '~' + reserved,
                                  service, reserved + '.q']
    for project in projects:
        assert naming.catalog_container(prefix, project) != service, project
        for queue in QUEUES + [reserved]:
            assert naming.queue_container(prefix, project, queue) != service, (project, queue)
    # the argument, not just the samples: every project container starts
    # with <prefix>. and every service container with <prefix>~
    assert service.startswith(prefix + naming.SERVICE_SEPARATOR)
    assert all(naming.catalog_container(prefix, p).startswith(prefix + '.') for p in projects)


def test_jobs_is_a_service_container():
    assert naming.JOBS in naming.SERVICE_CONTAINERS
    assert naming.jobs_container('zaqar') == 'zaqar~jobs'
    assert naming.catalog_container('zaqar', 'jobs') == 'zaqar.jobs'
    with pytest.raises(ValueError):
        naming.service_container('zaqar', 'not-reserved')


# -- accounts --------------------------------------------------------------------------
@pytest.mark.parametrize('project', ['p1', 'a..', 'a.', '%2F', 'a?b#c', 'with space', '~x'])
def test_project_accounts_that_are_one_path_segment(project):
    assert naming.project_account('AUTH_', project) == 'AUTH_' + project


@pytest.mark.parametrize('reseller,project', [('AUTH_', 'a/b'), ('AUTH_', '../AUTH_x'),
                                              ('AUTH_', '/'), ('', '.'), ('', '..'),
                                              ('', 'x/..'), ('AUTH_', '.'), ('AUTH_', '..'),
                                              ('AUTH_', '.hidden')])
def test_project_ids_that_would_leave_their_account_are_refused(reseller, project):
    with pytest.raises(errors.InvalidRequest):
        naming.project_account(reseller, project)
    assert naming.project_account(None, project) is None   # shared layout: hashed


@pytest.mark.parametrize('name,safe', [('q', True), ('...', True), ('.', False),
                                       ('..', False), ('a/b', False), ('', True)])
def test_path_segment_safe(name, safe):
    assert naming.path_segment_safe(name) is safe
