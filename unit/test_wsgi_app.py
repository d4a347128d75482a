"""The REST app as a whole: discovery routes, required headers, the error
table, request ids, X-Swift-Requests and the access log."""
import json
import logging

import pytest
from falcon import testing

from unit.test_wsgi_stub import CLIENT_ID, HEADERS, LIMITS, PROJECT, StubService, client
from zaqar_swift import errors
from zaqar_swift import errormap
from zaqar_swift import logtext
from zaqar_swift.transport.wsgi import create_app

JSON = 'application/json; charset=UTF-8'


def assert_error(resp, status):
    assert resp.status_code == status, resp.text
    assert resp.headers['Content-Type'] == JSON
    doc = resp.json
    assert set(doc) == {'title', 'description'}
    assert isinstance(doc['title'], str) and doc['title']
    assert isinstance(doc['description'], str)
    return doc


# -- discovery -------------------------------------------------------------------
def test_versions_document_is_a_300():
    resp = client(headers={}).simulate_get('/')
    assert resp.status_code == 300
    [v2] = resp.json['versions']
    assert v2['id'] == '2' and v2['status'] == 'CURRENT'
    assert v2['links'] == [{'href': '/v2/', 'rel': 'self'}]


@pytest.mark.parametrize('path', ['/v2', '/v2/'])
def test_json_home(path):
    resp = client(headers={}).simulate_get(path)
    assert resp.status_code == 200
    assert resp.headers['Content-Type'] == 'application/json-home'
    resources = resp.json['resources']
    assert resources['rel/queue']['href-template'] == '/v2/queues/{queue_name}'
    assert 'DELETE' in resources['rel/messages_delete']['hints']['allow']


@pytest.mark.parametrize('method', ['GET', 'HEAD'])
def test_ping_is_204_without_headers(method):
    resp = client(headers={}).simulate_request(method, '/v2/ping')
    assert resp.status_code == 204 and not resp.content


def test_health_returns_the_service_document_to_admins():
    resp = client(headers={'X-Roles': 'admin'}).simulate_get('/v2/health')
    assert resp.status_code == 200 and resp.json == {'storage_reachable': True}
    assert resp.headers['Content-Type'] == JSON


# -- required headers ---------------------------------------------------------------
@pytest.mark.parametrize('headers', [
    {'Client-ID': CLIENT_ID},
    {'Client-ID': CLIENT_ID, 'X-Project-ID': ''},
    {'Client-ID': CLIENT_ID, 'X-Project-ID': 'p' * 257},
    {'X-Project-ID': PROJECT},
    {'X-Project-ID': PROJECT, 'Client-ID': 'not-a-uuid'},
])
@pytest.mark.parametrize('path', ['/v2/queues', '/v2/queues/q', '/v2/queues/q/messages',
                                  '/v2/queues/q/stats', '/v2/queues/q/claims/c1'])
def test_tenant_routes_need_project_and_client_id(headers, path):
    service = StubService()
    assert_error(client(service, headers=headers).simulate_get(path), 400)
    assert service.calls == []


def test_keystone_mode_needs_a_confirmed_identity_with_a_project():
    # The app behind auth_token (unit/test_wsgi_auth.py tests it in front).
    service = StubService()
    c = testing.TestClient(create_app(service, LIMITS, 'keystone'), headers=HEADERS)
    assert_error(c.simulate_get('/v2/queues'), 401)
    assert_error(c.simulate_get('/v2/queues', headers={'X-Identity-Status': 'Invalid'}), 401)
    confirmed = {'X-Identity-Status': 'Confirmed'}
    assert_error(c.simulate_get('/v2/queues', headers=dict(confirmed, **{'X-Project-ID': ''})),
                 403)
    assert service.calls == []
    assert c.simulate_get('/v2/queues', headers=confirmed).status_code == 200
    assert service.last('list_queues')[0] == PROJECT


def test_client_id_reaches_the_service_normalised():
    service = StubService()
    headers = dict(HEADERS, **{'Client-ID': CLIENT_ID.upper()})
    client(service, headers=headers).simulate_get('/v2/queues/q/messages')
    assert service.last('list_messages')[:3] == (PROJECT, 'q', CLIENT_ID)


def test_unknown_auth_strategy_is_refused():
    with pytest.raises(ValueError):
        client(auth_strategy='trust-me')


