"""Message routes: POST, listing with next links, GET by ids, DELETE by ids
or pop, one message; and the exact fields Zaqar v2 shows."""
import dataclasses
import json
import types
from urllib.parse import urlsplit

import pytest

from unit.test_wsgi_app import assert_error
from unit.test_wsgi_queues import query_of
from unit.test_wsgi_stub import (CLIENT_ID, LIMITS, PROJECT, StubService, client, message,
                                 untouched_service)
from zaqar_swift import errors
from zaqar_swift.storage.swift.queues import MISSING

SHOWN = {'id', 'href', 'ttl', 'age', 'body'}
MESSAGES = '/v2/queues/q/messages'


# -- POST -------------------------------------------------------------------------------
def test_post_returns_hrefs_and_location():
    service = StubService()
    batch = [{'body': {'a': 1}, 'ttl': 60}, {'body': 'two'}]
    resp = client(service).simulate_post(MESSAGES, json={'messages': batch})
    assert resp.status_code == 201
    assert resp.json == {'resources': [MESSAGES + '/m1', MESSAGES + '/m2']}
    location = urlsplit(resp.headers['Location'])
    assert location.path == MESSAGES and location.query == 'ids=m1,m2'
    assert service.last('post_messages') == (PROJECT, 'q', CLIENT_ID, {'messages': batch})


def test_post_hands_the_raw_document_to_the_service():
    service = StubService()
    service.raises['post_messages'] = errors.InvalidRequest('Message 0: missing "body"')
    resp = client(service).simulate_post(MESSAGES, json={'messages': [{}]})
    assert_error(resp, 400)
    assert service.last('post_messages')[3] == {'messages': [{}]}


@pytest.mark.parametrize('body,says', [
    ('', 'empty'), ('{}', 'No messages were found'), ('[]', 'JSON object'),
    ('{"message": []}', 'No messages were found'), ('{"messages": [', 'parsed'),
    ('null', 'not null'), ('{"messages": [{"body": %d}]}' % 2 ** 64, 'too large'),
])
def test_post_bad_documents_are_refused_by_the_core_before_storage(body, says):
    doc = assert_error(client(untouched_service()).simulate_post(MESSAGES, body=body), 400)
    assert says in doc['description']


@pytest.mark.parametrize('body,says', [
    ('{"messages": []}', 'non-empty'),
    ('{"messages": [{"body": %s}]}' % ('[' * 33 + ']' * 33), 'nest'),
])
def test_post_bad_messages_are_refused_by_the_core(body, says):
    service = untouched_service()
    service._catalog = types.SimpleNamespace(get=lambda *a: MISSING)
    doc = assert_error(client(service).simulate_post(MESSAGES, body=body), 400)
    assert says in doc['description']


def test_post_larger_than_its_limit_is_400_below_the_largest_body():
    """With a metadata limit above the post limit, a POST between the two
    is Zaqar's 400; above the largest legal body it is a 413."""
    limits = dataclasses.replace(LIMITS, max_messages_post_size=1000,
                                 max_queue_metadata=5000)
    service = StubService()
    c = client(service, limits=limits)
    body = json.dumps({'messages': [{'body': 'x' * 2000}]})
    assert_error(c.simulate_post(MESSAGES, body=body), 400)
    body = json.dumps({'messages': [{'body': 'x' * 6000}]})
    assert_error(c.simulate_post(MESSAGES, body=body), 413)
    assert service.calls == []


def test_post_queue_limit_is_the_services_to_enforce():
    service = StubService()
    service.raises['post_messages'] = errors.PayloadTooLarge('max size for this queue is 10')
    assert_error(client(service).simulate_post(MESSAGES, json={'messages': [{'body': 1}]}), 400)


# -- listing ---------------------------------------------------------------------------------
def test_list_passes_params_and_links_to_the_next_page():
    service = StubService()
    service.returns['list_messages'] = ([message('m1'), message('m2', 'c7')], 'm2')
    resp = client(service).simulate_get(MESSAGES, params={
        'limit': '2', 'echo': 'true', 'include_claimed': 'True', 'marker': 'm0'})
    assert resp.status_code == 200
    assert service.last('list_messages') == (PROJECT, 'q', CLIENT_ID, 'm0', 2, True, True,
                                             False)
    doc = resp.json
    assert [set(m) for m in doc['messages']] == [SHOWN, SHOWN]
    assert doc['messages'][0] == {'id': 'm1', 'href': MESSAGES + '/m1', 'ttl': 300,
                                  'age': 4, 'body': {'n': 'm1'}}
    assert doc['messages'][1]['href'] == MESSAGES + '/m2?claim_id=c7'
    [link] = doc['links']
    assert link['rel'] == 'next' and urlsplit(link['href']).path == MESSAGES
    assert query_of(link['href']) == {'limit': '2', 'echo': 'true',
                                      'include_claimed': 'true', 'marker': 'm2'}


def test_list_defaults_are_the_services():
    service = StubService()
    client(service).simulate_get(MESSAGES)
    assert service.last('list_messages') == (PROJECT, 'q', CLIENT_ID, None, None, False,
                                             False, False)


def test_empty_listing_is_200_with_no_links():
    resp = client().simulate_get(MESSAGES, params={'include_delayed': 'true'})
    assert resp.status_code == 200
    assert resp.json == {'messages': [], 'links': []}


def test_list_bad_flag_or_limit():
    assert_error(client().simulate_get(MESSAGES, params={'echo': 'perhaps'}), 400)
    assert_error(client().simulate_get(MESSAGES, params={'limit': '1.5'}), 400)


