"""Configuration files and rings of a local Swift All-In-One.

Everything lives under one data directory::

    saio.json           ports and key, so stop/status/start find them again
    etc/                swift_dir: swift.conf, rings, one .conf per process
    srv/d1 .. srv/d4    the four devices
    log/NAME.log        one log per process
    run/NAME.pid        one pid file per process
    zaqar-swift.conf    oslo.config file for zaqar-swift-api

Storage policies: ``gold`` (policy 0, the default, 3 replicas) and ``single``
(policy 1, 1 replica); account and container rings have 3 replicas. All four
devices are served by one server of each kind.
"""
from __future__ import annotations

import dataclasses
import getpass
import json
import os
import secrets

PART_POWER = 7
DEVICES = ('d1', 'd2', 'd3', 'd4')
HASH_PATH = 'zaqar-swift-saio'
# name -> (policy index, replicas); the first one is the default.
POLICIES = {'gold': (0, 3), 'single': (1, 1)}
DEFAULT_POLICY = 'gold'
ACCOUNT_USER = ('messaging', 'zaqar')   # tempauth .admin .reseller_admin
PROBE_USER = ('saio', 'probe')          # readiness checks, its own account
STATE_FILE = 'saio.json'
PROXY_PIPELINE = (
    'catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache',
    'listing_formats', 'bulk', 'tempauth', 'copy', 'slo', 'dlo', 'faults',
    'proxy-logging', 'proxy-server')
# Keystone instead of tempauth: auth_token validates, keystoneauth authorizes.
KEYSTONE_AUTH_FILTERS = ('authtoken', 'keystoneauth')
# Roles keystoneauth grants: an operator owns its project's account; a
# reseller admin (the messaging service, layout per_project) reaches any.
OPERATOR_ROLES = ('admin', 'member')
RESELLER_ADMIN_ROLE = 'ResellerAdmin'


