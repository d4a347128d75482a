"""The WSGI application of zaqar-swift for uwsgi and gunicorn:
``zaqar_swift.wsgi:application``, built on import from
``ZAQAR_SWIFT_CONFIG_FILE`` or ``--config-file`` (see
:mod:`zaqar_swift.cmd.wsgi`). It runs no background worker: run
``zaqar-swift-worker`` once per deployment.

Importing this module builds the application (a real module attribute:
uwsgi looks the callable up in the module's namespace).
"""
from zaqar_swift.cmd import wsgi

application = wsgi.create_app()
