"""A fast updater for a local Swift: listings catch up within a second.

Swift's own container-updater forks a process per partition and is rate
limited, and its object-updater sweeps every five minutes by default; on a
development machine that left expired objects in container listings for up
to half a minute. This daemon runs every ``interval`` seconds (default 1) in
one process and calls Swift's own code for the two jobs:

* container DBs that changed since the last pass report their stats to the
  account (``ContainerUpdater.process_container``), which is what makes new
  expirer task containers and object counts visible in account listings;
* async pendings (container updates an object server could not make at once,
  and every removal from the expirer queue) are sent
  (``ObjectUpdater.object_sweep``).
"""
from __future__ import annotations

import os
import time

from swift.common.daemon import Daemon
from swift.common.utils import get_logger
from swift.container.updater import ContainerUpdater
from swift.obj.updater import ObjectUpdater


class FastUpdater(Daemon):
    """Container reports and async pendings of every device, every second."""

    def __init__(self, conf: dict, logger=None) -> None:
        self.conf = conf
        self.logger = logger or get_logger(conf, log_route='saio-updater')
        self.devices = conf['devices']
        self.interval = float(conf.get('interval', 1))
        # Swift's updaters log every sweep at INFO; once a second is noise.
        quiet = dict(conf, log_level=conf.get('sweep_log_level', 'WARNING'))
        self.containers = ContainerUpdater(
            quiet, logger=get_logger(quiet, log_route='saio-container-updater'))
        self.objects = ObjectUpdater(
            quiet, logger=get_logger(quiet, log_route='saio-object-updater'))
        self._seen: dict[str, tuple[int, int]] = {}

    def run_forever(self, *args, **kwargs) -> None:
        while True:
            begin = time.time()
            try:
                self.run_once()
            except Exception:
                self.logger.exception('update pass failed')
            time.sleep(max(0.0, self.interval - (time.time() - begin)))

    def run_once(self, *args, **kwargs) -> None:
        for db_path in self._changed_container_dbs():
            self.containers.process_container(db_path)
        self.objects.begin = time.time()
        for device in self._device_paths():
            self.objects.object_sweep(device)

    def _device_paths(self) -> list[str]:
        try:
            names = sorted(os.listdir(self.devices))
        except OSError:
            return []
        return [os.path.join(self.devices, name) for name in names]

    def _changed_container_dbs(self) -> list[str]:
        """Container DBs whose file or pending file changed since last pass.

        A DB we report to the account changes again (it records what it
        reported), so each change costs one more, cheap, no-op pass.
        """
        seen = {}
        for db_path in self._container_dbs():
            seen[db_path] = (_mtime_ns(db_path), _mtime_ns(db_path + '.pending'))
        changed = [path for path, stamp in seen.items()
                   if self._seen.get(path) != stamp]
        self._seen = seen
        return changed

    def _container_dbs(self):
        for device in self._device_paths():
            for dirpath, _dirs, files in os.walk(
                    os.path.join(device, 'containers')):
                for name in files:
                    if name.endswith('.db'):
                        yield os.path.join(dirpath, name)


def _mtime_ns(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0
