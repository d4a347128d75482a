"""A zaqar-swift-websocket process for tests and benchmarks: started against
a config file, ready when a ``ping`` action is answered, stopped by pid."""
from __future__ import annotations

import json
import os
import sys

import websocket

from zaqar_swift.testing import processes

COMMAND = 'import sys; from zaqar_swift.cmd.websocket import main; sys.exit(main())'


class LocalWebsocket:
    """One websocket server process on ``port`` (its config file sets
    ``[websocket] bind_port``). Its pid file is the log path with ``.pid``."""

    def __init__(self, conf_path: str, log_path: str, port: int) -> None:
        self.port = port
        self.url = 'ws://127.0.0.1:%d/' % port
        self.conf_path = conf_path
        self.log_path = log_path
        self.process = processes.LocalProcess(
            'zaqar-swift-websocket', [sys.executable, '-c', COMMAND,
                                      '--config-file', conf_path],
            log_path, os.path.splitext(log_path)[0] + '.pid', marker=conf_path,
            cwd=os.path.dirname(os.path.abspath(conf_path)))

    def start(self, timeout: float = 30.0) -> 'LocalWebsocket':
        """Start and wait until a ping is answered; StartError (with the log
        tail) when the process exits or does not answer in time."""
        self.process.start()
        try:
            processes.wait_ready([self.process], self._check, timeout,
                                 'zaqar-swift-websocket on port %d' % self.port, lines=40)
        except processes.StartError:
            self.stop()
            raise
        return self

    def _check(self) -> None:
        try:
            ws = websocket.create_connection(self.url, timeout=2)
        except OSError as exc:
            raise processes.NotReady(str(exc)) from None
        try:
            ws.send(json.dumps({'action': 'ping', 'headers': {}}))
            json.loads(ws.recv())
        finally:
            ws.close()

    def rss_bytes(self) -> int:
        pid = self.process.pid()
        return processes.rss_bytes(pid) if pid else 0

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines)

    def stop(self, timeout: float = 10.0) -> None:
        self.process.stop(timeout)
