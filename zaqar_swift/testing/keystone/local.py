"""A real local Keystone, for the functional tests and for trying the API
with Keystone on one machine.

:class:`LocalKeystone` keeps everything in one data directory (sqlite
database, fernet and credential keys, config, log, pid file) and serves
Keystone's public API with waitress on 127.0.0.1 (see
:mod:`zaqar_swift.testing.keystone.launch`). Its helpers create, through
Keystone's own API, what a messaging deployment needs: projects, users with
roles, the ``service`` project with the ``zaqar`` and ``swift`` service
users, and catalog entries.

``python -m zaqar_swift.testing.keystone start`` (:mod:`.cli`) runs Keystone, a
Keystone-backed local Swift and writes an API config that uses both (the
README's "Running against Keystone"); ``stop`` stops them.

Keystone comes from the ``keystone-test`` extra
(``pip install -e '.[saio,test,keystone-test]'``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from typing import Any

from zaqar_swift.testing import processes
from zaqar_swift.testing.ports import port_is_free
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
        self.server = processes.LocalProcess(
            'keystone', self._launch('serve', self.conf_path, str(self.port)),
            self.log_path, self.pid_path, marker=self.conf_path, cwd=self.data_dir)
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
        answers 200. Idempotent. StartError (a RuntimeError) with the log
        tail on failure."""
        deadline = time.monotonic() + timeout
        if self.pid() is not None:
            if self._read_state().get('port') == self.port:
                self._wait_ready(deadline)
                return
            self.stop()
        if not port_is_free(self.port):
            raise RuntimeError('local Keystone cannot start: port %d is in use'
                               % self.port)
        try:
            self._setup(deadline)
            self.server.start()
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server of this data dir (also one another process started)."""
        self.server.stop(timeout)

    def pid(self) -> int | None:
        """The server's pid, if it runs."""
        return self.server.pid()

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
        env = processes.python_env(OS_BOOTSTRAP_PASSWORD=self._admin_password)
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

    def _wait_ready(self, deadline: float) -> None:
        processes.wait_ready([self.server], self._check, deadline - time.monotonic(),
                             self._what, interval=0.2, lines=40)

    def _check(self) -> None:
        with urllib.request.urlopen(self.auth_url, timeout=2) as resp:
            if resp.status != 200:
                raise processes.NotReady('GET %s answered %d' % (self.auth_url,
                                                                 resp.status))

    @property
    def _what(self) -> str:
        return 'local Keystone in %s' % self.data_dir

    def _failure(self, reason: str) -> str:
        return processes.failure_report(self._what, reason, [self.server], 40)

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
