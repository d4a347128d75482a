"""The API behind a real Keystone, on a Swift that takes Keystone tokens.

Two member users of projects A and B and an admin; the API validates their
tokens with auth_token as the ``zaqar`` service user and reaches Swift as
that user through keystoneauth1 and the catalog, in both layouts: "shared"
(everything in the service project's account) and "per_project" (each
project's data in ``AUTH_<project id>``). Project B must not reach anything
of A's, even with ids and markers copied from A's answers.

Fixtures: ``keystone``, ``keystone_swift``, ``keystone_api_factory``
(functional/conftest.py). Tests of this module are named ``test_keystone_*``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types
import time
import uuid

import pytest
import requests
from oslo_config import cfg

from zaqar_swift import bootstrap
from zaqar_swift import conf as options
from zaqar_swift.testing.saio import config as saio_config
from zaqar_swift.storage.swift import client as swift_client

try:
    from functional import helpers as h
except ImportError:   # functional/ run as rootdir-less modules
    import helpers as h

LAYOUTS = ('shared', 'per_project')


@pytest.fixture(scope='module')
def people(keystone):
    """Member users of projects A and B, and an admin."""
    tag = uuid.uuid4().hex[:6]
    return types.SimpleNamespace(
        a=keystone.user('ks-a-' + tag, 'ks-project-a-' + tag, ('member',)),
        b=keystone.user('ks-b-' + tag, 'ks-project-b-' + tag, ('member',)),
        admin=keystone.user('ks-admin-' + tag, 'ks-project-admin-' + tag,
                            ('admin', 'member')))


@pytest.fixture(scope='module', params=LAYOUTS)
def layout_api(request, keystone_api_factory):
    """The API behind Keystone, once per layout."""
    api = keystone_api_factory(swift={'layout': request.param})
    api.layout = request.param
    return api


def tenant(keystone, api, creds, project_header: str | None = None) -> h.Tenant:
    """A client of ``api`` with a fresh token of ``creds``; X-Project-ID is
    the token's project unless ``project_header`` says otherwise."""
    client = h.Tenant(api.url, project=project_header or creds.project_id)
    client.session.headers['X-Auth-Token'] = keystone.token(creds)
    return client


def service_swift(keystone, service, tmp_path) -> swift_client.SwiftClient:
    """The service's own Swift client, built by bootstrap from a config file
    with the keystoneauth1 options the API gets (the password plugin
    registers its options only when it loads them from a file's group)."""
    path = tmp_path / 'swift.conf'
    path.write_text(saio_config.api_conf(keystone.api_options(service)['swift']))
    conf = cfg.ConfigOpts()
    options.register_opts(conf)
    conf(['--config-file', str(path)], default_config_files=[])
    return bootstrap.swift_client(conf)


# -- the fixtures themselves ------------------------------------------------

def test_keystone_issues_tokens_that_swift_accepts(keystone, keystone_swift, people):
    token_a = keystone.token(people.a)
    account_a = 'http://127.0.0.1:%d/v1/AUTH_%s' % (
        keystone_swift.proxy_port, people.a.project_id)
    resp = requests.put(account_a + '/ks-fixture', headers={'X-Auth-Token': token_a},
                        timeout=30)
    assert resp.status_code in (201, 202), h.describe(resp)
    resp = requests.get(account_a, headers={'X-Auth-Token': token_a}, timeout=30)
    assert resp.status_code == 200 and 'ks-fixture' in resp.text, h.describe(resp)
    resp = requests.get(account_a, headers={'X-Auth-Token': keystone.token(people.b)},
                        timeout=30)
    assert resp.status_code == 403, h.describe(resp)
    assert requests.get(account_a, timeout=30).status_code == 401


def test_keystone_service_reaches_swift_through_the_catalog(
        keystone, keystone_swift, keystone_api_factory, people, tmp_path):
    service = keystone_api_factory.service
    client = service_swift(keystone, service, tmp_path)
    container = 'ks-service-%s' % uuid.uuid4().hex[:8]
    client.put_container(container)
    assert client.list_objects(container) == []
    # The catalog led to this Swift and to the service project's account.
    account = keystone_swift.endpoint_template % {'project_id': service.project_id}
    resp = requests.get(account, headers={'X-Auth-Token': keystone.token(service)},
                        timeout=30)
    assert resp.status_code == 200 and container in resp.text.split(), h.describe(resp)
    # ResellerAdmin reaches a project's account (layout per_project).
    target = swift_client.Target('AUTH_' + people.b.project_id, container)
    client.put_container(target)
    assert client.list_objects(target) == []


# -- the API behind Keystone --------------------------------------------------

