"""``zaqar-swift-saio start|stop|status``: a local Swift from the shell.

``start`` returns once an authenticated PUT and GET work, leaving the
processes running detached (``--foreground`` stays attached until Ctrl-C);
``stop`` and ``status`` find them again through the data directory.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time

from zaqar_swift.testing.saio.local import LocalSwift


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='zaqar-swift-saio',
        description='Run a local Swift All-In-One for zaqar-swift.')
    parser.add_argument('command', choices=('start', 'stop', 'status'))
    parser.add_argument('--data-dir', default='.saio',
                        help='where configs, rings, data, logs and pid files '
                             'live (default: %(default)s)')
    parser.add_argument('--proxy-port', type=int,
                        help='proxy port (default: the last one used in this '
                             'data dir, else 8080)')
    parser.add_argument('--base-port', type=int,
                        help='first of 4 ports for account, container, object '
                             'servers and memcached (default: proxy port + 1)')
    parser.add_argument('--memcached', action=argparse.BooleanOptionalAction,
                        default=None,
                        help='run memcached (default: if it is on PATH)')
    parser.add_argument('--api-port', type=int, default=8888,
                        help='bind_port written to zaqar-swift.conf')
    parser.add_argument('--timeout', type=float, default=60.0,
                        help='seconds to wait for Swift to work')
    parser.add_argument('--foreground', action='store_true',
                        help='stay attached; Ctrl-C stops Swift')
    parser.add_argument('--json', action='store_true',
                        help='status as JSON')
    return parser


def _print_started(swift: LocalSwift, seconds: float) -> None:
    policies = ', '.join(
        '%s (%d replica%s%s)' % (
            name, n, '' if n == 1 else 's',
            ', default' if name == swift.default_policy else '')
        for name, n in swift.policies.items())
    print('Local Swift runs in %.1f s (data, logs: %s)'
          % (seconds, swift.data_dir))
    print('  auth URL : %s' % swift.auth_url)
    print('  user     : %s' % swift.user)
    print('  key      : %s' % swift.key)
    print('  policies : %s' % policies)
    print('  API conf : %s' % swift.api_conf_path)
    print('  try      : swift -A %s -U %s -K %s stat'
          % (swift.auth_url, swift.user, swift.key))
    sys.stdout.flush()


def _run_foreground(swift: LocalSwift) -> int:
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stop.append(signum))
    code = 0
    while not stop:
        time.sleep(0.5)
        dead = [n for n, i in swift.status()['processes'].items()
                if not i['running']]
        if dead:
            print('process(es) exited: %s; stopping' % ', '.join(dead),
                  file=sys.stderr)
            code = 1
            break
    swift.stop()
    print('Local Swift stopped')
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    swift = LocalSwift.from_data_dir(
        args.data_dir, proxy_port=args.proxy_port, base_port=args.base_port,
        memcached=args.memcached)
    if args.command == 'stop':
        swift.stop()
        print('Local Swift in %s stopped' % swift.data_dir)
        return 0
    if args.command == 'status':
        return _print_status(swift, args.json)
    began = time.monotonic()
    try:
        swift.start(timeout=args.timeout)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    swift.write_api_conf(bind_port=args.api_port)
    _print_started(swift, time.monotonic() - began)
    return _run_foreground(swift) if args.foreground else 0


def _print_status(swift: LocalSwift, as_json: bool) -> int:
    status = swift.status()
    if as_json:
        print(json.dumps(status, indent=2))
    else:
        for name, info in status['processes'].items():
            print('%-10s %s' % (name, 'running, pid %d' % info['pid']
                                if info['running'] else 'stopped'))
        print('auth URL: %s' % status['auth_url'])
    return 0 if status['running'] else 3


if __name__ == '__main__':
    sys.exit(main())
