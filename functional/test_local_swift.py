"""The local Swift the other tests rely on: policies, bulk delete, expiry."""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import requests
from swiftclient import client as swiftclient

from zaqar_swift.testing.ports import free_port_block
from zaqar_swift.testing.processes import pid_alive
from zaqar_swift.testing.saio import LocalSwift


@pytest.fixture(scope='module')
def conn(swift: LocalSwift) -> swiftclient.Connection:
    return swiftclient.Connection(swift.auth_url, swift.user, swift.key,
                                  retries=0)


def new_container(conn: swiftclient.Connection, policy: str | None = None
                  ) -> str:
    name = 'saio-test-' + uuid.uuid4().hex[:12]
    headers = {'X-Storage-Policy': policy} if policy else {}
    conn.put_container(name, headers=headers)
    return name


def replicas_on_disk(swift: LocalSwift, path: str) -> int:
    """How many devices hold a .data file of object ``/account/c/o``."""
    from swift.obj.diskfile import read_metadata

    found = 0
    for device in os.listdir(swift.devices_dir):
        for top in ('objects', 'objects-1'):
            for dirpath, _dirs, files in os.walk(
                    os.path.join(swift.devices_dir, device, top)):
                for name in files:
                    if name.endswith('.data'):
                        meta = read_metadata(os.path.join(dirpath, name))
                        found += meta.get('name') == path
    return found


def test_info_lists_both_policies(swift):
    info = requests.get(swift.auth_url.replace('/auth/v1.0', '/info'),
                        timeout=10).json()
    policies = {p['name']: p for p in info['swift']['policies']}
    assert set(policies) == {'gold', 'single'}
    assert policies['gold'].get('default') is True
    assert swift.policies == {'gold': 3, 'single': 1}


@pytest.mark.parametrize('policy, replicas', [(None, 3), ('gold', 3),
                                              ('single', 1)])
def test_objects_land_on_as_many_devices_as_the_policy_has_replicas(
        swift, conn, policy, replicas):
    container = new_container(conn, policy)
    assert conn.head_container(container)['x-storage-policy'] == \
        (policy or 'gold')
    conn.put_object(container, 'o', b'data')
    account = swift.storage_url.rsplit('/', 1)[1]
    assert replicas_on_disk(swift, '/%s/%s/o' % (account, container)) == \
        replicas


def test_bulk_delete_removes_objects_and_container(conn):
    container = new_container(conn)
    for i in range(5):
        conn.put_object(container, 'o%d' % i, b'x')
    body = ''.join('/%s/o%d\n' % (container, i) for i in range(5))
    body += '/%s\n' % container
    resp = requests.post(conn.url + '?bulk-delete', data=body, timeout=30,
                         headers={'X-Auth-Token': conn.token,
                                  'Content-Type': 'text/plain',
                                  'Accept': 'application/json'})
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result['Number Deleted'] == 6, result
    assert result['Errors'] == []
    with pytest.raises(swiftclient.ClientException) as exc:
        conn.head_container(container)
    assert exc.value.http_status == 404


def test_server_side_copy(conn):
    container = new_container(conn)
    conn.put_object(container, 'src', b'payload',
                    headers={'X-Object-Meta-Color': 'blue'})
    conn.put_object(container, 'dst', b'',
                    headers={'X-Copy-From': '/%s/src' % container})
    headers, body = conn.get_object(container, 'dst')
    assert body == b'payload'
    assert headers['x-object-meta-color'] == 'blue'


def test_expired_object_leaves_get_then_listing(conn):
    container = new_container(conn)
    began = time.monotonic()
    conn.put_object(container, 'short', b'x', headers={'X-Delete-After': '1'})
    gone_at = _poll(lambda: _status(conn, container, 'short') == 404,
                    began, limit=3.0, interval=0.05)
    # X-Delete-After is truncated to whole seconds: at most 1 s, plus slack.
    assert gone_at <= 1.5, 'GET still found the object after %.2f s' % gone_at
    unlisted_at = _poll(
        lambda: not conn.get_container(container)[1], began, limit=15.0,
        interval=0.1)
    assert unlisted_at <= 5.0, 'listed for %.2f s' % unlisted_at


def _status(conn, container: str, name: str) -> int:
    try:
        conn.head_object(container, name)
        return 200
    except swiftclient.ClientException as exc:
        return exc.http_status


def _poll(predicate, began: float, limit: float, interval: float) -> float:
    """Seconds from ``began`` until ``predicate()`` held; fail after limit."""
    while True:
        if predicate():
            return time.monotonic() - began
        if time.monotonic() - began > limit:
            pytest.fail('condition not reached within %.1f s' % limit)
        time.sleep(interval)


def test_api_conf_holds_working_credentials(swift):
    conf = configparser.ConfigParser()
    assert conf.read(swift.api_conf_path)
    assert conf['DEFAULT']['bind_host'] == '127.0.0.1'
    assert conf['DEFAULT']['bind_port'] == '8888'
    section = conf['swift']
    assert section['v1_auth_url'] == swift.auth_url
    url, token = swiftclient.get_auth(section['v1_auth_url'], section['user'],
                                      section['key'])
    assert token and url == swift.storage_url


def test_status_names_every_process(swift):
    status = swift.status()
    assert status['running'] is True
    assert set(status['processes']) >= {
        'account', 'container', 'object', 'proxy', 'expirer', 'updater'}
    assert all(p['pid'] for p in status['processes'].values())


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, '-m', 'zaqar_swift.testing.saio', *args],
        capture_output=True, text=True, timeout=120)


def test_command_line_start_status_stop(tmp_path):
    """A second, detached Swift: started, seen and stopped by other processes."""
    base = free_port_block(5)
    data = str(tmp_path / 'saio')
    ports = ['--data-dir', data, '--proxy-port', str(base),
             '--base-port', str(base + 1)]
    started = _cli('start', *ports)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert 'http://127.0.0.1:%d/auth/v1.0' % base in started.stdout
        status = _cli('status', '--data-dir', data, '--json')
        assert status.returncode == 0, status.stdout + status.stderr
        pids = [p['pid'] for p in json.loads(status.stdout)['processes'].values()]
        assert all(pids)
    finally:
        stopped = _cli('stop', '--data-dir', data)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert _cli('status', '--data-dir', data).returncode == 3
    assert not [pid for pid in pids if pid_alive(pid)]
    assert LocalSwift.from_data_dir(data).proxy_port == base
