"""Subscription resources: the collection, one subscription, its
confirmation; and a queue's share route (pre-signed URLs)."""
from __future__ import annotations

import falcon

from zaqar_swift import documents
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.subscriptions import Identity
from zaqar_swift.transport.wsgi import inputs
from zaqar_swift.transport import render
from zaqar_swift.transport.wsgi import output


def _identity(req: falcon.Request) -> Identity:
    ctx = req.context.auth
    return Identity(ctx.user_id, tuple(ctx.roles or ()), ctx.auth_token)


class Collection:
    """``/v2/queues/{queue}/subscriptions``: list (paged) and create."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self._service = service
        self._limit = documents.request_limit(limits)

    def on_get(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        query = {'marker': req.get_param('marker'), 'limit': req.get_param_as_int('limit')}
        subs, marker = self._service.subscriptions.list(req.context.project, queue, **query)
        output.json(resp, render.subscription_page(req.path, subs, marker, query))

    def on_post(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        sid, _ = self._service.subscriptions.create(
            req.context.project, queue, inputs.document(req, self._limit), _identity(req))
        resp.location = req.path
        output.json(resp, {'subscription_id': sid}, 201)


class Item:
    """``/v2/queues/{queue}/subscriptions/{subscription_id}``."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self._service = service
        self._limit = documents.request_limit(limits)

    def on_get(self, req: falcon.Request, resp: falcon.Response, queue: str,
               subscription_id: str) -> None:
        subs = self._service.subscriptions
        output.json(resp, subs.get(req.context.project, queue, subscription_id))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, queue: str,
                 subscription_id: str) -> None:
        self._service.subscriptions.update(
            req.context.project, queue, subscription_id, inputs.document(req, self._limit))
        resp.status = falcon.HTTP_204
        resp.location = req.path

    def on_delete(self, req: falcon.Request, resp: falcon.Response, queue: str,
                  subscription_id: str) -> None:
        self._service.subscriptions.delete(req.context.project, queue, subscription_id)
        resp.status = falcon.HTTP_204


class Confirm:
    """``.../subscriptions/{subscription_id}/confirm``: ``{"confirmed": bool}``."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self._service = service
        self._limit = documents.request_limit(limits)

    def on_put(self, req: falcon.Request, resp: falcon.Response, queue: str,
               subscription_id: str) -> None:
        self._service.subscriptions.confirm(
            req.context.project, queue, subscription_id, inputs.document(req, self._limit))
        resp.status = falcon.HTTP_204
        resp.location = req.path


class Share:
    """``/v2/queues/{queue}/share``: a pre-signed URL of the queue."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self._service = service
        self._limit = documents.request_limit(limits)

    def on_post(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        output.json(resp, self._service.share_queue(req.context.project, queue,
                                                    inputs.document(req, self._limit)))
