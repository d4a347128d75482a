"""A real local Swift All-In-One, for development and tests.

``zaqar-swift-saio start|stop|status [--data-dir .saio]`` on the command
line; :class:`LocalSwift` from Python. Each Swift process (account,
container, object and proxy servers, the object-expirer, a fast updater and,
when it is on PATH, memcached) runs detached from its starter, in its own
session, with a pid file and a log file in the data directory; so ``stop``
and ``status`` work from any process. Nothing is written outside the data
directory: see :mod:`zaqar_swift.testing.saio.launch` for how Swift is kept away
from ``/etc/swift``.
"""
from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

from zaqar_swift.testing.saio import config
from zaqar_swift.testing.saio.config import KeystoneAuth, Layout

SWIFT_PROCESSES = ('account', 'container', 'object', 'proxy', 'expirer',
                   'updater')
_CONF_STEMS = {'account': 'account-server', 'container': 'container-server',
               'object': 'object-server', 'proxy': 'proxy-server',
               'expirer': 'object-expirer', 'updater': 'saio-updater'}
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


class LocalSwift:
    """One local Swift cluster whose files all live in ``data_dir``.

    ``base_port`` (default ``proxy_port + 1``) and the next three ports are
    the account, container and object servers and memcached. ``memcached``
    None means "if memcached is on PATH"; without it the proxy keeps its
    cache in its own process (:mod:`zaqar_swift.testing.saio.cache`). ``keystone``
    puts Keystone's auth_token and keystoneauth in tempauth's place (see
    :class:`~zaqar_swift.testing.saio.config.KeystoneAuth`; accounts are then
    ``AUTH_<project id>``, and ``user``/``key`` are not served).
    """

    policies: dict[str, int] = {
        name: replicas for name, (_i, replicas) in
        config.POLICIES.items()}
    default_policy: str = config.DEFAULT_POLICY

    def __init__(self, data_dir: str, proxy_port: int = 8080,
                 base_port: int | None = None,
                 memcached: bool | None = None,
                 keystone: KeystoneAuth | None = None) -> None:
        data_dir = os.path.abspath(data_dir)
        if memcached is None:
            memcached = shutil.which('memcached') is not None
        key = config.read_state(data_dir).get('key') or config.new_key()
        self.layout = Layout(
            data_dir=data_dir, proxy_port=proxy_port,
            base_port=proxy_port + 1 if base_port is None else base_port,
            memcached=memcached, key=key, keystone=keystone)
        self._children: dict[str, subprocess.Popen] = {}

    @classmethod
    def from_data_dir(cls, data_dir: str, **overrides) -> 'LocalSwift':
        """The instance last started in ``data_dir`` (same ports), if any."""
        state = config.read_state(os.path.abspath(data_dir))
        kwargs = {k: state[k] for k in ('proxy_port', 'base_port')
                  if k in state}
        kwargs.update((k, v) for k, v in overrides.items() if v is not None)
        return cls(data_dir, **kwargs)

    # -- what clients need -------------------------------------------------

    @property
    def data_dir(self) -> str:
        return self.layout.data_dir

    @property
    def proxy_port(self) -> int:
        return self.layout.proxy_port

    @property
    def auth_url(self) -> str:
        """Where clients authenticate: tempauth's v1 URL, or Keystone's."""
        if self.layout.keystone is not None:
            return self.layout.keystone.auth_url
        return 'http://127.0.0.1:%d/auth/v1.0' % self.layout.proxy_port

    @property
    def endpoint_template(self) -> str:
        """The object-store catalog URL of this proxy, for Keystone."""
        return 'http://127.0.0.1:%d/v1/AUTH_%%(project_id)s' % self.proxy_port

    @property
    def user(self) -> str:
        return '%s:%s' % config.ACCOUNT_USER

    @property
    def key(self) -> str:
        return self.layout.key

    @property
    def storage_url(self) -> str:
        return 'http://127.0.0.1:%d/v1/AUTH_%s' % (
            self.layout.proxy_port, config.ACCOUNT_USER[0])

    @property
    def swift_dir(self) -> str:
        """Directory of swift.conf and the rings (for Swift's own tools)."""
        return self.layout.etc_dir

    @property
    def devices_dir(self) -> str:
        return self.layout.devices_dir

    @property
    def api_conf_path(self) -> str:
        return os.path.join(self.data_dir, 'zaqar-swift.conf')

    def process_names(self) -> tuple[str, ...]:
        # A memcached started earlier counts too, so that stop finds it.
        memcached = self.layout.memcached or os.path.exists(
            self.layout.pid_path('memcached'))
        return (('memcached',) if memcached else ()) + SWIFT_PROCESSES

    def log_path(self, name: str) -> str:
        return self.layout.log_path(name)

    def api_swift_options(self) -> dict[str, object]:
        """The API's ``[swift]`` group: the tempauth account; with Keystone
        none (the caller adds its service user's keystoneauth1 options)."""
        if self.layout.keystone is not None:
            return {}
        return config.v1_swift_options(self.auth_url, self.user, self.key)

    def write_api_conf(self, path: str | None = None, bind_port: int = 8888,
                       extra: dict[str, dict[str, object]] | None = None
                       ) -> str:
        """Write an oslo.config file for zaqar-swift-api; return its path."""
        path = path or self.api_conf_path
        with open(path, 'w') as f:
            f.write(config.api_conf(self.api_swift_options(), bind_port,
                                         extra))
        return path

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Start every process and wait until a PUT/GET through tempauth works.

        Idempotent: a cluster that already runs is only checked. Raises
        RuntimeError, with the tail of the logs, when it cannot start.
        """
        running = [n for n, info in self.status()['processes'].items()
                   if info['running']]
        if running and self._ports_changed():
            self.stop()
            running = []
        if len(running) == len(self.process_names()):
            self._wait_ready(time.monotonic() + timeout)
            self.write_api_conf()
            return
        if running:
            self.stop()
        if self.layout.memcached and not shutil.which('memcached'):
            raise RuntimeError('memcached=True but memcached is not on PATH')
        self._check_ports_free()
        config.write_all(self.layout)
        deadline = time.monotonic() + timeout
        try:
            for name in self.process_names():
                self._spawn(name)
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise
        self.write_api_conf()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every process of this data dir, also ones another process
        started (found through their pid files)."""
        pids = {name: self._live_pid(name) for name in self.process_names()}
        for pid in pids.values():
            if pid:
                signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, pid in pids.items():
            if pid and not self._wait_exit(name, pid, deadline):
                signal_group(pid, signal.SIGKILL)
                self._wait_exit(name, pid, time.monotonic() + 2)
        for name in self.process_names():
            self._children.pop(name, None)
            _remove(self.layout.pid_path(name))

    def status(self) -> dict:
        """``{'running': bool, 'auth_url', 'data_dir', 'processes': {name:
        {'pid': int | None, 'running': bool}}}``."""
        processes = {}
        for name in self.process_names():
            pid = self._live_pid(name)
            processes[name] = {'pid': pid, 'running': pid is not None}
        return {'running': all(p['running'] for p in processes.values()),
                'auth_url': self.auth_url, 'data_dir': self.data_dir,
                'processes': processes}

    def rss_bytes(self) -> int:
        """Resident memory of all running processes of this cluster."""
        total = 0
        for info in self.status()['processes'].values():
            if info['pid']:
                total += _rss_bytes(info['pid'])
        return total

    def __enter__(self) -> 'LocalSwift':
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- processes ---------------------------------------------------------

    def _command(self, name: str) -> list[str]:
        if name == 'memcached':
            cmd = ['memcached', '-l', '127.0.0.1',
                   '-p', str(self.layout.memcached_port), '-U', '0',
                   '-m', '64', '-t', '1',
                   '-P', self.layout.pid_path('memcached') + '.own']
            if os.geteuid() == 0:
                cmd += ['-u', 'root']
            return cmd
        return [sys.executable, '-m', 'zaqar_swift.testing.saio.launch', name,
                self.layout.etc_dir, self.layout.conf_path(_CONF_STEMS[name]),
                self.log_path(name)]

    def _spawn(self, name: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        # Swift daemons chdir to /: make this package importable from there.
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (_PACKAGE_PARENT, env.get('PYTHONPATH')) if p)
        with open(self.log_path(name), 'ab') as log:
            proc = subprocess.Popen(
                self._command(name), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.data_dir, env=env,
                start_new_session=True)
        self._children[name] = proc
        with open(self.layout.pid_path(name), 'w') as f:
            f.write('%d\n' % proc.pid)

    def _live_pid(self, name: str) -> int | None:
        """The pid of process ``name`` of this data dir, if it runs."""
        try:
            with open(self.layout.pid_path(name)) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        child = self._children.get(name)
        if child is not None and child.pid == pid:
            return pid if child.poll() is None else None
        if not pid_alive(pid):
            return None
        # A pid is reused after its process exits: check it is ours.
        cmdline = _cmdline(pid)
        if cmdline is not None and self.data_dir not in cmdline:
            return None
        return pid

    def _wait_exit(self, name: str, pid: int, deadline: float) -> bool:
        child = self._children.get(name)
        while time.monotonic() < deadline:
            if child is not None and child.pid == pid:
                if child.poll() is not None:
                    return True
            elif not pid_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def _ports_changed(self) -> bool:
        """Whether the running processes were started otherwise."""
        state = config.read_state(self.data_dir)
        current = dataclasses.asdict(self.layout)
        return any(state.get(k) != current[k]
                   for k in ('proxy_port', 'base_port', 'memcached',
                             'keystone'))

    def _check_ports_free(self) -> None:
        for port in self.layout.ports():
            if not port_is_free(port):
                raise RuntimeError(
                    'local Swift cannot start: port %d is in use (choose '
                    'other ports with --proxy-port/--base-port)' % port)

    # -- readiness ---------------------------------------------------------

    def _wait_ready(self, deadline: float) -> None:
        error = 'not tried'
        while True:
            dead = [n for n, i in self.status()['processes'].items()
                    if not i['running']]
            if dead:
                raise RuntimeError(self._failure(
                    'process(es) exited: %s' % ', '.join(dead)))
            try:
                self.probe()
                return
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                error = str(exc) or repr(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(self._failure(
                    'no working PUT/GET before the timeout; last error: %s'
                    % error))
            time.sleep(0.1)

    def probe(self) -> None:
        """Authenticate, PUT and GET back a small object; raise on failure.

        Uses a user of its own account (tempauth's probe user, or the
        Keystone probe user), so the messaging account never sees the probe
        container.
        """
        if self.layout.keystone is not None:
            token, storage_url = _authenticate_keystone(
                self.layout.keystone, self.proxy_port)
        else:
            token, storage_url = _authenticate(
                self.auth_url, '%s:%s' % config.PROBE_USER, self.key)
        container = storage_url + '/saio-probe'
        body = b'probe %f' % time.time()
        _request('PUT', container, token, expect=(201, 202))
        _request('PUT', container + '/probe', token, body, expect=(201,))
        got = _request('GET', container + '/probe', token, expect=(200,))
        if got != body:
            raise RuntimeError('probe object came back different')

    def _failure(self, reason: str, lines: int = 25) -> str:
        parts = ['local Swift in %s failed to start: %s' % (self.data_dir,
                                                            reason)]
        for name in self.process_names():
            tail = log_tail(self.log_path(name), lines)
            if tail:
                parts.append('--- %s (last %d lines) ---\n%s'
                             % (self.log_path(name), lines, tail))
        return '\n'.join(parts)


# -- helpers -----------------------------------------------------------------

def _authenticate(auth_url: str, user: str, key: str) -> tuple[str, str]:
    conn, path = _connect(auth_url)
    try:
        conn.request('GET', path, headers={'X-Auth-User': user,
                                           'X-Auth-Key': key})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    if resp.status // 100 != 2:
        raise RuntimeError('auth returned %d' % resp.status)
    return resp.getheader('X-Auth-Token'), resp.getheader('X-Storage-Url')


def _authenticate_keystone(auth: KeystoneAuth, proxy_port: int
                           ) -> tuple[str, str]:
    """A token of the probe user and the URL of its project's account."""
    conn, path = _connect(auth.auth_url.rstrip('/') + '/auth/tokens')
    body = json.dumps({'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': auth.probe_username, 'password': auth.probe_password,
            'domain': {'name': auth.user_domain_name}}}},
        'scope': {'project': {'name': auth.probe_project_name,
                              'domain': {'name': auth.project_domain_name}}}}})
    try:
        conn.request('POST', path, body=body,
                     headers={'Content-Type': 'application/json'})
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status != 201:
        raise RuntimeError('Keystone auth returned %d' % resp.status)
    project_id = json.loads(data)['token']['project']['id']
    return (resp.getheader('X-Subject-Token'),
            'http://127.0.0.1:%d/v1/AUTH_%s' % (proxy_port, project_id))


