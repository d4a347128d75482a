"""trust+http subscribers against the real Keystone of the suite: the trust
is made from the subscriber's token when the subscription is, each
notification carries a token of that trust (Keystone says so), and the trust
goes with the subscription. Then Zaqar's tempest test_trust_subscription:
the subscriber is the API itself, posting to another queue with the trust's
token."""
from __future__ import annotations

import uuid

import pytest
import requests

from functional.helpers import Tenant, describe, wait_until
from functional.receiver import Receiver

FAST = {'poll_interval': 0.2, 'index_interval': 1.0, 'lease_ttl': 5.0, 'timeout': 5.0}


@pytest.fixture(scope='module')
def trust_api(keystone_api_factory):
    # its own container prefix: no other API process of the session delivers
    # these queues
    api = keystone_api_factory(notification=FAST, swift={'container_prefix': 'ztrust'},
                               signed_url={'secret_key': 'keystone-signing-key'})
    yield api
    api.stop()


@pytest.fixture(scope='module')
def member(keystone):
    tag = uuid.uuid4().hex[:6]
    return keystone.user('trustor-' + tag, 'trust-project-' + tag, ('member',))


def _tenant(keystone, api, creds) -> Tenant:
    client = Tenant(api.url, project=creds.project_id)
    client.session.headers['X-Auth-Token'] = keystone.token(creds)
    return client


def _token_info(keystone, token: str) -> requests.Response:
    admin = keystone.token(keystone.admin)
    return requests.get(keystone.auth_url + '/auth/tokens', timeout=30,
                        headers={'X-Auth-Token': admin, 'X-Subject-Token': token})


def test_trust_subscriber_gets_a_trust_token_and_the_trust_goes_with_it(
        keystone, trust_api, member):
    t = _tenant(keystone, trust_api, member)
    hook = Receiver()
    try:
        resp = t.post('/v2/queues/trusted/subscriptions',
                      json={'subscriber': 'trust+' + hook.url, 'ttl': 600})
        assert resp.status_code == 201, describe(resp)
        sid = resp.json()['subscription_id']
        trust_id = t.get('/v2/queues/trusted/subscriptions/' + sid).json()['options'][
            'trust_id']
        t.post_messages('trusted', [{'body': {'n': 1}, 'ttl': 120}])
        wait_until(lambda: hook.received, 30, what='a notification with a trust token')
        _, body, headers = hook.received[0]
        assert body['body'] == {'n': 1}
        token = {k.lower(): v for k, v in headers.items()}['x-auth-token']
        info = _token_info(keystone, token)
        assert info.status_code == 200, describe(info)
        assert info.json()['token']['OS-TRUST:trust']['id'] == trust_id
        assert info.json()['token']['project']['id'] == member.project_id
        assert t.delete('/v2/queues/trusted/subscriptions/' + sid).status_code == 204
        admin = keystone.token(keystone.admin)
        gone = requests.get(keystone.auth_url + '/OS-TRUST/trusts/' + trust_id, timeout=30,
                            headers={'X-Auth-Token': admin})
        assert gone.status_code == 404, describe(gone)
    finally:
        hook.close()


def test_tempest_trust_subscription_posts_back_into_the_api(keystone, trust_api, member):
    t = _tenant(keystone, trust_api, member)
    target = 'trust-target-' + uuid.uuid4().hex[:6]
    post_body = '{"messages": [{"body": "$zaqar_message$", "ttl": 60}]}'
    subscriber = 'trust+%s/v2/queues/%s/messages' % (trust_api.url, target)
    resp = t.post('/v2/queues/trust-source/subscriptions', json={
        'subscriber': subscriber, 'ttl': 1200,
        'options': {'post_data': post_body,
                    'post_headers': {'X-Project-ID': member.project_id,
                                     'Client-ID': str(uuid.uuid4())}}})
    assert resp.status_code == 201, describe(resp)
    sent = {'body': {'key': 'value'}, 'ttl': 300}
    t.post_messages('trust-source', [sent])
    found = wait_until(lambda: t.list_messages(target, echo=True)['messages'], 30,
                       what='the notification posted back into the API')
    assert found[0]['body'] == dict(sent, queue_name='trust-source',
                                    Message_Type='Notification')


def test_a_signed_url_needs_no_token_behind_keystone(keystone, trust_api, member):
    t = _tenant(keystone, trust_api, member)
    t.post_bodies('signed-ks', 1)
    resp = t.post('/v2/queues/signed-ks/share', json={'methods': ['GET']})
    assert resp.status_code == 200, describe(resp)
    signed = resp.json()
    headers = {'URL-Signature': signed['signature'], 'URL-Expires': signed['expires'],
               'URL-Methods': 'GET', 'URL-Paths': signed['paths'][0],
               'X-Project-ID': member.project_id, 'Client-ID': str(uuid.uuid4())}
    url = trust_api.url + '/v2/queues/signed-ks/messages?echo=true'
    resp = requests.get(url, headers=headers, timeout=30)
    assert resp.status_code == 200 and len(resp.json()['messages']) == 1, describe(resp)
    assert requests.get(url, headers=dict(headers, **{'URL-Signature': 'f' * 64}),
                        timeout=30).status_code == 404
    assert requests.get(url, headers={'Client-ID': str(uuid.uuid4())},
                        timeout=30).status_code == 401
