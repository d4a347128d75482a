"""What the WSGI entry point (``zaqar_swift.wsgi:application``) builds, for
multi-process servers (uwsgi, gunicorn).

    uwsgi --http 127.0.0.1:8888 --processes 4 --threads 8 --master \\
          --module zaqar_swift.wsgi:application \\
          --env ZAQAR_SWIFT_CONFIG_FILE=/etc/zaqar-swift/zaqar-swift.conf
    gunicorn -w 4 -k gthread --threads 8 -b 127.0.0.1:8888 \\
          -e ZAQAR_SWIFT_CONFIG_FILE=/etc/zaqar-swift/zaqar-swift.conf \\
          zaqar_swift.wsgi:application

The configuration comes from ``ZAQAR_SWIFT_CONFIG_FILE`` (one path, or
several separated by commas), else from the ``--config-file`` arguments of
the server's command line (uwsgi's ``pyargv``), else from oslo.config's
default places (``/etc/zaqar-swift/zaqar-swift.conf``, ...).

``zaqar_swift.wsgi`` builds the application when it is imported: in each
worker process with gunicorn (without ``--preload``) and uwsgi
(``lazy-apps``), so a bad configuration stops the boot with its error and
no Swift connection is shared between processes. It never starts the
background workers (purge, notification delivery): with N processes they
would run N times. Run them once per deployment with ``zaqar-swift-worker``.
"""
from __future__ import annotations

import os
import sys
from typing import Callable

CONFIG_ENV = 'ZAQAR_SWIFT_CONFIG_FILE'


def config_args(environ: dict[str, str] | None = None,
                argv: list[str] | None = None) -> list[str]:
    """oslo.config arguments: ``--config-file`` for each path of the
    environment variable, or the ``--config-file``/``--config-dir`` pairs of
    ``argv`` (the server's own arguments are left out)."""
    environ = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else argv
    paths = [p.strip() for p in environ.get(CONFIG_ENV, '').split(',') if p.strip()]
    if paths:
        return [arg for path in paths for arg in ('--config-file', path)]
    args = []
    for i, arg in enumerate(argv):
        for flag in ('--config-file', '--config-dir'):
            if arg == flag and i + 1 < len(argv):
                args += [flag, argv[i + 1]]
            elif arg.startswith(flag + '='):
                args += [flag, arg.split('=', 1)[1]]
    return args


def create_app(args: list[str] | None = None) -> Callable:
    """The whole WSGI stack, configured from ``args`` (``config_args()``
    when None). No background worker is started."""
    from zaqar_swift import bootstrap
    from zaqar_swift import validation
    from zaqar_swift.cmd import api
    from zaqar_swift.transport import wsgi

    conf = api.parse_config(config_args() if args is None else args)
    client = bootstrap.swift_client(conf)
    service = bootstrap.build_service(conf, client)
    limits = validation.Limits.from_conf(conf.limits)
    return wsgi.build_wsgi_app(service, limits, conf.auth_strategy, conf,
                               bootstrap.purge_backlog(conf, client))
