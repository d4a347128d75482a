"""python-zaqarclient's websocket transport (``ws://``, python-zaqarclient
4.7) drives queues, messages, claims and a subscription against
zaqar-swift-websocket.

That transport authenticates first (the ``authenticate`` action with the
configured ``os_auth_token``; any token in noauth), adds Client-ID and
X-Project-ID to every request, and sends a request's ``content`` as the
body; it drops ``params``, so the high-level ``Client`` API (which puts the
queue name in params) does not work over it against Zaqar either. It is
used as its own documentation shows: ``Request(endpoint, action,
content=json.dumps(body))`` and ``transport.send``.
"""
from __future__ import annotations

import json

import pytest

ztransport = pytest.importorskip('zaqarclient.transport')
from zaqarclient.transport import errors as zerrors  # noqa: E402
from zaqarclient.transport import request as zrequest  # noqa: E402

try:
    from functional import helpers as h
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h


@pytest.fixture
def zaqar(ws):
    conf = {'auth_opts': {'backend': 'noauth', 'options': {
        'os_project_id': h.new_project(), 'os_auth_token': 'noauth-token'}}}
    with ztransport.get_transport_for(ws.url, options=conf) as transport:
        def send(action: str, **body):
            req = zrequest.Request(ws.url, action, content=json.dumps(body) if body else None)
            return transport.send(req)
        yield send


def test_queues(zaqar):
    assert zaqar('queue_create', queue_name='zq', metadata={'a': 1}).status_code == 201
    assert zaqar('queue_get', queue_name='zq').deserialized_content['a'] == 1
    page = zaqar('queue_list').deserialized_content
    assert [q['name'] for q in page['queues']] == ['zq']
    stats = zaqar('queue_get_stats', queue_name='zq').deserialized_content
    assert stats['messages']['total'] == 0
    assert zaqar('queue_delete', queue_name='zq').status_code == 204


def test_messages_and_claims(zaqar):
    posted = zaqar('message_post', queue_name='zm', messages=[
        {'body': {'n': n}, 'ttl': 300} for n in range(3)]).deserialized_content
    ids = posted['message_ids']
    listed = zaqar('message_list', queue_name='zm', echo=True).deserialized_content
    assert [m['id'] for m in listed['messages']] == ids
    claim = zaqar('claim_create', queue_name='zm', ttl=60, grace=60, limit=2)
    assert claim.status_code == 201
    cid = claim.deserialized_content['claim_id']
    got = zaqar('claim_get', queue_name='zm', claim_id=cid).deserialized_content
    assert [m['id'] for m in got['messages']] == ids[:2]
    assert zaqar('claim_update', queue_name='zm', claim_id=cid, ttl=90).status_code == 204
    for mid in ids[:2]:
        zaqar('message_delete', queue_name='zm', message_id=mid, claim_id=cid)
    with pytest.raises(zerrors.ResourceNotFound):
        zaqar('message_get', queue_name='zm', message_id=ids[0])
    assert zaqar('message_get', queue_name='zm', message_id=ids[2]
                 ).deserialized_content['messages']['body'] == {'n': 2}
    assert zaqar('message_delete_many', queue_name='zm', message_ids=[ids[2]]
                 ).status_code == 204
    assert zaqar('claim_delete', queue_name='zm', claim_id=cid).status_code == 204


def test_errors_raise_the_client_exceptions(zaqar):
    with pytest.raises(zerrors.MalformedRequest) as raised:
        zaqar('queue_create', queue_name='no spaces')
    assert 'Queue names may only contain' in str(raised.value)
    with pytest.raises(zerrors.ForbiddenError):
        zaqar('health')


def test_subscription_of_the_connection(zaqar):
    created = zaqar('subscription_create', queue_name='zs', ttl=300)
    assert created.status_code == 201
    sid = created.deserialized_content['subscription_id']
    sub = zaqar('subscription_get', queue_name='zs', subscription_id=sid).deserialized_content
    assert sub['source'] == 'zs' and sub['ttl'] == 300
    assert zaqar('subscription_delete', queue_name='zs', subscription_id=sid
                 ).status_code == 204
