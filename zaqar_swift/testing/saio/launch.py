"""Run one Swift server or daemon of a local Swift against its own swift_dir.

Usage: ``python -m zaqar_swift.testing.saio.launch KIND SWIFT_DIR CONF LOG``, KIND being
one of ``account``, ``container``, ``object``, ``proxy``, ``expirer`` or
``updater``.

Swift reads ``/etc/swift/swift.conf`` (hash path, storage policies) when it
is imported, and a server's ``swift_dir`` option does not reload them. So
this launcher points Swift at SWIFT_DIR and reloads the policies before it
hands over to Swift's own entry points; two local Swifts can then run side
by side without anything written to ``/etc/swift``. Swift's log lines go to
the file LOG instead of syslog.
"""
from __future__ import annotations

import logging
import sys

WSGI_KINDS = ('account', 'container', 'object', 'proxy')
DAEMON_KINDS = ('expirer', 'updater')


class _FileFormatter(logging.Formatter):
    """Timestamped lines; multi-line tracebacks stay readable in a file."""

    def __init__(self) -> None:
        super().__init__('%(asctime)s %(server)s %(levelname)s: %(message)s')

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, 'server'):
            record.server = record.name
        msg = super().format(record)
        txn_id = getattr(record, 'txn_id', None)
        if txn_id and txn_id not in msg:
            msg = '%s (txn: %s)' % (msg, txn_id)
        return msg


class _FileLogHandler(logging.FileHandler):
    """The handler every Swift logger of this process gets instead of syslog."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        super().setFormatter(_FileFormatter())

    def setFormatter(self, fmt) -> None:
        # Swift sets its syslog format (no timestamp) on each new handler.
        pass


def log_to_file(path: str) -> None:
    """Send every Swift log line of this process to ``path``.

    Swift gives each of its loggers a syslog handler (UDP port 514 when
    /dev/log is missing), and some loggers (the proxy access log) take only
    a few of the log options, so the ``log_custom_handlers`` hook would not
    reach them. Replacing the handler class reaches all of them.
    """
    from swift.common.utils import logs, monkey_patch

    # Swift patches eventlet before it runs anything; doing it first makes
    # this handler's lock a green one.
    monkey_patch()
    handler = _FileLogHandler(path)
    logs.ThreadSafeSysLogHandler = lambda *args, **kwargs: handler


def use_swift_dir(swift_dir: str) -> None:
    """Make every later Swift call read swift.conf from ``swift_dir``."""
    from swift.common import storage_policy, utils

    utils.set_swift_dir(swift_dir)
    storage_policy.reload_storage_policies()


def run(kind: str, swift_dir: str, conf_path: str, log_path: str) -> int:
    """Run the Swift process KIND until it is stopped; return its exit code."""
    use_swift_dir(swift_dir)
    log_to_file(log_path)
    if kind in WSGI_KINDS:
        from swift.common.wsgi import run_wsgi
        return run_wsgi(conf_path, '%s-server' % kind) or 0
    from swift.common.daemon import run_daemon
    if kind == 'expirer':
        from swift.obj.expirer import ObjectExpirer
        run_daemon(ObjectExpirer, conf_path, section_name='object-expirer')
    else:
        from zaqar_swift.testing.saio.updater import FastUpdater
        run_daemon(FastUpdater, conf_path, section_name='saio-updater')
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or args[0] not in WSGI_KINDS + DAEMON_KINDS:
        print('usage: python -m zaqar_swift.testing.saio.launch {%s} SWIFT_DIR CONF LOG'
              % ','.join(WSGI_KINDS + DAEMON_KINDS), file=sys.stderr)
        return 2
    return run(*args)


if __name__ == '__main__':
    sys.exit(main())
