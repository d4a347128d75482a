"""The v2 semantics of Zaqar, written once.

REST and websocket transports are thin adapters over ``MessagingService``:
they parse a request into plain Python values (request documents come from
``zaqar_swift.documents.parse``), call one method, and render what it
returns. Every value coming from a user is validated here (not in the
transports) so both transports accept and reject exactly the same input.

Return shapes (transports add ``href`` fields themselves):

* message: ``{'id': str, 'body': Any, 'ttl': int, 'age': int,
  'claim_id': str | None, 'claim_count': int}``
* queue listing entry: ``{'name': str}`` plus ``'metadata': dict`` when detailed
* claim: ``{'id': str, 'ttl': int, 'grace': int, 'age': int,
  'messages': [message, ...]}``
* stats: ``{'messages': {'free': int, 'claimed': int, 'delayed': int,
  'total': int, 'oldest': {...}, 'newest': {...}}}`` (oldest/newest only when
  total > 0, each ``{'id', 'age', 'created'}`` with ``created`` ISO 8601 UTC)

Errors are the classes of ``zaqar_swift.errors``.
"""
from __future__ import annotations

import datetime
from typing import Any, Callable

from zaqar_swift import errors
from zaqar_swift import longpoll
from zaqar_swift import signed_urls
from zaqar_swift.pools import Pools
from zaqar_swift import validation
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift.queues import Catalog, QueueRecord
from zaqar_swift.storage.swift.store import ClaimRecord, Cursor, MessageStore, StoredMessage
from zaqar_swift.subscriptions import Subscriptions

RESERVED_DLQ = '_dead_letter_queue'


