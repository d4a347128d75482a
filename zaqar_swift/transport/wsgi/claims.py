"""Claim resources: claim messages, then read, renew or release the claim."""
from __future__ import annotations

import falcon

from zaqar_swift import documents
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.transport.wsgi import inputs
from zaqar_swift.transport import render
from zaqar_swift.transport.wsgi import output


class Collection:
    """``/v2/queues/{queue}/claims``: 201 with the claimed messages, or 204
    when there was nothing to claim."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self._service = service
        self._limit = documents.request_limit(limits)

    def on_post(self, req: falcon.Request, resp: falcon.Response, queue: str) -> None:
        claim_id, messages = self._service.create_claim(
            req.context.project, queue, req.context.client_id,
            inputs.document(req, self._limit), req.get_param_as_int('limit'),
            req.get_param_as_int('wait'))
        if not messages:
            resp.status = falcon.HTTP_204
            return
        resp.location = render.claim_href(queue, claim_id)
        output.json(resp, render.claimed(messages, queue, claim_id), 201)


class Item:
    """``/v2/queues/{queue}/claims/{claim_id}``."""

    tenant_scoped = True

    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self._service = service
        self._limit = documents.request_limit(limits)

    def on_get(self, req: falcon.Request, resp: falcon.Response, queue: str,
               claim_id: str) -> None:
        claim = self._service.get_claim(req.context.project, queue, claim_id)
        output.json(resp, render.claim(claim, queue))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, queue: str,
                 claim_id: str) -> None:
        self._service.update_claim(req.context.project, queue, claim_id,
                                   inputs.document(req, self._limit))
        resp.status = falcon.HTTP_204

    def on_delete(self, req: falcon.Request, resp: falcon.Response, queue: str,
                  claim_id: str) -> None:
        self._service.delete_claim(req.context.project, queue, claim_id)
        resp.status = falcon.HTTP_204
