"""Message resources: the collection (post, list, get many, delete many,
pop) and one message (get, delete)."""
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
             'wait': req.get_param_as_int('wait'),
             'echo': req.get_param_as_bool('echo'),
             'include_claimed': req.get_param_as_bool('include_claimed'),
             'include_delayed': req.get_param_as_bool('include_delayed')}
    return {k: v for k, v in query.items() if v is not None}


class Collection:
    """``/v2/queues/{queue}/messages``."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, limits: validation.Limits,
                 base: str = render.QUEUES) -> None:
        self._service = service
        self._limit = documents.message_post_limit(limits)
        self._base = base   # render.TOPICS: a topic's messages

    def on_post(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        ids = self._service.post_messages(req.context.project, queue, req.context.client_id,
                                          inputs.document(req, self._limit))
        resp.location = req.path + '?ids=' + ','.join(ids)
        output.json(resp, {'resources': [render.message_href(queue, i, base=self._base)
                                         for i in ids]}, 201)

    def on_get(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        ids = inputs.id_list(req, 'ids')
        if ids is None:
            output.json(resp, self._page(req, queue))
            return
        messages = self._service.get_messages(req.context.project, queue, ids)
        output.json(resp, {'messages': [render.message(m, queue, base=self._base)
                                        for m in messages]})

    def _page(self, req: falcon.Request, queue: str) -> dict[str, Any]:
        query = _listing_query(req)
        messages, marker = self._service.list_messages(
            req.context.project, queue, req.context.client_id, **query)
        return render.message_page(req.path, queue, messages, marker, query, self._base)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        popped = self._service.delete_many(
            req.context.project, queue, req.context.client_id, inputs.id_list(req, 'ids'),
            req.get_param_as_int('pop'), inputs.id_list(req, 'claim_ids'))
        if popped is None:
            resp.status = falcon.HTTP_204
        else:
            output.json(resp, {'messages': [render.popped(m) for m in popped]})


class Item:
    """``/v2/queues/{queue}/messages/{message_id}``."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, base: str = render.QUEUES) -> None:
        self._service = service
        self._base = base   # render.TOPICS: a topic's message

    def on_get(self, req: falcon.Request, resp: falcon.Response, queue: str,
               message_id: str) -> None:
        message = self._service.get_message(req.context.project, queue, message_id)
        output.json(resp, render.message(message, queue, base=self._base))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, queue: str,
                  message_id: str) -> None:
        self._service.delete_message(req.context.project, queue, message_id,
                                     req.get_param('claim_id'))
        resp.status = falcon.HTTP_204
