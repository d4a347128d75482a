"""The websocket transport behind a real Keystone: ``authenticate`` validates
the token with keystonemiddleware's auth_token (the API's own
[keystone_authtoken]), nothing else is served before, the token's project
is the one acted for, and policy is REST's."""
from __future__ import annotations

import types
import uuid

import pytest

try:
    from functional.wsclient import WsClient
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    from wsclient import WsClient


@pytest.fixture(scope='module')
def people(keystone):
    tag = uuid.uuid4().hex[:6]
    return types.SimpleNamespace(
        a=keystone.user('ws-a-' + tag, 'ws-project-a-' + tag, ('member',)),
        b=keystone.user('ws-b-' + tag, 'ws-project-b-' + tag, ('member',)))


@pytest.fixture(scope='module')
def kws(keystone_ws_factory):
    return keystone_ws_factory()


def test_nothing_but_authenticate_before_a_valid_token(kws, people):
    client = WsClient(kws.url, project=people.a.project_id)
    assert client.call('ping')[0] == 401
    assert client.call('queue_list')[0] == 401
    assert client.call('authenticate', headers=client.headers())[0] == 401   # no token
    status, body = client.call('authenticate',
                               headers=client.headers(**{'X-Auth-Token': 'not-a-token'}))
    assert status == 401 and body['error']
    assert client.call('queue_list')[0] == 401
    client.close()


def test_token_project_is_acted_for(keystone, kws, people):
    a = WsClient(kws.url, project=people.b.project_id)    # header says B ...
    status, body = a.call('authenticate', headers=a.headers(
        **{'X-Auth-Token': keystone.token(people.a)}))    # ... the token is A's
    assert (status, body) == (200, {'message': 'Authentified.'})
    assert a.call('ping') == (204, {})
    assert a.call('queue_create', {'queue_name': 'ws-ks'})[0] == 201
    assert a.call('message_post', {'queue_name': 'ws-ks', 'messages': [{'body': 1}]})[0] == 201
    assert a.call('health')[0] == 403      # admin only, as in REST
    b = WsClient(kws.url, project=people.b.project_id)
    b.call('authenticate', headers=b.headers(**{'X-Auth-Token': keystone.token(people.b)}))
    assert b.call('queue_list')[1]['queues'] == []
    assert b.call('queue_get_stats', {'queue_name': 'ws-ks'})[1]['messages']['total'] == 0
    assert [q['name'] for q in a.call('queue_list')[1]['queues']] == ['ws-ks']
    assert a.call('queue_delete', {'queue_name': 'ws-ks'}) == (204, {})
    a.close()
    b.close()
