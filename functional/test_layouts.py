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
    assert int(usage['x-account-container-count']) >= 1
    assert int(usage['x-account-bytes-used']) >= 0
