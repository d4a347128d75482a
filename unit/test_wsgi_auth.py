"""Keystone authentication over the whole WSGI stack.

keystonemiddleware's auth_token runs for real, configured from a
``[keystone_authtoken]`` section of a config file as ``zaqar-swift-api``
reads it. Only its call to Keystone is replaced, by keystonemiddleware's own
AuthTokenFixture (tokens a test registers), or left alone where Keystone
must be unreachable (its URL is a closed port). ``keystone_stack`` is the
seam for tests against a real Keystone: give it that Keystone's section.
"""
from __future__ import annotations

import logging
import socket
from typing import Any, Iterator

import pytest
from falcon import testing
from keystonemiddleware import fixture
from oslo_config import cfg

from unit.test_wsgi_app import assert_error
from unit.test_wsgi_stub import CLIENT_ID, LIMITS, StubService
from zaqar_swift import conf as options
from zaqar_swift.transport.wsgi import auth
from zaqar_swift.transport.wsgi import build_wsgi_app

WWW_AUTHENTICATE = 'http://keystone.example.com/identity'
TENANT_PATHS = ['/v2/queues', '/v2/queues/q', '/v2/queues/q/messages',
                '/v2/queues/q/claims/c1', '/v2/queues/q/stats']
PROTECTED_PATHS = TENANT_PATHS + ['/v2', '/v2/', '/v2/ping', '/v2/health', '/nowhere',
                                  '/healthcheck/', '//']
# Every identity header auth_token sets: a client sending them proves nothing.
FORGED = {'X-Identity-Status': 'Confirmed', 'X-Project-ID': 'proj-b', 'X-Tenant-Id': 'proj-b',
          'X-Roles': 'admin', 'X-Role': 'admin', 'X-User-Id': 'root',
          'X-Service-Identity-Status': 'Confirmed', 'X-Is-Admin-Project': 'True'}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def service_conf(directory: Any, **sections: dict[str, Any]) -> cfg.ConfigOpts:
    """The service's ConfigOpts over ``directory``/zaqar-swift.conf made of
    ``sections`` (``{group: {option: value}}``)."""
    lines = []
    for group, values in sections.items():
        lines += [f'[{group}]'] + [f'{k} = {v}' for k, v in values.items()]
    path = directory / 'zaqar-swift.conf'
    path.write_text('\n'.join(lines) + '\n')
    conf = cfg.ConfigOpts()
    options.register_opts(conf)
    conf(['--config-file', str(path)], default_config_files=[], default_config_dirs=[])
    return conf


def authtoken_section(**overrides: Any) -> dict[str, Any]:
    """A [keystone_authtoken] section whose Keystone is a closed port."""
    identity = f'http://127.0.0.1:{closed_port()}/identity'
    return dict({'www_authenticate_uri': WWW_AUTHENTICATE, 'auth_url': identity,
                 'auth_type': 'password', 'username': 'zaqar-swift', 'password': 'secret',
                 'user_domain_id': 'default', 'project_name': 'service',
                 'project_domain_id': 'default', 'http_request_max_retries': 0,
                 'http_connect_timeout': 2}, **overrides)


def keystone_stack(directory: Any, service: Any, **authtoken: Any) -> testing.TestClient:
    """A test client over ``build_wsgi_app`` in keystone mode."""
    conf = service_conf(directory, DEFAULT={'auth_strategy': 'keystone'},
                        keystone_authtoken=authtoken_section(**authtoken))
    stack = build_wsgi_app(service, LIMITS, conf.auth_strategy, conf)
    return testing.TestClient(lambda environ, start: stack(environ, start),
                              headers={'Client-ID': CLIENT_ID})


@pytest.fixture
def tokens() -> Iterator[fixture.AuthTokenFixture]:
    """auth_token's token validation answered from the tokens the test adds;
    any other token is invalid."""
    tokens = fixture.AuthTokenFixture()
    tokens.setUp()
    yield tokens
    tokens.cleanUp()


def add_token(tokens: fixture.AuthTokenFixture, token_id: str,
              roles: tuple[str, ...] = ('member',), project_id: str | None = 'proj-a') -> None:
    tokens.add_token_data(token_id=token_id, user_id='u-1', user_name='alice',
                          user_domain_id='default', project_id=project_id,
                          project_domain_id='default' if project_id else None,
                          role_list=list(roles))


@pytest.fixture
def service() -> StubService:
    return StubService()


@pytest.fixture
def api(tmp_path: Any, service: StubService, tokens: fixture.AuthTokenFixture
        ) -> testing.TestClient:
    add_token(tokens, 'member-a')
    add_token(tokens, 'admin-a', roles=('admin', 'member'))
    add_token(tokens, 'unscoped', project_id=None)
    return keystone_stack(tmp_path, service)


def as_token(token: str, **headers: str) -> dict[str, str]:
    return dict(headers, **{'X-Auth-Token': token})


# -- refusals ---------------------------------------------------------------------------
@pytest.mark.parametrize('path', PROTECTED_PATHS)
def test_no_token_is_a_json_401_with_the_keystone_challenge(api, service, path):
    resp = api.simulate_get(path)
    doc = assert_error(resp, 401)
    assert doc['description'] == auth.TOKEN_REQUIRED
    assert resp.headers['WWW-Authenticate'] == f'Keystone uri="{WWW_AUTHENTICATE}"'
    assert resp.headers['x-openstack-request-id'].startswith('req-')
    assert service.calls == []


