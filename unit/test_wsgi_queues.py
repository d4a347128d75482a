"""Queue routes: listing and next links, PUT/GET/PATCH/DELETE, stats, purge,
and the request-body rules (size before reading, strict JSON)."""
import dataclasses
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from unit.test_wsgi_app import assert_error
from unit.test_wsgi_stub import (JSON_PATCH, LIMITS, PROJECT, StubService, client,
                                 untouched_service)
from zaqar_swift import errors


def query_of(href):
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


# -- listing ---------------------------------------------------------------------------
def test_list_passes_given_params_and_links_to_the_next_page():
    service = StubService()
    service.returns['list_queues'] = ([{'name': 'a'}, {'name': 'b'}], 'b', None)
    resp = client(service).simulate_get('/v2/queues', params={
        'limit': '2', 'detailed': 'false', 'name': 'x', 'marker': 'a0'})
    assert resp.status_code == 200
    assert service.last('list_queues') == (PROJECT, 'a0', 2, False, 'x', False)
    doc = resp.json
    assert doc['queues'] == [{'name': 'a', 'href': '/v2/queues/a'},
                             {'name': 'b', 'href': '/v2/queues/b'}]
    [link] = doc['links']
    assert link['rel'] == 'next' and urlsplit(link['href']).path == '/v2/queues'
    assert query_of(link['href']) == {'limit': '2', 'detailed': 'false', 'name': 'x',
                                      'marker': 'b'}
    assert 'count' not in doc


def test_list_next_marker_falls_back_to_the_last_name():
    service = StubService()
    service.returns['list_queues'] = ([{'name': 'a'}, {'name': 'b'}], None, None)
    doc = client(service).simulate_get('/v2/queues').json
    assert query_of(doc['links'][0]['href']) == {'marker': 'b'}


def test_list_detailed_and_count():
    service = StubService()
    service.returns['list_queues'] = ([{'name': 'a', 'metadata': {'k': 1}}], 'a', 5)
    resp = client(service).simulate_get('/v2/queues', params={'detailed': 'true',
                                                              'with_count': 'true'})
    assert service.last('list_queues') == (PROJECT, None, None, True, None, True)
    doc = resp.json
    assert doc['queues'] == [{'name': 'a', 'href': '/v2/queues/a', 'metadata': {'k': 1}}]
    assert doc['count'] == 5
    assert 'with_count' not in query_of(doc['links'][0]['href'])


def test_empty_list_is_200_without_links():
    service = StubService()
    service.returns['list_queues'] = ([], None, 0)
    resp = client(service).simulate_get('/v2/queues', params={'with_count': 'true'})
    assert resp.status_code == 200
    assert resp.json == {'queues': [], 'links': [], 'count': 0}


def test_blank_query_values_are_ignored():
    service = StubService()
    client(service).simulate_get('/v2/queues', query_string='marker=&limit=')
    assert service.last('list_queues') == (PROJECT, None, None, False, None, False)


def test_list_limit_error_from_the_service_is_a_400():
    service = StubService()
    service.raises['list_queues'] = errors.InvalidRequest('Limit must be at least 1.')
    assert_error(client(service).simulate_get('/v2/queues', params={'limit': '0'}), 400)


# -- one queue -----------------------------------------------------------------------------
@pytest.mark.parametrize('created,status', [(True, 201), (False, 204)])
def test_put(created, status):
    service = StubService()
    service.returns['create_queue'] = created
    resp = client(service).simulate_put('/v2/queues/fizbat', json={'a': 1})
    assert resp.status_code == status and not resp.content
    assert urlsplit(resp.headers['Location']).path == '/v2/queues/fizbat'
    assert service.last('create_queue') == (PROJECT, 'fizbat', {'a': 1})


def test_put_without_body_sends_no_metadata():
    service = StubService()
    assert client(service).simulate_put('/v2/queues/q', body='').status_code == 201
    assert service.last('create_queue') == (PROJECT, 'q', None)


@pytest.mark.parametrize('body', [
    '{', '[1]', '"text"', '3', 'null', '{"a": NaN}', '{"a": Infinity}', '{"a": 1e999}',
    '{"a": %d}' % (2 ** 63), '{"a": -%d}' % (2 ** 64), b'{"a": "\xff"}',
    '[' * 100000 + ']' * 100000,
])
def test_put_refuses_bodies_that_are_not_sane_json_objects(body):
    big_enough = dataclasses.replace(LIMITS, max_queue_metadata=10 ** 6)
    service = untouched_service(big_enough)
    assert_error(client(service, limits=big_enough).simulate_put('/v2/queues/q', body=body),
                 400)


def test_put_accepts_big_but_valid_numbers():
    service = StubService()
    body = '{"a": %d, "b": -%d, "c": 1.5e300}' % (2 ** 63 - 1, 2 ** 63 - 1)
    assert client(service).simulate_put('/v2/queues/q', body=body).status_code == 201
    assert service.last('create_queue')[2]['a'] == 2 ** 63 - 1