# -- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize('exc,status', [
    (errors.InvalidRequest('bad'), 400), (errors.MissingHeader('hdr'), 400),
    (errors.Unauthorized('who?'), 401), (errors.Forbidden('no'), 403),
    (errors.MessageIsClaimed('claimed'), 403), (errors.ClaimMismatch('other'), 403),
    (errors.NotFound('gone'), 404), (errors.QueueNotFound('q'), 404),
    (errors.MessageNotFound('m'), 404), (errors.ClaimNotFound('c'), 404),
    (errors.Conflict('race'), 409), (errors.PayloadTooLarge('big'), 400),
    (errors.UnsupportedMediaType('type'), 415), (errors.StorageUnavailable('down'), 503),
    (errors.PolicyDenied('rule'), 403), (errors.IdentityUnavailable('keystone'), 503),
])
def test_domain_errors_map_through_one_table(exc, status):
    assert errormap.status_for(exc) == status
    service = StubService()
    service.raises['get_queue'] = exc
    doc = assert_error(client(service).simulate_get('/v2/queues/q'), status)
    assert doc == {'title': exc.title, 'description': exc.description}
    assert doc == errormap.error_body(exc)


def test_storage_unavailable_says_when_to_retry():
    service = StubService()
    service.raises['delete_queue'] = errors.StorageUnavailable('Swift is down')
    resp = client(service).simulate_delete('/v2/queues/q')
    assert resp.status_code == 503 and resp.headers['Retry-After'] == '30'


def test_unexpected_error_is_a_logged_500_without_internals(caplog):
    service = StubService()
    service.raises['get_queue'] = KeyError('secret-internal-detail')
    with caplog.at_level(logging.ERROR, logger='zaqar_swift.transport.errors'):
        resp = client(service).simulate_get('/v2/queues/q')
    doc = assert_error(resp, 500)
    assert 'secret' not in resp.text and 'Traceback' not in resp.text
    assert doc == errormap.error_body(KeyError())
    request_id = resp.headers['x-openstack-request-id']
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert request_id in record.getMessage() and record.exc_info
    assert errormap.status_for(KeyError()) == 500


def test_falcon_errors_render_as_json():
    c = client()
    assert_error(c.simulate_get('/nowhere'), 404)
    resp = c.simulate_post('/v2/queues')
    assert_error(resp, 405)
    assert 'GET' in resp.headers['Allow']
    assert_error(c.simulate_get('/v2/queues', params={'limit': 'ten'}), 400)
    assert_error(c.simulate_get('/v2/queues', params={'detailed': 'maybe'}), 400)


# -- request id, Swift request count, access log ----------------------------------------
def test_every_response_has_a_request_id():
    c = client()
    ids = {c.simulate_get(p).headers['x-openstack-request-id']
           for p in ('/', '/v2/ping', '/nowhere', '/v2/queues')}
    assert len(ids) == 4 and all(i.startswith('req-') for i in ids)


def test_swift_request_count_header():
    resp = client().simulate_get('/v2/queues/q')
    assert resp.headers['X-Swift-Requests'] == '2'
    assert client().simulate_get('/v2/ping').headers['X-Swift-Requests'] == '0'


def test_no_count_header_when_the_service_cannot_count():
    class Counterless(StubService):
        reset_request_count = None
        swift_request_count = None
    resp = client(Counterless()).simulate_get('/v2/queues/q')
    assert resp.status_code == 200 and 'X-Swift-Requests' not in resp.headers


def test_access_log_line(caplog):
    with caplog.at_level(logging.INFO, logger='zaqar_swift.access'):
        resp = client().simulate_get('/v2/queues/q')
    [record] = caplog.records
    line = record.getMessage()
    assert line.startswith('GET /v2/queues/q 200 ')
    assert resp.headers['x-openstack-request-id'] in line
    assert f'project={PROJECT}' in line and 'swift_requests=2' in line


def test_json_bodies_are_utf8():
    service = StubService()
    service.returns['get_queue'] = {'label': 'ünïcode'}
    resp = client(service).simulate_get('/v2/queues/q')
    assert resp.headers['Content-Type'] == JSON
    assert 'ünïcode'.encode() in resp.content
    assert json.loads(resp.content.decode('utf-8')) == {'label': 'ünïcode'}


@pytest.mark.parametrize('path', ['/', '/v2/health', '/v2/queues', '/v2/queues/q/messages'])
def test_clients_that_refuse_json_get_406(path):
    service = StubService()
    resp = client(service).simulate_get(path, headers={'Accept': 'application/xml'})
    assert_error(resp, 406)
    assert service.calls == []
    ok = client(service).simulate_get(path, headers={'Accept': 'application/*',
                                                     'X-Roles': 'admin'})
    assert ok.status_code in (200, 300)


def test_json_home_is_served_to_json_home_and_json_clients():
    c = client(headers={})
    for accept in ('application/json-home', 'application/json', '*/*'):
        assert c.simulate_get('/v2/', headers={'Accept': accept}).status_code == 200
    assert_error(c.simulate_get('/v2/', headers={'Accept': 'text/html'}), 406)


