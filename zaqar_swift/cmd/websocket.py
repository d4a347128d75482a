"""``zaqar-swift-websocket``: serve Zaqar's v2 websocket API.

    zaqar-swift-websocket --config-file /etc/zaqar-swift/zaqar-swift.conf
    python -m zaqar_swift.cmd.websocket --config-file zaqar-swift.conf

The same configuration file as ``zaqar-swift-api``: ``[websocket]`` for the
server, ``[swift]`` and ``[limits]`` for the core, ``auth_strategy`` with
``[keystone_authtoken]`` and ``[oslo_policy]`` as in REST. The purge worker
runs in ``zaqar-swift-api``, not here. SIGTERM and Ctrl-C stop it.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import sys

from oslo_config import cfg

from zaqar_swift import documents
from zaqar_swift import policies
from zaqar_swift import validation
from zaqar_swift.cmd import api

LOG = logging.getLogger('zaqar_swift.cmd.websocket')
ENVELOPE = 8192   # room for the action, the headers and the body's other members


def build_server(conf: cfg.ConfigOpts, service: object = None) -> object:
    """The websocket server over a service built from ``conf``."""
    from zaqar_swift import bootstrap   # the storage stack: imported only to serve
    from zaqar_swift.transport.websocket import keystone, push, server, session
    service = service or bootstrap.build_service(conf, threads=conf.websocket.threads)
    limits = validation.Limits.from_conf(conf.limits)
    group = conf.websocket
    watcher = push.Watcher(service, group.push_interval, group.push_window)
    token_check = keystone.TokenCheck(conf) if conf.auth_strategy == 'keystone' else None
    dispatcher = session.Dispatcher(service, limits, conf.auth_strategy,
                                    policies.build_enforcer(conf), token_check, watcher)
    max_frame = group.max_frame_size or documents.largest_body(limits) + ENVELOPE
    return server.Server(dispatcher, watcher, group.bind_host, group.bind_port, max_frame,
                         group.max_connections, group.threads)


async def _serve(ws_server: object) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await ws_server.serve(stopping)


def main(argv: list[str] | None = None) -> int:
    conf = api.parse_config(sys.argv[1:] if argv is None else argv)
    if conf.auth_strategy == 'noauth':
        LOG.warning('auth_strategy is noauth: any websocket client may act as any '
                    'project. Use keystone outside development.')
    asyncio.run(_serve(build_server(conf)))
    LOG.info('Zaqar v2 websocket API stopped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
