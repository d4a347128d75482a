"""Queue resources: the collection, one queue, its stats and its purge."""
from __future__ import annotations

from typing import Any

import falcon

from zaqar_swift import documents
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.transport.wsgi import inputs
from zaqar_swift.transport import render
from zaqar_swift.transport.wsgi import output


def _listing_query(req: falcon.Request) -> dict[str, Any]:
    query = {'marker': req.get_param('marker'),
             'limit': req.get_param_as_int('limit'),
             'detailed': req.get_param_as_bool('detailed'),
             'name': req.get_param('name'),
             'with_count': req.get_param_as_bool('with_count')}
    return {k: v for k, v in query.items() if v is not None}


class Collection:
    """``/v2/queues``: a page of the project's queues."""

    tenant_scoped = True

    def __init__(self, service: MessagingService) -> None:
        self._service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = _listing_query(req)
        queues, marker, count = self._service.list_queues(req.context.project, **query)
        query.pop('with_count', None)
        output.json(resp, render.queue_page(req.path, queues, marker, count, query))


class Item:
    """``/v2/queues/{queue}``: create, read, patch and delete one queue."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self._service = service
        self._limit = documents.request_limit(limits)

    def on_put(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        created = self._service.create_queue(req.context.project, queue,
                                             inputs.document(req, self._limit))
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_204
        resp.location = render.queue_href(queue)

    def on_get(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        output.json(resp, self._service.get_queue(req.context.project, queue))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        patch = inputs.document(req, self._limit, inputs.JSON_PATCH_TYPE)
        output.json(resp, self._service.update_queue(req.context.project, queue, patch))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        self._service.delete_queue(req.context.project, queue)
        resp.status = falcon.HTTP_204


class Stats:
    """``/v2/queues/{queue}/stats``: message counts by state."""

    tenant_scoped = True

    def __init__(self, service: MessagingService) -> None:
        self._service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        stats = self._service.queue_stats(req.context.project, queue)
        output.json(resp, render.stats(stats, queue))


class Purge:
    """``/v2/queues/{queue}/purge``: drop the queue's messages, keep the queue."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self._service = service
        self._limit = documents.request_limit(limits)

    def on_post(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        self._service.purge_queue(req.context.project, queue,
                                  inputs.document(req, self._limit))
        resp.status = falcon.HTTP_204
