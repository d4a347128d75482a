"""A real local Keystone, for the functional tests and for trying the API
with Keystone on one machine.

:class:`LocalKeystone` keeps everything in one data directory (sqlite
database, fernet and credential keys, config, log, pid file) and serves
Keystone's public API with waitress on 127.0.0.1 (see
:mod:`zaqar_swift.testing.keystone.launch`). Its helpers create, through
Keystone's own API, what a messaging deployment needs: projects, users with
roles, the ``service`` project with the ``zaqar`` and ``swift`` service
users, and catalog entries.

``python -m zaqar_swift.testing.keystone start`` runs Keystone, a
Keystone-backed local Swift and writes an API config that uses both (the
README's "Running against Keystone"); ``stop`` stops them.

Keystone comes from the ``keystone-test`` extra
(``pip install -e '.[saio,test,keystone-test]'``).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from zaqar_swift.testing.saio import local as saio
from zaqar_swift.testing.saio.config import KeystoneAuth

DOMAIN = 'Default'
REGION = 'RegionOne'
SERVICE_PROJECT = 'service'
# Roles the tests and the messaging deployment use; bootstrap makes admin,
# member and reader.
ROLES = ('member', 'admin', 'ResellerAdmin', 'service')
# The messaging service user: admin on its own account (layout shared),
# ResellerAdmin on every project account (layout per_project), service to
# validate users' tokens (Keystone's validate policy asks for it).
ZAQAR_ROLES = ('admin', 'ResellerAdmin', 'service')
# Swift's own auth_token user only validates tokens.
SWIFT_ROLES = ('admin', 'service')
STATE_FILE = 'keystone.json'
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# password_hash_rounds = 4 and the in-memory cache: a token in about 20 ms
# instead of 0.4 s. Tokens last a day, for manual trials.
KEYSTONE_CONF = """\
[DEFAULT]
log_file = {log}
use_stderr = false

[database]
connection = sqlite:///{db}

[identity]
password_hash_rounds = 4

[token]
provider = fernet
expiration = 86400

[fernet_tokens]
key_repository = {fernet}

[fernet_receipts]
key_repository = {fernet}

[credential]
key_repository = {credential}

[cache]
enabled = true
backend = dogpile.cache.memory
"""


@dataclasses.dataclass(frozen=True)
class Credentials:
    """A Keystone user scoped to one project (domain ``Default``)."""

    username: str
    password: str
    project_name: str
    user_id: str = ''
    project_id: str = ''
    domain_name: str = DOMAIN

    def auth_options(self, auth_url: str) -> dict[str, object]:
        """keystoneauth1 ``password`` options (oslo.config names), as in
        ``[keystone_authtoken]`` and the API's ``[swift]`` group."""
        return {'auth_type': 'password', 'auth_url': auth_url,
                'username': self.username, 'password': self.password,
                'project_name': self.project_name,
                'user_domain_name': self.domain_name,
                'project_domain_name': self.domain_name}


