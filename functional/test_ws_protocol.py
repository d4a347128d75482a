"""The websocket protocol with a raw client, JSON text frames and
MessagePack binary frames: every queue, message and claim action, ping and
authenticate, and the reply's echo of the request."""
from __future__ import annotations

import pytest

try:
    from functional import helpers as h
    from functional.wsclient import WsClient
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h
    from wsclient import WsClient


@pytest.fixture(params=['json', 'msgpack'])
def client(request, ws):
    c = WsClient(ws.url, binary=request.param == 'msgpack')
    yield c
    c.close()


def test_reply_echoes_the_request(client):
    answer = client.reply('queue_create', {'queue_name': 'echo', 'metadata': {'a': 1}})
    assert answer['headers'] == {'status': 201}
    assert answer['body'] == {}
    assert answer['request'] == {'action': 'queue_create', 'api': 'v2',
                                 'headers': client.headers(),
                                 'body': {'queue_name': 'echo', 'metadata': {'a': 1}}}


def test_ping_and_authenticate_in_noauth(client):
    assert client.call('ping') == (204, {})
    assert client.call('authenticate', headers={'X-Auth-Token': 'anything'})[0] == 200


def test_queue_actions(client):
    assert client.call('queue_create', {'queue_name': 'q1'})[0] == 201
    assert client.call('queue_create', {'queue_name': 'q1'})[0] == 204
    status, meta = client.call('queue_get', {'queue_name': 'q1'})
    assert status == 200 and meta['_default_message_ttl'] == 3600
    status, meta = client.call('queue_update', {'queue_name': 'q1', 'patch': [
        {'op': 'add', 'path': '/metadata/colour', 'value': 'blue'}]})
    assert status == 200 and meta['colour'] == 'blue'
    status, page = client.call('queue_list', {'detailed': True, 'with_count': True})
    assert status == 200 and page['count'] == 1
    assert page['queues'][0]['name'] == 'q1' and page['queues'][0]['metadata']['colour'] == 'blue'
    client.call('message_post', {'queue_name': 'q1', 'messages': [{'body': 1}]})
    status, stats = client.call('queue_get_stats', {'queue_name': 'q1'})
    assert status == 200 and stats['messages']['free'] == 1
    assert client.call('queue_purge', {'queue_name': 'q1', 'resource_types': ['messages']}
                       ) == (204, {})
    assert client.call('queue_get_stats', {'queue_name': 'q1'})[1]['messages']['total'] == 0
    assert client.call('queue_delete', {'queue_name': 'q1'}) == (204, {})
    assert client.call('queue_list')[1]['queues'] == []


def test_message_actions(client):
    q = {'queue_name': 'm1'}
    status, posted = client.call('message_post', dict(q, messages=[
        {'body': {'n': i}, 'ttl': 300} for i in range(4)]))
    assert status == 201 and len(posted['message_ids']) == 4
    ids = posted['message_ids']
    assert posted['resources'] == ['/v2/queues/m1/messages/' + i for i in ids]
    status, page = client.call('message_list', dict(q, echo=True, limit=3))
    assert status == 200 and [m['body'] for m in page['messages']] == [{'n': i} for i in range(3)]
    assert page['messages'][0]['claim_id'] is None
    assert page['links'][0]['rel'] == 'next'
    status, got = client.call('message_get', dict(q, message_id=ids[1]))
    assert status == 200 and got['messages']['id'] == ids[1]
    assert got['messages']['body'] == {'n': 1}
    status, many = client.call('message_get_many', dict(q, message_ids=ids[:2]))
    assert status == 200 and [m['id'] for m in many['messages']] == ids[:2]
    assert client.call('message_delete', dict(q, message_id=ids[0])) == (204, {})
    assert client.call('message_get', dict(q, message_id=ids[0]))[0] == 404
    assert client.call('message_delete_many', dict(q, message_ids=[ids[1]])) == (204, {})
    assert [m['id'] for m in client.call('message_list', dict(q, echo=True))[1]['messages']
            ] == ids[2:]
    p = {'queue_name': 'm2'}
    popped_ids = client.call('message_post', dict(p, messages=[{'body': 'x'}]))[1]['message_ids']
    status, popped = client.call('message_delete_many', dict(p, pop=1))
    assert status == 200 and [m['id'] for m in popped['messages']] == popped_ids
    assert popped['messages'][0]['body'] == 'x'


def test_claim_actions(client):
    q = {'queue_name': 'c1'}
    client.call('message_post', dict(q, messages=[{'body': i} for i in range(3)]))
    status, claimed = client.call('claim_create', dict(q, ttl=60, grace=60, limit=2))
    assert status == 201 and len(claimed['messages']) == 2
    cid = claimed['claim_id']
    assert all(m['claim_id'] == cid for m in claimed['messages'])
    assert claimed['messages'][0]['href'].endswith('?claim_id=' + cid)
    status, claim = client.call('claim_get', dict(q, claim_id=cid))
    assert status == 200 and claim['ttl'] == 60 and len(claim['messages']) == 2
    assert client.call('claim_update', dict(q, claim_id=cid, ttl=120, grace=60)) == (204, {})
    assert client.call('claim_get', dict(q, claim_id=cid))[1]['ttl'] == 120
    first = claimed['messages'][0]['id']
    assert client.call('message_delete', dict(q, message_id=first))[0] == 403
    assert client.call('message_delete', dict(q, message_id=first, claim_id=cid)) == (204, {})
    assert client.call('claim_delete', dict(q, claim_id=cid)) == (204, {})
    assert client.call('claim_get', dict(q, claim_id=cid))[0] == 404
    # The released messages are free again (once the release has settled).
    released = h.wait_until(lambda: client.call('queue_get_stats', q)[1]['messages']['free']
                            == 2, 10, what='released messages free')
    assert released
    assert client.call('claim_create', dict(q, limit=5))[0] == 201


def test_errors_carry_title_description_and_error(client):
    status, body = client.call('queue_create', {'queue_name': 'bad name'})
    assert status == 400
    assert set(body) == {'title', 'description', 'error'}
    assert body['error'] == body['description']
    status, body = client.call('queue_list', headers={'X-Project-ID': client.project})
    assert status == 400 and 'Client-ID' in body['description']


def test_health_is_for_admins(client):
    assert client.call('health')[0] == 403
    status, body = client.call('health', headers=client.headers(**{'X-Roles': 'admin'}))
    assert status == 200 and body['storage_reachable'] is True
