"""``python -m zaqar_swift.testing.keystone start|stop``: a local Keystone,
a Keystone-backed local Swift, and a zaqar-swift-api config that uses both
(the README's "Running against Keystone")."""
from __future__ import annotations

import argparse
import os
import sys
import time

from zaqar_swift.testing.keystone.local import Credentials, LocalKeystone
from zaqar_swift.testing.saio import LocalSwift


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='python -m zaqar_swift.testing.keystone',
        description='Run a local Keystone and a Keystone-backed local Swift, '
                    'and write a zaqar-swift-api config that uses both.')
    parser.add_argument('command', choices=('start', 'stop'))
    parser.add_argument('--data-dir', default='.keystone',
                        help='Keystone files; Swift in DATA_DIR/swift '
                             '(default: %(default)s)')
    parser.add_argument('--port', type=int, default=5000, help='Keystone port')
    parser.add_argument('--swift-port', type=int, default=8090,
                        help='Swift proxy port; the next 4 for its servers')
    parser.add_argument('--api-port', type=int, default=8888,
                        help='port of the API (catalog and config)')
    parser.add_argument('--layout', choices=('shared', 'per_project'),
                        default='shared', help='[swift] layout of the API')
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    keystone = LocalKeystone(args.data_dir, args.port)
    swift_dir = os.path.join(keystone.data_dir, 'swift')
    if args.command == 'stop':
        LocalSwift.from_data_dir(swift_dir).stop()
        keystone.stop()
        print('Keystone and Swift in %s stopped' % keystone.data_dir)
        return 0
    began = time.monotonic()
    try:
        keystone.start()
        swift = LocalSwift(swift_dir, proxy_port=args.swift_port,
                           keystone=keystone.swift_auth())
        swift.start()
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    api_url = 'http://127.0.0.1:%d' % args.api_port
    keystone.set_endpoint('object-store', 'swift', swift.endpoint_template)
    keystone.set_endpoint('messaging', 'zaqar', api_url)
    zaqar = keystone.service_user()
    demo = keystone.user('demo', 'demo', ('member',), password='demo-password')
    extra = keystone.api_options(zaqar)
    extra['swift']['layout'] = args.layout
    conf = swift.write_api_conf(os.path.join(keystone.data_dir, 'zaqar-swift.conf'),
                                bind_port=args.api_port, extra=extra)
    _print_started(keystone, swift, conf, demo, time.monotonic() - began)
    return 0


def _print_started(keystone: LocalKeystone, swift: LocalSwift, conf: str,
                   demo: Credentials, seconds: float) -> None:
    admin = keystone.admin
    print('Keystone and a Keystone-backed Swift run (%.1f s)' % seconds)
    print('  Keystone : %s   admin / %s (project admin)'
          % (keystone.auth_url, admin.password))
    print('  Swift    : http://127.0.0.1:%d/v1/AUTH_<project id>' % swift.proxy_port)
    print('  demo user: demo / %s (member of project demo)' % demo.password)
    print('  API conf : %s' % conf)
    print('Run the API:  zaqar-swift-api --config-file %s' % conf)
    print('Then:         openstack --os-auth-url %s --os-identity-api-version 3 '
          '--os-username demo --os-password %s --os-project-name demo '
          '--os-user-domain-name Default --os-project-domain-name Default '
          'messaging queue list' % (keystone.auth_url, demo.password))


if __name__ == '__main__':
    sys.exit(main())
