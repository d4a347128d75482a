"""``zaqar-swift-api``: start-up log lines, serving, and a clean SIGTERM exit.

The end-to-end test runs ``python -m zaqar_swift.cmd.api`` on a free port
with a Swift that does not exist (building the service does not contact
Swift; /v2/ping does not either), waits for it with a bound, and stops it.
"""
import json
import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from zaqar_swift.cmd import api

READY = re.compile(r'listening on http://([\d.]+):(\d+)/')
START_TIMEOUT = 20


class FakeServer:
    effective_host, effective_port = '127.0.0.1', 4242
    ran = closed = False

    def run(self):
        self.ran = True

    def close(self):
        self.closed = True


def config(tmp_path, **extra):
    lines = ['[DEFAULT]', 'bind_port = 0'] + [f'{k} = {v}' for k, v in extra.items()]
    lines += ['[swift]', 'v1_auth_url = http://127.0.0.1:9/auth/v1.0', 'user = t:u', 'key = k']
    path = tmp_path / 'zaqar-swift.conf'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


@pytest.mark.parametrize('strategy,warned', [('noauth', True), ('keystone', False)])
def test_serve_logs_address_strategy_and_noauth_warning(monkeypatch, caplog, tmp_path,
                                                        strategy, warned):
    import waitress
    server = FakeServer()
    seen = {}
    monkeypatch.setattr(waitress, 'create_server',
                        lambda app, **kw: seen.update(kw) or server)
    monkeypatch.setattr(api.log, 'setup', lambda conf, project: None)
    monkeypatch.setattr(signal, 'signal', lambda *a: seen.setdefault('signal', a))
    conf = api.parse_config(['--config-file', config(tmp_path, auth_strategy=strategy,
                                                     api_threads=3)])
    with caplog.at_level(logging.INFO, logger='zaqar_swift.cmd.api'):
        api.serve(conf, app=object())
    assert seen['threads'] == 3 and seen['port'] == 0 and seen['host'] == '127.0.0.1'
    assert seen['max_request_body_size'] == 256 * 1024 + 1   # the largest legal body, + 1
    assert seen['signal'][0] == signal.SIGTERM
    assert server.ran and server.closed
    text = caplog.text
    assert 'http://127.0.0.1:4242/' in text and f'auth strategy {strategy}' in text
    assert any(r.levelno == logging.WARNING and 'noauth' in r.getMessage()
               for r in caplog.records) == warned


def _exchange(port, request):
    with socket.create_connection(('127.0.0.1', port), timeout=10) as sock:
        sock.sendall(request)
        data = b''
        while b'\r\n\r\n' not in data or not data.endswith(b'}'):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    return head.decode('latin-1'), json.loads(body)


@pytest.fixture
def small_server(tmp_path):
    """A real waitress server of the API command, largest body 2048 bytes."""
    conf = api.parse_config(['--config-file', config(tmp_path)])
    conf.set_override('max_messages_post_size', 2048, group='limits')
    conf.set_override('max_queue_metadata', 1024, group='limits')

    def app(environ, start_response):
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [environ['wsgi.input'].read()]

    server = api.create_server(conf, app)
    stop = threading.Event()

    def serve():   # server.run(), in steps, so the test can stop it between them
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.effective_port)
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_waitress_refuses_a_longer_body_unread_in_json(small_server):
    """Only the headers are sent: the 413 comes at once, as JSON."""
    head, doc = _exchange(small_server, b'POST /v2/queues/q/messages HTTP/1.1\r\nHost: x\r\n'
                                        b'Content-Length: 2049\r\n\r\n')
    assert head.startswith('HTTP/1.1 413 ')
    assert 'application/json' in head
    assert doc['title'] and '2048 bytes' in doc['description']


def test_waitress_serves_the_largest_legal_body(small_server):
    body = b'x' * 2048
    with socket.create_connection(('127.0.0.1', small_server), timeout=10) as sock:
        sock.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n'
                     b'Connection: close\r\n\r\n' + body)
        data = b''
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b'HTTP/1.1 200') and data.endswith(body)


def test_waitress_own_errors_are_json(small_server):
    head, doc = _exchange(small_server, b'POST / HTTP/1.1\r\nHost: x\r\n'
                                        b'Content-Length: x1\r\n\r\n')
    assert head.startswith('HTTP/1.1 400 ') and 'application/json' in head
    assert doc == {'title': 'Bad Request', 'description': 'Content-Length is invalid'}


def test_sigterm_handler_asks_waitress_to_stop():
    with pytest.raises(SystemExit) as info:
        api._stop(signal.SIGTERM, None)
    assert info.value.code == 0


def _lines(stream, sink):
    for line in stream:
        sink.put(line)


def _wait_ready(lines):
    """(host, port) from the start-up log line, within START_TIMEOUT."""
    deadline, seen = time.monotonic() + START_TIMEOUT, []
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            break
        found = READY.search(seen[-1])
        if found:
            return found.group(1), int(found.group(2)), seen
    raise AssertionError('API did not start within %ss:\n%s' % (START_TIMEOUT, ''.join(seen)))


def test_module_serves_and_exits_cleanly_on_sigterm(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen([sys.executable, '-m', 'zaqar_swift.cmd.api', '--config-file',
                             config(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    lines = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True)
    reader.start()
    try:
        host, port, seen = _wait_ready(lines)
        with urllib.request.urlopen(f'http://{host}:{port}/v2/ping', timeout=5) as resp:
            assert resp.status == 204
            assert resp.headers['x-openstack-request-id'].startswith('req-')
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=5)
    output = ''.join(seen)
    while not lines.empty():
        output += lines.get_nowait()
    assert 'WARNING' in output and 'noauth' in output
    assert 'GET /v2/ping 204' in output
    assert 'Zaqar v2 API stopped' in output