# -- by ids ----------------------------------------------------------------------------------
def test_get_by_ids():
    service = StubService()
    service.returns['get_messages'] = [message('m1'), message('m3', 'c1')]
    resp = client(service).simulate_get(MESSAGES, params={'ids': 'm1,m2,m3'})
    assert resp.status_code == 200
    assert service.last('get_messages') == (PROJECT, 'q', ['m1', 'm2', 'm3'])
    doc = resp.json
    assert set(doc) == {'messages'}
    assert [m['id'] for m in doc['messages']] == ['m1', 'm3']
    assert doc['messages'][1]['href'] == MESSAGES + '/m3?claim_id=c1'


def test_get_by_ids_none_found_is_404():
    service = StubService()
    service.raises['get_messages'] = errors.MessageNotFound('No messages with IDs: m9')
    assert_error(client(service).simulate_get(MESSAGES, params={'ids': 'm9'}), 404)


def test_delete_by_ids_is_204():
    service = StubService()
    c = client(service)
    resp = c.simulate_delete(MESSAGES, params={'ids': 'm1,m2'})
    assert resp.status_code == 204 and not resp.content
    assert service.last('delete_many') == (PROJECT, 'q', CLIENT_ID, ['m1', 'm2'], None, None)
    c.simulate_delete(MESSAGES, query_string='ids=m1,m2&claim_ids=c1')
    assert service.last('delete_many') == (PROJECT, 'q', CLIENT_ID, ['m1', 'm2'], None,
                                           ['c1'])


def test_pop_returns_the_popped_messages():
    service = StubService()
    service.returns['delete_many'] = [message('m1', 'c9', extra='hidden')]
    resp = client(service).simulate_delete(MESSAGES, params={'pop': '3'})
    assert resp.status_code == 200
    assert service.last('delete_many') == (PROJECT, 'q', CLIENT_ID, None, 3, None)
    assert resp.json == {'messages': [{'id': 'm1', 'ttl': 300, 'age': 4, 'body': {'n': 'm1'},
                                       'claim_id': 'c9', 'claim_count': 1}]}


@pytest.mark.parametrize('query', ['', 'ids=', 'pop=', 'ids=a&pop=1', 'pop=x', 'pop=0',
                                   'ids=' + ','.join('m%d' % i for i in range(21)),
                                   'ids=m1&claim_ids=' + ','.join('c%d' % i for i in range(21)),
                                   'ids=m1&claim_ids=,'])
def test_delete_needs_ids_or_pop(query):
    resp = client(untouched_service()).simulate_delete(MESSAGES, query_string=query)
    assert_error(resp, 400)


@pytest.mark.parametrize('exc,status', [(errors.MessageIsClaimed('claimed'), 403),
                                        (errors.ClaimMismatch('not yours'), 403),
                                        (errors.InvalidRequest('too many ids'), 400)])
def test_delete_by_ids_errors(exc, status):
    service = StubService()
    service.raises['delete_many'] = exc
    assert_error(client(service).simulate_delete(MESSAGES, params={'ids': 'm1'}), status)


# -- one message --------------------------------------------------------------------------------
def test_get_one_message():
    service = StubService()
    service.returns['get_message'] = message('m1', 'c2')
    resp = client(service).simulate_get(MESSAGES + '/m1')
    assert resp.status_code == 200
    assert service.last('get_message') == (PROJECT, 'q', 'm1')
    assert set(resp.json) == SHOWN
    assert resp.json['href'] == MESSAGES + '/m1?claim_id=c2'


def test_get_missing_message_is_404():
    service = StubService()
    service.raises['get_message'] = errors.MessageNotFound('gone')
    assert_error(client(service).simulate_get(MESSAGES + '/m1'), 404)


def test_delete_one_message_with_and_without_claim():
    service = StubService()
    c = client(service)
    assert c.simulate_delete(MESSAGES + '/m1').status_code == 204
    assert service.last('delete_message') == (PROJECT, 'q', 'm1', None)
    assert c.simulate_delete(MESSAGES + '/m1', params={'claim_id': 'c5'}).status_code == 204
    assert service.last('delete_message') == (PROJECT, 'q', 'm1', 'c5')


@pytest.mark.parametrize('exc,status', [(errors.MessageIsClaimed('claimed'), 403),
                                        (errors.ClaimMismatch('expired'), 403)])
def test_delete_claimed_message_errors(exc, status):
    service = StubService()
    service.raises['delete_message'] = exc
    assert_error(client(service).simulate_delete(MESSAGES + '/m1'), status)


@pytest.mark.parametrize('query', ['ids=m1,m2', 'ids=m1%2Cm2', 'ids=m1&ids=m2', 'ids=m1,&ids=m2'])
def test_ids_may_be_comma_separated_encoded_or_repeated(query):
    service = StubService()
    c = client(service)
    assert c.simulate_get(MESSAGES, query_string=query).status_code == 200
    assert service.last('get_messages') == (PROJECT, 'q', ['m1', 'm2'])
    assert c.simulate_delete(MESSAGES, query_string=query).status_code == 204
    assert service.last('delete_many') == (PROJECT, 'q', CLIENT_ID, ['m1', 'm2'], None, None)


def test_marker_with_a_comma_stays_whole():
    service = StubService()
    client(service).simulate_get(MESSAGES, query_string='marker=a,b')
    assert service.last('list_messages')[3] == 'a,b'