def test_put_too_large_is_400_before_reading():
    class Unreadable:
        def read(self, *args):
            raise AssertionError('the body was read')
        readline = readlines = __iter__ = read
    service = StubService()
    c = client(service)
    headers = {'Content-Length': str(LIMITS.max_queue_metadata + 1)}
    resp = c.simulate_put('/v2/queues/q', headers=headers,
                          extras={'wsgi.input': Unreadable()})
    assert_error(resp, 400)
    assert service.calls == []
    ok = c.simulate_put('/v2/queues/q', body='{"k": "%s"}' % ('x' * 100))
    assert ok.status_code == 201


def test_get_queue():
    service = StubService()
    resp = client(service).simulate_get('/v2/queues/q')
    assert resp.status_code == 200 and resp.json['_default_message_ttl'] == 3600
    assert service.last('get_queue') == (PROJECT, 'q')


def test_delete_queue():
    service = StubService()
    resp = client(service).simulate_delete('/v2/queues/q')
    assert resp.status_code == 204 and not resp.content
    assert service.last('delete_queue') == (PROJECT, 'q')


# -- PATCH ------------------------------------------------------------------------------------
PATCH = [{'op': 'add', 'path': '/metadata/k', 'value': 1}]


def test_patch_returns_the_new_metadata():
    service = StubService()
    resp = client(service).simulate_patch('/v2/queues/q', body=json.dumps(PATCH),
                                          headers={'Content-Type': JSON_PATCH})
    assert resp.status_code == 200 and resp.json == {'k': 1}
    assert service.last('update_queue') == (PROJECT, 'q', PATCH)


def test_patch_media_type_may_carry_parameters():
    service = StubService()
    resp = client(service).simulate_patch(
        '/v2/queues/q', body=json.dumps(PATCH),
        headers={'Content-Type': JSON_PATCH + '; charset=UTF-8'})
    assert resp.status_code == 200


@pytest.mark.parametrize('ctype', ['application/json', 'text/plain', None])
def test_patch_needs_the_json_patch_media_type(ctype):
    service = StubService()
    headers = {'Content-Type': ctype} if ctype else {}
    resp = client(service).simulate_patch('/v2/queues/q', body=json.dumps(PATCH),
                                          headers=headers)
    assert_error(resp, 415)
    assert service.calls == []


@pytest.mark.parametrize('body', ['', '[', '{"a": NaN}', 'null', '{}',
                                  '[{"op": "move", "path": "/metadata/k"}]'])
def test_patch_bad_bodies(body):
    resp = client(untouched_service()).simulate_patch('/v2/queues/q', body=body,
                                                      headers={'Content-Type': JSON_PATCH})
    assert_error(resp, 400)


def test_patch_passes_other_documents_to_the_service_to_judge():
    service = StubService()
    service.raises['update_queue'] = errors.InvalidRequest('must be a JSON array')
    resp = client(service).simulate_patch('/v2/queues/q', body='{"op": "add"}',
                                          headers={'Content-Type': JSON_PATCH})
    assert_error(resp, 400)
    assert service.last('update_queue') == (PROJECT, 'q', {'op': 'add'})


@pytest.mark.parametrize('exc,status', [(errors.QueueNotFound('q'), 404),
                                        (errors.Conflict("Can't replace k"), 409)])
def test_patch_errors(exc, status):
    service = StubService()
    service.raises['update_queue'] = exc
    resp = client(service).simulate_patch('/v2/queues/q', body=json.dumps(PATCH),
                                          headers={'Content-Type': JSON_PATCH})
    assert_error(resp, status)


# -- stats and purge ----------------------------------------------------------------------------
def test_stats_point_at_messages_by_href():
    service = StubService()
    oldest = {'id': 'm1', 'age': 9, 'created': '2026-01-01T00:00:00Z'}
    newest = {'id': 'm2', 'age': 1, 'created': '2026-01-01T00:00:08Z'}
    service.returns['queue_stats'] = {'messages': {
        'free': 1, 'claimed': 1, 'delayed': 0, 'total': 2, 'oldest': oldest, 'newest': newest}}
    doc = client(service).simulate_get('/v2/queues/q/stats').json['messages']
    assert doc['oldest'] == {'href': '/v2/queues/q/messages/m1', 'age': 9,
                             'created': '2026-01-01T00:00:00Z'}
    assert doc['newest']['href'] == '/v2/queues/q/messages/m2'
    assert (doc['free'], doc['claimed'], doc['total']) == (1, 1, 2)


def test_stats_of_an_empty_queue():
    doc = client().simulate_get('/v2/queues/q/stats').json
    assert doc == {'messages': {'free': 0, 'claimed': 0, 'delayed': 0, 'total': 0}}


def test_purge():
    service = StubService()
    c = client(service)
    resp = c.simulate_post('/v2/queues/q/purge', json={'resource_types': ['messages']})
    assert resp.status_code == 204 and not resp.content
    assert service.last('purge_queue') == (PROJECT, 'q', {'resource_types': ['messages']})
    assert c.simulate_post('/v2/queues/q/purge').status_code == 204
    assert service.last('purge_queue') == (PROJECT, 'q', None)


@pytest.mark.parametrize('body', ['{"types": []}', '[]', '{', 'null',
                                  '{"resource_types": ["queues"]}'])
def test_purge_bad_bodies(body):
    assert_error(client(untouched_service()).simulate_post('/v2/queues/q/purge', body=body),
                 400)