@dataclasses.dataclass(frozen=True)
class KeystoneAuth:
    """What a Keystone-backed local Swift needs: the identity URL, the
    service user auth_token validates tokens with, and a user (an operator
    of its own project) whose account the readiness probe writes."""

    auth_url: str
    username: str
    password: str
    project_name: str
    probe_username: str
    probe_password: str
    probe_project_name: str
    user_domain_name: str = 'Default'
    project_domain_name: str = 'Default'


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where a local Swift keeps its files and which ports it listens on."""

    data_dir: str
    proxy_port: int
    base_port: int
    memcached: bool
    key: str
    keystone: KeystoneAuth | None = None   # None: tempauth

    @property
    def account_port(self) -> int:
        return self.base_port

    @property
    def container_port(self) -> int:
        return self.base_port + 1

    @property
    def object_port(self) -> int:
        return self.base_port + 2

    @property
    def memcached_port(self) -> int:
        return self.base_port + 3

    @property
    def etc_dir(self) -> str:
        return os.path.join(self.data_dir, 'etc')

    @property
    def devices_dir(self) -> str:
        return os.path.join(self.data_dir, 'srv')

    @property
    def log_dir(self) -> str:
        return os.path.join(self.data_dir, 'log')

    @property
    def run_dir(self) -> str:
        return os.path.join(self.data_dir, 'run')

    def ports(self) -> list[int]:
        ports = [self.proxy_port, self.account_port, self.container_port,
                 self.object_port]
        return ports + [self.memcached_port] if self.memcached else ports

    def conf_path(self, name: str) -> str:
        return os.path.join(self.etc_dir, '%s.conf' % name)

    def log_path(self, name: str) -> str:
        return os.path.join(self.log_dir, '%s.log' % name)

    def pid_path(self, name: str) -> str:
        return os.path.join(self.run_dir, '%s.pid' % name)


def read_state(data_dir: str) -> dict:
    """What the last ``write_all`` recorded in ``data_dir`` ({} if nothing)."""
    try:
        with open(os.path.join(data_dir, STATE_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def new_key() -> str:
    return secrets.token_urlsafe(12)


def write_all(layout: Layout) -> None:
    """Create directories, swift.conf, server configs and (if needed) rings."""
    for path in (layout.etc_dir, layout.log_dir, layout.run_dir):
        os.makedirs(path, exist_ok=True)
    for device in DEVICES:
        os.makedirs(os.path.join(layout.devices_dir, device), exist_ok=True)
    files = {'swift.conf': swift_conf()}
    files.update((name + '.conf', text) for name, text in
                 server_confs(layout).items())
    for name, text in files.items():
        _write(os.path.join(layout.etc_dir, name), text)
    state = dataclasses.asdict(layout)
    if read_state(layout.data_dir).get('ring_ports') != _ring_ports(layout) \
            or not _rings_exist(layout):
        build_rings(layout)
    state['ring_ports'] = _ring_ports(layout)
    _write(os.path.join(layout.data_dir, STATE_FILE),
           json.dumps(state, indent=2) + '\n')


def _write(path: str, text: str) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def _ring_ports(layout: Layout) -> list[int]:
    return [layout.account_port, layout.container_port, layout.object_port]


def ring_names() -> dict[str, int]:
    """Ring file stem -> replica count."""
    rings = {'account': 3, 'container': 3}
    for index, replicas in POLICIES.values():
        rings['object' if index == 0 else 'object-%d' % index] = replicas
    return rings


def _rings_exist(layout: Layout) -> bool:
    return all(os.path.exists(os.path.join(layout.etc_dir, name + '.ring.gz'))
               for name in ring_names())


def build_rings(layout: Layout) -> None:
    """Build every ring over the four devices, reproducibly (fixed seed)."""
    from swift.common.ring import RingBuilder

    ports = {'account': layout.account_port,
             'container': layout.container_port}
    for name, replicas in ring_names().items():
        builder = RingBuilder(PART_POWER, replicas, 1)
        for i, device in enumerate(DEVICES):
            builder.add_dev({
                'id': i, 'region': 1, 'zone': i + 1, 'ip': '127.0.0.1',
                'port': ports.get(name, layout.object_port),
                'device': device, 'weight': 100, 'meta': ''})
        builder.rebalance(seed=1)
        builder.get_ring().save(
            os.path.join(layout.etc_dir, name + '.ring.gz'))


def swift_conf() -> str:
    lines = ['[swift-hash]',
             'swift_hash_path_suffix = %s' % HASH_PATH,
             'swift_hash_path_prefix = %s' % HASH_PATH, '']
    for name, (index, _replicas) in POLICIES.items():
        lines += ['[storage-policy:%d]' % index, 'name = %s' % name,
                  'policy_type = replication']
        if name == DEFAULT_POLICY:
            lines.append('default = yes')
        lines.append('')
    return '\n'.join(lines)


def _default_section(layout: Layout, name: str, port: int | None,
                     log_level: str = 'INFO') -> str:
    lines = [
        '[DEFAULT]',
        'user = %s' % getpass.getuser(),
        'swift_dir = %s' % layout.etc_dir,
        'devices = %s' % layout.devices_dir,
        'mount_check = false',
        'disable_fallocate = true',
        'fallocate_reserve = 0',
        'workers = 0',
        'recon_cache_path = %s' % layout.run_dir,
        'log_name = %s' % name,
        'log_level = %s' % log_level,
    ]
    if port is not None:
        lines += ['bind_ip = 127.0.0.1', 'bind_port = %d' % port]
    return '\n'.join(lines) + '\n'


def _backend_conf(layout: Layout, kind: str, port: int) -> str:
    return _default_section(layout, kind, port) + f"""
[pipeline:main]
pipeline = healthcheck {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}
# the proxy logs every request already
log_requests = false

[filter:healthcheck]
use = egg:swift#healthcheck
"""


def _cache_filter(layout: Layout) -> str:
    if layout.memcached:
        return ('use = egg:swift#memcache\n'
                'memcache_servers = 127.0.0.1:%d\n'
                'memcache_max_connections = 8\n' % layout.memcached_port)
    return 'paste.filter_factory = zaqar_swift.testing.saio.cache:filter_factory\n'


def proxy_pipeline(layout: Layout) -> tuple[str, ...]:
    """The proxy's pipeline: tempauth, or Keystone's filters in its place."""
    if layout.keystone is None:
        return PROXY_PIPELINE
    at = PROXY_PIPELINE.index('tempauth')
    return PROXY_PIPELINE[:at] + KEYSTONE_AUTH_FILTERS + PROXY_PIPELINE[at + 1:]


def _keystone_filters(auth: KeystoneAuth) -> str:
    # interface = public: auth_token defaults to the internal identity
    # endpoint; delay_auth_decision lets keystoneauth answer 401 with
    # Swift's own body and leaves requests without a token to it.
    return f"""
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = {auth.auth_url}
auth_url = {auth.auth_url}
auth_type = password
username = {auth.username}
password = {auth.password}
project_name = {auth.project_name}
user_domain_name = {auth.user_domain_name}
project_domain_name = {auth.project_domain_name}
interface = public
delay_auth_decision = true
include_service_catalog = false

