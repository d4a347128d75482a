"""``zaqar-swift-manage``: operator tools against the configured Swift.

    zaqar-swift-manage --config-file zaqar-swift.conf check [--expirer-wait 30]
    zaqar-swift-manage --config-file zaqar-swift.conf status [--project P ...]
    zaqar-swift-manage --config-file zaqar-swift.conf purge-project P [--yes]

``check`` exits 1 when a check failed (``ERROR`` lines), 0 otherwise
(``WARN`` lines are things to look at); ``purge-project`` deletes every
container of a (deleted) Keystone project, with a progress bar on stderr.
"""
from __future__ import annotations

import email.utils
import sys
import time
from typing import Any, Callable, Iterator, NamedTuple

from oslo_config import cfg

from zaqar_swift import errors
from zaqar_swift.cmd import api

OK, WARN, ERROR = 'OK', 'WARN', 'ERROR'
PROBE_CONTAINER = '~check'        # after the container prefix: a service container
PROBE_LIFE = 1                    # seconds a probe object is given
PROBE_STALE = 3600                # an expired probe still listed after this: no expirer
RECOMMENDED_REPLICAS = 3


class Finding(NamedTuple):
    level: str
    what: str
    detail: str

    def line(self) -> str:
        return '%-5s %-14s %s' % (self.level, self.what, self.detail)


def add_parsers(subparsers: Any) -> None:
    check = subparsers.add_parser('check', help='Check the Swift this service uses.')
    check.add_argument('--expirer-wait', type=float, default=0.0,
                       help='Seconds to wait for the object-expirer to remove a '
                            'probe object (0: judge by the probes of earlier runs).')
    status = subparsers.add_parser('status', help='Queues, messages and bytes per project.')
    status.add_argument('--project', action='append', default=[],
                        help='A project to report (repeatable; needed in layout '
                             'per_project, where projects are not listed).')
    purge = subparsers.add_parser('purge-project',
                                  help='Delete every queue and message of a project.')
    purge.add_argument('project', help='The (deleted) Keystone project id.')
    purge.add_argument('--yes', action='store_true', help='Do not ask.')
    drop = subparsers.add_parser('delete-containers',
                                 help='Delete every container of this service in its '
                                      'own account (devstack clean).')
    drop.add_argument('--yes', action='store_true', help='Do not ask.')


command_opt = cfg.SubCommandOpt('command', title='Commands', handler=add_parsers)


# -- check ----------------------------------------------------------------------

def check(conf: cfg.ConfigOpts, client: Any, expirer_wait: float = 0.0,
          clock: Callable[[], float] = time.time) -> list[Finding]:
    found = [_credentials(conf, client)]
    if found[0].level == ERROR:
        return found
    try:
        info = client.info()
    except errors.ZaqarSwiftError as exc:
        return found + [Finding(ERROR, 'info', 'GET /info failed: %s' % exc.description)]
    found += [_policy(conf, info), _bulk_delete(info), _replicas(conf),
              _clock_skew(conf, client, clock), _expirer(conf, client, expirer_wait, clock)]
    return found


def _credentials(conf: cfg.ConfigOpts, client: Any) -> Finding:
    try:
        headers = client.head_account()
    except errors.ZaqarSwiftError as exc:
        return Finding(ERROR, 'credentials', 'cannot use the service account: %s'
                       % exc.description)
    return Finding(OK, 'credentials', 'service account reachable (%s containers, '
                   '%s bytes); layout %s' % (headers.get('x-account-container-count', '?'),
                                             headers.get('x-account-bytes-used', '?'),
                                             conf.swift.layout))


def _policy(conf: cfg.ConfigOpts, info: dict) -> Finding:
    policies = info.get('swift', {}).get('policies', [])
    names = {}
    for policy in policies:
        for name in [policy.get('name', '')] + (policy.get('aliases') or '').split(','):
            if name.strip():
                names[name.strip().lower()] = policy
    default = next((p['name'] for p in policies if p.get('default')), '?')
    wanted = conf.swift.storage_policy
    if not wanted:
        return Finding(OK, 'storage policy', 'none configured: the cluster default (%s)'
                       % default)
    if wanted.lower() not in names:
        return Finding(ERROR, 'storage policy', '%r is not a policy of this cluster '
                       '(it has: %s)' % (wanted, ', '.join(sorted(names)) or 'none listed'))
    return Finding(OK, 'storage policy', '%r exists (cluster default: %s)' % (wanted, default))


def _bulk_delete(info: dict) -> Finding:
    bulk = info.get('bulk_delete')
    if not bulk:
        return Finding(ERROR, 'bulk delete', 'the proxy has no bulk middleware: purges '
                       'and the purge worker need it (add "bulk" to its pipeline)')
    return Finding(OK, 'bulk delete', 'enabled (%s deletes per request)'
                   % bulk.get('max_deletes_per_request', '?'))


