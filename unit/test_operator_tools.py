"""Metrics, the WSGI entry's configuration, zaqar-swift-manage's checks and
zaqar-swift-worker, without Swift (functional/test_manage.py and
functional/test_wsgi_servers.py run them against the local one)."""
from __future__ import annotations

import email.utils
import json
import os
import time

import pytest
from falcon import testing

from unit.test_wsgi_stub import LIMITS, StubService
from zaqar_swift import conf as options
from zaqar_swift import errors
from zaqar_swift import metrics
from zaqar_swift.cmd import manage
from zaqar_swift.cmd import worker
from zaqar_swift.cmd import wsgi as wsgi_entry
from zaqar_swift.transport.wsgi import build_wsgi_app


# -- metrics ----------------------------------------------------------------------

def test_counters_and_histograms_render_in_the_text_format():
    reg = metrics.Registry()
    reg.inc(metrics.CLAIM_WRITES, outcome='won')
    reg.inc(metrics.CLAIM_WRITES, outcome='won')
    reg.observe(metrics.SWIFT_SECONDS, 0.02, operation='PUT')
    reg.observe(metrics.SWIFT_SECONDS, 30.0, operation='PUT')
    text = metrics.render(reg.snapshot(), {metrics.PURGE_BACKLOG: 3})
    assert 'zaqar_swift_claim_writes_total{outcome="won"} 2\n' in text
    assert 'zaqar_swift_swift_request_seconds_bucket{le="0.01",operation="PUT"} 0\n' in text
    assert 'zaqar_swift_swift_request_seconds_bucket{le="0.025",operation="PUT"} 1\n' in text
    assert 'zaqar_swift_swift_request_seconds_bucket{le="10",operation="PUT"} 1\n' in text
    assert 'zaqar_swift_swift_request_seconds_bucket{le="+Inf",operation="PUT"} 2\n' in text
    assert 'zaqar_swift_swift_request_seconds_count{operation="PUT"} 2\n' in text
    assert 'zaqar_swift_purge_backlog 3\n' in text
    assert '# TYPE zaqar_swift_swift_request_seconds histogram' in text


def test_label_values_are_escaped_and_methods_bounded():
    reg = metrics.Registry()
    app = metrics.CountRequests(lambda env, sr: sr('200 OK', []) or [b''], reg)
    app({'REQUEST_METHOD': 'BREW', metrics.ROUTE_ENV: 'a"b\\c\nd'}, lambda s, h, e=None: None)
    text = metrics.render(reg.snapshot(), {})
    assert 'method="other",route="a\\"b\\\\c\\nd",status="200"} 1' in text


def test_processes_share_counters_through_the_directory(tmp_path):
    for pid, n in ((101, 2), (102, 3)):
        reg = metrics.Registry()
        reg.inc(metrics.CLAIM_WRITES, n, outcome='lost')
        metrics.write_snapshot(str(tmp_path), pid, reg.snapshot())
    (tmp_path / 'junk.json').write_text('{not json')
    own = metrics.Registry()
    own.inc(metrics.CLAIM_WRITES, outcome='lost')
    resource = metrics.Resource(lambda: 0, own, str(tmp_path))
    total = resource.counters()[metrics.CLAIM_WRITES]
    assert total == {(('outcome', 'lost'),): 6.0}


def test_flush_is_throttled_and_catches_up(tmp_path):
    reg = metrics.Registry()
    reg.inc(metrics.CLAIM_WRITES, outcome='won')
    reg.flush(str(tmp_path), 0.3)                     # written at once
    reg.inc(metrics.CLAIM_WRITES, outcome='won')
    reg.flush(str(tmp_path), 0.3)                     # too soon: deferred
    path = tmp_path / ('%d.json' % os.getpid())
    assert json.loads(path.read_text())[metrics.CLAIM_WRITES][0][1] == 1.0
    time.sleep(0.6)
    assert json.loads(path.read_text())[metrics.CLAIM_WRITES][0][1] == 2.0
    reg.flush(None, 0.0, force=True)                  # no directory: nothing


def test_metrics_route_is_admin_only_and_counts_requests():
    app = build_wsgi_app(StubService(), LIMITS, 'noauth', options.defaults(), lambda: 7)
    client = testing.TestClient(app)
    denied = client.simulate_get('/metrics', headers={'X-Project-ID': 'p'})
    assert denied.status_code == 403 and denied.json['title']
    resp = client.simulate_get('/metrics', headers={'X-Project-ID': 'p', 'X-Roles': 'admin'})
    assert resp.status_code == 200
    assert resp.headers['Content-Type'] == metrics.CONTENT_TYPE
    assert 'zaqar_swift_purge_backlog 7' in resp.text
    assert 'route="/metrics",status="403"}' in resp.text


def test_metrics_can_be_turned_off():
    conf = options.defaults()
    conf.set_override('enabled', False, 'metrics')
    client = testing.TestClient(build_wsgi_app(StubService(), LIMITS, 'noauth', conf))
    resp = client.simulate_get('/metrics', headers={'X-Project-ID': 'p', 'X-Roles': 'admin'})
    assert resp.status_code == 404 and resp.json['title']


# -- the WSGI entry ------------------------------------------------------------------

def test_config_from_the_environment_first():
    env = {wsgi_entry.CONFIG_ENV: '/etc/a.conf, /etc/b.conf'}
    assert wsgi_entry.config_args(env, ['--config-file', '/x']) == [
        '--config-file', '/etc/a.conf', '--config-file', '/etc/b.conf']


