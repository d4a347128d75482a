"""``zaqar-swift-api``: serve the Zaqar v2 REST API with waitress.

    zaqar-swift-api --config-file /etc/zaqar-swift/zaqar-swift.conf
    python -m zaqar_swift.cmd.api --config-file zaqar-swift.conf

SIGTERM and Ctrl-C stop the server cleanly (in-flight requests finish).
"""
from __future__ import annotations

import logging
import signal
import sys
from typing import Any

from oslo_config import cfg
from oslo_log import log

from zaqar_swift import conf as options
from zaqar_swift import validation
from zaqar_swift.transport import wsgi

LOG = logging.getLogger('zaqar_swift.cmd.api')   # not __main__ under python -m
PROJECT = 'zaqar-swift'


def parse_config(argv: list[str]) -> cfg.ConfigOpts:
    """Register every option, read the command line and config files, and
    set up oslo.log from them."""
    conf = cfg.ConfigOpts()
    options.register_opts(conf)
    log.register_options(conf)
    # swiftclient logs every 404 at INFO; our storage layer expects them
    log.set_defaults(default_log_levels=log.get_default_log_levels() + ['swiftclient=WARN'])
    conf(argv, project=PROJECT)
    log.setup(conf, PROJECT)
    return conf


def build_app(conf: cfg.ConfigOpts) -> Any:
    """The WSGI stack over a service built from ``conf``."""
    from zaqar_swift import bootstrap   # the storage stack: imported only to serve
    service = bootstrap.build_service(conf)
    bootstrap.start_workers(service)
    limits = validation.Limits.from_conf(conf.limits)
    return wsgi.build_wsgi_app(service, limits, conf.auth_strategy, conf)


def _stop(signum: int, frame: Any) -> None:
    LOG.info('Signal %d received: stopping', signum)
    raise SystemExit(0)   # waitress' run() catches it and shuts its threads down


def serve(conf: cfg.ConfigOpts, app: Any) -> None:
    """Serve ``app`` until SIGTERM or Ctrl-C."""
    import waitress
    server = waitress.create_server(app, host=conf.bind_host, port=conf.bind_port,
                                    threads=conf.api_threads, ident=PROJECT)
    LOG.info('Zaqar v2 API listening on http://%s:%s/ with %d threads, auth strategy %s',
             server.effective_host, server.effective_port, conf.api_threads,
             conf.auth_strategy)
    if conf.auth_strategy == 'noauth':
        LOG.warning('auth_strategy is noauth: any client may act as any project by '
                    'sending X-Project-ID, with any role it names in X-Roles. Use '
                    'keystone outside development.')
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.run()
    finally:
        server.close()
        LOG.info('Zaqar v2 API stopped')


def main(argv: list[str] | None = None) -> int:
    conf = parse_config(sys.argv[1:] if argv is None else argv)
    serve(conf, build_app(conf))
    return 0


if __name__ == '__main__':
    sys.exit(main())
