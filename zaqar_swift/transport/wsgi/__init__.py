"""Zaqar v2 over HTTP (Falcon, WSGI)."""
from zaqar_swift.transport.wsgi.app import build_wsgi_app, create_app

__all__ = ['build_wsgi_app', 'create_app']