def test_exception_outside_falcon_is_a_json_500():
    from zaqar_swift.transport.wsgi import middleware

    def broken(environ, start_response):
        raise RuntimeError('keystone went away')

    seen = {}

    def start_response(status, headers, exc_info=None):
        seen.update(status=status, headers=dict(headers))

    body = b''.join(middleware.AccessLog(broken)(
        {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/v2/queues'}, start_response))
    assert seen['status'].startswith('500')
    assert seen['headers']['Content-Type'].startswith('application/json')
    doc = json.loads(body)
    assert doc['title'] and 'keystone' not in doc['description']


@pytest.mark.filterwarnings('ignore:Unknown REQUEST_METHOD')   # wsgiref's validator
def test_access_log_cannot_be_forged(caplog):
    """A decoded ``%0a`` in the path, a space, or a newline in the project
    header must not start a new line or a new field of the access log."""
    forged = '/v2/queues/q\n2026-01-01 INFO GET /v2/queues/admin 200 project=admin'
    with caplog.at_level(logging.INFO, logger='zaqar_swift.access'):
        client(headers=dict(HEADERS, **{'X-Project-ID': 'p project=admin'})).simulate_request(
            'GET\n', forged)
    [record] = caplog.records
    line = record.getMessage()
    fields = line.split(' ')
    assert '\n' not in line
    assert fields[0] == 'GET\\x0a' and fields[1] == logtext.field(forged)
    assert [f for f in fields if f.startswith('project=')] == ['project=p\\x20project=admin']


# -- body size ------------------------------------------------------------------------------
TWO_MB = b'x' * (2 * 1024 * 1024)


def test_a_body_beyond_any_request_is_413_before_anything_else():
    """No project, no Client-ID, a path that does not exist: the size is
    judged first, and nothing reads the body."""
    class Unreadable:
        def read(self, *args):
            raise AssertionError('the body was read')
        readline = readlines = __iter__ = read

    service = StubService()
    for path in ('/v2/queues/q/messages', '/nowhere', '/v2/ping'):
        resp = client(service, headers={}).simulate_post(
            path, headers={'Content-Length': str(len(TWO_MB))},
            extras={'wsgi.input': Unreadable()})
        doc = assert_error(resp, 413)
        assert '262144' in doc['description']
    assert service.calls == []


def test_the_largest_legal_body_passes():
    service = StubService()
    body = b'{"messages": [{"body": "' + b'x' * (262144 - 30) + b'"}]}'
    assert len(body) <= 262144
    resp = client(service).simulate_post('/v2/queues/q/messages', body=body)
    assert resp.status_code == 201
    resp = client(service).simulate_post('/v2/queues/q/messages', body=body + b' ' * 30)
    assert_error(resp, 413)


class Chunked:
    """A chunked request body of ``size`` bytes (a claim document, then
    spaces) that counts what is read of it."""

    def __init__(self, size, head=b'{"ttl": 60}'):
        self.head, self.left, self.read_bytes = head, size, 0

    def read(self, size=-1):
        size = self.left if size is None or size < 0 else min(size, self.left)
        head, self.head = self.head[:size], self.head[size:]
        data = head + b' ' * (size - len(head))
        self.left -= size
        self.read_bytes += size
        return data

    readline = read

    def readlines(self, hint=-1):
        return [self.read()]

    def __iter__(self):
        return iter(self.readlines())


@pytest.mark.parametrize('path,head,size,status', [
    ('/v2/queues/q/claims', b'{"ttl": 60}', 100, 204),
    ('/v2/queues/q/claims', b'{"ttl": 60}', 64 * 1024, 204),
    ('/v2/queues/q/claims', b'{"ttl": 60}', 64 * 1024 + 1, 400),
    ('/v2/queues/q/claims', b'{"ttl": 60}', 10 ** 9, 400),
    ('/v2/queues/q/messages', b'{"messages": [{"body": 1}]}', 262144, 201),
    ('/v2/queues/q/messages', b'{"messages": [{"body": 1}]}', 262145, 413),
    ('/v2/queues/q/messages', b'{"messages": [{"body": 1}]}', 10 ** 9, 413)])
def test_chunked_bodies_are_bounded_as_they_are_read(path, head, size, status):
    """Padding after a valid document: within the request's limit it is
    served, beyond it Zaqar's 400, beyond any request a 413; no more than
    one byte past a limit is ever read."""
    body = Chunked(size, head)
    resp = client(StubService()).simulate_post(
        path, headers={'Transfer-Encoding': 'chunked'}, extras={'wsgi.input': body})
    assert resp.status_code == status, resp.text
    assert body.read_bytes <= 262145
