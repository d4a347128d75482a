"""The REST app: Zaqar v2 routes over a ``MessagingService``."""
from __future__ import annotations

from typing import Any, Callable

import falcon
from oslo_middleware import request_id

from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.transport import errors
from zaqar_swift.transport.wsgi import claims
from zaqar_swift.transport.wsgi import home
from zaqar_swift.transport.wsgi import inputs
from zaqar_swift.transport.wsgi import messages
from zaqar_swift.transport.wsgi import middleware
from zaqar_swift.transport.wsgi import queues

AUTH_STRATEGIES = ('noauth', 'keystone')


def _routes(service: MessagingService, limits: validation.Limits) -> dict[str, object]:
    q = '/v2/queues/{queue}'
    return {
        '/': home.Versions(),
        '/v2': home.Home(),
        '/v2/': home.Home(),
        '/v2/ping': home.Ping(),
        '/v2/health': home.Health(service),
        '/v2/queues': queues.Collection(service),
        q: queues.Item(service, limits),
        q + '/stats': queues.Stats(service),
        q + '/purge': queues.Purge(service, limits),
        q + '/messages': messages.Collection(service, limits),
        q + '/messages/{message_id}': messages.Item(service),
        q + '/claims': claims.Collection(service, limits),
        q + '/claims/{claim_id}': claims.Item(service, limits),
    }


def create_app(service: MessagingService, limits: validation.Limits,
               auth_strategy: str = 'noauth') -> falcon.App:
    """The Falcon app. With ``noauth`` the X-Project-ID header is trusted;
    with ``keystone`` it must have been set by keystonemiddleware (see
    ``build_wsgi_app``)."""
    if auth_strategy not in AUTH_STRATEGIES:
        raise ValueError(f'unknown auth strategy {auth_strategy!r}')
    app = falcon.App(middleware=[middleware.SwiftRequests(service),
                                 middleware.Acceptable(),
                                 inputs.Tenancy(limits, auth_strategy)])
    app.req_options.keep_blank_qs_values = False   # "?ids=" means no ids, as Zaqar
    errors.install(app)
    for path, resource in _routes(service, limits).items():
        app.add_route(path, resource)
    return app


def build_wsgi_app(service: MessagingService, limits: validation.Limits,
                   auth_strategy: str = 'noauth', conf: Any = None) -> Callable:
    """The whole WSGI stack: request id, access log, keystone (when asked)
    and the app. ``conf`` is the oslo.config object keystonemiddleware reads
    its ``[keystone_authtoken]`` section from."""
    app: Callable = create_app(service, limits, auth_strategy)
    if auth_strategy == 'keystone':
        from keystonemiddleware import auth_token
        app = auth_token.AuthProtocol(app, {'oslo_config_config': conf})
    return request_id.RequestId(middleware.AccessLog(app))
