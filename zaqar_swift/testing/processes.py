"""The one process manager of the local servers (Swift, Keystone, the API).

A :class:`LocalProcess` runs one server detached from its starter, in a
session of its own, its output appended to a log file and its pid written to
a pid file; so any process (another pytest, ``zaqar-swift-saio stop``) finds
it again, stops it by pid (SIGTERM to its session, then SIGKILL) or kills it
outright (SIGKILL, for fault tests). :func:`wait_ready` waits for readiness
with a bound and fails loudly, with the tail of every log.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Callable, Iterable, Mapping, Sequence

# The directory that holds the zaqar_swift package: servers that chdir
# elsewhere (Swift daemons chdir to /) must still import it.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
LOG_TAIL_LINES = 25


class StartError(RuntimeError):
    """A server did not start; the message holds why and its log tails."""


class NotReady(Exception):
    """Raised by a readiness check: the server does not serve yet."""


def python_env(**extra: str) -> dict[str, str]:
    """This environment plus ``extra``, unbuffered, this package importable."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', **extra)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (PACKAGE_PARENT, env.get('PYTHONPATH')) if p)
    return env


def python_command(module: str, *args: str) -> list[str]:
    """``python -m module args`` with this interpreter."""
    return [sys.executable, '-m', module, *args]


class LocalProcess:
    """One server process known by its pid file.

    ``marker`` is a string of its command line (a config path, a data
    directory): a pid is reused once its process exits, so a pid whose
    command line lacks the marker is not ours.
    """

    def __init__(self, name: str, command: Sequence[str], log_path: str,
                 pid_path: str, marker: str, cwd: str | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = log_path
        self.pid_path = pid_path
        self.marker = marker
        self.cwd = cwd
        self.env = dict(env) if env is not None else python_env()
        self._popen: subprocess.Popen | None = None

    def start(self) -> int:
        """Spawn the process (no readiness wait: see :func:`wait_ready`);
        return its pid."""
        for path in (self.log_path, self.pid_path):
            os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        with open(self.log_path, 'ab') as log:
            self._popen = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.cwd, env=self.env,
                start_new_session=True)
        with open(self.pid_path, 'w') as f:
            f.write('%d\n' % self._popen.pid)
        return self._popen.pid

    def pid(self) -> int | None:
        """The pid of this server if it runs (started here or elsewhere)."""
        pid = read_pid(self.pid_path)
        if pid is None:
            return None
        if self._popen is not None and self._popen.pid == pid:
            return pid if self._popen.poll() is None else None
        if not pid_alive(pid):
            return None
        cmdline = command_line(pid)
        if cmdline is not None and self.marker not in cmdline:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def status(self) -> dict[str, object]:
        """``{'pid': int | None, 'running': bool}``."""
        pid = self.pid()
        return {'pid': pid, 'running': pid is not None}

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to its session, SIGKILL after ``timeout``; forget it."""
        stop_all([self], timeout)

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL to its session at once (a crash, for fault tests)."""
        pid = self.pid()
        if pid is not None:
            signal_session(pid, signal.SIGKILL)
            self.wait_exit(pid, time.monotonic() + timeout)
        self.forget()

    def wait_exit(self, pid: int, deadline: float) -> bool:
        """Whether process ``pid`` exited (and was reaped) before ``deadline``."""
        while time.monotonic() < deadline:
            if self._popen is not None and self._popen.pid == pid:
                if self._popen.poll() is not None:
                    return True
            elif not pid_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def forget(self) -> None:
        """Drop the pid file (the process is gone)."""
        self._popen = None
        try:
            os.unlink(self.pid_path)
        except FileNotFoundError:
            pass

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return log_tail(self.log_path, lines)


def stop_all(processes: Iterable[LocalProcess], timeout: float = 10.0) -> None:
    """Stop several processes at once: SIGTERM to all, then wait for each
    until one shared deadline, then SIGKILL whoever is left."""
    processes = list(processes)
    live = [(p, p.pid()) for p in processes]
    live = [(p, pid) for p, pid in live if pid is not None]
    for _p, pid in live:
        signal_session(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p, pid in live:
        if not p.wait_exit(pid, deadline):
            signal_session(pid, signal.SIGKILL)
            p.wait_exit(pid, time.monotonic() + 5)
    for p in processes:
        p.forget()


def wait_ready(processes: Sequence[LocalProcess], check: Callable[[], object],
               timeout: float, what: str, interval: float = 0.1,
               lines: int = LOG_TAIL_LINES) -> None:
    """Return once ``check()`` returns without raising; ``check`` raises
    (:class:`NotReady`, a connection error, ...) while the server is not
    ready. StartError, with the tail of every log, when one of
    ``processes`` exits or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    last = 'not tried'
    while True:
        dead = [p.name for p in processes if not p.running()]
        if dead:
            raise StartError(failure_report(
                what, 'process(es) exited: %s' % ', '.join(dead), processes,
                lines))
        try:
            check()
            return
        except Exception as exc:   # whatever it is, it means "not yet"
            last = str(exc) or repr(exc)
        if time.monotonic() > deadline:
            raise StartError(failure_report(
                what, 'not ready after %.0f s; last check: %s' % (timeout, last),
                processes, lines))
        time.sleep(interval)


def failure_report(what: str, reason: str, processes: Iterable[LocalProcess],
                   lines: int = LOG_TAIL_LINES) -> str:
    """``what`` failed because ``reason``, then the tail of each log."""
    parts = ['%s failed to start: %s' % (what, reason)]
    for p in processes:
        tail = p.log_tail(lines)
        if tail:
            parts.append('--- %s (last %d lines) ---\n%s'
                         % (p.log_path, lines, tail))
    return '\n'.join(parts)


# -- pids ----------------------------------------------------------------------

def read_pid(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return True


def command_line(pid: int) -> str | None:
    """The command line of ``pid``, arguments joined by spaces."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return None


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` (0 if unknown)."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def signal_session(pid: int, sig: int) -> None:
    """Signal the session we started ``pid`` in (its pid is the group id)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def log_tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ('' if there is none)."""
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read().decode('utf-8', 'replace')
    except OSError:
        return ''
    return '\n'.join(data.splitlines()[-lines:])