class MessagingService:
    """Zaqar v2 queues, messages and claims for many projects.

    ``project`` is the first argument of every method and is never optional;
    ``client_id`` is the caller's Client-ID header value (a string, already
    checked to be present by the transport).
    """

    def __init__(self, client: swift.SwiftClient, catalog: Catalog,
                 store: MessageStore, limits: validation.Limits,
                 workers: list | None = None, subscriptions: Subscriptions | None = None,
                 signing_key: str | None = None, topics: Any = None,
                 pools: Pools | None = None,
                 pollers: longpoll.Pollers | None = None) -> None:
        self._client = client
        self._catalog = catalog
        self._store = store
        self.limits = limits
        self.workers = workers or []   # background workers the host process runs
        # Subscriptions (zaqar_swift.subscriptions): transports call it directly.
        self.subscriptions = subscriptions
        self.signing_key = signing_key   # [signed_url] secret_key
        # zaqar_swift.topics.Topics (/v2/topics): transports call it directly.
        self.topics = topics
        # Pools and flavors (zaqar_swift.pools; None: pooling is disabled).
        self.pools = pools
        # Long polling (?wait=N): one look at Swift per queue and interval.
        self.pollers = pollers or longpoll.Pollers(1.0, 8)

    def _store_for(self, record: QueueRecord) -> MessageStore:
        """The message store of the queue's pool: the one seam through which
        every message operation reaches Swift."""
        if self.pools is None:
            if record.pool:   # placed while pooling was on: never the wrong Swift
                raise errors.StorageUnavailable('This queue lives in pool %s, but '
                                                'pooling is disabled.' % record.pool)
            return self._store
        return self.pools.store_for(record, self._store)

    def pooling(self) -> Pools:
        """The pools and flavors (admin API); 404 when pooling is disabled."""
        if self.pools is None:
            raise errors.NotFound('Pooling is not enabled in this deployment '
                                  '([pooling] enabled).')
        return self.pools

    # -- request accounting ---------------------------------------------------
    def reset_request_count(self) -> None:
        self._client.reset_thread_count()
        if self.pools is not None:
            self.pools.reset_request_count()

    def swift_request_count(self) -> int:
        """Swift requests this thread made since ``reset_request_count``."""
        pooled = self.pools.request_count() if self.pools is not None else 0
        return self._client.thread_count() + pooled

    # -- health -------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Checks Swift for real: ``{'storage_reachable': bool, ...}``."""
        try:
            headers = self._client.head_account()
        except errors.StorageUnavailable as exc:
            return {'storage_reachable': False, 'detail': exc.description}
        report = {'storage_reachable': True,
                  'containers': int(headers.get('x-account-container-count', 0))}
        for worker in self.workers:   # what the background workers did so far
            if hasattr(worker, 'stats'):
                report[worker.name] = worker.stats()
        if self.pools is not None:
            report.update(self.pools.health())
        return report

    # -- queues -------------------------------------------------------------
    def _record(self, project: str, name: str, fresh: bool = False) -> QueueRecord:
        validation.queue_name(name, self.limits)
        return self._catalog.get(project, name, fresh)

    def create_queue(self, project: str, name: str, metadata: Any) -> bool:
        """PUT a queue; ``metadata`` is the request document (None: no body).
        True when it was created, False when it existed (Zaqar leaves an
        existing queue's metadata as it was)."""
        metadata = validation.queue_metadata({} if metadata is None else metadata,
                                             self.limits)
        record = self._record(project, name, fresh=True)
        if record.exists:
            return False
        self._catalog.create(project, name, metadata, record)
        return True

    def get_queue(self, project: str, name: str) -> dict[str, Any]:
        """The queue's metadata merged with the reserved defaults (200 even
        when the queue does not exist)."""
        record = self._record(project, name, fresh=True)
        return self._with_defaults(record.metadata)

    def _with_defaults(self, metadata: dict[str, Any]) -> dict[str, Any]:
        return validation.with_defaults(metadata, self.limits)

    def update_queue(self, project: str, name: str, patch: Any) -> dict[str, Any]:
        """Apply a JSON-patch document (add/replace/remove on ``/metadata/...``;
        None: no body) and return the new metadata. QueueNotFound when the
        queue is missing."""
        validation.queue_patch_ops(patch)        # a bad document is 400 before 404
        record = self._record(project, name, fresh=True)
        if not record.exists:
            raise errors.QueueNotFound('Queue %s does not exist.' % name)
        metadata = validation.queue_patch(patch, record.metadata, self.limits)
        self._catalog.put(project, name, metadata, record.cut, record.sub_cut, record.pool)
        return self._with_defaults(metadata)

    def delete_queue(self, project: str, name: str) -> None:
        """Delete the queue and everything in it (missing queue: no error)."""
        record = self._record(project, name, fresh=True)
        if record.exists:
            self._bury(project, name, record)

    def purge_queue(self, project: str, name: str, document: Any) -> None:
        """Drop messages and/or subscriptions but keep the queue.
        ``document`` is the request's (None: no body, purge everything)."""
        types = validation.purge_document(document)
        record = self._record(project, name, fresh=True)
        if not record.exists:
            return
        cut = self._store.next_cut()
        self._catalog.put(project, name, record.metadata,
                          cut if 'messages' in types else record.cut,
                          cut if 'subscriptions' in types else record.sub_cut, record.pool)
        if 'messages' in types:
            self._store_for(record).schedule_purge(project, name, cut)
        if 'subscriptions' in types and self.subscriptions is not None:
            self.subscriptions.purge(project, name)

    def _bury(self, project: str, name: str, record: QueueRecord) -> None:
        cut = self._store.next_cut()
        self._catalog.bury(project, name, cut)
        self._store_for(record).schedule_purge(project, name, cut)
        if self.subscriptions is not None:
            self.subscriptions.purge(project, name)

    # -- subscriptions (the core's Subscriptions, by the names both transports use)
    def _subs(self) -> Subscriptions:
        if self.subscriptions is None:
            raise errors.NotImplementedYet('This service does not store subscriptions.')
        return self.subscriptions

    def create_subscription(self, project: str, queue: str, document: Any) -> str:
        """POST a subscription; its id (an unconfirmed duplicate's id again)."""
        return self._subs().create(project, queue, document)[0]

    def list_subscriptions(self, project: str, queue: str, marker: str | None = None,
                           limit: Any = None) -> tuple[list[dict[str, Any]], str | None]:
        return self._subs().list(project, queue, marker, limit)

    def get_subscription(self, project: str, queue: str, sid: str) -> dict[str, Any]:
        return self._subs().get(project, queue, sid)

    def update_subscription(self, project: str, queue: str, sid: str,
                            document: Any) -> None:
        self._subs().update(project, queue, sid, document)

    def delete_subscription(self, project: str, queue: str, sid: str) -> None:
        self._subs().delete(project, queue, sid)

    def confirm_subscription(self, project: str, queue: str, sid: str,
                             document: Any) -> None:
        self._subs().confirm(project, queue, sid, document)

    def share_queue(self, project: str, name: str, document: Any) -> dict[str, Any]:
        """A pre-signed URL for the queue's sub-resources (``paths``),
        ``methods`` (GET by default) until ``expires`` (a day by default)."""
        paths, methods, expires = validation.share_document(document)
        validation.queue_name(name, self.limits)
        full = ['/v2/queues/%s/%s' % (name, path) for path in paths]
        try:
            return signed_urls.create(self.signing_key, full, project, expires, methods)
        except ValueError as exc:
            raise errors.InvalidRequest(str(exc)) from None

    def list_queues(self, project: str, marker: str | None = None,
                    limit: int | None = None, detailed: bool = False,
                    name: str | None = None, with_count: bool = False
                    ) -> tuple[list[dict[str, Any]], str | None, int | None]:
        """(queues, next_marker, count); ``name`` keeps queues whose name
        contains it (as Zaqar does), count is None unless ``with_count``."""
        limit = validation.page_limit(limit, self.limits.max_queues_per_page,
                                      self.limits.default_queue_page_size)
        names = self._catalog.list(project, marker or None, limit, name or None)
        queues = [{'name': n} for n in names]
        if detailed:
            for queue in queues:
                queue['metadata'] = self._with_defaults(
                    self._catalog.get(project, queue['name']).metadata)
        count = self._catalog.count(project, name or None) if with_count else None
        return queues, (names[-1] if names else marker), count

    def queue_stats(self, project: str, name: str) -> dict[str, Any]:
        """Stats document (zeros for a missing queue)."""
        record = self._record(project, name)
        raw = self._store_for(record).stats(project, name, record)
        stats = {k: raw[k] for k in ('free', 'claimed', 'delayed', 'total')}
        for key in ('oldest', 'newest'):
            if raw[key]:
                mid, created = raw[key]
                stats[key] = {'id': mid, 'age': int(raw['now'] - created),
                              'created': _iso(created)}
        return {'messages': stats}

    # -- messages -----------------------------------------------------------
    def post_messages(self, project: str, queue: str, client_id: str,
                      document: Any) -> list[str]:
        """Validate and enqueue the messages of the request ``document``
        (``{"messages": [...]}``, unvalidated; None: no body); return their
        ids in order. The queue is created when missing."""
        messages = validation.message_post_document(document)
        record = self._record(project, queue)
        checked = validation.message_posts(messages, self.limits,
                                           self._with_defaults(record.metadata))
        if not record.exists:
            record = self._record(project, queue, fresh=True)
            if not record.exists:
                self._catalog.create(project, queue, {}, record)
                record = self._record(project, queue)
        ids = self._store_for(record).post(project, queue, record, client_id, checked)
        self.pollers.wake((project, queue))   # long-polling requests of this process
        notifier = self.subscriptions.notifier if self.subscriptions else None
        if notifier is not None:
            notifier.wake(project, queue)   # in this process: no Swift request
        return ids

    def list_messages(self, project: str, queue: str, client_id: str,
                      marker: str | None = None, limit: int | None = None,
                      echo: bool = False, include_claimed: bool = False,
                      include_delayed: bool = False, wait: Any = None
                      ) -> tuple[list[dict[str, Any]], str | None]:
        """(messages, next_marker); next_marker is None when nothing was listed.
        A page can be short (even empty) with a marker when the request read
        as many listing rows as it may: the next page goes on from there.
        ``wait`` (seconds, at most validation.MAX_WAIT): when the page is
        empty, wait until a claimable message may be there, then list again."""
        limit = validation.page_limit(limit, self.limits.max_messages_per_page,
                                      self.limits.default_message_page_size)
        wait = validation.wait_seconds(wait)
        page = self._long_poll(project, queue, wait, lambda record: self._store_for(record).list(
            project, queue, record, client_id, marker or None, limit, echo,
            include_claimed, include_delayed), lambda page: page.messages, first=True)
        now = self._store.now()
        return [_render(m, now) for m in page.messages], page.marker

    def watch(self, since: float, window: float) -> Cursor:
        """A cursor for ``arrivals``: messages enqueued from ``since`` (epoch
        seconds, see ``now``) on are news; see ``Cursor`` for ``window``."""
        return Cursor(since, window)

    def arrivals(self, project: str, queue: str, cursor: Cursor) -> list[dict[str, Any]]:
        """The messages of ``queue`` that are news to ``cursor`` (for push):
        live ones, claimed and delayed ones too, each once."""
        record = self._record(project, queue)
        found = self._store_for(record).arrivals(project, queue, record, cursor)
        now = self._store.now()
        return [_render(m, now) for m in found]

    def now(self) -> float:
        """The storage clock, in epoch seconds (the clock of message ids)."""
        return self._store.now()

    def get_message(self, project: str, queue: str,
                    message_id: str) -> dict[str, Any]:
        """One message; MessageNotFound when missing or expired."""
        found = self._found(project, queue, [message_id])
        if not found:
            raise errors.MessageNotFound('Message %s does not exist.' % message_id)
        return found[0]

    def get_messages(self, project: str, queue: str, ids: Any) -> list[dict[str, Any]]:
        """The messages among ``ids`` that exist (missing ones are skipped);
        MessageNotFound when none does, as Zaqar."""
        ids = validation.message_ids(ids, self.limits)
        found = self._found(project, queue, ids)
        if not found:
            raise errors.MessageNotFound(
                f'No messages with IDs: {",".join(ids)} found in the queue {queue}.')
        return found

    def _found(self, project: str, queue: str, ids: list[str]) -> list[dict[str, Any]]:
        record = self._record(project, queue)
        now = self._store.now()
        found = self._store_for(record).get(project, queue, record, ids)
        return [_render(m, now) for m in found]

    def delete_message(self, project: str, queue: str, message_id: str,
                       claim_id: str | None = None) -> None:
        """Delete one message. A claimed message needs its claim id
        (MessageIsClaimed); a wrong claim id is ClaimMismatch; a missing
        message is not an error."""
        record = self._record(project, queue)
        self._store_for(record).delete(project, queue, record, [message_id],
                                       [claim_id] if claim_id else None, check_claims=True)

    def delete_messages(self, project: str, queue: str, ids: list[str],
                        claim_ids: list[str] | None = None) -> None:
        """Delete many messages by id, with the same claim rules."""
        ids = validation.message_ids(ids, self.limits)
        record = self._record(project, queue)
        self._store_for(record).delete(project, queue, record, ids, claim_ids or None,
                                       check_claims=bool(claim_ids))

    def delete_many(self, project: str, queue: str, client_id: str, ids: Any = None,
                    pop: Any = None, claim_ids: Any = None) -> list[dict[str, Any]] | None:
        """A DELETE on the messages collection: by ``ids`` (with their
        ``claim_ids`` when claimed; returns None) or ``pop`` (returns the
        popped messages); exactly one of the two."""
        ids, pop, claim_ids = validation.collection_deletion(ids, pop, claim_ids,
                                                             self.limits)
        if pop is not None:
            return self.pop_messages(project, queue, client_id, pop)
        self.delete_messages(project, queue, ids, claim_ids)
        return None

    def pop_messages(self, project: str, queue: str, client_id: str,
                     count: Any) -> list[dict[str, Any]]:
        """Claim and delete up to ``count`` messages, returning them."""
        count = validation.pop_count(count, self.limits)
        record = self._record(project, queue)
        cid, claimed = self._claim(project, queue, record, self.limits.min_claim_ttl,
                                   self.limits.min_claim_grace, count, client_id)
        if claimed:
            self._store_for(record).delete(project, queue, record,
                                           [m.id for m in claimed], [cid], check_claims=True)
        now = self._store.now()
        return [_render(m, now) for m in claimed]

    # -- claims -------------------------------------------------------------
    def create_claim(self, project: str, queue: str, client_id: str,
                     document: Any = None, limit: Any = None, wait: Any = None
                     ) -> tuple[str | None, list[dict[str, Any]]]:
        """Claim up to ``limit`` free messages; (None, []) when none are free.
        ``document`` is the request's (``{"ttl", "grace"}``; None: no body)
        and ``limit`` the query's, both unvalidated (absent: defaults).
        ``wait`` (seconds, at most validation.MAX_WAIT): when none are free,
        answer as soon as some are claimed, or after ``wait`` seconds."""
        ttl, grace, limit = validation.claim_request(document, limit, self.limits)
        wait = validation.wait_seconds(wait)
        cid, claimed = self._long_poll(project, queue, wait, lambda record: self._claim(
            project, queue, record, ttl, grace, limit, client_id), lambda found: found[1],
            first=False) or (None, [])
        now = self._store.now()
        return (cid if claimed else None), [_render(m, now) for m in claimed]

    def _long_poll(self, project: str, queue: str, wait: int,
                   attempt: Callable[[QueueRecord], Any], found: Callable[[Any], Any],
                   first: bool) -> Any:
        """``attempt(record)`` until ``found`` says it found something or
        ``wait`` seconds pass (longpoll.Pollers: while requests wait on a
        queue, one listing per interval and process looks for them). Unless
        ``first``, a queue a look found empty within the interval is not
        looked at again: the result is then None."""
        key = (project, queue)
        deadline = self.pollers.deadline(wait)
        validation.queue_name(queue, self.limits)
        record = self.pollers.known_empty(key) if wait and not first else None
        result = None
        if record is None:
            record = self._record(project, queue)
            result = attempt(record)
            if not wait or found(result):
                return result
            self.pollers.found_empty(key, record)

        def check() -> bool:
            return self._store_for(record).claimable(project, queue, record)
        while self.pollers.wait(key, check, deadline, record):
            record = self._record(project, queue)
            result = attempt(record)
            if found(result):
                return result
            self.pollers.found_empty(key, record)
        return result

    def _claim(self, project: str, queue: str, record: QueueRecord, ttl: int,
               grace: int, limit: int, client_id: str) -> tuple[str, list[StoredMessage]]:
        meta = self._with_defaults(record.metadata)
        dlq = meta.get(RESERVED_DLQ)
        max_claims = (meta.get('_max_claim_count') or 0) if dlq else 0
        cid, claimed, dead = self._store_for(record).claim(project, queue, record, ttl,
                                                           grace, limit, max_claims)
        if dead:
            self._dead_letter(project, queue, record, dlq, meta, cid, dead, client_id)
        return cid, claimed

    def _dead_letter(self, project: str, queue: str, record: QueueRecord, dlq: str,
                     meta: dict[str, Any], cid: str, dead: list[StoredMessage],
                     client_id: str) -> None:
        """Move messages claimed too often: post to the DLQ first, then delete,
        so a failure in between duplicates a message but never loses one."""
        ttl = meta.get('_dead_letter_queue_messages_ttl')
        target = self._record(project, dlq)
        if not target.exists:
            self._catalog.create(project, dlq, {}, target)
            target = self._record(project, dlq)
        for key in {m.client_key for m in dead}:   # keep each poster's identity
            self._store_for(target).post(project, dlq, target, None, [
                (m.body, ttl or m.ttl, 0) for m in dead if m.client_key == key],
                client_key=key)
        self._store_for(record).delete(project, queue, record, [m.id for m in dead],
                                       [cid], check_claims=True)

    def get_claim(self, project: str, queue: str,
                  claim_id: str) -> dict[str, Any]:
        """The claim document; ClaimNotFound when missing or expired."""
        record = self._record(project, queue)
        claim = self._live_claim(project, queue, record, claim_id)
        messages = self._store_for(record).claimed_messages(project, queue, record, claim)
        if not messages:   # as Zaqar: a claim is the messages it holds
            raise errors.ClaimNotFound('Claim %s holds no messages any more.' % claim_id)
        now = self._store.now()
        return {'id': claim.claim_id, 'ttl': claim.ttl, 'grace': claim.grace,
                'age': int(now - claim.renewed),
                'messages': [_render(m, now) for m in messages]}

    def _live_claim(self, project: str, queue: str, record: QueueRecord,
                    claim_id: str) -> ClaimRecord:
        """The claim, if it is live on the queue as it is now: a claim made
        before the queue was deleted, recreated or purged is gone."""
        claim = self._store_for(record).read_claim(project, queue, record, claim_id)
        if claim is None:
            raise errors.ClaimNotFound('Claim %s does not exist or has expired.'
                                       % claim_id)
        return claim

    def update_claim(self, project: str, queue: str, claim_id: str, document: Any) -> None:
        """Renew a claim (its age restarts; messages live at least ttl+grace);
        ``document`` is the request's ``{"ttl", "grace"}`` (required)."""
        ttl, grace = validation.claim_renewal(document, self.limits)
        record = self._record(project, queue)
        claim = self._live_claim(project, queue, record, claim_id)
        self._store_for(record).renew(project, queue, claim, ttl, grace)

    def delete_claim(self, project: str, queue: str, claim_id: str) -> None:
        """Release a claim (missing claim: no error)."""
        record = self._record(project, queue)
        claim = self._store_for(record).read_claim(project, queue, record, claim_id)
        if claim is not None:
            self._store_for(record).release(project, queue, claim)


def _iso(epoch: float) -> str:
    stamp = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return stamp.strftime('%Y-%m-%dT%H:%M:%SZ')


def _render(message: StoredMessage, now: float) -> dict[str, Any]:
    return {'id': message.id, 'body': message.body, 'ttl': message.ttl,
            'age': max(0, int(now - message.created)), 'claim_id': message.claim_id,
            'claim_count': message.claim_count}
