"""Set up or serve a local Keystone from its config file.

Usage::

    python -m zaqar_swift.testing.keystone.launch setup CONF PUBLIC_URL
    python -m zaqar_swift.testing.keystone.launch serve CONF PORT

``setup`` runs ``keystone-manage db_sync``, ``fernet_setup``,
``credential_setup`` and ``bootstrap`` (admin password from the
``OS_BOOTSTRAP_PASSWORD`` environment variable, so it stays off the command
line) in one process: each separate ``keystone-manage`` pays about 3 s of
imports. ``serve`` runs ``keystone.wsgi.api:application`` in waitress on
127.0.0.1 (keystone 30 ships no ``keystone-wsgi-public`` script).

Keystone's oslo.config reads ``sys.argv`` when the application is built, so
the arguments of this launcher are removed from it first; the application
finds its config file through ``OS_KEYSTONE_CONFIG_FILES``.
"""
from __future__ import annotations

import getpass
import grp
import os
import sys

REGION = 'RegionOne'


def setup(conf_path: str, public_url: str) -> int:
    """Create the database, key repositories, admin user and catalog."""
    from keystone.cmd import cli

    owner = ['--keystone-user', getpass.getuser(),
             '--keystone-group', grp.getgrgid(os.getgid()).gr_name]
    commands = [
        ['db_sync'],
        ['fernet_setup'] + owner,
        ['credential_setup'] + owner,
        ['bootstrap', '--bootstrap-admin-url', public_url,
         '--bootstrap-public-url', public_url,
         '--bootstrap-internal-url', public_url,
         '--bootstrap-region-id', REGION],
    ]
    for command in commands:
        # keystone-manage parses its arguments into the global CONF once per
        # process; clearing it lets the next command parse its own.
        cli.CONF.clear()
        cli.main(argv=['keystone-manage', '--config-file', conf_path] + command)
    return 0


def serve(conf_path: str, port: int) -> int:
    """Serve Keystone's public API on 127.0.0.1:``port`` until SIGTERM."""
    import signal

    import waitress

    sys.argv = sys.argv[:1]
    os.environ['OS_KEYSTONE_CONFIG_FILES'] = conf_path
    from keystone.wsgi import api

    server = waitress.create_server(api.application, host='127.0.0.1',
                                    port=port, threads=8, ident='keystone')
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.run()
    finally:
        server.close()
    return 0


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)   # waitress' run() stops its threads on the way out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == 'setup':
        return setup(args[1], args[2])
    if len(args) == 3 and args[0] == 'serve':
        return serve(args[1], int(args[2]))
    print('usage: python -m zaqar_swift.testing.keystone.launch '
          '{setup CONF PUBLIC_URL | serve CONF PORT}', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
