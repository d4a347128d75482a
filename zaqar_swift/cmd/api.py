"""``zaqar-swift-api``: serve the Zaqar v2 REST API with waitress.

    zaqar-swift-api --config-file /etc/zaqar-swift/zaqar-swift.conf
    python -m zaqar_swift.cmd.api --config-file zaqar-swift.conf

SIGTERM and Ctrl-C stop the server cleanly (in-flight requests finish).

waitress reads a whole body before it calls the app; it is told the largest
legal body (``documents.largest_body``), so a longer one is refused on its
Content-Length before a byte of it is read, and its own refusals (that 413,
malformed HTTP, oversized headers) are rendered as the API's JSON errors.
"""
from __future__ import annotations

import json
import logging
import signal
import sys
from typing import Any

import waitress
from oslo_config import cfg
from oslo_log import log
from waitress import channel as waitress_channel
from waitress import task as waitress_task

from zaqar_swift import conf as options
from zaqar_swift import documents
from zaqar_swift import validation
from zaqar_swift.transport import errors as transport_errors
from zaqar_swift.transport import wsgi

LOG = logging.getLogger('zaqar_swift.cmd.api')   # not __main__ under python -m
PROJECT = 'zaqar-swift'


def parse_config(argv: list[str], conf: cfg.ConfigOpts | None = None) -> cfg.ConfigOpts:
    """Register every option (on ``conf``, which may hold a command's own
    options already), read the command line and config files, and set up
    oslo.log from them."""
    conf = conf if conf is not None else cfg.ConfigOpts()
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
    client = bootstrap.swift_client(conf)
    service = bootstrap.build_service(conf, client)
    if conf.worker.run_in_api:
        bootstrap.start_workers(service)
    limits = validation.Limits.from_conf(conf.limits)
    return wsgi.build_wsgi_app(service, limits, conf.auth_strategy, conf,
                               bootstrap.purge_backlog(conf, client))


def _stop(signum: int, frame: Any) -> None:
    LOG.info('Signal %d received: stopping', signum)
    raise SystemExit(0)   # waitress' run() catches it and shuts its threads down


def json_error_channel(limits: validation.Limits) -> type:
    """A waitress channel whose own error responses are the API's JSON
    ``{"title", "description"}``; its 413 says what ``BodyLimit`` says."""

    class JsonErrorTask(waitress_task.ErrorTask):
        def execute(self) -> None:
            error = self.request.error
            if error.code == 413:
                status, headers, body = transport_errors.wsgi_error(documents.too_large(limits))
            else:
                status = f'{error.code} {error.reason}'
                headers = [('Content-Type', transport_errors.JSON_TYPE)]
                body = json.dumps({'title': error.reason, 'description': error.body}
                                  ).encode('utf-8')
            self.status = status
            self.response_headers.extend(headers)
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JsonErrorChannel(waitress_channel.HTTPChannel):
        error_task_class = JsonErrorTask

    return JsonErrorChannel


def create_server(conf: cfg.ConfigOpts, app: Any) -> Any:
    """A waitress server of ``app`` that reads no body longer than the
    largest legal request (waitress refuses a Content-Length equal to its
    limit, hence the + 1)."""
    limits = validation.Limits.from_conf(conf.limits)
    server = waitress.create_server(app, host=conf.bind_host, port=conf.bind_port,
                                    threads=conf.api_threads, ident=PROJECT,
                                    max_request_body_size=documents.largest_body(limits) + 1)
    server.channel_class = json_error_channel(limits)
    return server


def serve(conf: cfg.ConfigOpts, app: Any) -> None:
    """Serve ``app`` until SIGTERM or Ctrl-C."""
    server = create_server(conf, app)
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