def test_config_from_the_servers_arguments_keeps_only_ours():
    argv = ['-w', '4', '--config-file', '/etc/z.conf', '--config-dir=/etc/z.d', 'app:x']
    assert wsgi_entry.config_args({}, argv) == ['--config-file', '/etc/z.conf',
                                                '--config-dir', '/etc/z.d']
    assert wsgi_entry.config_args({}, ['-w', '4']) == []


def test_the_wsgi_entry_starts_no_worker(monkeypatch, tmp_path):
    from zaqar_swift import bootstrap
    started = []
    monkeypatch.setattr(bootstrap, 'start_workers', started.append)
    monkeypatch.setattr(bootstrap, 'start_workers_of', started.append)
    conf = tmp_path / 'z.conf'
    conf.write_text('[swift]\nv1_auth_url = http://127.0.0.1:9/auth/v1.0\nuser = a:b\n'
                    'key = k\n[worker]\nrun_in_api = true\n')
    app = wsgi_entry.create_app(['--config-file', str(conf)])
    assert testing.TestClient(app).simulate_get('/v2/ping').status_code == 204
    assert started == []


# -- zaqar-swift-manage check --------------------------------------------------------

class FakeSwift:
    def __init__(self, date_offset: float = 0.0, info: dict | None = None,
                 fail: bool = False) -> None:
        self.offset, self.fail = date_offset, fail
        self._info = info if info is not None else {
            'swift': {'policies': [{'name': 'gold', 'default': True},
                                   {'name': 'single', 'aliases': 'one, uno'}]},
            'bulk_delete': {'max_deletes_per_request': 10000}}
        self.objects: set[str] = set()

    def head_account(self):
        if self.fail:
            raise errors.StorageUnavailable('401 from the storage')
        return {'date': email.utils.formatdate(1_000_000.0 + self.offset, usegmt=True),
                'x-account-container-count': '4'}

    def info(self):
        return self._info

    def put_object_creating(self, where, name, body, ctype, headers):
        pass   # this fake's expirer is instant

    def list_objects(self, where):
        return []


def findings(swift_client, **swift_opts):
    conf = options.defaults()
    for name, value in swift_opts.items():
        conf.set_override(name, value, 'swift')
    found = manage.check(conf, swift_client, clock=lambda: 1_000_000.2)
    return {f.what: f for f in found}


def test_check_all_good():
    found = findings(FakeSwift(), storage_policy='UNO')
    assert {f.level for f in found.values()} == {manage.OK}, found


@pytest.mark.parametrize('offset,level', [(0.0, 'OK'), (-0.9, 'OK'), (1.5, 'ERROR'),
                                          (-1.5, 'ERROR')])
def test_clock_skew_beyond_the_settle_delay_is_an_error(offset, level):
    # the host reads 1,000,000.2; Date has whole seconds
    assert findings(FakeSwift(offset))['clock'].level == level


def test_missing_policy_bulk_and_few_replicas():
    found = findings(FakeSwift(info={'swift': {'policies': [{'name': 'gold'}]}}),
                     storage_policy='silver', replicas=1)
    assert found['storage policy'].level == manage.ERROR
    assert found['bulk delete'].level == manage.ERROR
    assert found['replicas'].level == manage.WARN


def test_bad_credentials_stop_the_check():
    found = findings(FakeSwift(fail=True))
    assert list(found) == ['credentials'] and found['credentials'].level == manage.ERROR


def test_progress_bar():
    import io
    out = io.StringIO()
    show = manage.progress_bar(out, width=4)
    show(1, 2, 10)
    show(2, 2, 15)
    assert out.getvalue() == '\r[##..] 1/2 containers, 10 objects' \
                             '\r[####] 2/2 containers, 15 objects\n'


# -- zaqar-swift-worker --once ----------------------------------------------------------

class Pass:
    def __init__(self, name, result):
        self.name, self.result = name, result

    def run_once(self):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def test_worker_once_runs_each_worker_and_reports_failures(capsys):
    status = worker.run_once([Pass('purge-worker', 3),
                              Pass('notifier', errors.StorageUnavailable('down')),
                              Pass('other', 0)])
    assert status == 1
    assert capsys.readouterr().out.splitlines() == [
        'purge-worker: 3 done', 'notifier: failed: down', 'other: 0 done']


def test_metrics_snapshot_file_is_json(tmp_path):
    reg = metrics.Registry()
    reg.inc(metrics.HTTP_REQUESTS, route='/v2', method='GET', status='200')
    metrics.write_snapshot(str(tmp_path), 5, reg.snapshot())
    data = json.loads((tmp_path / '5.json').read_text())
    assert data[metrics.HTTP_REQUESTS] == [[[['method', 'GET'], ['route', '/v2'],
                                            ['status', '200']], 1.0]]


@pytest.mark.parametrize('run_in_api', [True, False])
def test_the_api_command_runs_the_workers_unless_told_not_to(monkeypatch, tmp_path,
                                                             run_in_api):
    from zaqar_swift import bootstrap
    from zaqar_swift.cmd import api
    started = []
    monkeypatch.setattr(bootstrap, 'start_workers', started.append)
    conf = tmp_path / 'z.conf'
    conf.write_text('[swift]\nv1_auth_url = http://127.0.0.1:9/auth/v1.0\nuser = a:b\n'
                    'key = k\n[worker]\nrun_in_api = %s\n' % run_in_api)
    api.build_app(api.parse_config(['--config-file', str(conf)]))
    assert len(started) == (1 if run_in_api else 0)