class LocalKeystone:
    """One local Keystone whose files all live in ``data_dir``, serving
    ``http://127.0.0.1:<port>/v3`` (public, internal and admin endpoints).

    ``python`` is the interpreter that has keystone installed (default: this
    one). ``start`` sets up the database on first use; the admin password is
    kept in the data dir so a later ``start`` or ``stop`` finds it.
    """

    def __init__(self, data_dir: str, port: int = 5000,
                 python: str | None = None) -> None:
        self.data_dir = os.path.abspath(data_dir)
        self.port = port
        self.python = python or sys.executable
        state = self._read_state()
        self._admin_password = state.get('admin_password') or secrets.token_urlsafe(12)
        self._process: subprocess.Popen | None = None
        self._client: Any = None

    # -- what clients need -------------------------------------------------

    @property
    def url(self) -> str:
        return 'http://127.0.0.1:%d' % self.port

    @property
    def auth_url(self) -> str:
        """The identity v3 URL (``--os-auth-url``, ``auth_url``)."""
        return self.url + '/v3'

    @property
    def admin(self) -> Credentials:
        """The bootstrap admin (role admin on project admin)."""
        return Credentials('admin', self._admin_password, 'admin')

    @property
    def conf_path(self) -> str:
        return os.path.join(self.data_dir, 'keystone.conf')

    @property
    def log_path(self) -> str:
        return os.path.join(self.data_dir, 'keystone.log')

    @property
    def pid_path(self) -> str:
        return os.path.join(self.data_dir, 'keystone.pid')

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        """Set up (first time) and serve Keystone; return once ``GET /v3``
        answers 200. Idempotent. RuntimeError with the log tail on failure."""
        deadline = time.monotonic() + timeout
        if self.pid() is not None:
            if self._read_state().get('port') == self.port:
                self._wait_ready(deadline)
                return
            self.stop()
        if not saio.port_is_free(self.port):
            raise RuntimeError('local Keystone cannot start: port %d is in use'
                               % self.port)
        try:
            self._setup(deadline)
            self._spawn()
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server of this data dir (also one another process started)."""
        pid = self.pid()
        if pid is not None:
            saio.signal_group(pid, signal.SIGTERM)
            if not self._wait_exit(pid, time.monotonic() + timeout):
                saio.signal_group(pid, signal.SIGKILL)
                self._wait_exit(pid, time.monotonic() + 2)
        self._process = None
        try:
            os.unlink(self.pid_path)
        except FileNotFoundError:
            pass

    def pid(self) -> int | None:
        """The server's pid, if it runs."""
        if self._process is not None:
            return self._process.pid if self._process.poll() is None else None
        try:
            with open(self.pid_path) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if not saio.pid_alive(pid) or not self._is_ours(pid):
            return None
        return pid

    def __enter__(self) -> 'LocalKeystone':
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _setup(self, deadline: float) -> None:
        """Write the config; create database and keys unless this data dir
        already has them for this port."""
        os.makedirs(self.data_dir, exist_ok=True)
        fernet, credential = (os.path.join(self.data_dir, d)
                              for d in ('fernet-keys', 'credential-keys'))
        db = os.path.join(self.data_dir, 'keystone.db')
        with open(self.conf_path, 'w') as f:
            f.write(KEYSTONE_CONF.format(log=self.log_path, db=db, fernet=fernet,
                                         credential=credential))
        state = self._read_state()
        if state.get('port') == self.port and os.path.exists(db):
            return
        if os.path.exists(db):   # set up for another port
            os.unlink(db)
        for path in (fernet, credential):
            os.makedirs(path, mode=0o700, exist_ok=True)
        env = self._env(OS_BOOTSTRAP_PASSWORD=self._admin_password)
        with open(self.log_path, 'ab') as log:
            try:
                done = subprocess.run(
                    self._launch('setup', self.conf_path, self.auth_url),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    cwd=self.data_dir, env=env,
                    timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise RuntimeError(self._failure('keystone-manage setup timed out'))
        if done.returncode != 0:
            raise RuntimeError(self._failure(
                'keystone-manage setup exited with %d' % done.returncode))
        self._write_state({'port': self.port,
                           'admin_password': self._admin_password})

    def _launch(self, *args: str) -> list[str]:
        return [self.python, '-m', 'zaqar_swift.testing.keystone.launch', *args]

    def _env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ, PYTHONUNBUFFERED='1', **extra)
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (_PACKAGE_PARENT, env.get('PYTHONPATH')) if p)
        return env

    def _spawn(self) -> None:
        with open(self.log_path, 'ab') as log:
            self._process = subprocess.Popen(
                self._launch('serve', self.conf_path, str(self.port)),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.data_dir, env=self._env(), start_new_session=True)
        with open(self.pid_path, 'w') as f:
            f.write('%d\n' % self._process.pid)

    def _wait_ready(self, deadline: float) -> None:
        last = 'no answer'
        while True:
            if self.pid() is None:
                raise RuntimeError(self._failure('the server exited'))
            try:
                with urllib.request.urlopen(self.auth_url, timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last = 'GET /v3 answered %d' % resp.status
            except (OSError, urllib.error.URLError) as exc:
                last = str(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(self._failure(
                    'GET %s did not answer 200 before the timeout (%s)'
                    % (self.auth_url, last)))
            time.sleep(0.2)

    def _wait_exit(self, pid: int, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if self._process is not None and self._process.pid == pid:
                if self._process.poll() is not None:
                    return True
            elif not saio.pid_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def _is_ours(self, pid: int) -> bool:
        """A pid is reused after its process exits: check the command line."""
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                return self.conf_path.encode() in f.read()
        except OSError:
            return True

    def _failure(self, reason: str, lines: int = 40) -> str:
        return ('local Keystone in %s failed to start: %s\n--- %s (last %d '
                'lines) ---\n%s' % (self.data_dir, reason, self.log_path, lines,
                                    saio.log_tail(self.log_path, lines)))

    def _read_state(self) -> dict:
        try:
            with open(os.path.join(self.data_dir, STATE_FILE)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _write_state(self, state: dict) -> None:
        with open(os.path.join(self.data_dir, STATE_FILE), 'w') as f:
            json.dump(state, f, indent=2)

    # -- tokens ------------------------------------------------------------

    def session(self, creds: Credentials) -> Any:
        """A keystoneauth1 session authenticated as ``creds``."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        auth = v3.Password(auth_url=self.auth_url, username=creds.username,
                           password=creds.password, project_name=creds.project_name,
                           user_domain_name=creds.domain_name,
                           project_domain_name=creds.domain_name)
        return session.Session(auth=auth)

    def token(self, creds: Credentials) -> str:
        """A new project-scoped token of ``creds``."""
        return self.session(creds).get_token()

    # -- identities and catalog (as the admin) -----------------------------

    def client(self) -> Any:
        """A python-keystoneclient v3 client acting as the admin."""
        if self._client is None:
            from keystoneclient.v3 import client

            self._client = client.Client(session=self.session(self.admin),
                                         interface='public')
        return self._client

    def ensure_role(self, name: str) -> str:
        """The id of role ``name``, created if missing."""
        ks = self.client()
        found = ks.roles.list(name=name)
        return found[0].id if found else ks.roles.create(name).id

    def project(self, name: str) -> str:
        """The id of project ``name`` (domain Default), created if missing."""
        ks = self.client()
        found = ks.projects.list(name=name, domain='default')
        if found:
            return found[0].id
        return ks.projects.create(name, 'default').id

    def user(self, name: str, project: str, roles: tuple[str, ...] = ('member',),
             password: str | None = None) -> Credentials:
        """User ``name`` with ``roles`` on ``project`` (both created if
        missing). Without ``password``, the one this data dir gave the user
        before, or a new one: asking twice does not invalidate the first
        answer's credentials."""
        ks = self.client()
        state = self._read_state()
        known = state.setdefault('passwords', {})
        password = password or known.get(name) or secrets.token_urlsafe(12)
        project_id = self.project(project)
        found = ks.users.list(name=name, domain='default')
        if not found:
            user = ks.users.create(name, domain='default', password=password,
                                   default_project=project_id)
        elif known.get(name) != password:
            user = ks.users.update(found[0].id, password=password)
            # A password change revokes the user's tokens issued up to the
            # same whole second (fernet timestamps): step past it.
            time.sleep(1.0)
        else:
            user = found[0]
        known[name] = password
        self._write_state(state)
        for role in roles:
            ks.roles.grant(self.ensure_role(role), user=user.id, project=project_id)
        return Credentials(name, password, project, user.id, project_id)

    def service_user(self, name: str = 'zaqar',
                     roles: tuple[str, ...] = ZAQAR_ROLES) -> Credentials:
        """A user of the ``service`` project (default: the messaging
        service's, with admin, ResellerAdmin and service)."""
        return self.user(name, SERVICE_PROJECT, roles)

    def swift_auth(self) -> KeystoneAuth:
        """What a Keystone-backed LocalSwift needs: a ``swift`` service user
        for its auth_token and a ``saio-probe`` member for its probe."""
        swift = self.service_user('swift', SWIFT_ROLES)
        probe = self.user('saio-probe', 'saio-probe', ('member',))
        return KeystoneAuth(
            auth_url=self.auth_url, username=swift.username,
            password=swift.password, project_name=swift.project_name,
            probe_username=probe.username, probe_password=probe.password,
            probe_project_name=probe.project_name)

    def set_endpoint(self, service_type: str, name: str, url: str,
                     interfaces: tuple[str, ...] = ('public', 'internal')) -> None:
        """Catalog: service ``name`` of ``service_type`` at ``url`` (which may
        hold ``%(project_id)s``) on each interface, replacing other URLs."""
        ks = self.client()
        found = ks.services.list(type=service_type)
        service = found[0] if found else ks.services.create(name, type=service_type)
        existing = {e.interface: e for e in ks.endpoints.list(service=service)}
        for interface in interfaces:
            endpoint = existing.get(interface)
            if endpoint is None:
                ks.endpoints.create(service, url, interface=interface, region=REGION)
            elif endpoint.url != url:
                ks.endpoints.update(endpoint, url=url)

    def api_options(self, service: Credentials) -> dict[str, dict[str, object]]:
        """The API's configuration groups for Keystone: tokens validated by
        auth_token as ``service``, and Swift reached as ``service`` through
        the catalog's public object-store endpoint."""
        return {
            'DEFAULT': {'auth_strategy': 'keystone'},
            'keystone_authtoken': dict(
                service.auth_options(self.auth_url),
                www_authenticate_uri=self.auth_url, interface='public',
                service_token_roles_required=True),
            'swift': dict(service.auth_options(self.auth_url), interface='public',
                          region_name=REGION),
        }


# -- command line: Keystone + a Keystone-backed Swift + an API config ----------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='python -m zaqar_swift.testing.keystone',
        description='Run a local Keystone and a Keystone-backed local Swift, '
                    'and write a zaqar-swift-api config that uses both.')
    parser.add_argument('command', choices=('start', 'stop'))
    parser.add_argument('--data-dir', default='.keystone',
                        help='Keystone files; Swift in DATA_DIR/swift '
                             '(default: %(default)s)')
    parser.add_argument('--port', type=int, default=5000, help='Keystone port')
    parser.add_argument('--swift-port', type=int, default=8090,
                        help='Swift proxy port; the next 4 for its servers')
    parser.add_argument('--api-port', type=int, default=8888,
                        help='port of the API (catalog and config)')
    parser.add_argument('--layout', choices=('shared', 'per_project'),
                        default='shared', help='[swift] layout of the API')
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    keystone = LocalKeystone(args.data_dir, args.port)
    swift_dir = os.path.join(keystone.data_dir, 'swift')
    if args.command == 'stop':
        saio.LocalSwift.from_data_dir(swift_dir).stop()
        keystone.stop()
        print('Keystone and Swift in %s stopped' % keystone.data_dir)
        return 0
    began = time.monotonic()
    try:
        keystone.start()
        swift = saio.LocalSwift(swift_dir, proxy_port=args.swift_port,
                                keystone=keystone.swift_auth())
        swift.start()
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    api_url = 'http://127.0.0.1:%d' % args.api_port
    keystone.set_endpoint('object-store', 'swift', swift.endpoint_template)
    keystone.set_endpoint('messaging', 'zaqar', api_url)
    zaqar = keystone.service_user()
    demo = keystone.user('demo', 'demo', ('member',), password='demo-password')
    extra = keystone.api_options(zaqar)
    extra['swift']['layout'] = args.layout
    conf = swift.write_api_conf(os.path.join(keystone.data_dir, 'zaqar-swift.conf'),
                                bind_port=args.api_port, extra=extra)
    _print_started(keystone, swift, conf, demo, time.monotonic() - began)
    return 0


def _print_started(keystone: LocalKeystone, swift: saio.LocalSwift, conf: str,
                   demo: Credentials, seconds: float) -> None:
    admin = keystone.admin
    print('Keystone and a Keystone-backed Swift run (%.1f s)' % seconds)
    print('  Keystone : %s   admin / %s (project admin)'
          % (keystone.auth_url, admin.password))
    print('  Swift    : http://127.0.0.1:%d/v1/AUTH_<project id>' % swift.proxy_port)
    print('  demo user: demo / %s (member of project demo)' % demo.password)
    print('  API conf : %s' % conf)
    print('Run the API:  zaqar-swift-api --config-file %s' % conf)
    print('Then:         openstack --os-auth-url %s --os-identity-api-version 3 '
          '--os-username demo --os-password %s --os-project-name demo '
          '--os-user-domain-name Default --os-project-domain-name Default '
          'messaging queue list' % (keystone.auth_url, demo.password))


if __name__ == '__main__':
    sys.exit(main())
