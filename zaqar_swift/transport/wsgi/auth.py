"""Authentication in front of the REST app.

``protect(app, auth_strategy, conf)`` is the app as clients reach it:

* ``/healthcheck`` (oslo.middleware's liveness check) and ``/`` (the
  versions document) answer without a token, as in Nova, Glance and Ironic;
  these are all of ``OPEN_PATHS``;
* with ``keystone`` every other request passes keystonemiddleware's
  auth_token, configured from ``[keystone_authtoken]`` of ``conf``. It
  removes every identity header a client sent (X-Project-Id, X-Tenant-Id,
  X-Roles, X-Identity-Status, ...) before it validates the token, then sets
  them from the token: the context the app builds from them is Keystone's;
* with ``noauth`` nothing is checked: X-Project-ID and X-Roles are whatever
  the client claims (development only).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

import webob
import webob.exc
from keystoneauth1 import exceptions as ksa_exceptions
from keystonemiddleware import auth_token
from oslo_config import cfg
from oslo_middleware import healthcheck

from zaqar_swift import errors
from zaqar_swift import signed_urls
from zaqar_swift.transport import errors as http_errors

LOG = logging.getLogger(__name__)

HEALTHCHECK_PATH = '/healthcheck'
OPEN_PATHS = frozenset({'', '/', HEALTHCHECK_PATH})

TOKEN_REQUIRED = 'This request needs a valid Keystone token in the X-Auth-Token header.'

# auth_token's own refusals, as the domain errors the error table renders.
REFUSALS: dict[int, errors.ZaqarSwiftError] = {
    401: errors.Unauthorized(TOKEN_REQUIRED),
    503: errors.IdentityUnavailable('Keystone cannot be reached to validate the '
                                    'token; try again later.'),
}


def _response(exc: BaseException, extra_headers: Iterable[tuple[str, str]] = ()
              ) -> webob.Response:
    status, headers, body = http_errors.wsgi_error(exc)
    return webob.Response(status=status, headerlist=headers + list(extra_headers), body=body)


class KeystoneAuth(auth_token.AuthProtocol):
    """auth_token whose own refusals (401 without a valid token, 503 when
    Keystone is unreachable) read like every other error of the API: JSON
    ``{"title", "description"}``, with auth_token's WWW-Authenticate header."""

    def process_request(self, request: webob.Request) -> webob.Response | None:
        try:
            return super().process_request(request)
        except webob.exc.HTTPException as exc:
            if exc.status_int not in REFUSALS:
                raise
            challenge = [('WWW-Authenticate', v) for v in exc.headers.getall('WWW-Authenticate')]
            return _response(REFUSALS[exc.status_int], challenge)
        except ksa_exceptions.ClientException as exc:
            # Not the client's fault: [keystone_authtoken] lacks the service
            # credentials or the catalog has no usable identity endpoint.
            LOG.exception('auth_token cannot validate tokens; check [keystone_authtoken]')
            return _response(exc)


# What a signed request may not claim about itself: the signature stands
# for the project it names and for no user, role or token.
_IDENTITY_PREFIXES = ('HTTP_X_ROLE', 'HTTP_X_USER', 'HTTP_X_TENANT', 'HTTP_X_SERVICE',
                      'HTTP_X_AUTH', 'HTTP_X_DOMAIN', 'HTTP_X_PROJECT_NAME',
                      'HTTP_X_PROJECT_DOMAIN', 'HTTP_X_IS_ADMIN', 'HTTP_X_IDENTITY',
                      'HTTP_X_STORAGE_TOKEN', 'HTTP_X_SYSTEM', 'HTTP_X_TRUST')


def _signed_headers(environ: dict[str, Any]) -> dict[str, str | None]:
    return {name: environ.get('HTTP_' + name.upper().replace('-', '_'))
            for name in signed_urls.HEADERS}


def signed_request(environ: dict[str, Any], key: str | None) -> None:
    """Check a request carrying ``URL-Signature`` (BadSignature, a 404,
    when it does not hold) and make it act for the signed project alone:
    every other identity header goes, and the identity counts as confirmed
    (no token: the signature is the credential, as in Zaqar)."""
    signed_urls.verify(key, environ.get('REQUEST_METHOD', ''), environ.get('PATH_INFO', ''),
                       environ.get('HTTP_X_PROJECT_ID'), _signed_headers(environ))
    for name in [k for k in environ if k.startswith(_IDENTITY_PREFIXES)]:
        del environ[name]
    environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'


class OpenRoutes:
    """WSGI: ``/healthcheck`` to oslo.middleware's check, ``/`` to the app
    itself, a request with ``URL-Signature`` to the app once its signature
    holds (404 otherwise), every other path to ``protected`` (the app behind
    auth)."""

    def __init__(self, app: Callable, protected: Callable, conf: cfg.ConfigOpts) -> None:
        self._app = app
        self._protected = protected
        self._key = conf.signed_url.secret_key
        # Healthcheck is an app; what it declines (a source address outside
        # [healthcheck] allowed_source_ranges) goes through authentication.
        self._healthcheck = healthcheck.Healthcheck(protected, conf)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get('PATH_INFO', '')
        if path == HEALTHCHECK_PATH:
            return self._healthcheck(environ, start_response)
        if path not in OPEN_PATHS and 'HTTP_URL_SIGNATURE' in environ:
            try:
                signed_request(environ, self._key)
            except signed_urls.BadSignature as exc:
                return _response(exc)(environ, start_response)
            return self._app(environ, start_response)
        app = self._app if path in OPEN_PATHS else self._protected
        return app(environ, start_response)


def protect(app: Callable, auth_strategy: str, conf: cfg.ConfigOpts) -> Callable:
    """``app`` as clients reach it under ``auth_strategy``."""
    protected = app
    if auth_strategy == 'keystone':
        # The ConfigOpts itself, so auth_token reads our config files.
        protected = KeystoneAuth(app, {'oslo_config_config': conf})
    return OpenRoutes(app, protected, conf)
