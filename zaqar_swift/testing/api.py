"""A zaqar-swift-api process for tests and benchmarks: started against a
config file on a port, ready when a probe answers, stopped (or killed) by pid."""
from __future__ import annotations

import os
import sys

import requests

from zaqar_swift.testing import processes

API_COMMAND = 'import sys; from zaqar_swift.cmd.api import main; sys.exit(main())'


class LocalApi:
    """One API process. ``ready`` is the (path, status) that means serving:
    ``/v2/ping`` answers 204 in noauth mode, ``/healthcheck`` 200 with
    Keystone. Its pid file is the log path with ``.pid`` for ``.log``."""

    def __init__(self, conf_path: str, log_path: str, port: int,
                 ready: tuple[str, int] = ('/v2/ping', 204)) -> None:
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.conf_path = conf_path
        self.log_path = log_path
        self.ready = ready
        self.process = processes.LocalProcess(
            'zaqar-swift-api', [sys.executable, '-c', API_COMMAND,
                                '--config-file', conf_path],
            log_path, os.path.splitext(log_path)[0] + '.pid', marker=conf_path,
            cwd=os.path.dirname(os.path.abspath(conf_path)))

    def start(self, timeout: float = 30.0) -> 'LocalApi':
        """Start and wait until ready; StartError (a RuntimeError, with the
        log tail) if the process exits or is not ready in time."""
        self.process.start()
        try:
            processes.wait_ready(
                [self.process], self._check, timeout,
                'zaqar-swift-api on port %d (config %s)' % (self.port, self.conf_path),
                lines=40)
        except processes.StartError:
            self.stop()
            raise
        return self

    def _check(self) -> None:
        path, status = self.ready
        resp = requests.get(self.url + path, timeout=2)
        if resp.status_code != status:
            raise processes.NotReady('GET %s answered %d' % (path, resp.status_code))

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``."""
        self.process.stop(timeout)

    def kill(self) -> None:
        """SIGKILL at once: a crash, requests in flight are cut off."""
        self.process.kill()
