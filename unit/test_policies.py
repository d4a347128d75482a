"""Policy in code: the rules, their entry points and sample, and their
enforcement by the REST app (here under noauth, where the roles are the
X-Roles header; unit/test_wsgi_auth.py has them from tokens)."""
from __future__ import annotations

import configparser
import importlib
import os
import pathlib
import subprocess
import sys

import pytest
from falcon import testing
from oslo_context import context

from unit.test_wsgi_app import assert_error
from unit.test_wsgi_auth import service_conf
from unit.test_wsgi_stub import HEADERS, LIMITS, StubService, client
from zaqar_swift import conf as options
from zaqar_swift import policies
from zaqar_swift.transport.wsgi import app as wsgi_app
from zaqar_swift.transport.wsgi import build_wsgi_app

SETUP_CFG = pathlib.Path(__file__).resolve().parents[1] / 'setup.cfg'
METHODS = ('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE')


def _responders() -> set[tuple[str, str]]:
    """(route template, method) of every responder of a non-discovery resource."""
    return {(path, method)
            for path, resource in wsgi_app._routes(StubService(), LIMITS).items()
            if not getattr(resource, 'discovery', False)
            for method in METHODS if hasattr(resource, 'on_' + method.lower())}


def test_every_responder_has_exactly_one_documented_rule():
    # /metrics is added by build_wsgi_app when [metrics] enabled is true
    assert set(policies.operations()) == _responders() | {('/metrics', 'GET')}
    names = [rule.name for rule in policies.list_rules()]
    assert len(names) == len(set(names))


def test_discovery_documents_are_the_only_resources_without_rules():
    routes = wsgi_app._routes(StubService(), LIMITS)
    assert {path for path, r in routes.items() if getattr(r, 'discovery', False)} \
        == {'/', '/v2', '/v2/'}


@pytest.mark.parametrize('rule,roles,allowed', [
    ('queues:get_all', [], True), ('messages:create', [], True), ('claims:delete', [], True),
    ('ping:get', [], True), ('health:get', [], False), ('health:get', ['member'], False),
    ('health:get', ['admin'], True),
])
def test_defaults(rule, roles, allowed):
    enforcer = policies.build_enforcer(options.defaults())
    ctx = context.RequestContext(project_id='p', roles=roles)
    assert enforcer.authorize(rule, {'project_id': 'p'}, ctx) is allowed


def test_entry_points_name_the_rules_and_an_enforcer():
    parser = configparser.ConfigParser()
    parser.read(SETUP_CFG)
    entry_points = parser['options.entry_points']

    def load(group):
        [line] = entry_points[group].strip().splitlines()
        name, target = (part.strip() for part in line.split('='))
        module, attribute = target.split(':')
        assert name == 'zaqar_swift'
        return getattr(importlib.import_module(module), attribute)
    assert load('oslo.policy.policies') is policies.list_rules
    enforcer = load('oslo.policy.enforcer')()
    assert set(enforcer.registered_rules) == {r.name for r in policies.list_rules()}


def test_sample_generator_documents_every_rule(tmp_path):
    generator = os.path.join(os.path.dirname(sys.executable), 'oslopolicy-sample-generator')
    out = tmp_path / 'policy.yaml.sample'
    subprocess.run([generator, '--namespace', 'zaqar_swift', '--output-file', str(out)],
                   check=True, timeout=60)
    text = out.read_text()
    for rule in policies.list_rules():
        assert f'#"{rule.name}": "{rule.check_str}"' in text
    assert '# GET  /v2/health' in text


# -- enforcement under noauth ---------------------------------------------------------------
def test_ordinary_operations_need_no_roles():
    service = StubService()
    c = client(service)
    assert c.simulate_put('/v2/queues/q').status_code == 201
    assert c.simulate_get('/v2/queues/q/messages').status_code in (200, 204)
    assert c.simulate_get('/v2/ping', headers={}).status_code == 204
    assert [call[0] for call in service.calls] == ['create_queue', 'list_messages']


@pytest.mark.parametrize('roles', [None, '', 'member', 'reader,member'])
def test_health_needs_admin(roles):
    service = StubService()
    headers = dict(HEADERS) if roles is None else dict(HEADERS, **{'X-Roles': roles})
    doc = assert_error(client(service, headers=headers).simulate_get('/v2/health'), 403)
    assert doc == {'title': 'Forbidden by policy',
                   'description': 'Policy does not allow health:get.'}
    assert service.calls == []


def test_admin_role_reaches_health():
    resp = client(headers={'X-Roles': 'member, admin'}).simulate_get('/v2/health')
    assert resp.status_code == 200


def test_header_checks_come_before_policy():
    # As in Zaqar: a request without a project is a 400 whatever the policy.
    assert_error(client(headers={}).simulate_get('/v2/queues'), 400)


def test_unknown_routes_and_methods_are_not_policy_errors():
    c = client()
    assert_error(c.simulate_get('/v2/nowhere'), 404)
    assert_error(c.simulate_post('/v2/health', headers={'X-Roles': 'admin'}), 405)


def test_the_policy_file_next_to_the_config_file_overrides_defaults(tmp_path):
    (tmp_path / 'policy.yaml').write_text('"queues:get_all": "role:admin"\n'
                                          '"health:get": ""\n')
    conf = service_conf(tmp_path, DEFAULT={'auth_strategy': 'noauth'})
    stack = build_wsgi_app(StubService(), LIMITS, 'noauth', conf)
    c = testing.TestClient(lambda environ, start: stack(environ, start), headers=HEADERS)
    assert_error(c.simulate_get('/v2/queues'), 403)
    assert c.simulate_get('/v2/queues', headers={'X-Roles': 'admin'}).status_code == 200
    assert c.simulate_get('/v2/health').status_code == 200
