"""Topics in Swift: the queue machinery, pointed at the topics' own names.

A topic is stored exactly as a queue is (a record in a catalog; batches,
tombstones, subscriptions and delivery state in a container of its own),
only under the names of ``naming.topic_catalog_container`` and
``naming.topic_container``, so a topic and a queue of one name never share
a byte. Each class here is its queue counterpart with the container names
swapped; every algorithm (posting, listing, stats, purge jobs, the
subscription index) is the queue's, unchanged.
"""
from __future__ import annotations

from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift.queues import Catalog
from zaqar_swift.storage.swift.store import MessageStore
from zaqar_swift.storage.swift.subscriptions import SubscriptionStore


class TopicCatalog(Catalog):
    """Topic records of every project: one object per topic in the
    project's topic catalog."""

    def container(self, project: str) -> swift.Target:
        return swift.Target(naming.project_account(self._reseller, project),
                            naming.topic_catalog_container(self._prefix, project))


class TopicMessages(MessageStore):
    """Messages of every topic: one container per topic."""

    def container(self, project: str, topic: str) -> swift.Target:
        return swift.Target(naming.project_account(self._reseller, project),
                            naming.topic_container(self._prefix, project, topic))


class TopicSubscriptionStore(SubscriptionStore):
    """Subscriptions of every topic, beside its messages, and the index of
    subscribed topics (``<prefix>~subscribed-topics``)."""

    def container(self, project: str, topic: str) -> swift.Target:
        return swift.Target(naming.project_account(self._reseller, project),
                            naming.topic_container(self._prefix, project, topic))

    def _index(self) -> swift.Target:
        return swift.Target(None, naming.subscribed_topics_container(self._prefix))
