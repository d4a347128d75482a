"""Admin resources: ``/v2/pools`` and ``/v2/flavors`` (Zaqar's bodies and
statuses; the semantics are ``zaqar_swift.pools``)."""
from __future__ import annotations

from typing import Any

import falcon

from zaqar_swift import documents
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.transport.wsgi import inputs
from zaqar_swift.transport.wsgi import output


def _query(req: falcon.Request) -> dict[str, Any]:
    query = {'marker': req.get_param('marker'), 'limit': req.get_param_as_int('limit'),
             'detailed': req.get_param_as_bool('detailed')}
    return {k: v for k, v in query.items() if v is not None}


def _page(req: falcon.Request, key: str, entries: list[dict[str, Any]],
          marker: str | None, query: dict[str, Any]) -> dict[str, Any]:
    """Zaqar's listing: entries with their href, and a next link while the
    page is not empty."""
    for entry in entries:
        entry['href'] = req.path + '/' + entry['name']
    links = []
    if entries:
        links = [{'rel': 'next',
                  'href': req.path + falcon.to_query_str({**query, 'marker': marker})}]
    return {key: entries, 'links': links}


class _Resource:
    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self._service = service
        self._limit = documents.request_limit(limits)

    def _document(self, req: falcon.Request) -> Any:
        return inputs.document(req, self._limit)


class PoolCollection(_Resource):
    """``/v2/pools``: a page of the registered pools."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = _query(req)
        pools, marker = self._service.pooling().list_pools(**query)
        output.json(resp, _page(req, 'pools', pools, marker, query))


class PoolItem(_Resource):
    """``/v2/pools/{pool}``: register, read, patch, deregister one pool."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, pool: str) -> None:
        doc = self._service.pooling().get_pool(pool, req.get_param_as_bool('detailed') or False)
        output.json(resp, {**doc, 'href': req.path})

    def on_put(self, req: falcon.Request, resp: falcon.Response, pool: str) -> None:
        self._service.pooling().put_pool(pool, self._document(req))
        resp.status = falcon.HTTP_201
        resp.location = req.path

    def on_patch(self, req: falcon.Request, resp: falcon.Response, pool: str) -> None:
        doc = self._service.pooling().update_pool(pool, self._document(req))
        output.json(resp, {**doc, 'href': req.path})

    def on_delete(self, req: falcon.Request, resp: falcon.Response, pool: str) -> None:
        self._service.pooling().delete_pool(pool)
        resp.status = falcon.HTTP_204


class FlavorCollection(_Resource):
    """``/v2/flavors``: a page of the flavors."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = _query(req)
        flavors, marker = self._service.pooling().list_flavors(**query)
        output.json(resp, _page(req, 'flavors', flavors, marker, query))


class FlavorItem(_Resource):
    """``/v2/flavors/{flavor}``: create, read, patch, delete one flavor."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, flavor: str) -> None:
        output.json(resp, {**self._service.pooling().get_flavor(flavor), 'href': req.path})

    def on_put(self, req: falcon.Request, resp: falcon.Response, flavor: str) -> None:
        self._service.pooling().put_flavor(flavor, self._document(req))
        resp.status = falcon.HTTP_201
        resp.location = req.path

    def on_patch(self, req: falcon.Request, resp: falcon.Response, flavor: str) -> None:
        doc = self._service.pooling().update_flavor(flavor, self._document(req))
        output.json(resp, {**doc, 'href': req.path})

    def on_delete(self, req: falcon.Request, resp: falcon.Response, flavor: str) -> None:
        self._service.pooling().delete_flavor(flavor)
        resp.status = falcon.HTTP_204
