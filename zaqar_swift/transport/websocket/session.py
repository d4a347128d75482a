"""Serving the requests of one connection: authentication, policy, the
action, and the error table. Blocking (the service calls Swift): the
server runs ``Dispatcher.handle`` in its thread pool, one request of a
connection at a time.

Order of checks: the action must exist (400); under keystone nothing but
``authenticate`` is served before it succeeded (401) nor after the token
expired; then the policy rule of the REST operation the action mirrors
(403); then the project and Client-ID headers (400), as in REST; then the
responder. Every error is rendered through ``errormap``.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Callable

from oslo_context import context
from oslo_policy import policy

from zaqar_swift import errormap
from zaqar_swift import errors
from zaqar_swift import logtext
from zaqar_swift import policies
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.transport.websocket import actions
from zaqar_swift.transport.websocket import frames
from zaqar_swift.transport.websocket import render
from zaqar_swift.transport.websocket import subscriptions as subs
from zaqar_swift.transport.websocket.keystone import Identity
from zaqar_swift.transport.wsgi import inputs

LOG = logging.getLogger('zaqar_swift.websocket')

AUTHENTICATED = {'message': 'Authentified.'}   # Zaqar's words
AUTHENTICATE_FIRST = ('Send the authenticate action with a Keystone token '
                      '(X-Auth-Token header) first.')


class Session:
    """What the server keeps of one connection: its identity (keystone) and
    its push subscriptions. ``push`` sends a frame to the connection from
    the event loop."""

    def __init__(self, push: Callable[[str | bytes], None] = lambda frame: None) -> None:
        self.identity: Identity | None = None
        self.subscriptions: dict[str, subs.PushSubscription] = {}
        self.push = push


def _header_environ(headers: dict[str, str]) -> dict[str, str]:
    return {'HTTP_' + k.upper().replace('-', '_'): v for k, v in headers.items()}


class Dispatcher:
    """Every action of the protocol over one service."""

    def __init__(self, service: MessagingService, limits: validation.Limits,
                 auth_strategy: str, enforcer: policy.Enforcer,
                 token_check: Callable[[str | None], Identity] | None = None,
                 watcher: Any = None, clock: Callable[[], float] = time.time) -> None:
        if auth_strategy == 'keystone' and token_check is None:
            raise ValueError('auth_strategy keystone needs a token check')
        self._service = service
        self._limits = limits
        self._keystone = auth_strategy == 'keystone'
        self._strategy = auth_strategy
        self._enforcer = enforcer
        self._token_check = token_check
        self._watcher = watcher
        self._clock = clock
        self._responders = actions.Responders(service, limits)
        self._rules = policies.operations()

    def handle(self, session: Session, req: frames.Request) -> dict[str, Any]:
        """The reply document of ``req``; never raises."""
        started = time.monotonic()
        try:
            status, body = self._serve(session, req)
        except Exception as exc:   # every error, expected or not, is a reply
            status, body = errormap.status_for(exc), render.error(exc)
            if status >= 500:
                LOG.exception('websocket action %s failed', logtext.field(req.action))
        LOG.info('ws %s %s %.1f ms project=%s', logtext.field(req.action), status,
                 (time.monotonic() - started) * 1000.0,
                 logtext.field(req.headers.get('X-Project-ID')))
        return frames.reply(req, status, body)

    def _serve(self, session: Session, req: frames.Request) -> actions.Reply:
        if req.action == 'authenticate':
            return self._authenticate(session, req)
        known = req.action in actions.ACTIONS or req.action in subs.CORE
        if not known:
            raise errors.InvalidRequest(f'Unknown action: {logtext.field(req.action)}.')
        ctx = self._context(session, req)
        if subs.is_push(req.action, req.body):
            return self._subscribe(session, ctx, req)
        if req.action in subs.CORE:
            return self._core_subscription(session, ctx, req)
        action = actions.ACTIONS[req.action]
        self._authorize(action.method, action.path, ctx)
        caller = self._caller(ctx, req) if action.tenant_scoped else None
        return action.respond(self._responders, caller, req.body)

    # -- who is asking ---------------------------------------------------------
    def _authenticate(self, session: Session, req: frames.Request) -> actions.Reply:
        if not self._keystone:
            return 200, AUTHENTICATED   # noauth: headers are believed, as in REST
        session.identity = None
        session.identity = self._token_check(req.headers.get('X-Auth-Token'))
        return 200, AUTHENTICATED

    def _context(self, session: Session, req: frames.Request) -> context.RequestContext:
        if not self._keystone:
            return context.RequestContext.from_environ(_header_environ(req.headers))
        identity = session.identity
        if identity is None or (identity.expires is not None
                                and identity.expires <= self._clock()):
            raise errors.Unauthorized(AUTHENTICATE_FIRST)
        return identity.context

    def _caller(self, ctx: context.RequestContext, req: frames.Request) -> actions.Caller:
        return actions.Caller(inputs.project(ctx, self._strategy),
                              validation.client_id(req.headers.get('Client-ID'),
                                                   self._limits))

    def _authorize(self, method: str, path: str, ctx: context.RequestContext) -> None:
        rule = self._rules.get((path, method))
        if rule is None:
            raise errors.NotImplementedYet(f'{method} {path} has no policy rule yet.')
        if not self._enforcer.authorize(rule, {'project_id': ctx.project_id}, ctx):
            raise errors.PolicyDenied(f'Policy does not allow {rule}.')

    # -- subscriptions -------------------------------------------------------------
    def _core_subscription(self, session: Session, ctx: context.RequestContext,
                           req: frames.Request) -> actions.Reply:
        call = subs.CORE[req.action]
        caller = self._caller(ctx, req)
        own = session.subscriptions.get(req.body.get('subscription_id'))
        if own is not None and req.action in ('subscription_get', 'subscription_delete'):
            return self._own_subscription(session, own, req.action)
        method = subs.core_method(self._service, call)
        self._authorize(call.http_method, call.path, ctx)
        args, kwargs = subs.core_arguments(call, caller, req.body,
                                           self._responders.small, self._limits)
        return subs.core_reply(call, method(*args, **kwargs))

    def _own_subscription(self, session: Session, sub: subs.PushSubscription,
                          action: str) -> actions.Reply:
        if action == 'subscription_get':
            return 200, sub.document(self._clock())
        self.unsubscribe(session, sub)
        return 204, render.EMPTY

    def _subscribe(self, session: Session, ctx: context.RequestContext,
                   req: frames.Request) -> actions.Reply:
        if self._watcher is None:
            raise errors.NotImplementedYet('This process pushes no messages.')
        self._authorize(*subs.PUSH_RULE, ctx)
        create = subs.CORE['subscription_create']
        if (create.path, create.http_method) in self._rules:
            self._authorize(create.http_method, create.path, ctx)
        caller = self._caller(ctx, req)
        queue = actions.required(req.body, 'queue_name')
        ttl = validation.subscription_ttl(req.body.get('ttl'))
        validation.subscription_options(req.body.get('options'))
        self._service.create_queue(caller.project, queue, None)   # as Zaqar: lazily
        sub = subs.PushSubscription(uuid.uuid4().hex, caller.project, queue, ttl,
                                    self._clock(), req.binary, session)
        session.subscriptions[sub.id] = sub
        self._watcher.add(sub)
        return 201, {'subscription_id': sub.id, 'message': f'Subscription {queue} created.'}

    def unsubscribe(self, session: Session, sub: subs.PushSubscription) -> None:
        session.subscriptions.pop(sub.id, None)
        if self._watcher is not None:
            self._watcher.remove(sub)

    def forget(self, session: Session) -> None:
        """The connection closed: drop its subscriptions."""
        for sub in list(session.subscriptions.values()):
            self.unsubscribe(session, sub)
