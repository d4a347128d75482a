"""The v2 semantics of topics (``/v2/topics``), written once.

A topic is a queue without claims, in a name space of its own: a message
posted to it fans out to its subscriptions (the notification worker of the
topics delivers them, durable and retried as for queues). So ``Topics`` is
the queue core (``MessagingService``) run over the topics' catalog and
stores (``storage/swift/topics.py``), plus what Zaqar does differently for
topics:

* a POST of messages to a topic that does not exist is 404 (a queue is
  created by its first POST; Zaqar's topic resource answers 500 there);
* the reserved metadata a topic shows are ``_max_messages_post_size``,
  ``_default_message_ttl`` and ``_default_message_delay`` (no dead-letter
  keys);
* stats of a missing topic are ``{"messages": {"claimed": 0, "free": 0,
  "total": 0}}``;
* a listing has no ``count``;
* names are checked as queue names, and errors say "topic".

Claims are not part of the topic API (no route reaches them); ``DELETE
?pop=`` claims and deletes in one request as it does for queues.
"""
from __future__ import annotations

from typing import Any

from zaqar_swift import errors
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.storage.swift.queues import QueueRecord
from zaqar_swift.subscriptions import Subscriptions

# What GET /v2/topics/{topic} fills in when the topic does not set it (Zaqar).
TOPIC_RESERVED = (validation.MAX_POST_SIZE, validation.DEFAULT_TTL, validation.DEFAULT_DELAY)
MISSING_STATS = {'messages': {'claimed': 0, 'free': 0, 'total': 0}}


def topic_defaults(metadata: dict[str, Any], limits: validation.Limits) -> dict[str, Any]:
    """``metadata`` as Zaqar renders a topic's: a reserved key whose value is
    missing or falsy shows its default."""
    defaults = validation.queue_defaults(limits)
    merged = dict(metadata)
    for key in TOPIC_RESERVED:
        if not merged.get(key):
            merged[key] = defaults[key]
    return merged


class TopicSubscriptions(Subscriptions):
    """Subscriptions of topics: the queue subscription semantics over the
    topic catalog and store (a POST creates its topic, as Zaqar)."""

    def _record(self, project: str, topic: str, fresh: bool = False) -> QueueRecord:
        validation.queue_name(topic, self.limits, 'topic')
        return self._catalog.get(project, topic, fresh)


class Topics(MessagingService):
    """Zaqar v2 topics and their messages for many projects; built over the
    topic catalog, the topic message store and ``TopicSubscriptions``."""

    def _record(self, project: str, name: str, fresh: bool = False) -> QueueRecord:
        validation.queue_name(name, self.limits, 'topic')
        return self._catalog.get(project, name, fresh)

    def _with_defaults(self, metadata: dict[str, Any]) -> dict[str, Any]:
        return topic_defaults(metadata, self.limits)

    def _existing(self, project: str, name: str, fresh: bool = False) -> QueueRecord:
        record = self._record(project, name, fresh)
        if not record.exists and not fresh:
            record = self._record(project, name, fresh=True)
        if not record.exists:
            raise errors.NotFound('Topic %s does not exist.' % name, title='Topic not found')
        return record

    # -- topics ---------------------------------------------------------------------
    def create_topic(self, project: str, name: str, metadata: Any) -> bool:
        """PUT a topic; True when created, False when it existed (untouched)."""
        return self.create_queue(project, name, metadata)

    def get_topic(self, project: str, name: str) -> dict[str, Any]:
        """The topic's metadata with the reserved defaults (200 when missing)."""
        return self.get_queue(project, name)

    def update_topic(self, project: str, name: str, patch: Any) -> dict[str, Any]:
        """Apply a JSON-patch document; NotFound when the topic is missing."""
        validation.queue_patch_ops(patch)
        record = self._existing(project, name, fresh=True)
        metadata = validation.queue_patch(patch, record.metadata, self.limits)
        self._catalog.put(project, name, metadata, record.cut, record.sub_cut)
        return self._with_defaults(metadata)

    def delete_topic(self, project: str, name: str) -> None:
        """Delete the topic, its messages and subscriptions (missing: no error)."""
        self.delete_queue(project, name)

    def purge_topic(self, project: str, name: str, document: Any) -> None:
        """Drop the topic's messages and/or subscriptions, keep the topic."""
        self.purge_queue(project, name, document)

    def list_topics(self, project: str, marker: str | None = None, limit: Any = None,
                    detailed: bool = False, name: str | None = None
                    ) -> tuple[list[dict[str, Any]], str | None]:
        """(topics, next marker); ``name`` keeps topics whose name contains it."""
        topics, marker, _ = self.list_queues(project, marker, limit, detailed, name)
        return topics, marker

    def topic_stats(self, project: str, name: str) -> dict[str, Any]:
        """Stats as a queue's; Zaqar's three zeros when the topic is missing."""
        if not self._record(project, name).exists:
            return {'messages': dict(MISSING_STATS['messages'])}
        return self.queue_stats(project, name)

    # -- messages ---------------------------------------------------------------------
    def post_messages(self, project: str, queue: str, client_id: str,
                      document: Any) -> list[str]:
        """Post to an existing topic (NotFound otherwise); its subscribers
        are notified by the topics' notification worker."""
        self._existing(project, queue)
        return super().post_messages(project, queue, client_id, document)
