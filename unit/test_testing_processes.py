"""The process manager every local server uses (real, tiny processes)."""
from __future__ import annotations

import os
import sys
import time

import pytest

from zaqar_swift.testing import processes

SLEEPER = 'import sys, time; print("up", flush=True); time.sleep(60)'
# Ignores SIGTERM: stop must fall back to SIGKILL.
STUBBORN = ('import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); '
            'print("up", flush=True); time.sleep(60)')


def local(tmp_path, code: str = SLEEPER, name: str = 'sleeper') -> processes.LocalProcess:
    marker = str(tmp_path)
    return processes.LocalProcess(
        name, [sys.executable, '-c', code, marker], str(tmp_path / 'log' / (name + '.log')),
        str(tmp_path / 'run' / (name + '.pid')), marker=marker, cwd=str(tmp_path))


def test_start_writes_pid_and_log_then_stop_removes_the_pid_file(tmp_path):
    proc = local(tmp_path)
    pid = proc.start()
    try:
        assert processes.read_pid(proc.pid_path) == pid
        assert os.getsid(pid) == pid, 'not in a session of its own'
        processes.wait_ready([proc], lambda: 'up' in proc.log_tail() or _not_ready(),
                             10, 'sleeper')
        assert proc.status() == {'pid': pid, 'running': True}
    finally:
        proc.stop()
    assert not processes.pid_alive(pid)
    assert not os.path.exists(proc.pid_path)
    assert proc.status() == {'pid': None, 'running': False}


def _not_ready() -> None:
    raise processes.NotReady('no "up" in the log yet')


def test_another_instance_finds_and_stops_it_through_the_pid_file(tmp_path):
    pid = local(tmp_path).start()
    other = local(tmp_path)
    assert other.pid() == pid
    other.stop()
    # The starter's child is a zombie until reaped; it does not count as running.
    assert not processes.pid_alive(pid)


def test_a_pid_file_of_someone_else_is_not_ours(tmp_path):
    proc = local(tmp_path)
    os.makedirs(os.path.dirname(proc.pid_path))
    with open(proc.pid_path, 'w') as f:
        f.write('%d\n' % os.getpid())   # this pytest: alive, but not a sleeper
    assert proc.pid() is None
    proc.stop()   # must not signal this process


def test_stop_kills_what_ignores_sigterm(tmp_path):
    proc = local(tmp_path, STUBBORN, 'stubborn')
    pid = proc.start()
    processes.wait_ready([proc], lambda: 'up' in proc.log_tail() or _not_ready(), 10,
                         'stubborn')
    began = time.monotonic()
    proc.stop(timeout=0.5)
    assert not processes.pid_alive(pid)
    assert 0.5 <= time.monotonic() - began < 10


def test_kill_is_immediate(tmp_path):
    proc = local(tmp_path, STUBBORN, 'stubborn')
    pid = proc.start()
    began = time.monotonic()
    proc.kill()
    assert not processes.pid_alive(pid)
    assert time.monotonic() - began < 5
    assert proc.pid() is None


def test_wait_ready_fails_with_the_log_tail_when_the_process_exits(tmp_path):
    proc = local(tmp_path, 'import sys; print("bad config line 3"); sys.exit(2)', 'dies')
    proc.start()
    with pytest.raises(processes.StartError) as exc:
        processes.wait_ready([proc], _not_ready, 10, 'the dying server')
    text = str(exc.value)
    assert 'the dying server failed to start: process(es) exited: dies' in text
    assert 'bad config line 3' in text and proc.log_path in text


def test_wait_ready_is_bounded_and_says_what_it_last_saw(tmp_path):
    proc = local(tmp_path)
    proc.start()
    try:
        began = time.monotonic()
        with pytest.raises(processes.StartError) as exc:
            processes.wait_ready([proc], _not_ready, 0.5, 'the slow server')
        assert time.monotonic() - began < 10
        assert 'not ready after 0 s; last check: no "up" in the log yet' in str(exc.value) \
            or 'not ready after 1 s' in str(exc.value)
    finally:
        proc.stop()


def test_stop_all_stops_several_at_once(tmp_path):
    procs = [local(tmp_path, STUBBORN, 'p%d' % i) for i in range(3)]
    pids = [p.start() for p in procs]
    for p in procs:   # SIGTERM is ignored from here on
        processes.wait_ready([p], lambda p=p: 'up' in p.log_tail() or _not_ready(), 20, p.name)
    began = time.monotonic()
    processes.stop_all(procs, timeout=2.0)
    # one shared deadline: about 2 s, not 3 x 2 s
    assert 2.0 <= time.monotonic() - began < 5.0
    assert not [pid for pid in pids if processes.pid_alive(pid)]


def test_log_tail_of_a_missing_file_is_empty(tmp_path):
    assert processes.log_tail(str(tmp_path / 'nothing.log')) == ''
    path = tmp_path / 'x.log'
    path.write_text(''.join('line %d\n' % i for i in range(100)))
    assert processes.log_tail(str(path), 2) == 'line 98\nline 99'
