"""Topic resources (``/v2/topics``): the collection, one topic, its stats
and purge; and its messages and subscriptions, which are the queue
resources with a topic's hrefs, served over ``service.topics``.

Every route names its topic ``{topic}``; the queue resources reused here
take it as their queue.
"""
from __future__ import annotations

from typing import Any

import falcon

from zaqar_swift import documents
from zaqar_swift import validation
from zaqar_swift.transport import render
from zaqar_swift.transport.wsgi import inputs
from zaqar_swift.transport.wsgi import messages
from zaqar_swift.transport.wsgi import output
from zaqar_swift.transport.wsgi import subscriptions


class _Topics:
    """A resource over the service's topics (``service.topics``, read at
    request time)."""

    tenant_scoped = True

    def __init__(self, service: Any, limits: validation.Limits | None = None) -> None:
        self._service = service
        self._limit = documents.request_limit(limits) if limits else 0

    @property
    def _topics(self) -> Any:
        return self._service.topics


class Collection(_Topics):
    """``/v2/topics``: a page of the project's topics."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = {'marker': req.get_param('marker'), 'limit': req.get_param_as_int('limit'),
                 'detailed': req.get_param_as_bool('detailed'), 'name': req.get_param('name')}
        query = {k: v for k, v in query.items() if v is not None}
        topics, marker = self._topics.list_topics(req.context.project, **query)
        output.json(resp, render.topic_page(req.path, topics, marker, query))


class Item(_Topics):
    """``/v2/topics/{topic}``: create, read, patch and delete one topic."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        created = self._topics.create_topic(req.context.project, topic,
                                            inputs.document(req, self._limit))
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_204
        resp.location = req.path

    def on_get(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        output.json(resp, self._topics.get_topic(req.context.project, topic))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        patch = inputs.document(req, self._limit, inputs.JSON_PATCH_TYPE)
        output.json(resp, self._topics.update_topic(req.context.project, topic, patch))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        self._topics.delete_topic(req.context.project, topic)
        resp.status = falcon.HTTP_204


class Stats(_Topics):
    """``/v2/topics/{topic}/stats``: message counts."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        stats = self._topics.topic_stats(req.context.project, topic)
        output.json(resp, render.stats(stats, topic, render.TOPICS))


class Purge(_Topics):
    """``/v2/topics/{topic}/purge``: drop messages and/or subscriptions."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        self._topics.purge_topic(req.context.project, topic,
                                 inputs.document(req, self._limit))
        resp.status = falcon.HTTP_204


class _Service:
    """The service a reused queue resource sees: the topics core."""

    def __init__(self, service: Any) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service.topics, name)


class Messages(messages.Collection):
    """``/v2/topics/{topic}/messages``: post, list, get and delete many."""

    def __init__(self, service: Any, limits: validation.Limits) -> None:
        super().__init__(_Service(service), limits, render.TOPICS)

    def on_post(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        super().on_post(req, resp, topic)

    def on_get(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        super().on_get(req, resp, topic)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        super().on_delete(req, resp, topic)


class Message(messages.Item):
    """``/v2/topics/{topic}/messages/{message_id}``."""

    def __init__(self, service: Any) -> None:
        super().__init__(_Service(service), render.TOPICS)

    def on_get(self, req: falcon.Request, resp: falcon.Response, topic: str,
               message_id: str) -> None:
        super().on_get(req, resp, topic, message_id)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, topic: str,
                  message_id: str) -> None:
        super().on_delete(req, resp, topic, message_id)


class Subscriptions(subscriptions.Collection):
    """``/v2/topics/{topic}/subscriptions``: list and create."""

    def __init__(self, service: Any, limits: validation.Limits) -> None:
        super().__init__(_Service(service), limits)

    def on_get(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        super().on_get(req, resp, topic)

    def on_post(self, req: falcon.Request, resp: falcon.Response, topic: str) -> None:
        super().on_post(req, resp, topic)


class Subscription(subscriptions.Item):
    """``/v2/topics/{topic}/subscriptions/{subscription_id}``."""

    def __init__(self, service: Any, limits: validation.Limits) -> None:
        super().__init__(_Service(service), limits)

    def on_get(self, req: falcon.Request, resp: falcon.Response, topic: str,
               subscription_id: str) -> None:
        super().on_get(req, resp, topic, subscription_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, topic: str,
                 subscription_id: str) -> None:
        super().on_patch(req, resp, topic, subscription_id)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, topic: str,
                  subscription_id: str) -> None:
        super().on_delete(req, resp, topic, subscription_id)


class Confirm(subscriptions.Confirm):
    """``.../subscriptions/{subscription_id}/confirm`` of a topic."""

    def __init__(self, service: Any, limits: validation.Limits) -> None:
        super().__init__(_Service(service), limits)

    def on_put(self, req: falcon.Request, resp: falcon.Response, topic: str,
               subscription_id: str) -> None:
        super().on_put(req, resp, topic, subscription_id)