@pytest.mark.parametrize('path', ['/v2/queues', '/v2/health'])
def test_identity_headers_sent_by_a_client_prove_nothing(api, service, path):
    assert_error(api.simulate_get(path, headers=FORGED), 401)
    assert_error(api.simulate_get(path, headers=as_token('forged', **FORGED)), 401)
    assert service.calls == []


def test_refused_requests_are_logged_without_the_claimed_project(api, caplog):
    with caplog.at_level(logging.INFO, logger='zaqar_swift.access'):
        api.simulate_get('/v2/queues', headers=FORGED)
    [line] = [r.getMessage() for r in caplog.records if r.name == 'zaqar_swift.access']
    assert line.startswith('GET /v2/queues 401 ') and 'project=-' in line


def test_unreachable_keystone_is_a_json_503(tmp_path, service):
    # No fetch_token stand-in: auth_token asks the closed port, and fails.
    api = keystone_stack(tmp_path, service)
    resp = api.simulate_get('/v2/queues', headers=as_token('some-token'))
    assert_error(resp, 503)
    assert resp.headers['Retry-After'] and service.calls == []


def test_missing_service_credentials_are_a_logged_json_500(tmp_path, service, caplog):
    api = keystone_stack(tmp_path, service, auth_type='')
    with caplog.at_level(logging.ERROR, logger='zaqar_swift.transport.wsgi.auth'):
        resp = api.simulate_get('/v2/queues', headers=as_token('some-token'))
    assert_error(resp, 500)
    assert 'keystone_authtoken' in caplog.text


def test_delayed_auth_decision_still_refuses_unconfirmed_callers(tmp_path, service, tokens):
    add_token(tokens, 'member-a')
    api = keystone_stack(tmp_path, service, delay_auth_decision=True)
    resp = api.simulate_get('/v2/queues', headers=FORGED)
    assert_error(resp, 401)    # by the app; auth_token adds its challenge
    assert resp.headers['WWW-Authenticate'] == f'Keystone uri="{WWW_AUTHENTICATE}"'
    assert api.simulate_get('/v2/queues', headers=as_token('member-a')).status_code == 200


# -- what is open -------------------------------------------------------------------------
def test_versions_and_healthcheck_need_no_token(api, service):
    assert api.simulate_get('/').status_code == 300
    resp = api.simulate_get('/healthcheck')
    assert resp.status_code == 200 and resp.headers['Content-Type'].startswith('text/plain')
    assert api.simulate_head('/healthcheck').status_code == 204
    assert service.calls == []


def test_open_paths_are_the_versions_and_the_healthcheck():
    assert auth.OPEN_PATHS == {'', '/', '/healthcheck'}


# -- the token decides ------------------------------------------------------------------
def test_the_token_project_wins_over_x_project_id(api, service):
    resp = api.simulate_get('/v2/queues', headers=as_token('member-a', **{
        'X-Project-ID': 'proj-b', 'X-Tenant-Id': 'proj-b'}))
    assert resp.status_code == 200
    assert service.last('list_queues')[0] == 'proj-a'
    api.simulate_delete('/v2/queues/q', headers=as_token('member-a', **{
        'X-Project-ID': 'proj-b'}))
    assert service.last('delete_queue') == ('proj-a', 'q')


def test_ordinary_operations_need_no_particular_role(tmp_path, service, tokens):
    add_token(tokens, 'no-roles', roles=())
    api = keystone_stack(tmp_path, service)
    assert api.simulate_get('/v2/queues/q', headers=as_token('no-roles')).status_code == 200
    assert service.last('get_queue') == ('proj-a', 'q')


def test_x_roles_cannot_add_to_the_token_roles(api, service):
    resp = api.simulate_get('/v2/health', headers=as_token('member-a', **{'X-Roles': 'admin'}))
    assert assert_error(resp, 403)['description'] == 'Policy does not allow health:get.'
    assert service.calls == []
    resp = api.simulate_get('/v2/health', headers=as_token('admin-a'))
    assert resp.status_code == 200 and resp.json == {'storage_reachable': True}


def test_a_token_without_a_project_cannot_address_queues(api, service):
    assert_error(api.simulate_get('/v2/queues', headers=as_token('unscoped')), 403)
    assert service.calls == []


def test_ping_and_json_home_need_only_a_token(api):
    assert api.simulate_get('/v2/ping', headers=as_token('member-a')).status_code == 204
    assert api.simulate_get('/v2/', headers=as_token('unscoped')).status_code == 200


def test_a_body_beyond_any_request_is_413_before_authentication(api, service, monkeypatch):
    """Without a token, a 2 MB POST is refused on its size: auth_token never
    sees it (it would answer 401) and nothing reads the body."""
    def no_auth(*args, **kwargs):
        raise AssertionError('auth_token was consulted')
    monkeypatch.setattr(auth.KeystoneAuth, 'process_request', no_auth)
    resp = api.simulate_post('/v2/queues/q/messages', body=b'x' * (2 * 1024 * 1024))
    doc = assert_error(resp, 413)
    assert 'no request may be longer' in doc['description']
    assert 'WWW-Authenticate' not in resp.headers
    assert service.calls == []
