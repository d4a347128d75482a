"""The v2 semantics of subscriptions, written once for every transport.

Methods take the request's documents and query values as parsed, unchecked
values, check them through ``validation``, and return plain documents:

* subscription: ``{'id', 'source', 'subscriber', 'ttl', 'age', 'options',
  'confirmed'}`` (``source`` is the queue's name, as in Zaqar)

Zaqar's quirks kept: a POST for a subscriber that already has an
unconfirmed subscription on the queue answers 201 with the existing id (and
sends the confirmation request again), 409 once it is confirmed; a POST
creates its queue; GET, PATCH and confirm of a missing subscription are
404, DELETE is not an error.
"""
from __future__ import annotations

import dataclasses
import logging
import urllib.parse
from typing import Any, Protocol

from zaqar_swift import errors
from zaqar_swift import validation
from zaqar_swift.storage.swift.queues import Catalog, QueueRecord
from zaqar_swift.storage.swift.subscriptions import StoredSubscription, SubscriptionStore

LOG = logging.getLogger(__name__)
TRUST_SCHEMES = ('trust+http', 'trust+https')


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who made a request, as far as trusts need it (Keystone only)."""

    user_id: str | None = None
    roles: tuple[str, ...] = ()
    token: str | None = None


class Notifier(Protocol):
    """What the core asks of the notification worker of its process."""

    def wake(self, project: str, queue: str) -> None:
        """Messages were posted to the queue: deliver soon (no Swift request)."""

    def watch(self, project: str, queue: str) -> None:
        """The queue has a subscription now: look at it from now on."""

    def confirm(self, project: str, queue: str, subscription: StoredSubscription,
                unsubscribed: bool = False) -> None:
        """Send a (un)subscription confirmation request (when confirmation is on)."""


class Trusts(Protocol):
    """Keystone trusts for ``trust+http(s)`` subscribers."""

    def create(self, identity: Identity, project: str, ttl: int) -> str:
        """A trust from the caller to the service; its id."""

    def delete(self, trust_id: str) -> None:
        """Delete the trust (missing: no error)."""


class Subscriptions:
    """Subscriptions of every queue of every project."""

    def __init__(self, catalog: Catalog, store: SubscriptionStore,
                 limits: validation.Limits, notifier: Notifier | None = None,
                 trusts: Trusts | None = None) -> None:
        self._catalog = catalog
        self._store = store
        self.limits = limits
        self.notifier = notifier
        self.trusts = trusts

    def _record(self, project: str, queue: str, fresh: bool = False) -> QueueRecord:
        validation.queue_name(queue, self.limits)
        return self._catalog.get(project, queue, fresh)

    def create(self, project: str, queue: str, document: Any,
               identity: Identity | None = None) -> tuple[str, bool]:
        """(id, created): POST a subscription (the queue is created when
        missing). Conflict when the subscriber's subscription is confirmed."""
        subscriber, ttl, options = validation.subscription_post(document, self.limits)
        record = self._existing_queue(project, queue)
        row = self._store.find(project, queue, record, subscriber)
        if row is not None:
            return self._again(project, queue, record, row.id, row.info.confirmed), False
        options = dict(options)
        if _scheme(subscriber) in TRUST_SCHEMES and 'trust_id' not in options:
            options['trust_id'] = self._trust(identity, project, ttl)
        sub = StoredSubscription(self._store.new_id(record), subscriber, ttl, options,
                                 False, self._store.now())
        self._store.put(project, queue, sub)
        self._store.index(project, queue)
        if self.notifier is not None:
            self.notifier.watch(project, queue)
            self.notifier.confirm(project, queue, sub)
        return sub.id, True

    def _existing_queue(self, project: str, queue: str) -> QueueRecord:
        record = self._record(project, queue, fresh=True)
        if not record.exists:
            self._catalog.create(project, queue, {}, record)
            record = self._record(project, queue)
        return record

    def _again(self, project: str, queue: str, record: QueueRecord, sid: str,
               confirmed: bool) -> str:
        if confirmed:
            raise errors.Conflict('Such subscription already exists. Subscriptions are '
                                  'unique by project + queue + subscriber URI.')
        sub = self._store.get(project, queue, record, sid)
        if sub is not None and self.notifier is not None:
            self.notifier.confirm(project, queue, sub)
        return sid

    def _trust(self, identity: Identity | None, project: str, ttl: int) -> str:
        if self.trusts is None or identity is None or not identity.token:
            raise errors.InvalidRequest(
                'A trust+http(s) subscriber needs the keystone auth strategy (a trust '
                'is made from the caller\'s token), or a trust_id in its options.')
        return self.trusts.create(identity, project, ttl)

    def list(self, project: str, queue: str, marker: str | None = None,
             limit: Any = None) -> tuple[list[dict[str, Any]], str | None]:
        """(subscriptions, next marker): a page in id order."""
        limit = validation.page_limit(limit, self.limits.max_subscriptions_per_page,
                                      self.limits.default_subscription_page_size)
        record = self._record(project, queue)
        subs = self._store.list(project, queue, record, marker or None, limit)
        now = self._store.now()
        return [_render(s, queue, now) for s in subs], (subs[-1].id if subs else marker)

    def _get(self, project: str, queue: str, sid: str,
             record: QueueRecord | None = None) -> StoredSubscription:
        record = record or self._record(project, queue)
        sub = self._store.get(project, queue, record, sid) if record.exists else None
        if sub is None:
            raise errors.NotFound('Subscription %s does not exist.' % sid,
                                  title='Subscription not found')
        return sub

    def get(self, project: str, queue: str, sid: str) -> dict[str, Any]:
        return _render(self._get(project, queue, sid), queue, self._store.now())

    def update(self, project: str, queue: str, sid: str, document: Any) -> None:
        """PATCH: subscriber, ttl (restarts it) and/or options (replaced)."""
        changes = validation.subscription_patch(document, self.limits)
        record = self._record(project, queue, fresh=True)
        sub = self._get(project, queue, sid, record)
        new = changes.get('subscriber', sub.subscriber)
        if new != sub.subscriber and self._store.find(project, queue, record, new):
            raise errors.Conflict('Such subscription already exists. Subscriptions are '
                                  'unique by project + queue + subscriber URI.')
        renewed = self._store.now() if 'ttl' in changes else sub.renewed
        self._store.put(project, queue, dataclasses.replace(
            sub, subscriber=new, ttl=changes.get('ttl', sub.ttl),
            options=changes.get('options', sub.options), renewed=renewed))
        if self.notifier is not None:
            self.notifier.watch(project, queue)

    def confirm(self, project: str, queue: str, sid: str, document: Any) -> None:
        """PUT confirm: ``{"confirmed": true|false}``; false unsubscribes
        (nothing is delivered until confirmed again)."""
        confirmed = validation.subscription_confirmation(document)
        record = self._record(project, queue, fresh=True)
        sub = self._get(project, queue, sid, record)
        since = self._store.now() if confirmed and not sub.confirmed else sub.confirmed_at
        sub = dataclasses.replace(sub, confirmed=confirmed, confirmed_at=since)
        self._store.put(project, queue, sub)
        if self.notifier is not None:
            self.notifier.watch(project, queue)   # this process sees it at once
            if not confirmed:
                self.notifier.confirm(project, queue, sub, unsubscribed=True)

    def delete(self, project: str, queue: str, sid: str) -> None:
        """Delete a subscription (missing: no error) and its trust."""
        validation.queue_name(queue, self.limits)
        if not validation.subscription_id(sid):
            return
        record = self._record(project, queue, fresh=True)
        sub = self._store.get(project, queue, record, sid)
        self._store.delete(project, queue, sid)
        if self.notifier is not None:
            self.notifier.watch(project, queue)
        trust = (sub.options.get('trust_id') if sub else None)
        if trust and self.trusts is not None and _scheme(sub.subscriber) in TRUST_SCHEMES:
            self.trusts.delete(trust)

    def purge(self, project: str, queue: str) -> None:
        """Remove the queue's subscriptions (its record's ``sub_cut`` has
        moved: they are already invisible)."""
        self._store.purge(project, queue)


def _scheme(subscriber: str) -> str:
    return urllib.parse.urlparse(subscriber).scheme


def _render(sub: StoredSubscription, queue: str, now: float) -> dict[str, Any]:
    return {'id': sub.id, 'source': queue, 'subscriber': sub.subscriber, 'ttl': sub.ttl,
            'age': max(0, int(now - sub.renewed)), 'options': sub.options,
            'confirmed': sub.confirmed}