def test_keystone_api_queue_message_claim_lifecycle(keystone, layout_api, people):
    a = tenant(keystone, layout_api, people.a)
    a.create_queue('ks-life')
    ids = a.post_bodies('ks-life', 3)
    assert sorted(a.listed_ids('ks-life', echo=True)) == sorted(ids)
    claim_id, claimed = a.claim('ks-life', limit=2)
    assert claim_id and len(claimed) == 2
    resp = a.get(f'/v2/queues/ks-life/claims/{claim_id}')
    assert resp.status_code == 200, h.describe(resp)
    assert a.stats('ks-life')['claimed'] == 2
    for message in claimed:
        assert a.delete(message['href']).status_code == 204
    assert a.delete(f'/v2/queues/ks-life/claims/{claim_id}').status_code == 204
    assert a.stats('ks-life')['total'] == 1
    assert a.delete('/v2/queues/ks-life').status_code == 204
    names = [q['name'] for q in a.get('/v2/queues').json()['queues']]
    assert 'ks-life' not in names


def test_keystone_api_refuses_missing_and_bad_tokens(layout_api):
    no_token = requests.get(layout_api.url + '/v2/queues', timeout=30,
                            headers={'X-Project-ID': 'p', 'Client-ID': str(uuid.uuid4())})
    h.assert_json_error(no_token, 401)
    assert 'uri=' in no_token.headers.get('WWW-Authenticate', ''), h.describe(no_token)
    bad = requests.get(layout_api.url + '/v2/queues', timeout=30,
                       headers={'X-Auth-Token': 'not-a-token', 'X-Project-ID': 'p',
                                'Client-ID': str(uuid.uuid4())})
    h.assert_json_error(bad, 401)
    assert bad.headers.get('WWW-Authenticate'), h.describe(bad)


def test_keystone_api_refuses_a_body_beyond_any_request_before_the_token(layout_api):
    """A 2 MB POST without a token: 413 at once, not 401 after reading it."""
    started = time.monotonic()
    resp = requests.post(layout_api.url + '/v2/queues/q/messages', data=b'x' * (2 * 1024 * 1024),
                         headers={'Content-Type': 'application/json'}, timeout=30)
    h.assert_json_error(resp, 413)
    assert 'WWW-Authenticate' not in resp.headers
    assert time.monotonic() - started < 5


def test_keystone_api_token_project_wins_over_x_project_id(keystone, layout_api, people):
    forged = tenant(keystone, layout_api, people.a, project_header=people.b.project_id)
    forged.create_queue('ks-forged')
    forged.post_bodies('ks-forged', 1)
    b = tenant(keystone, layout_api, people.b)
    assert 'ks-forged' not in [q['name'] for q in b.get('/v2/queues').json()['queues']]
    assert b.stats('ks-forged')['total'] == 0
    a = tenant(keystone, layout_api, people.a)
    assert a.stats('ks-forged')['total'] == 1
    assert a.delete('/v2/queues/ks-forged').status_code == 204


def test_keystone_admin_only_health(keystone, layout_api, people):
    member = tenant(keystone, layout_api, people.a)
    h.assert_json_error(member.get('/v2/health'), 403)
    admin = tenant(keystone, layout_api, people.admin)
    resp = admin.get('/v2/health')
    assert resp.status_code == 200, h.describe(resp)


def _queue_names(client: h.Tenant, **params) -> list[str]:
    resp = client.get('/v2/queues', params=h._params(params))
    if resp.status_code == 204:
        return []
    assert resp.status_code == 200, h.describe(resp)
    return [q['name'] for q in resp.json()['queues']]


def _assert_nothing(resp: requests.Response, key: str) -> None:
    """An empty answer: 204, 404, or 200 whose ``key`` list is empty."""
    if resp.status_code in (204, 404):
        return
    assert resp.status_code == 200, h.describe(resp)
    assert resp.json().get(key) in ([], None), h.describe(resp)


