"""The API under a real multi-process WSGI server (gunicorn, from PyPI),
for tests and trials: ``zaqar_swift.wsgi:application`` with N worker
processes of T threads each, configured through ``ZAQAR_SWIFT_CONFIG_FILE``."""
from __future__ import annotations

import os
import sys

from zaqar_swift.testing import processes
from zaqar_swift.testing.api import LocalApi

APP = 'zaqar_swift.wsgi:application'


def gunicorn_command(port: int, workers: int, threads: int,
                     graceful_timeout: float = 30.0) -> list[str]:
    return [sys.executable, '-m', 'gunicorn', '--workers', str(workers),
            '--worker-class', 'gthread', '--threads', str(threads),
            '--bind', '127.0.0.1:%d' % port, '--graceful-timeout', '%g' % graceful_timeout,
            '--timeout', '120', *_no_control_socket(), APP]


def _no_control_socket() -> list[str]:
    """gunicorn 27 opens a control socket at one path per user
    (~/.gunicorn/gunicorn.ctl): servers started side by side must not share it."""
    from gunicorn import config
    names = {setting.name for setting in config.KNOWN_SETTINGS}
    return ['--no-control-socket'] if 'control_socket_disable' in names else []


class LocalGunicorn(LocalApi):
    """``LocalApi`` (start, ready probe, stop, log tail) under gunicorn."""

    def __init__(self, conf_path: str, log_path: str, port: int, workers: int = 4,
                 threads: int = 8, ready: tuple[str, int] = ('/v2/ping', 204)) -> None:
        super().__init__(conf_path, log_path, port, ready)
        self.workers = workers
        env = processes.python_env(ZAQAR_SWIFT_CONFIG_FILE=os.path.abspath(conf_path))
        self.process = processes.LocalProcess(
            'gunicorn', gunicorn_command(port, workers, threads), log_path,
            os.path.splitext(log_path)[0] + '.pid', marker=APP,
            cwd=os.path.dirname(os.path.abspath(conf_path)), env=env)

    def worker_pids(self) -> list[int]:
        """The pids of the master's worker processes."""
        master = self.process.pid()
        if master is None:
            return []
        try:
            with open('/proc/%d/task/%d/children' % (master, master)) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []
