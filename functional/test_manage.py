"""``zaqar-swift-manage`` against the real local Swift: check, status,
purge-project (and delete-containers), as an operator runs them."""
from __future__ import annotations

import re
import subprocess
import sys

from zaqar_swift.testing import processes

try:
    from functional import helpers as h
except ImportError:   # functional/ is not a package: pytest put it on sys.path
    import helpers as h


def manage(conf: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, '-m', 'zaqar_swift.cmd.manage', '--config-file',
                           conf, *args], capture_output=True, text=True, timeout=120,
                          env=processes.python_env())
    print(done.stdout, done.stderr[-3000:])
    return done


def test_check_passes_against_the_local_swift(swift, tmp_path):
    conf = swift.write_api_conf(str(tmp_path / 'ok.conf'),
                                extra={'swift': {'storage_policy': 'gold'}})
    done = manage(conf, 'check', '--expirer-wait', '30')
    assert done.returncode == 0
    for what in ('credentials', 'storage policy', 'bulk delete', 'replicas', 'clock',
                 'expirer'):
        assert re.search(r'^OK +%s ' % what, done.stdout, re.M), what


def test_check_fails_on_a_missing_policy_and_on_bad_credentials(swift, tmp_path):
    conf = swift.write_api_conf(str(tmp_path / 'policy.conf'),
                                extra={'swift': {'storage_policy': 'platinum',
                                                 'replicas': 2}})
    done = manage(conf, 'check')
    assert done.returncode == 1
    assert re.search(r"^ERROR storage policy +'platinum' is not a policy", done.stdout, re.M)
    assert re.search(r'^WARN  replicas +declared 2', done.stdout, re.M)
    conf = swift.write_api_conf(str(tmp_path / 'creds.conf'),
                                extra={'swift': {'key': 'wrong', 'retries': 0}})
    done = manage(conf, 'check')
    assert done.returncode == 1
    assert re.search(r'^ERROR credentials ', done.stdout, re.M)


def test_status_and_purge_project(api, swift, tmp_path):
    conf = swift.write_api_conf(str(tmp_path / 'm.conf'))
    tenant = h.Tenant(api.url)
    for queue in ('a', 'b'):
        tenant.create_queue(queue)
        tenant.post_bodies(queue, 3)
    tenant.claim('a', limit=2)
    rows = []

    def status_row() -> list[str]:
        done = manage(conf, 'status', '--project', tenant.project)
        assert done.returncode == 0
        rows[:] = [line.split() for line in done.stdout.splitlines()
                   if line.startswith(tenant.project)][0]
        return rows

    # objects and bytes come from the account listing, which lags the writes
    h.wait_until(lambda: int(status_row()[6]) > 0, 30, interval=1.0,
                 what='the account listing to count the project\'s bytes')
    assert rows[1:5] == ['2', '4', '2', '6']     # queues, free, claimed, messages
    assert int(rows[5]) > 0                      # objects
    done = manage(conf, 'status')   # every project of the account
    assert tenant.project in done.stdout
    done = manage(conf, 'purge-project', tenant.project, '--yes')
    assert done.returncode == 0
    assert re.search(r'Deleted 3 containers and \d+ objects', done.stdout)
    assert '3/3 containers' in done.stderr   # the progress bar
    assert h.Tenant(api.url, project=tenant.project).get('/v2/queues').json()['queues'] == []
