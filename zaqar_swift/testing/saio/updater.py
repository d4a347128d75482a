"""A fast updater for a local Swift: expired objects leave listings in ~1 s.

The object-expirer finds its task containers by listing the hidden
``.expiring_objects`` account. Those containers are created implicitly (by
the object servers' queue updates), so the account learns about them only
when a container-updater reports them; Swift's own container-updater forks
per partition, is rate limited and runs every five minutes by default, which
left expired objects listed for up to half a minute. This daemon calls
Swift's own updater code instead, in one process:

* every ``interval`` (1 s): the task containers the expirer can need now
  (today's and yesterday's; their paths are computed, not searched for) are
  reported to the account when they changed, and async pendings (container
  updates an object server could not make at once, and removals from the
  expirer queue) are sent;
* every ``account_interval`` (10 s): every other container DB that changed
  reports its object count and bytes to its account. At most
  ``report_budget`` seconds of such reports per pass, so a burst of new
  containers cannot hold up the expirer's task containers.
"""
from __future__ import annotations

import os
import time

from swift.common.daemon import Daemon
from swift.common.ring import Ring
from swift.common.utils import (
    get_logger, hash_path, normalize_delete_at_timestamp, storage_directory)
from swift.container.backend import DATADIR
from swift.container.updater import ContainerUpdater
from swift.obj.expirer import ExpirerConfig
from swift.obj.updater import ObjectUpdater


class FastUpdater(Daemon):
    """Container reports and async pendings of every device, every second."""

    def __init__(self, conf: dict, logger=None) -> None:
        self.conf = conf
        self.logger = logger or get_logger(conf, log_route='saio-updater')
        self.devices = conf['devices']
        self.interval = float(conf.get('interval', 1))
        self.account_interval = float(conf.get('account_interval', 10))
        self.report_budget = float(conf.get('report_budget', 0.25))
        # Swift's updaters log every sweep at INFO; once a second is noise.
        quiet = dict(conf, log_level=conf.get('sweep_log_level', 'WARNING'))
        self.containers = ContainerUpdater(
            quiet, logger=get_logger(quiet, log_route='saio-container-updater'))
        self.objects = ObjectUpdater(
            quiet, logger=get_logger(quiet, log_route='saio-object-updater'))
        self.expirer_config = ExpirerConfig(conf, logger=self.logger)
        self.container_ring = Ring(conf['swift_dir'], ring_name='container')
        self._seen_tasks: dict[str, tuple[int, int]] = {}
        self._seen_all: dict[str, tuple[int, int]] = {}
        self._backlog: dict[str, None] = {}   # ordered set of DBs to report
        self._next_full_scan = 0.0
        self._task_dbs: tuple[int, list[str]] = (-1, [])

    def run_forever(self, *args, **kwargs) -> None:
        while True:
            begin = time.time()
            try:
                self.run_once()
            except Exception:
                self.logger.exception('update pass failed')
            time.sleep(max(0.0, self.interval - (time.time() - begin)))

    def run_once(self, *args, **kwargs) -> None:
        now = time.time()
        task_dbs = self.task_container_dbs(now)
        self._seen_tasks, changed = _changed(task_dbs, self._seen_tasks)
        for db_path in changed:
            self.containers.process_container(db_path)
        self.objects.begin = now
        for device in self._device_paths():
            self.objects.object_sweep(device)
        if now >= self._next_full_scan:
            self._next_full_scan = now + self.account_interval
            self._seen_all, changed = _changed(
                self._container_dbs(), self._seen_all)
            skip = set(task_dbs)
            self._backlog.update(
                (path, None) for path in changed if path not in skip)
        self._report_backlog(time.monotonic() + self.report_budget)

    def _report_backlog(self, deadline: float) -> None:
        while self._backlog and time.monotonic() < deadline:
            db_path = next(iter(self._backlog))
            del self._backlog[db_path]
            if os.path.exists(db_path):
                self.containers.process_container(db_path)

    def task_container_dbs(self, now: float) -> list[str]:
        """DB files (on every replica) of today's and yesterday's task
        containers: all the expirer can find due."""
        divisor = self.expirer_config.expirer_divisor
        day = int(now) // divisor * divisor
        if self._task_dbs[0] != day:
            self._task_dbs = (day, [
                path for start in (day - divisor, day)
                for path in self._db_paths_of_day(start)])
        return self._task_dbs[1]

    def _db_paths_of_day(self, start: int) -> list[str]:
        account = self.expirer_config.account_name
        paths = []
        # Swift names a day's task containers day_start - shard (the shard
        # is a hash of the object path); a DB exists only once used.
        for shard in range(self.expirer_config.task_container_per_day):
            container = normalize_delete_at_timestamp(start - shard)
            name_hash = hash_path(account, container)
            part, nodes = self.container_ring.get_nodes(account, container)
            for node in nodes:
                paths.append(os.path.join(
                    self.devices, node['device'],
                    storage_directory(DATADIR, part, name_hash),
                    name_hash + '.db'))
        return paths

    def _device_paths(self) -> list[str]:
        try:
            names = sorted(os.listdir(self.devices))
        except OSError:
            return []
        return [os.path.join(self.devices, name) for name in names]

    def _container_dbs(self):
        for device in self._device_paths():
            for dirpath, _dirs, files in os.walk(
                    os.path.join(device, DATADIR)):
                for name in files:
                    if name.endswith('.db'):
                        yield os.path.join(dirpath, name)


def _stamps(db_paths) -> dict[str, tuple[int, int]]:
    """Modification times of each existing DB and of its pending file."""
    stamps = {}
    for path in db_paths:
        db_mtime = _mtime_ns(path)
        if db_mtime:
            stamps[path] = (db_mtime, _mtime_ns(path + '.pending'))
    return stamps


def _changed(db_paths, seen: dict[str, tuple[int, int]]
             ) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """The stamps of ``db_paths`` now, and the DBs changed since ``seen``.

    A DB we report to the account changes again (it records what it
    reported), so each change costs one more, cheap, no-op report.
    """
    stamps = _stamps(db_paths)
    return stamps, [p for p, stamp in stamps.items() if seen.get(p) != stamp]


def _mtime_ns(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0