def _request(method: str, url: str, token: str, body: bytes | None = None,
             expect: tuple[int, ...] = (200,)) -> bytes:
    conn, path = _connect(url)
    try:
        conn.request(method, path, body=body, headers={'X-Auth-Token': token})
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status not in expect:
        raise RuntimeError('%s %s returned %d' % (method, path, resp.status))
    return data


def _connect(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    return conn, parts.path + ('?' + parts.query if parts.query else '')


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is gone for our purposes.
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return True


def _cmdline(pid: int) -> str | None:
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return None


def _rss_bytes(pid: int) -> int:
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def signal_group(pid: int, sig: int) -> None:
    """Signal the session we started the process in (its pid is the pgid)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def log_tail(path: str, lines: int = 25) -> str:
    """The last ``lines`` lines of a log file ('' if there is none)."""
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read().decode('utf-8', 'replace')
    except OSError:
        return ''
    return '\n'.join(data.splitlines()[-lines:])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def free_port_block(count: int, low: int = 20000, high: int = 32000) -> int:
    """First of ``count`` consecutive free ports in [low, high).

    Below 32768: ports of the ephemeral range get taken by outgoing
    connections between our check and the server's bind.
    """
    for _attempt in range(200):
        base = random.randrange(low, high - count)
        if all(port_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError('no %d consecutive free ports in [%d, %d)'
                       % (count, low, high))


# -- command line ------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='zaqar-swift-saio',
        description='Run a local Swift All-In-One for zaqar-swift.')
    parser.add_argument('command', choices=('start', 'stop', 'status'))
    parser.add_argument('--data-dir', default='.saio',
                        help='where configs, rings, data, logs and pid files '
                             'live (default: %(default)s)')
    parser.add_argument('--proxy-port', type=int,
                        help='proxy port (default: the last one used in this '
                             'data dir, else 8080)')
    parser.add_argument('--base-port', type=int,
                        help='first of 4 ports for account, container, object '
                             'servers and memcached (default: proxy port + 1)')
    parser.add_argument('--memcached', action=argparse.BooleanOptionalAction,
                        default=None,
                        help='run memcached (default: if it is on PATH)')
    parser.add_argument('--api-port', type=int, default=8888,
                        help='bind_port written to zaqar-swift.conf')
    parser.add_argument('--timeout', type=float, default=60.0,
                        help='seconds to wait for Swift to work')
    parser.add_argument('--foreground', action='store_true',
                        help='stay attached; Ctrl-C stops Swift')
    parser.add_argument('--json', action='store_true',
                        help='status as JSON')
    return parser


def _print_started(swift: LocalSwift, seconds: float) -> None:
    policies = ', '.join(
        '%s (%d replica%s%s)' % (
            name, n, '' if n == 1 else 's',
            ', default' if name == swift.default_policy else '')
        for name, n in swift.policies.items())
    print('Local Swift runs in %.1f s (data, logs: %s)'
          % (seconds, swift.data_dir))
    print('  auth URL : %s' % swift.auth_url)
    print('  user     : %s' % swift.user)
    print('  key      : %s' % swift.key)
    print('  policies : %s' % policies)
    print('  API conf : %s' % swift.api_conf_path)
    print('  try      : swift -A %s -U %s -K %s stat'
          % (swift.auth_url, swift.user, swift.key))
    sys.stdout.flush()


def _run_foreground(swift: LocalSwift) -> int:
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stop.append(signum))
    code = 0
    while not stop:
        time.sleep(0.5)
        dead = [n for n, i in swift.status()['processes'].items()
                if not i['running']]
        if dead:
            print('process(es) exited: %s; stopping' % ', '.join(dead),
                  file=sys.stderr)
            code = 1
            break
    swift.stop()
    print('Local Swift stopped')
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    swift = LocalSwift.from_data_dir(
        args.data_dir, proxy_port=args.proxy_port, base_port=args.base_port,
        memcached=args.memcached)
    if args.command == 'stop':
        swift.stop()
        print('Local Swift in %s stopped' % swift.data_dir)
        return 0
    if args.command == 'status':
        return _print_status(swift, args.json)
    began = time.monotonic()
    try:
        swift.start(timeout=args.timeout)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    swift.write_api_conf(bind_port=args.api_port)
    _print_started(swift, time.monotonic() - began)
    return _run_foreground(swift) if args.foreground else 0


def _print_status(swift: LocalSwift, as_json: bool) -> int:
    status = swift.status()
    if as_json:
        print(json.dumps(status, indent=2))
    else:
        for name, info in status['processes'].items():
            print('%-10s %s' % (name, 'running, pid %d' % info['pid']
                                if info['running'] else 'stopped'))
        print('auth URL: %s' % status['auth_url'])
    return 0 if status['running'] else 3


if __name__ == '__main__':
    sys.exit(main())
