"""Layout "per_project": each project's data in its own Swift account
(``AUTH_<project>``), reached by a service user with reseller-admin rights
(tempauth ``.reseller_admin`` in the local Swift). Storage-level and API-level
checks on the real Swift."""
import uuid

import pytest

from zaqar_swift.storage.swift import client as swift_client
from zaqar_swift.storage.swift.queues import Catalog
from zaqar_swift.storage.swift.store import MessageStore

try:
    from functional import helpers as h
except ImportError:   # functional/ run as rootdir-less modules
    import helpers as h


@pytest.fixture(scope='module')
def per_project_api(api_factory):
    return api_factory(swift={'layout': 'per_project', 'reseller_prefix': 'AUTH_'})


def test_store_writes_into_the_project_account(swift):
    client = swift_client.SwiftClient.v1(swift.auth_url, swift.user, swift.key)
    catalog = Catalog(client, 'zl', 2.0, 3600, reseller_prefix='AUTH_')
    store = MessageStore(client, catalog, 'zl', reseller_prefix='AUTH_')
    project = uuid.uuid4().hex
    catalog.put(project, 'q', {}, 0)
    record = catalog.get(project, 'q')
    ids = store.post(project, 'q', record, 'c', [('hello', 600, 0)])
    account = client.head_account('AUTH_' + project)
    assert int(account['x-account-container-count']) == 2   # catalog + queue
    cid, claimed, _ = store.claim(project, 'q', record, 60, 60, 5)
    assert [m.id for m in claimed] == ids
    store.delete(project, 'q', record, ids, [cid], True)
    assert store.stats(project, 'q', record)['total'] == 0
    # nothing of it in the service's own account
    with pytest.raises(swift_client.Missing):
        client.list_objects(catalog.container(project).container)


def test_api_per_project_lifecycle_and_isolation(per_project_api, swift):
    a, b = h.Tenant(per_project_api.url), h.Tenant(per_project_api.url)
    ids = a.post_bodies('jobs', 3)
    assert b.listed_ids('jobs', echo=True, include_claimed=True) == []
    claim_id, msgs = a.claim('jobs')
    assert sorted(h.message_id(m['href']) for m in msgs) == sorted(ids)
    assert b.claim('jobs') == (None, [])
    for m in msgs:   # b has no queue "jobs": a claim there is not found
        assert b.delete(m['href']).status_code == 404
    assert a.stats('jobs')['claimed'] == 3
    for m in msgs:
        assert a.delete(m['href']).status_code == 204
    assert a.stats('jobs')['total'] == 0
    client = swift_client.SwiftClient.v1(swift.auth_url, swift.user, swift.key)
    usage = client.head_account('AUTH_' + a.project)
    assert int(usage['x-account-container-count']) == 2   # catalog + queue
    # the queue record is still there; account usage is reported by the
    # container updater, a few seconds later
    h.wait_until(lambda: int(client.head_account('AUTH_' + a.project)['x-account-bytes-used']),
                 timeout=60, what="the project's bytes in its own account")
    other = client.head_account('AUTH_' + b.project)
    assert int(other.get('x-account-container-count', 0)) == 0


def _containers(client: swift_client.SwiftClient, account: str) -> int:
    try:
        return int(client.head_account(account).get('x-account-container-count', 0))
    except swift_client.Missing:
        return 0


ROUTES = [('PUT', '/v2/queues/q', {}), ('GET', '/v2/queues', {}),
          ('GET', '/v2/queues/q/stats', {}),
          ('POST', '/v2/queues/q/messages', {'json': {'messages': [{'body': 1}]}}),
          ('GET', '/v2/queues/q/messages', {}),
          ('POST', '/v2/queues/q/claims', {'json': {'ttl': 60}}),
          ('POST', '/v2/queues/q/purge', {}), ('DELETE', '/v2/queues/q', {})]


@pytest.mark.parametrize('project', ['a/b', '../AUTH_{victim}', 'x/../../AUTH_{victim}',
                                     '/', '{victim}/..', '..', '.', '.{victim}'])
def test_project_ids_that_would_leave_their_account_are_refused(per_project_api, swift,
                                                                project):
    """An account name is one path segment: Swift splits a path after
    decoding it, so a "/" in a project id would name another account, or
    another container of one. Swift keeps accounts whose id starts with a
    dot to itself (403 to a reseller admin): those were a 503."""
    victim = uuid.uuid4().hex
    t = h.Tenant(per_project_api.url, project=project.format(victim=victim))
    for method, path, kwargs in ROUTES:
        h.assert_json_error(t.request(method, path, **kwargs), 400)
    client = swift_client.SwiftClient.v1(swift.auth_url, swift.user, swift.key)
    assert _containers(client, 'AUTH_' + victim) == 0
    assert _containers(client, 'AUTH_a') == 0


@pytest.mark.parametrize('project', ['a..', '%2F', '%2e%2e', 'a?b#c', 'p%00', '~..'])
def test_odd_project_ids_stay_in_their_own_account(per_project_api, swift, project):
    t = h.Tenant(per_project_api.url, project=project)
    queue = 'odd-' + uuid.uuid4().hex[:8]
    t.post_bodies(queue, 2)
    assert t.stats(queue)['total'] == 2
    assert queue in [q['name'] for q in t.get('/v2/queues').json()['queues']]
    client = swift_client.SwiftClient.v1(swift.auth_url, swift.user, swift.key)
    assert _containers(client, 'AUTH_' + project) >= 2