def _replicas(conf: cfg.ConfigOpts) -> Finding:
    replicas = conf.swift.replicas
    level = OK if replicas >= RECOMMENDED_REPLICAS else WARN
    return Finding(level, 'replicas', 'declared %d for the policy (Swift\'s /info does not '
                   'tell; the claim algorithm was measured with %d)'
                   % (replicas, RECOMMENDED_REPLICAS))


def _clock_skew(conf: cfg.ConfigOpts, client: Any, clock: Callable[[], float]) -> Finding:
    before = clock()
    headers = client.head_account()
    after = clock()
    date = headers.get('date')
    if not date:
        return Finding(WARN, 'clock', 'the proxy sent no Date header')
    server = email.utils.parsedate_to_datetime(date).timestamp()
    # Date has whole seconds: the proxy's clock read between server and server + 1.
    skew = max(0.0, server - after, before - (server + 1.0))
    settle = conf.swift.lease_settle_delay
    detail = ('at least %.3f s between this host and the proxy (Date: %s); settle delay '
              '%.3f s' % (skew, date, settle))
    return Finding(ERROR if skew > settle else OK, 'clock', detail)


def _expirer(conf: cfg.ConfigOpts, client: Any, wait: float,
             clock: Callable[[], float]) -> Finding:
    from zaqar_swift.storage.swift import client as swift
    where = swift.Target(None, conf.swift.container_prefix + PROBE_CONTAINER)
    now = clock()
    name = 'probe-%017.6f' % now
    # X-Delete-After: the client module raises any X-Delete-At to a minute
    # from now (a late PUT must not be refused), too long for a probe.
    client.put_object_creating(where, name, b'', 'text/plain',
                               {'X-Delete-After': str(PROBE_LIFE + 1)})
    deadline = time.monotonic() + wait
    while True:
        rows = client.list_objects(where)
        if name not in {r['name'] for r in rows}:
            return Finding(OK, 'expirer', 'removed a probe object %.1f s after it expired'
                           % max(0.0, clock() - now - PROBE_LIFE))
        if time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    stale = [r['name'] for r in rows if r['name'] < 'probe-%017.6f' % (now - PROBE_STALE)]
    if stale:
        return Finding(ERROR, 'expirer', '%d probe object(s) expired over %d s ago are '
                       'still listed: the object-expirer does not run'
                       % (len(stale), PROBE_STALE))
    return Finding(WARN, 'expirer', 'a probe object is planted; not yet removed after '
                   '%.0f s (run check again after the expirer\'s interval, or use '
                   '--expirer-wait)' % wait)


# -- status -----------------------------------------------------------------------

class ProjectStatus(NamedTuple):
    project: str
    queues: int
    free: int
    claimed: int
    total: int
    objects: int
    bytes: int


def project_keys(conf: cfg.ConfigOpts, client: Any) -> dict[str, list[dict]]:
    """``pkey -> containers`` of every project with data in the service
    account (layout shared), from the account listing."""
    prefix = conf.swift.container_prefix + '.'
    found: dict[str, list[dict]] = {}
    for row in _account_rows(client, None, prefix):
        pkey = row['name'][len(prefix):].split('.', 1)[0]
        found.setdefault(pkey, []).append(row)
    return found


def _account_rows(client: Any, account: str | None, prefix: str) -> Iterator[dict]:
    marker = None
    while True:
        _headers, rows = client.list_containers(account, prefix=prefix, marker=marker)
        yield from rows
        if len(rows) < 10000:
            return
        marker = rows[-1]['name']


def status(conf: cfg.ConfigOpts, client: Any, service: Any,
           projects: list[str]) -> list[ProjectStatus]:
    from zaqar_swift.storage.swift import naming
    shared = conf.swift.layout == 'shared'
    containers = project_keys(conf, client) if shared else {}
    wanted = projects or sorted(containers)
    report = []
    for project in wanted:
        rows = containers.get(project, containers.get(naming.project_key(project))) \
            if shared else \
            list(_account_rows(client, _account(conf, project),
                               conf.swift.container_prefix + '.'))
        report.append(_project_status(service, project, rows or []))
    return report


def _account(conf: cfg.ConfigOpts, project: str) -> str | None:
    from zaqar_swift.storage.swift import naming
    reseller = conf.swift.reseller_prefix if conf.swift.layout == 'per_project' else None
    return naming.project_account(reseller, project)


def _project_status(service: Any, project: str, rows: list[dict]) -> ProjectStatus:
    free = claimed = total = queues = 0
    hashed = project.startswith('~')   # a listed key that hides its project id
    marker = None
    while not hashed:
        page, marker, _count = service.list_queues(project, marker, 20)
        for queue in page:
            stats = service.queue_stats(project, queue['name'])['messages']
            queues += 1
            free, claimed, total = (free + stats['free'], claimed + stats['claimed'],
                                    total + stats['total'])
        if len(page) < 20:
            break
    return ProjectStatus(project, queues, free, claimed, total,
                         sum(r.get('count', 0) for r in rows),
                         sum(r.get('bytes', 0) for r in rows))


