"""``openstack messaging pool/flavor ...`` behind a real Keystone, as admin;
the pool reaches its Swift with keystoneauth1 credentials from its options
(the service user of the Keystone-backed local Swift)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import requests


def _openstack(token: str, endpoint: str, *args: str) -> subprocess.CompletedProcess:
    command = os.path.join(os.path.dirname(sys.executable), 'openstack')
    if not os.path.exists(command):
        pytest.fail('%s is missing: install the test extra (python-openstackclient)'
                    % command, pytrace=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    return subprocess.run([command, '--os-auth-type', 'admin_token', '--os-token', token,
                           '--os-endpoint', endpoint, 'messaging', *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_openstack_messaging_pool_and_flavor_commands(keystone, keystone_api_factory):
    api = keystone_api_factory(pooling={'enabled': True})
    tag = uuid.uuid4().hex[:6]
    admin = keystone.user('pool-admin-' + tag, 'pool-admin-project-' + tag,
                          ('admin', 'member'))
    member = keystone.user('pool-member-' + tag, 'pool-member-project-' + tag, ('member',))
    service = keystone_api_factory.service
    token = keystone.token(admin)
    pool, flavor = 'ks-pool-' + tag, 'ks-flavor-' + tag
    options = {'username': service.username, 'password': service.password,
               'project_name': service.project_name, 'user_domain_name': 'Default',
               'project_domain_name': 'Default', 'storage_policy': 'gold', 'replicas': 3}

    def run(*args: str) -> subprocess.CompletedProcess:
        return _openstack(token, api.url, *args)

    done = run('pool', 'create', pool, keystone.auth_url, '10',
               '--pool_options', json.dumps(options), '-f', 'json')
    assert done.returncode == 0, done.stderr[-3000:]
    shown = run('pool', 'show', pool, '-f', 'json')
    assert shown.returncode == 0, shown.stderr[-3000:]
    doc = json.loads(shown.stdout)
    assert doc['Name'] == pool and doc['Weight'] == 10 and doc['URI'] == keystone.auth_url
    listed = run('pool', 'list', '--detailed', '-f', 'json')
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert pool in [row['Name'] for row in json.loads(listed.stdout)]
    assert service.password not in listed.stdout + shown.stdout   # secrets never shown
    done = run('pool', 'update', pool, '--pool_weight', '20', '-f', 'json')
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(run('pool', 'show', pool, '-f', 'json').stdout)['Weight'] == 20

    done = run('flavor', 'create', flavor, '--pool_list', pool, '-f', 'json')
    assert done.returncode == 0, done.stderr[-3000:]
    shown = run('flavor', 'show', flavor, '-f', 'json')
    assert shown.returncode == 0, shown.stderr[-3000:]
    doc = json.loads(shown.stdout)
    assert doc['Pool list'] == [pool] and 'DURABILITY' in doc['Capabilities']
    listed = run('flavor', 'list', '-f', 'json')
    assert flavor in [row['Name'] for row in json.loads(listed.stdout)], listed.stderr

    # a queue of the flavor works through the pool's keystoneauth1 credentials
    headers = {'X-Auth-Token': keystone.token(member), 'Client-ID': str(uuid.uuid4())}
    resp = requests.put(api.url + '/v2/queues/ks-pooled', json={'_flavor': flavor},
                        headers=headers, timeout=60)
    assert resp.status_code == 201, resp.text
    resp = requests.post(api.url + '/v2/queues/ks-pooled/messages', headers=headers,
                         json={'messages': [{'body': 'pooled'}]}, timeout=60)
    assert resp.status_code == 201, resp.text
    resp = requests.get(api.url + '/v2/queues/ks-pooled/messages?echo=true',
                        headers=headers, timeout=60)
    assert [m['body'] for m in resp.json()['messages']] == ['pooled']

    assert run('pool', 'delete', pool).returncode != 0          # 403: the flavor uses it
    assert _openstack(keystone.token(member), api.url, 'pool', 'list').returncode != 0
    assert run('flavor', 'delete', flavor).returncode == 0
    assert run('pool', 'delete', pool).returncode == 0
    listed = run('pool', 'list', '-f', 'json')
    assert pool not in [row['Name'] for row in json.loads(listed.stdout or '[]')]
