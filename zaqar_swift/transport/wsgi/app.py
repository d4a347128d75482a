"""The REST app: Zaqar v2 routes over a ``MessagingService``."""
from __future__ import annotations

from typing import Callable

import falcon
from oslo_config import cfg
from oslo_middleware import request_id
from oslo_policy import policy

from zaqar_swift import conf as options
from zaqar_swift import metrics
from zaqar_swift import policies
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.transport import errors
from zaqar_swift.transport.wsgi import auth
from zaqar_swift.transport.wsgi import claims
from zaqar_swift.transport.wsgi import home
from zaqar_swift.transport.wsgi import inputs
from zaqar_swift.transport.wsgi import messages
from zaqar_swift.transport.wsgi import middleware
from zaqar_swift.transport.wsgi import pools
from zaqar_swift.transport.wsgi import queues
from zaqar_swift.transport.wsgi import subscriptions
from zaqar_swift.transport.wsgi import topics

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
        q + '/share': subscriptions.Share(service, limits),
        q + '/subscriptions': subscriptions.Collection(service, limits),
        q + '/subscriptions/{subscription_id}': subscriptions.Item(service, limits),
        q + '/subscriptions/{subscription_id}/confirm':
            subscriptions.Confirm(service, limits),
        '/v2/pools': pools.PoolCollection(service, limits),
        '/v2/pools/{pool}': pools.PoolItem(service, limits),
        '/v2/flavors': pools.FlavorCollection(service, limits),
        '/v2/flavors/{flavor}': pools.FlavorItem(service, limits),
    } | _topic_routes(service, limits)


def _topic_routes(service: MessagingService, limits: validation.Limits) -> dict[str, object]:
    t = '/v2/topics/{topic}'
    return {
        '/v2/topics': topics.Collection(service),
        t: topics.Item(service, limits),
        t + '/stats': topics.Stats(service),
        t + '/purge': topics.Purge(service, limits),
        t + '/messages': topics.Messages(service, limits),
        t + '/messages/{message_id}': topics.Message(service),
        t + '/subscriptions': topics.Subscriptions(service, limits),
        t + '/subscriptions/{subscription_id}': topics.Subscription(service, limits),
        t + '/subscriptions/{subscription_id}/confirm': topics.Confirm(service, limits),
    }


def create_app(service: MessagingService, limits: validation.Limits,
               auth_strategy: str = 'noauth',
               enforcer: policy.Enforcer | None = None,
               metrics_resource: object | None = None) -> falcon.App:
    """The Falcon app. Its context comes from the identity headers: under
    ``keystone`` auth_token (see ``build_wsgi_app``) has set them from a
    validated token; under ``noauth`` they are the client's claim. Every
    operation is checked against ``enforcer`` (the defaults in code when
    None). ``metrics_resource`` is served at ``/metrics`` when given."""
    if auth_strategy not in AUTH_STRATEGIES:
        raise ValueError(f'unknown auth strategy {auth_strategy!r}')
    if enforcer is None:
        enforcer = policies.build_enforcer(options.defaults())
    app = falcon.App(middleware=[metrics.RouteLabel(), middleware.SwiftRequests(service),
                                 inputs.Credentials(auth_strategy),
                                 middleware.Acceptable(),
                                 inputs.Tenancy(limits, auth_strategy),
                                 middleware.Authorize(enforcer)])
    app.req_options.keep_blank_qs_values = False   # "?ids=" means no ids, as Zaqar
    errors.install(app)
    for path, resource in _routes(service, limits).items():
        app.add_route(path, resource)
    if metrics_resource is not None:
        app.add_route('/metrics', metrics_resource)
    return app


def build_wsgi_app(service: MessagingService, limits: validation.Limits,
                   auth_strategy: str = 'noauth', conf: cfg.ConfigOpts | None = None,
                   backlog: Callable[[], int] | None = None) -> Callable:
    """The whole WSGI stack: request id, access log, the body size limit,
    the open paths, keystone auth_token (when asked) and the app. The size
    limit sits outside authentication: an oversized body is refused (413)
    before auth_token or anything else reads a byte. ``conf`` is what auth_token
    (``[keystone_authtoken]``), the policy enforcer (``[oslo_policy]``) and
    the health check (``[healthcheck]``) read; None means every default.
    Outermost, the request counters of ``/metrics`` (``[metrics]``;
    ``backlog`` counts the purge jobs waiting)."""
    conf = conf if conf is not None else options.defaults()
    group = conf.metrics
    resource = (metrics.Resource(backlog or (lambda: 0), directory=group.directory)
                if group.enabled else None)
    app = create_app(service, limits, auth_strategy, policies.build_enforcer(conf), resource)
    protected = auth.protect(app, auth_strategy, conf)
    stack = request_id.RequestId(middleware.AccessLog(middleware.BodyLimit(protected, limits)))
    return metrics.CountRequests(stack, directory=group.directory,
                                 flush_interval=group.flush_interval)
