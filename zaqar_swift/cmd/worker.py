"""``zaqar-swift-worker``: the background workers, once per deployment.

    zaqar-swift-worker --config-file /etc/zaqar-swift/zaqar-swift.conf
    zaqar-swift-worker --config-file ... --once     # one pass of each, then exit

The workers (purge today) run in threads of this process until SIGTERM or
Ctrl-C, which stop them at once (they wait on an event, not on a sleep).
With ``--once`` each worker makes one pass and the command prints what it
did; its exit status is 1 when a pass failed. Run it beside API processes
served by uwsgi or gunicorn (``zaqar_swift.wsgi``), which never run the
workers, and set ``[worker] run_in_api = false`` where zaqar-swift-api runs.
Several of them may run against one cluster (the work is idempotent), but
one is enough.
"""
from __future__ import annotations

import logging
import signal
import sys
from typing import Any

from oslo_config import cfg

from zaqar_swift.cmd import api

LOG = logging.getLogger('zaqar_swift.cmd.worker')

cli_opts = [
    cfg.BoolOpt('once', default=False, help='One pass of each worker, then exit.'),
]


def run_once(workers: list) -> int:
    """One pass of each worker; 1 when one failed."""
    status = 0
    for worker in workers:
        try:
            done = worker.run_once()
        except Exception as exc:   # reported, and the next worker still runs
            LOG.exception('%s: pass failed', worker.name)
            print('%s: failed: %s' % (worker.name, getattr(exc, 'description', exc)))
            status = 1
            continue
        print('%s: %d done' % (worker.name, done))
    return status


def run_forever(workers: list) -> int:
    from zaqar_swift import bootstrap

    def stop(signum: int, frame: Any) -> None:
        LOG.info('Signal %d received: stopping the workers', signum)
        for worker in workers:
            worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threads = bootstrap.start_workers_of(workers)
    LOG.info('zaqar-swift-worker running: %s', ', '.join(w.name for w in workers))
    while any(t.is_alive() for t in threads):
        for thread in threads:
            thread.join(0.5)
    LOG.info('zaqar-swift-worker stopped')
    return 0


def main(argv: list[str] | None = None) -> int:
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(cli_opts)
    conf = api.parse_config(sys.argv[1:] if argv is None else argv, conf)
    from zaqar_swift import bootstrap   # the storage stack: imported only to run
    service = bootstrap.build_service(conf)
    return run_once(service.workers) if conf.once else run_forever(service.workers)


if __name__ == '__main__':
    sys.exit(main())
