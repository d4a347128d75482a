"""Claim routes: create (201 or 204), read, renew, release."""
from urllib.parse import urlsplit

import pytest

from unit.test_wsgi_app import assert_error
from unit.test_wsgi_stub import CLIENT_ID, PROJECT, StubService, client, message, untouched_service
from zaqar_swift import errors

CLAIMS = '/v2/queues/q/claims'


def test_create_returns_messages_and_location():
    service = StubService()
    service.returns['create_claim'] = ('c1', [message('m1', 'c1'), message('m2', 'c1')])
    resp = client(service).simulate_post(CLAIMS, params={'limit': '2'},
                                         json={'ttl': 120, 'grace': 60})
    assert resp.status_code == 201
    assert service.last('create_claim') == (PROJECT, 'q', CLIENT_ID, {'ttl': 120, 'grace': 60},
                                            2)
    assert urlsplit(resp.headers['Location']).path == CLAIMS + '/c1'
    hrefs = [m['href'] for m in resp.json['messages']]
    assert hrefs == ['/v2/queues/q/messages/m1?claim_id=c1',
                     '/v2/queues/q/messages/m2?claim_id=c1']
    assert set(resp.json) == {'messages'}
    assert set(resp.json['messages'][0]) == {'id', 'href', 'ttl', 'age', 'body'}


def test_nothing_to_claim_is_204_without_body():
    service = StubService()
    resp = client(service).simulate_post(CLAIMS, json={'ttl': 60})
    assert resp.status_code == 204 and not resp.content
    assert 'Location' not in resp.headers


def test_create_without_body_uses_the_service_defaults():
    service = StubService()
    client(service).simulate_post(CLAIMS)
    assert service.last('create_claim') == (PROJECT, 'q', CLIENT_ID, None, None)


def test_create_hands_odd_values_to_the_service_to_refuse():
    service = StubService()
    service.raises['create_claim'] = errors.InvalidRequest('ttl must be an integer')
    resp = client(service).simulate_post(CLAIMS, json={'ttl': True, 'grace': '60'})
    assert_error(resp, 400)
    assert service.last('create_claim')[3] == {'ttl': True, 'grace': '60'}


def test_create_hands_wait_to_the_service():
    service = StubService()
    client(service).simulate_post(CLAIMS, json={'ttl': 60}, query_string='wait=5')
    assert service.last('create_claim')[-1] == 5


@pytest.mark.parametrize('body,query', [
    ('[]', ''), ('{', ''), ('{}', 'limit=ten'), ('{}', 'limit=0'), ('"x"', ''),
    ('{"ttl": true}', ''), ('{"ttl": 60, "grace": "60"}', ''), ('{"ttl": 59}', '')])
def test_create_bad_requests(body, query):
    resp = client(untouched_service()).simulate_post(CLAIMS, body=body, query_string=query)
    assert_error(resp, 400)


def test_get_claim():
    service = StubService()
    resp = client(service).simulate_get(CLAIMS + '/c1')
    assert resp.status_code == 200
    assert service.last('get_claim') == (PROJECT, 'q', 'c1')
    assert resp.json == {
        'age': 2, 'ttl': 60, 'grace': 30, 'href': CLAIMS + '/c1',
        'messages': [{'id': 'm1', 'href': '/v2/queues/q/messages/m1?claim_id=c1',
                      'ttl': 300, 'age': 4, 'body': {'n': 'm1'}}]}


def test_get_missing_claim_is_404():
    service = StubService()
    service.raises['get_claim'] = errors.ClaimNotFound('expired')
    assert_error(client(service).simulate_get(CLAIMS + '/c1'), 404)


def test_renew_claim():
    service = StubService()
    c = client(service)
    resp = c.simulate_patch(CLAIMS + '/c1', json={'ttl': 300})
    assert resp.status_code == 204 and not resp.content
    assert service.last('update_claim') == (PROJECT, 'q', 'c1', {'ttl': 300})
    c.simulate_patch(CLAIMS + '/c1', json={'ttl': 300, 'grace': 90})
    assert service.last('update_claim') == (PROJECT, 'q', 'c1', {'ttl': 300, 'grace': 90})


@pytest.mark.parametrize('body', ['', '[]', 'nope', 'null', '3'])
def test_renew_needs_an_object(body):
    resp = client(untouched_service()).simulate_patch(CLAIMS + '/c1', body=body)
    assert_error(resp, 400)


def test_renew_missing_claim_is_404():
    service = StubService()
    service.raises['update_claim'] = errors.ClaimNotFound('gone')
    assert_error(client(service).simulate_patch(CLAIMS + '/c1', json={'ttl': 60}), 404)


def test_release_claim():
    service = StubService()
    resp = client(service).simulate_delete(CLAIMS + '/c1')
    assert resp.status_code == 204 and not resp.content
    assert service.last('delete_claim') == (PROJECT, 'q', 'c1')


@pytest.mark.parametrize('body', ['{"ttl": null}', '{"ttl": 60, "grace": null}'])
def test_null_ttl_or_grace_is_refused(body):
    c = client(untouched_service())
    assert 'null' in assert_error(c.simulate_post(CLAIMS, body=body), 400)['description']
    assert 'null' in assert_error(c.simulate_patch(CLAIMS + '/c1', body=body),
                                  400)['description']
