"""A real HTTP receiver of webhook notifications for the tests.

``Receiver(behaviour)`` starts a small threaded HTTP server in a process of
its own (so nothing in the test process can slow it down) on a port the
kernel picks, and records every POST it accepts as a JSON line in a file:
arrival time (``time.time()``), body, headers. ``behaviour`` is one of

* ``{'status': 200}`` (the default) or any other status to answer;
* ``{'status': 200, 'fail_for': 30, 'fail_status': 500}``: answer
  ``fail_status`` for the first ``fail_for`` seconds, then ``status``;
* ``{'hang': True}``: never answer (a dead subscriber).

Only answers of 2xx count as received; every request counts as an attempt.
"""
from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any


class Receiver:
    def __init__(self, behaviour: dict[str, Any] | None = None) -> None:
        self.dir = tempfile.mkdtemp(prefix='receiver-')
        self.log = os.path.join(self.dir, 'log.jsonl')
        port_file = os.path.join(self.dir, 'port')
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'functional.receiver', self.dir,
             json.dumps(behaviour or {'status': 200})],
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError('the receiver did not start')
            time.sleep(0.05)
        self.port = int(open(port_file).read())
        self.started = time.time()

    @property
    def url(self) -> str:
        return 'http://127.0.0.1:%d/hook' % self.port

    def _lines(self) -> list[dict[str, Any]]:
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.endswith('\n')]

    @property
    def received(self) -> list[tuple[float, Any, dict[str, str]]]:
        return [(e['at'], e['body'], e['headers']) for e in self._lines() if e['ok']]

    @property
    def attempts(self) -> int:
        return len(self._lines())

    def bodies(self) -> list[Any]:
        return [body for _, body, _ in self.received]

    def numbers(self) -> list[int]:
        """The ``n`` of the bodies of the notifications received, in order."""
        return [b['body']['n'] for b in self.bodies() if b.get('Message_Type') == 'Notification']

    def close(self) -> None:
        self.process.kill()
        self.process.wait(10)


def _status(behaviour: dict[str, Any], started: float) -> int | None:
    if behaviour.get('hang'):
        return None
    if time.time() - started < behaviour.get('fail_for', 0):
        return behaviour.get('fail_status', 500)
    return behaviour.get('status', 200)


def main(workdir: str, behaviour: dict[str, Any]) -> None:
    started, lock = time.time(), threading.Lock()
    log = open(os.path.join(workdir, 'log.jsonl'), 'a')

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get('Content-Length') or 0))
            status = _status(behaviour, started)
            ok = status is not None and 200 <= status < 300
            entry = {'at': time.time(), 'ok': ok, 'headers': dict(self.headers),
                     'body': json.loads(data) if ok else None}
            with lock:
                log.write(json.dumps(entry) + '\n')
                log.flush()
            if status is None:
                time.sleep(3600)
                return
            self.send_response(status)
            self.send_header('Content-Length', '0')
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.daemon_threads = True
    with open(os.path.join(workdir, 'port.tmp'), 'w') as f:
        f.write(str(server.server_address[1]))
    os.rename(os.path.join(workdir, 'port.tmp'), os.path.join(workdir, 'port'))
    server.serve_forever()


if __name__ == '__main__':
    main(sys.argv[1], json.loads(sys.argv[2]))