def test_keystone_isolation_of_projects(keystone, layout_api, people):
    a = tenant(keystone, layout_api, people.a)
    b = tenant(keystone, layout_api, people.b)
    queue = 'ks-iso-%s' % uuid.uuid4().hex[:6]
    a.create_queue(queue, {'owner': 'a'})
    ids = a.post_bodies(queue, 4)
    claim_id, claimed = a.claim(queue, limit=2)
    claimed_hrefs = [m['href'] for m in claimed]
    q = f'/v2/queues/{queue}'

    # queue listings: plain, name filter, A's name as marker, with_count
    assert queue not in _queue_names(b)
    assert queue not in _queue_names(b, name=queue)
    assert queue not in _queue_names(b, marker=queue[:-1])
    resp = b.get('/v2/queues', params={'with_count': 'true', 'name': queue})
    assert resp.status_code == 200, h.describe(resp)
    assert resp.json()['count'] == 0, h.describe(resp)
    assert resp.json()['queues'] == [], h.describe(resp)
    # metadata, stats, messages (listing, by ids, one by one), claims
    resp = b.get(q)   # Zaqar v2: an absent queue reads as the defaults
    assert resp.status_code in (200, 404), h.describe(resp)
    assert 'owner' not in resp.text, h.describe(resp)
    resp = b.get(q + '/stats')   # an absent queue has empty stats (Zaqar v2)
    assert resp.status_code == 200, h.describe(resp)
    assert resp.json()['messages']['total'] == 0, h.describe(resp)
    _assert_nothing(b.get(q + '/messages', params={'echo': 'true',
                                                   'include_claimed': 'true'}), 'messages')
    _assert_nothing(b.get(q + '/messages', params={'ids': ','.join(ids)}), 'messages')
    for message_id in ids:
        assert b.get(f'{q}/messages/{message_id}').status_code == 404
    assert b.get(f'{q}/claims/{claim_id}').status_code == 404
    assert b.claim(queue) == (None, [])

    # writes by B with A's ids: none may touch A's data
    for href in claimed_hrefs:
        assert b.delete(href).status_code in (204, 400, 403, 404)
    b.delete(q + '/messages', params={'ids': ','.join(ids)})
    b.delete(q + '/messages', params={'pop': 2})
    b.patch(f'{q}/claims/{claim_id}', json={'ttl': 100})
    b.delete(f'{q}/claims/{claim_id}')
    b.post(q + '/purge', json={'resource_types': ['messages']})
    b.delete(q)

    assert a.stats(queue)['total'] == 4
    assert a.stats(queue)['claimed'] == 2
    assert sorted(a.listed_ids(queue, echo=True, include_claimed=True)) == sorted(ids)
    resp = a.get(f'{q}/claims/{claim_id}')
    assert resp.status_code == 200 and resp.json()['ttl'] == 60, h.describe(resp)
    assert a.get(q).json()['owner'] == 'a'
    assert queue in _queue_names(a, name=queue)
    assert a.delete(q).status_code == 204


def test_keystone_data_lands_where_the_layout_says(
        keystone, keystone_swift, keystone_api_factory, layout_api, people):
    a = tenant(keystone, layout_api, people.a)
    queue = 'ks-where-%s' % uuid.uuid4().hex[:6]
    a.create_queue(queue)
    a.post_bodies(queue, 1)

    def containers(project_id: str) -> list[str]:
        token = keystone.token(keystone_api_factory.service)
        url = 'http://127.0.0.1:%d/v1/AUTH_%s' % (keystone_swift.proxy_port, project_id)
        resp = requests.get(url, headers={'X-Auth-Token': token}, timeout=30)
        if resp.status_code == 404:
            return []
        assert resp.status_code in (200, 204), h.describe(resp)
        return resp.text.split()

    own = containers(keystone_api_factory.service.project_id)
    project = containers(people.a.project_id)
    # The other layout's API left its own containers for this project too:
    # look at this queue's container.
    catalog = 'zaqar.' + people.a.project_id
    messages = '%s.%s' % (catalog, queue)
    if layout_api.layout == 'per_project':
        assert {catalog, messages} <= set(project), project
        assert messages not in own, own
    else:
        assert {catalog, messages} <= set(own), own
        assert messages not in project, project
    assert a.delete(f'/v2/queues/{queue}').status_code == 204


# -- openstackclient -------------------------------------------------------------

def _openstack(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    command = os.path.join(os.path.dirname(sys.executable), 'openstack')
    if not os.path.exists(command):
        pytest.fail('%s is missing: install the test extra (python-openstackclient)'
                    % command, pytrace=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    return subprocess.run([command, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_keystone_openstack_messaging_queue_list(keystone, keystone_api_factory, people):
    api = keystone_api_factory()
    keystone.set_endpoint('messaging', 'zaqar', api.url)
    a = tenant(keystone, api, people.a)
    a.create_queue('ks-osc')
    creds = people.a
    done = _openstack(
        '--os-auth-url', keystone.auth_url, '--os-identity-api-version', '3',
        '--os-username', creds.username, '--os-password', creds.password,
        '--os-project-name', creds.project_name,
        '--os-user-domain-name', 'Default', '--os-project-domain-name', 'Default',
        '--os-interface', 'public', 'messaging', 'queue', 'list', '-f', 'json')
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'ks-osc' in [row['Name'] for row in json.loads(done.stdout)], done.stdout
    # a token and the endpoint, without the catalog
    done = _openstack(
        '--os-auth-type', 'admin_token', '--os-token', keystone.token(creds),
        '--os-endpoint', api.url, 'messaging', 'queue', 'list', '-f', 'json')
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'ks-osc' in [row['Name'] for row in json.loads(done.stdout)], done.stdout
