"""A zaqar-swift-api process for tests and benchmarks: started against a
config file on a port, ready when a probe answers, stopped for sure."""
from __future__ import annotations

import subprocess
import sys
import time

import requests

from zaqar_swift.testing.saio.local import log_tail

API_COMMAND = 'import sys; from zaqar_swift.cmd.api import main; sys.exit(main())'


class LocalApi:
    """One API process. ``ready`` is the (path, status) that means serving:
    ``/v2/ping`` answers 204 in noauth mode, ``/healthcheck`` 200 with Keystone."""

    def __init__(self, conf_path: str, log_path: str, port: int,
                 ready: tuple[str, int] = ('/v2/ping', 204)) -> None:
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.conf_path = conf_path
        self.log_path = log_path
        self.ready = ready
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0, **popen: object) -> 'LocalApi':
        """Start and wait until ready; RuntimeError (with the log tail) if the
        process exits or is not ready in time. Extra Popen arguments pass on."""
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                [sys.executable, '-c', API_COMMAND, '--config-file', self.conf_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **popen)
        self._wait_ready(time.monotonic() + timeout)
        return self

    def _wait_ready(self, deadline: float) -> None:
        path, status = self.ready
        last = 'no answer'
        while True:
            if self.process.poll() is not None:
                self._fail('exited with status %d' % self.process.returncode)
            try:
                resp = requests.get(self.url + path, timeout=2)
                if resp.status_code == status:
                    return
                last = 'GET %s answered %d' % (path, resp.status_code)
            except requests.RequestException as exc:
                last = str(exc)
            if time.monotonic() > deadline:
                self.stop()
                self._fail('not ready after the timeout (%s)' % last)
            time.sleep(0.1)

    def _fail(self, reason: str) -> None:
        raise RuntimeError('zaqar-swift-api on port %d %s; config %s; last lines of '
                           '%s:\n%s' % (self.port, reason, self.conf_path,
                                        self.log_path, self.log_tail()))

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
