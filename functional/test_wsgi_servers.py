"""The API under a real multi-process WSGI server (gunicorn: 4 processes of
8 threads, ``zaqar_swift.wsgi:application``) against the local Swift.

* a claim storm of 1,000 messages and 8 consumers through gunicorn, and the
  same through the single-process zaqar-swift-api: 0 duplicates, 0 lost,
  each printing its throughput;
* the processes' metrics add up through ``[metrics] directory``;
* SIGTERM to gunicorn lets an in-flight claim finish, and its messages are
  free again when its ttl ends;
* the WSGI entry point runs no background worker; ``zaqar-swift-worker
  --once`` does the purge.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import requests

from zaqar_swift.testing import processes
from zaqar_swift.testing.ports import free_port_block
from zaqar_swift.testing.wsgiserver import LocalGunicorn

try:
    from functional import helpers as h
    from functional import storm
except ImportError:   # functional/ is not a package: pytest put it on sys.path
    import helpers as h
    import storm

MESSAGES = 1000
CONSUMERS = 8
STORM_SECONDS = 300.0   # about 60 s on an idle 2-core machine; slack for a shared one
RESULTS: dict[str, str] = {}


@pytest.fixture
def gunicorn_factory(swift, tmp_path):
    started = []

    def start(workers: int = 4, threads: int = 8, **groups: Any) -> LocalGunicorn:
        port = free_port_block(1)
        conf = str(tmp_path / ('gunicorn-%d.conf' % port))
        swift.write_api_conf(conf, bind_port=port, extra=groups)
        server = LocalGunicorn(conf, str(tmp_path / ('gunicorn-%d.log' % port)), port,
                               workers, threads)
        started.append(server)
        try:
            return server.start(60)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)

    yield start
    for server in started:
        server.stop()


def run_storm(url: str) -> tuple[dict[str, Any], float]:
    project = h.new_project()
    h.Tenant(url, project=project).create_queue(storm.QUEUE)
    began = time.monotonic()
    run = storm.Storm(url, project, MESSAGES, producers=2, consumers=CONSUMERS,
                      deadline=began + STORM_SECONDS).start()
    run.join()
    report = run.ledger.report()
    report['claims_201'] = sum(1 for a in run.ledger.answers
                               if a.op == 'claim' and a.status == 201)
    return report, time.monotonic() - began


def record(name: str, report: dict[str, Any], wall: float, capsys) -> None:
    line = ('storm %s: %d messages, %d consumers: %.1f messages/s end to end '
            '(%.1f s), duplicates %d, lost %d, 5xx %d'
            % (name, report['posted'], CONSUMERS, report['posted'] / wall, wall,
               report['duplicates'], len(report['lost']), report['5xx']))
    RESULTS[name] = line
    with capsys.disabled():
        print('\n' + '\n'.join(RESULTS.values()))


def assert_exact(report: dict[str, Any]) -> None:
    assert report['posted'] == MESSAGES
    assert report['duplicates'] == 0, report['duplicate_detail'][:5]
    assert report['lost'] == []
    assert report['500'] == []


def test_claim_storm_through_gunicorn_4_processes(gunicorn_factory, tmp_path, capsys):
    metrics_dir = str(tmp_path / 'metrics')
    server = gunicorn_factory(metrics={'directory': metrics_dir, 'flush_interval': 0.2})
    assert len(server.worker_pids()) == 4
    report, wall = run_storm(server.url)
    record('gunicorn, 4 processes x 8 threads', report, wall, capsys)
    assert_exact(report)
    # every process counted its own share; any of them reports the sum
    time.sleep(0.5)
    text = admin_get(server.url + '/metrics').text
    claims = sum(float(v) for v in re.findall(
        r'zaqar_swift_http_requests_total\{method="POST",'
        r'route="/v2/queues/\{queue\}/claims",status="201"\} (\S+)', text))
    # a claim whose answer the client gave up on (timeout) was still counted
    lost_answers = sum(1 for a in report['timeouts']) + report['statuses'].get(0, 0)
    assert report['claims_201'] <= claims <= report['claims_201'] + lost_answers
    assert claims > 0
    assert len(os.listdir(metrics_dir)) >= 2   # several processes wrote


def test_claim_storm_through_the_single_process_api(api_factory, capsys):
    api = api_factory()
    report, wall = run_storm(api.url)
    record('zaqar-swift-api (waitress), 1 process x 16 threads', report, wall, capsys)
    assert_exact(report)


def admin_get(url: str) -> requests.Response:
    resp = requests.get(url, headers={'X-Project-ID': 'ops', 'X-Roles': 'admin'}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp


def test_metrics_are_admin_only_and_count_swift_and_claims(gunicorn_factory):
    server = gunicorn_factory(workers=1, threads=4)
    tenant = h.Tenant(server.url)
    tenant.create_queue('m')
    tenant.post_bodies('m', 3)
    tenant.claim('m', limit=3)
    resp = requests.get(server.url + '/metrics', headers={'X-Project-ID': 'p'}, timeout=10)
    h.assert_json_error(resp, 403)
    resp = admin_get(server.url + '/metrics')
    assert resp.headers['Content-Type'].startswith('text/plain; version=0.0.4')
    text = resp.text
    assert re.search(r'zaqar_swift_swift_requests_total\{operation="PUT"\} [1-9]', text)
    assert re.search(r'zaqar_swift_swift_request_seconds_bucket\{le="\+Inf",'
                     r'operation="LIST"\} [1-9]', text)
    assert re.search(r'zaqar_swift_claim_writes_total\{outcome="won"\} [1-9]', text)
    assert re.search(r'zaqar_swift_http_requests_total\{method="PUT",'
                     r'route="/v2/queues/\{queue\}",status="201"\} 1', text)
    assert re.search(r'^zaqar_swift_purge_backlog \d+$', text, re.M)


def test_sigterm_lets_an_in_flight_claim_finish(gunicorn_factory, api_factory):
    limits = {'min_claim_ttl': 1}
    server = gunicorn_factory(workers=2, threads=4, limits=limits,
                              swift={'lease_settle_delay': 2.0})
    other_api = api_factory(limits=limits)
    tenant = h.Tenant(server.url)
    tenant.create_queue('q')
    tenant.post_bodies('q', 5)
    answer: dict[str, Any] = {}

    def claim() -> None:
        answer['resp'] = tenant.post('/v2/queues/q/claims', params={'limit': 5},
                                     json={'ttl': 20, 'grace': 60})

    thread = threading.Thread(target=claim)
    thread.start()
    time.sleep(1.0)   # the claim is settling (Δ = 2 s)
    master = server.process.pid()
    os.kill(master, signal.SIGTERM)
    thread.join(30)
    resp = answer['resp']
    assert resp.status_code == 201, h.describe(resp)
    assert len(resp.json()['messages']) == 5
    assert server.process.wait_exit(master, time.monotonic() + 30), server.log_tail()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + '/v2/ping', timeout=2)
    # another API sees the claim, then the messages free once its ttl ended
    other = h.Tenant(other_api.url, project=tenant.project)
    assert other.stats('q')['claimed'] == 5
    h.wait_until(lambda: other.stats('q')['free'] == 5, 45, interval=0.5,
                 what='the messages free after the claim ttl')


def test_wsgi_runs_no_worker_and_the_worker_command_purges(gunicorn_factory, swift,
                                                           tmp_path):
    # a prefix of its own: the purge workers of other tests' APIs (waitress,
    # run_in_api) would otherwise take its job
    server = gunicorn_factory(workers=2, threads=2, worker={'interval': 0.2},
                              swift={'container_prefix': 'nowork'})
    tenant = h.Tenant(server.url)
    tenant.create_queue('gone')
    tenant.post_bodies('gone', 4)
    assert tenant.delete('/v2/queues/gone').status_code == 204
    time.sleep(2.0)   # ten worker intervals: a worker in the WSGI processes would purge
    conf = server.conf_path
    assert purge_jobs(conf) >= 1
    done = subprocess.run([sys.executable, '-m', 'zaqar_swift.cmd.worker',
                           '--config-file', conf, '--once'], capture_output=True,
                          text=True, timeout=60, env=processes.python_env())
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r'^purge-worker: [1-9]\d* done$', done.stdout, re.M), done.stdout
    assert purge_jobs(conf) == 0


def purge_jobs(conf: str) -> int:
    from zaqar_swift import bootstrap
    from zaqar_swift.cmd import api
    parsed = api.parse_config(['--config-file', conf])
    return bootstrap.purge_backlog(parsed, bootstrap.swift_client(parsed))()