def status_table(report: list[ProjectStatus]) -> str:
    header = ('project', 'queues', 'free', 'claimed', 'messages', 'objects', 'bytes')
    lines = ['%-34s %7s %9s %9s %9s %9s %12s' % header]
    for r in report:
        lines.append('%-34s %7d %9d %9d %9d %9d %12d' % r)
    return '\n'.join(lines)


# -- purge-project ------------------------------------------------------------------

def purge_project(conf: cfg.ConfigOpts, client: Any, project: str,
                  progress: Callable[[int, int, int], None]) -> tuple[int, int]:
    """Delete every container of ``project`` (its catalog and its queues)
    and its purge jobs; ``(containers, objects)`` deleted."""
    from zaqar_swift.storage.swift import naming
    account = _account(conf, project)
    catalog = naming.catalog_container(conf.swift.container_prefix, project)
    names = [r['name'] for r in _account_rows(client, account, catalog)
             if r['name'] == catalog or r['name'].startswith(catalog + '.')]
    names.sort(key=lambda n: n == catalog)   # the catalog last: a rerun finds the rest
    objects = delete_containers(client, account, names, progress)
    _drop_jobs(conf, client, account, catalog)
    return len(names), objects


def delete_containers(client: Any, account: str | None, names: list[str],
                      progress: Callable[[int, int, int], None]) -> int:
    """Empty and delete containers ``names`` of ``account``; objects deleted."""
    from zaqar_swift.storage.swift import client as swift
    objects = 0
    bulk = bool(client.info().get('bulk_delete'))
    for done, name in enumerate(names):
        target = swift.Target(account, name)
        try:
            rows = list(client.iter_objects(target))
            client.delete_many(target, [r['name'] for r in rows], bulk)
            client.delete_container(target)
        except swift.Missing:
            continue
        objects += len(rows)
        progress(done + 1, len(names), objects)
    return objects


def _drop_jobs(conf: cfg.ConfigOpts, client: Any, account: str | None, catalog: str) -> None:
    from zaqar_swift.storage.swift import client as swift
    from zaqar_swift.storage.swift import naming
    jobs = swift.Target(None, naming.jobs_container(conf.swift.container_prefix))
    try:
        rows = list(client.iter_objects(jobs))
    except swift.Missing:
        return
    for row in rows:
        job_account, container, _cut = naming.parse_job(row['name'])
        if job_account == account and container.startswith(catalog + '.'):
            client.delete_object(jobs, row['name'])


def progress_bar(stream: Any = sys.stderr, width: int = 30) -> Callable[[int, int, int], None]:
    def show(done: int, total: int, objects: int) -> None:
        filled = width * done // max(total, 1)
        stream.write('\r[%s%s] %d/%d containers, %d objects'
                     % ('#' * filled, '.' * (width - filled), done, total, objects))
        if done == total:
            stream.write('\n')
        stream.flush()
    return show


def _delete_all(conf: cfg.ConfigOpts, client: Any, yes: bool) -> int:
    prefix = conf.swift.container_prefix
    names = [r['name'] for r in _account_rows(client, None, prefix)
             if r['name'][len(prefix):len(prefix) + 1] in ('.', '~')]
    if not yes and input('Delete %d containers? [y/N] ' % len(names)).strip() != 'y':
        print('Nothing deleted.')
        return 1
    objects = delete_containers(client, None, names, progress_bar())
    print('Deleted %d containers and %d objects.' % (len(names), objects))
    return 0


# -- main -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    conf = cfg.ConfigOpts()
    conf.register_cli_opt(command_opt)
    conf = api.parse_config(sys.argv[1:] if argv is None else argv, conf)
    from zaqar_swift import bootstrap   # the storage stack
    client = bootstrap.swift_client(conf)
    command = conf.command
    if command.name == 'check':
        findings = check(conf, client, command.expirer_wait)
        for finding in findings:
            print(finding.line())
        return 1 if any(f.level == ERROR for f in findings) else 0
    if command.name == 'status':
        service = bootstrap.build_service(conf, client)
        print(status_table(status(conf, client, service, command.project)))
        return 0
    if command.name == 'delete-containers':
        return _delete_all(conf, client, command.yes)
    if not command.yes and input('Delete every queue and message of project %s? [y/N] '
                                 % command.project).strip().lower() != 'y':
        print('Nothing deleted.')
        return 1
    containers, objects = purge_project(conf, client, command.project, progress_bar())
    print('Deleted %d containers and %d objects of project %s.'
          % (containers, objects, command.project))
    return 0


if __name__ == '__main__':
    sys.exit(main())
