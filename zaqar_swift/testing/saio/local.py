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

import dataclasses
import http.client
import json
import os
import shutil
import time
import urllib.parse

from zaqar_swift.testing import processes
from zaqar_swift.testing.ports import port_is_free
from zaqar_swift.testing.saio import config
from zaqar_swift.testing.saio.config import KeystoneAuth, Layout
from zaqar_swift.testing.saio.faults import FaultsClient

SWIFT_PROCESSES = ('account', 'container', 'object', 'proxy', 'expirer',
                   'updater')
_CONF_STEMS = {'account': 'account-server', 'container': 'container-server',
               'object': 'object-server', 'proxy': 'proxy-server',
               'expirer': 'object-expirer', 'updater': 'saio-updater'}


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
        self._processes: dict[str, processes.LocalProcess] = {}

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
    def faults(self) -> FaultsClient:
        """The fault-injection control of this proxy
        (:mod:`zaqar_swift.testing.saio.faults`)."""
        return FaultsClient('http://127.0.0.1:%d' % self.proxy_port)

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
            f.write(config.api_conf(self.api_swift_options(), bind_port, extra))
        return path

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Start every process and wait until a PUT/GET through tempauth works.

        Idempotent: a cluster that already runs is only checked. Raises
        StartError (a RuntimeError), with the tail of the logs, when it
        cannot start.
        """
        running = [n for n, info in self.status()['processes'].items()
                   if info['running']]
        if running and self._ports_changed():
            self.stop()
            running = []
        if len(running) == len(self.process_names()):
            self.wait_ready(timeout)
            self.write_api_conf()
            return
        if running:
            self.stop()
        if self.layout.memcached and not shutil.which('memcached'):
            raise RuntimeError('memcached=True but memcached is not on PATH')
        self._check_ports_free()
        config.write_all(self.layout)
        try:
            for name in self.process_names():
                self.process(name).start()
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self.write_api_conf()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every process of this data dir, also ones another process
        started (found through their pid files)."""
        processes.stop_all(
            [self.process(name) for name in self.process_names()], timeout)

    def status(self) -> dict:
        """``{'running': bool, 'auth_url', 'data_dir', 'processes': {name:
        {'pid': int | None, 'running': bool}}}``."""
        status = {name: self.process(name).status()
                  for name in self.process_names()}
        return {'running': all(p['running'] for p in status.values()),
                'auth_url': self.auth_url, 'data_dir': self.data_dir,
                'processes': status}

    def process(self, name: str) -> processes.LocalProcess:
        """One process of this cluster (``proxy``, ``object``, ...), e.g. to
        stop or kill it in a fault test and start it again (then call
        :meth:`wait_ready`)."""
        if name not in self._processes:
            self._processes[name] = processes.LocalProcess(
                name, self._command(name), self.log_path(name),
                self.layout.pid_path(name), marker=self.data_dir,
                cwd=self.data_dir)
        return self._processes[name]

    def rss_bytes(self) -> int:
        """Resident memory of all running processes of this cluster."""
        total = 0
        for info in self.status()['processes'].values():
            if info['pid']:
                total += processes.rss_bytes(info['pid'])
        return total

    def __enter__(self) -> 'LocalSwift':
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _command(self, name: str) -> list[str]:
        if name == 'memcached':
            cmd = ['memcached', '-l', '127.0.0.1',
                   '-p', str(self.layout.memcached_port), '-U', '0',
                   '-m', '64', '-t', '1',
                   '-P', self.layout.pid_path('memcached') + '.own']
            if os.geteuid() == 0:
                cmd += ['-u', 'root']
            return cmd
        return processes.python_command(
            'zaqar_swift.testing.saio.launch', name, self.layout.etc_dir,
            self.layout.conf_path(_CONF_STEMS[name]), self.log_path(name))

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

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until every process runs and a PUT/GET works; StartError
        with the tail of every log when a process exits or time runs out."""
        processes.wait_ready(
            [self.process(name) for name in self.process_names()], self.probe,
            timeout, 'local Swift in %s' % self.data_dir)

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
