"""The ``authenticate`` action under ``auth_strategy = keystone``: the token
is validated by keystonemiddleware's auth_token, configured from
``[keystone_authtoken]`` exactly as in front of the REST app
(``transport/wsgi/auth.KeystoneAuth``), and the identity headers it sets
become the connection's oslo.context, as REST builds it for each request."""
from __future__ import annotations

import dataclasses
import datetime
import io
from typing import Any, Iterable

from oslo_config import cfg
from oslo_context import context

from zaqar_swift import errors
from zaqar_swift.transport.wsgi import auth


@dataclasses.dataclass(frozen=True)
class Identity:
    """A validated token: the caller's context and when the token expires
    (epoch seconds; None when Keystone did not say)."""

    context: context.RequestContext
    expires: float | None


def _environ(token: str) -> dict[str, Any]:
    return {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/v2/ping', 'SCRIPT_NAME': '',
            'SERVER_NAME': 'zaqar-swift-websocket', 'SERVER_PORT': '80',
            'SERVER_PROTOCOL': 'HTTP/1.1', 'wsgi.url_scheme': 'http',
            'wsgi.input': io.BytesIO(), 'HTTP_X_AUTH_TOKEN': token}


def _expiry(environ: dict[str, Any]) -> float | None:
    info = environ.get('keystone.token_info') or {}
    stamp = (info.get('token') or {}).get('expires_at') or \
        ((info.get('access') or {}).get('token') or {}).get('expires')
    if not stamp:
        return None
    return datetime.datetime.fromisoformat(stamp.replace('Z', '+00:00')).timestamp()


class TokenCheck:
    """Callable: a token in, an :class:`Identity` out (or Unauthorized, or
    IdentityUnavailable when Keystone cannot be reached). Blocking: run it
    off the event loop."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._filter = auth.KeystoneAuth(self._accepted, {'oslo_config_config': conf})

    @staticmethod
    def _accepted(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response('200 OK', [])
        return [b'']

    def __call__(self, token: str | None) -> Identity:
        if not token:
            raise errors.Unauthorized('authenticate needs a Keystone token in the '
                                      'X-Auth-Token header.')
        environ, seen = _environ(token), {}

        def start_response(status: str, headers: list, exc_info: Any = None) -> None:
            seen['status'] = int(status.split(' ', 1)[0])

        b''.join(self._filter(environ, start_response))
        if seen.get('status') != 200 or environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed':
            refusal = auth.REFUSALS.get(seen.get('status'), auth.REFUSALS[401])
            raise type(refusal)(refusal.description)
        return Identity(context.RequestContext.from_environ(environ), _expiry(environ))
