"""Subscriptions of a queue, stored beside its messages.

One object per subscription, ``s/<id>`` in the queue's container, whose
X-Delete-At is its expiry: Swift removes it when its ttl runs out. The
content type carries what a listing needs (a hash of the subscriber for the
uniqueness check, confirmed, expiry), so listing and the duplicate check
never GET an object. An id starts with its creation time, so the queue
record's ``sub_cut`` hides every subscription made before a purge of
subscriptions or a queue delete, whatever the state of the cleanup.

Queues that have subscriptions are listed in the service container
``<prefix>~subscribed`` (``<project>/<queue>``): the notification worker
reads that index instead of every project's catalog.
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Iterator

from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import encoding
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift.clock import Clock
from zaqar_swift.storage.swift.queues import QueueRecord

PAGE = 10000


@dataclasses.dataclass(frozen=True)
class StoredSubscription:
    """A subscription as the core sees it; ``renewed`` is when its ttl last
    started (creation, or a PATCH of the ttl)."""

    id: str
    subscriber: str
    ttl: int
    options: dict[str, Any]
    confirmed: bool
    renewed: float
    confirmed_at: float = 0.0   # when it was last confirmed (epoch seconds)

    @property
    def expires(self) -> int:
        return math.ceil(self.renewed + self.ttl)


class Row:
    """A subscription as a listing row shows it."""

    def __init__(self, sid: str, info: encoding.SubscriptionInfo, etag: str) -> None:
        self.id, self.info, self.etag = sid, info, etag


class SubscriptionStore:
    """Subscriptions of every queue of every project, and the index of
    queues that have them."""

    def __init__(self, client: swift.SwiftClient, prefix: str, policy: str | None = None,
                 reseller_prefix: str | None = None, clock: Clock | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._policy = policy
        self._reseller = reseller_prefix
        self._clock = clock or Clock()

    def container(self, project: str, queue: str) -> swift.Target:
        return swift.Target(naming.project_account(self._reseller, project),
                            naming.queue_container(self._prefix, project, queue))

    def now(self) -> float:
        return self._clock.time()

    def reset_count(self) -> None:
        self._client.reset_thread_count()

    def count(self) -> int:
        """Swift requests of this thread since ``reset_count``."""
        return self._client.thread_count()

    def new_id(self, record: QueueRecord) -> str:
        """An id younger than the queue's subscription cut."""
        return naming.subscription_id(self._clock.micros(max(record.cut, record.sub_cut)),
                                      self._clock.nonce(40))

    # -- one subscription -------------------------------------------------------
    def put(self, project: str, queue: str, sub: StoredSubscription) -> None:
        """Write ``sub`` (create or replace); it expires with its ttl."""
        body = {'subscriber': sub.subscriber, 'ttl': sub.ttl, 'options': sub.options,
                'confirmed': sub.confirmed, 'renewed': sub.renewed,
                'confirmed_at': sub.confirmed_at}
        info = encoding.SubscriptionInfo(encoding.subscriber_key(sub.subscriber),
                                         sub.confirmed, sub.expires)
        self._client.put_object_creating(
            self.container(project, queue), naming.subscription_object(sub.id),
            json.dumps(body).encode('utf-8'), encoding.encode_subscription(info),
            {'X-Delete-At': str(sub.expires)}, self._policy)

    def get(self, project: str, queue: str, record: QueueRecord,
            sid: str) -> StoredSubscription | None:
        """The live subscription ``sid`` of the queue, else None."""
        if not self._live_id(record, sid):
            return None
        try:
            _, data = self._client.get_object(self.container(project, queue),
                                              naming.subscription_object(sid))
        except swift.Missing:
            return None
        sub = _decode(sid, data)
        return sub if sub.expires > self.now() else None

    def delete(self, project: str, queue: str, sid: str) -> bool:
        """False when it was not there."""
        if not naming.valid_subscription_id(sid):
            return False
        return self._client.delete_object(self.container(project, queue),
                                          naming.subscription_object(sid))

    @staticmethod
    def _live_id(record: QueueRecord, sid: str) -> bool:
        return (naming.valid_subscription_id(sid)
                and naming.subscription_micros(sid) > record.sub_cut)

    # -- listings -----------------------------------------------------------------
    def rows(self, project: str, queue: str, record: QueueRecord,
             marker: str | None = None, limit: int | None = None) -> Iterator[Row]:
        """Live subscriptions after ``marker`` in id order, from listings
        only (one LIST per 10,000 rows)."""
        target, now = self.container(project, queue), self.now()
        start = naming.subscription_object(marker) if marker else naming.SUBSCRIPTIONS_PREFIX
        page = min(limit or PAGE, PAGE)
        while True:
            try:
                rows = self._client.list_objects(
                    target, naming.SUBSCRIPTIONS_PREFIX, start, None, page)
            except swift.Missing:
                return
            for row in rows:
                sid = naming.subscription_of(row['name'])
                info = encoding.decode_subscription(row.get('content_type', ''))
                if sid and info and info.expires > now and self._live_id(record, sid):
                    yield Row(sid, info, row.get('hash', ''))
            if len(rows) < page:
                return
            start = rows[-1]['name']

    def list(self, project: str, queue: str, record: QueueRecord, marker: str | None,
             limit: int) -> list[StoredSubscription]:
        """Up to ``limit`` subscriptions after ``marker``: 1 LIST + 1 GET each."""
        found = []
        for row in self.rows(project, queue, record, marker, limit):
            sub = self.get(project, queue, record, row.id)
            if sub is not None:
                found.append(sub)
            if len(found) >= limit:
                break
        return found

    def find(self, project: str, queue: str, record: QueueRecord,
             subscriber: str) -> Row | None:
        """The live subscription of ``subscriber`` on the queue, if any."""
        key = encoding.subscriber_key(subscriber)
        return next((row for row in self.rows(project, queue, record)
                     if row.info.subscriber_key == key), None)

    def purge(self, project: str, queue: str) -> None:
        """Remove the subscription objects, one listing page of them (the
        record's ``sub_cut`` already hides them all; the rest expire)."""
        target = self.container(project, queue)
        try:
            rows = self._client.list_objects(target, naming.SUBSCRIPTIONS_PREFIX, limit=PAGE)
        except swift.Missing:
            return
        self._client.delete_many(target, [r['name'] for r in rows])

    # -- the index of subscribed queues --------------------------------------------
    def _index(self) -> swift.Target:
        return swift.Target(None, naming.subscribed_container(self._prefix))

    def index(self, project: str, queue: str) -> None:
        """Make the notification workers look at this queue."""
        self._client.put_object_creating(self._index(),
                                         naming.subscribed_object(project, queue), b'',
                                         'application/x-zaqar-subscribed')

    def unindex(self, project: str, queue: str) -> None:
        self._client.delete_object(self._index(), naming.subscribed_object(project, queue))

    def indexed(self, limit: int) -> list[tuple[str, str]]:
        """The subscribed queues, at most ``limit`` (LIST pages of 10,000)."""
        found = []
        try:
            for row in self._client.iter_objects(self._index()):
                found.append(naming.parse_subscribed(row['name']))
                if len(found) >= limit:
                    break
        except swift.Missing:
            return []
        return found


def _decode(sid: str, data: bytes) -> StoredSubscription:
    doc = json.loads(data)
    return StoredSubscription(sid, doc['subscriber'], int(doc['ttl']), doc.get('options') or {},
                              bool(doc.get('confirmed')), float(doc['renewed']),
                              float(doc.get('confirmed_at') or 0.0))