[filter:keystoneauth]
use = egg:swift#keystoneauth
reseller_prefix = AUTH_
operator_roles = {', '.join(OPERATOR_ROLES)}
reseller_admin_role = {RESELLER_ADMIN_ROLE}
"""


def _tempauth_filter(layout: Layout) -> str:
    account, user = ACCOUNT_USER
    probe_account, probe_user = PROBE_USER
    return f"""
[filter:tempauth]
use = egg:swift#tempauth
user_{account}_{user} = {layout.key} .admin .reseller_admin
user_{probe_account}_{probe_user} = {layout.key} .admin
token_life = 86400
"""


def _proxy_conf(layout: Layout) -> str:
    auth = (_tempauth_filter(layout) if layout.keystone is None
            else _keystone_filters(layout.keystone))
    return _default_section(layout, 'proxy', layout.proxy_port) + f"""
[pipeline:main]
pipeline = {' '.join(proxy_pipeline(layout))}

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
{auth}
[filter:cache]
{_cache_filter(layout)}
[filter:bulk]
use = egg:swift#bulk
delete_concurrency = 4

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

# Test faults (inert until a rule is added): after bulk, so bulk-delete
# subrequests pass through it; its control path needs no auth.
[filter:faults]
paste.filter_factory = zaqar_swift.testing.saio.faults:filter_factory
"""


def _expirer_conf(layout: Layout) -> str:
    # The file name contains "expirer": Swift then reads the internal client
    # pipeline below from this same file and dequeues the (only) task queue.
    # Its in-process proxy shares memcached when there is one; a private
    # in-process cache could go stale against the main proxy, so none then.
    cache = 'cache ' if layout.memcached else ''
    cache_filter = ('\n[filter:cache]\n' + _cache_filter(layout)
                    if layout.memcached else '')
    # WARNING: the expirer reports each pass, and its internal client logs
    # the two or three requests of each pass, at INFO: once a second.
    return _default_section(layout, 'expirer', None, 'WARNING') + f"""
[object-expirer]
interval = 1
tasks_per_second = 1000
concurrency = 4
report_interval = 300

[pipeline:main]
pipeline = catch_errors proxy-logging {cache}proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:proxy-logging]
use = egg:swift#proxy_logging
{cache_filter}"""


def _updater_conf(layout: Layout) -> str:
    return _default_section(layout, 'updater', None) + """
[saio-updater]
interval = 1
account_interval = 10
report_budget = 0.25
objects_per_second = 1000
concurrency = 8
"""


def server_confs(layout: Layout) -> dict[str, str]:
    """Config file stem -> text, for every Swift process."""
    return {
        'account-server': _backend_conf(layout, 'account', layout.account_port),
        'container-server': _backend_conf(
            layout, 'container', layout.container_port),
        'object-server': _backend_conf(layout, 'object', layout.object_port),
        'proxy-server': _proxy_conf(layout),
        'object-expirer': _expirer_conf(layout),
        'saio-updater': _updater_conf(layout),
    }


def v1_swift_options(auth_url: str, user: str, key: str) -> dict[str, object]:
    """The API's ``[swift]`` options for a tempauth (v1) account."""
    return {'v1_auth_url': auth_url, 'user': user, 'key': key}


def api_conf(swift: dict[str, object], bind_port: int = 8888,
             extra: dict[str, dict[str, object]] | None = None) -> str:
    """An oslo.config file for zaqar-swift-api that uses this Swift.

    ``swift`` is the ``[swift]`` group (``v1_swift_options`` for tempauth;
    keystoneauth1 options for Keystone). ``extra`` maps a group name
    (``DEFAULT`` included) to options that are added to, or replace, these.
    """
    groups: dict[str, dict[str, object]] = {
        'DEFAULT': {'bind_host': '127.0.0.1', 'bind_port': bind_port},
        'swift': dict(swift),
    }
    for group, options in (extra or {}).items():
        groups.setdefault(group, {}).update(options)
    out = []
    for group, options in groups.items():
        out.append('[%s]' % group)
        out += ['%s = %s' % (k, _ini_value(v)) for k, v in options.items()]
        out.append('')
    return '\n'.join(out)


def _ini_value(value: object) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return ','.join(str(v) for v in value)
    return str(value)
