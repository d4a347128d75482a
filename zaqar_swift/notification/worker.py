"""The notification worker: delivers the messages of subscribed queues.

Where the work comes from: the posted batches themselves (durable in Swift
once POST answered 201) and, per queue, a delivery state object (marks and
progress per subscription, storage/swift/delivery.py). A pass, for each
queue of the subscribed index whose lease this worker holds (or takes):

1. list the queue's batches from the lowest mark of its subscriptions
   (a bounded listing), minus a trailing ``window`` (batches sort by the
   clock of the API node that posted them: a batch posted by a lagging
   node lands below newer ones, and is still found while it is inside the
   window);
2. for each batch and subscription that still needs it (not delivered, not
   in flight, not waiting for a retry, the subscriber not failing), GET the
   bodies once and hand the deliveries to a thread pool, at most
   ``max_per_subscriber`` at once per subscriber;
3. apply the results that came back: progress, failures with their next try
   (the retry policy), then move each mark up to the first batch not done
   yet (never above now − window) and write the state if it changed.

A post through this process wakes the worker at once (``wake``); posts
through other processes are seen within ``poll_interval``. At least once:
a delivery that happened but whose state write did not (a crash, a lost
lease) is delivered again; see doc/design.md.
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import functools
import logging
import queue as queue_module
import threading
import time
from typing import Any, Callable

from zaqar_swift import errors
from zaqar_swift import signed_urls
from zaqar_swift.notification import retry
from zaqar_swift.notification import senders
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift import views
from zaqar_swift.storage.swift.delivery import DeliveryStore
from zaqar_swift.storage.swift.purger import Worker
from zaqar_swift.storage.swift.queues import Catalog, QueueRecord
from zaqar_swift.storage.swift.store import MessageStore
from zaqar_swift.storage.swift.subscriptions import StoredSubscription, SubscriptionStore

LOG = logging.getLogger(__name__)
QueueKey = tuple[str, str]
ROWS_PER_PASS = 10000
STATE_LIFE = 15 * 86400    # the state outlives any message (max ttl 14 days)


@dataclasses.dataclass
class Settings:
    """The ``[notification]`` options the worker runs with."""

    poll_interval: float = 1.0
    index_interval: float = 5.0
    lease_ttl: float = 30.0
    window: float = 10.0
    max_workers: int = 16
    max_per_subscriber: int = 4
    max_pending: int = 1000
    require_confirmation: bool = False
    signing_key: str | None = None
    external_url: str | None = None


@dataclasses.dataclass
class SubState:
    """Delivery state of one subscription (persisted in ``n/state``)."""

    mark: int
    progress: dict[str, int] = dataclasses.field(default_factory=dict)
    fail: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def doc(self) -> dict[str, Any]:
        return {'mark': self.mark, 'progress': self.progress, 'fail': self.fail}


@dataclasses.dataclass
class Held:
    """A queue whose lease this worker holds, and what it knows of it."""

    project: str
    queue: str
    lease_until: float
    state: dict[str, SubState]
    subs: dict[str, StoredSubscription] = dataclasses.field(default_factory=dict)
    etags: dict[str, str] = dataclasses.field(default_factory=dict)
    subs_at: float = -1e9
    inflight: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    dirty: bool = False
    written_at: float = -1e9


@dataclasses.dataclass(frozen=True)
class Result:
    key: QueueKey
    sid: str
    batch: str
    upto: int
    outcome: senders.Outcome
    policy: dict[str, Any]


def _unpooled(store: MessageStore, record: QueueRecord) -> MessageStore:
    """``store``, for a queue of no pool: a worker without pools must not
    read a pooled queue in the wrong Swift (and find nothing to deliver)."""
    if record.pool:
        raise errors.StorageUnavailable('Queue of pool %s, but pooling is disabled '
                                        'in this process.' % record.pool)
    return store


class NotificationWorker(Worker):
    """Delivers notifications; ``run_once`` for tests, ``run_forever`` in
    the service (woken at once by ``wake`` and by finished deliveries)."""

    name = 'notification-worker'
    resource = 'queues'    # /v2/<resource>/...: what it delivers (queues or topics)

    def __init__(self, catalog: Catalog, store: MessageStore, subs: SubscriptionStore,
                 delivery: DeliveryStore, send: senders.Senders, settings: Settings,
                 monotonic: Callable[[], float] = time.monotonic,
                 stores: Callable[[QueueRecord], MessageStore] | None = None) -> None:
        super().__init__(settings.poll_interval)
        self._catalog, self._store, self._subs = catalog, store, subs
        # The store of a queue's pool (the service's seam); delivery state
        # and leases stay beside the subscriptions, on the service's Swift.
        self._store_for = stores or functools.partial(_unpooled, store)
        self._delivery, self._send, self.settings = delivery, send, settings
        self._monotonic = monotonic
        self._pool = concurrent.futures.ThreadPoolExecutor(settings.max_workers,
                                                           thread_name_prefix='notify')
        self._results: queue_module.SimpleQueue[Result] = queue_module.SimpleQueue()
        self._wakeup = threading.Event()
        self._lock = threading.Lock()
        self._woken: set[QueueKey] = set()
        self._queues: set[QueueKey] = set()
        self._index_at = -1e9
        self._held: dict[QueueKey, Held] = {}
        self._skip_until: dict[QueueKey, float] = {}
        self._next_poll: dict[QueueKey, float] = {}
        self._busy: collections.Counter[str] = collections.Counter()
        self.delivered = 0
        self._swift_requests = 0

    def stats(self) -> dict[str, int]:
        """Notifications delivered, queues held, and the Swift requests of
        the worker's thread (``/v2/health`` shows it to admins)."""
        return {'delivered': self.delivered, 'queues_held': len(self._held),
                'swift_requests': self._swift_requests}

    def use_trusts(self, trusts: Any) -> None:
        """Deliver to trust+http(s) subscribers with ``trusts.token``."""
        self._send.trusted = senders.Trusted(self._send.webhook, trusts.token)

    # -- what the core calls (Notifier) ---------------------------------------------------
    def wake(self, project: str, queue: str) -> None:
        with self._lock:
            self._woken.add((project, queue))
        self._wakeup.set()

    def watch(self, project: str, queue: str) -> None:
        with self._lock:
            self._queues.add((project, queue))
            self._woken.add((project, queue))
            held = self._held.get((project, queue))
            if held is not None:
                held.subs_at = -1e9
        self._wakeup.set()

    def confirm(self, project: str, queue: str, subscription: StoredSubscription,
                unsubscribed: bool = False) -> None:
        """Send a confirmation request (best effort, not durable, as Zaqar)."""
        if not self.settings.require_confirmation:
            return
        if not self.settings.signing_key:
            LOG.error('require_confirmation is set but [signed_url] secret_key is not: '
                      'no confirmation request sent')
            return
        message = self._confirmation(project, queue, subscription, unsubscribed)
        self._pool.submit(self._send.send, subscription.subscriber, message,
                          subscription.options)

    def _confirmation(self, project: str, queue: str, sub: StoredSubscription,
                      unsubscribed: bool) -> dict[str, Any]:
        path = '/v2/%s/%s/subscriptions/%s/confirm' % (self.resource, queue, sub.id)
        signed = signed_urls.create(self.settings.signing_key, [path], project,
                                    methods=['PUT'])
        kind = 'UnsubscribeConfirmation' if unsubscribed else 'SubscriptionConfirmation'
        text = ('You have unsubscribed successfully to the queue: %s, you can resubscribe '
                'it by using confirmed=True.' if unsubscribed else
                'You have chosen to subscribe to the queue: %s') % queue
        message = {'Message_Type': kind, 'Message': text, 'queue_name': queue,
                   'URL-Signature': signed['signature'], 'URL-Methods': 'PUT',
                   'URL-Paths': path, 'X-Project-ID': project,
                   'URL-Expires': signed['expires'],
                   'SubscribeBody': {'confirmed': True},
                   'UnsubscribeBody': {'confirmed': False}}
        if self.settings.external_url:
            message['WSGISubscribeURL'] = self.settings.external_url.rstrip('/') + path
        return message

    # -- the loop ------------------------------------------------------------------------
    def stop(self) -> None:
        super().stop()
        self._wakeup.set()

    def run_forever(self) -> None:
        while not self._stopped.is_set():
            self._wakeup.clear()
            try:
                self.run_once()
            except errors.StorageUnavailable as exc:
                LOG.warning('%s: storage unavailable: %s', self.name, exc.description)
            except Exception:
                LOG.exception('%s: pass failed', self.name)
            self._wakeup.wait(self.settings.poll_interval)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run_once(self) -> int:
        """One pass over the subscribed queues; returns the deliveries that
        finished since the last pass."""
        self._subs.reset_count()
        try:
            return self._run_once()
        finally:
            self._swift_requests += self._subs.count()

    def _run_once(self) -> int:
        done = self._apply_results()
        self.delivered += done
        now = self._monotonic()
        if now - self._index_at >= self.settings.index_interval:
            self._index_at = now
            indexed = set(self._subs.indexed(limit=100000))
            with self._lock:
                self._queues = indexed | set(self._woken)
        with self._lock:
            woken, self._woken = self._woken, set()
            queues = sorted(self._queues | woken)
        for key in queues:
            if key in woken or now >= self._next_poll.get(key, 0):
                self._next_poll[key] = now + self.settings.poll_interval
                self._pass(key)
        return done

    # -- one queue --------------------------------------------------------------------
    def _pass(self, key: QueueKey) -> None:
        held = self._hold(key)
        if held is None:
            return
        try:
            record = self._catalog.get(*key)
            if not self._refresh_subs(held, record):
                return
            self._deliver(held, record)
            self._save(held)
        except errors.StorageUnavailable as exc:
            LOG.warning('%s: %s/%s: %s', self.name, key[0], key[1], exc.description)
        except Exception:   # one broken queue must not hold up the others
            LOG.exception('%s: pass of %s/%s failed', self.name, key[0], key[1])

    def _target(self, key: QueueKey) -> Any:
        return self._store.container(*key)

    def _hold(self, key: QueueKey) -> Held | None:
        """The queue's lease, taken or renewed as needed; None if another
        worker has it."""
        now, ttl = self._monotonic(), self.settings.lease_ttl
        held = self._held.get(key)
        if held is not None and held.lease_until - now > ttl / 2:
            return held
        if held is not None:
            if self._delivery.renew(self._target(key), ttl):
                held.lease_until = now + ttl
                return held
            self._drop(key)
            return None
        if now < self._skip_until.get(key, 0):
            return None
        if not self._delivery.acquire(self._target(key), ttl):
            self._skip_until[key] = now + ttl / 3
            return None
        state = self._delivery.read_state(self._target(key)).get('subs', {})
        held = Held(key[0], key[1], now + ttl, {
            sid: SubState(int(s['mark']), dict(s.get('progress', {})),
                          {b: list(f) for b, f in s.get('fail', {}).items()})
            for sid, s in state.items()})
        self._held[key] = held
        return held

    def _drop(self, key: QueueKey) -> None:
        self._held.pop(key, None)

    def _refresh_subs(self, held: Held, record: QueueRecord) -> bool:
        """Re-read the subscriptions now and then (a LIST, and a GET of each
        one that changed). False when the queue has none left: it leaves
        the index."""
        now = self._monotonic()
        if now - held.subs_at < self.settings.index_interval:
            return bool(held.subs)
        held.subs_at = now
        key = (held.project, held.queue)
        rows = list(self._subs.rows(held.project, held.queue, record))
        subs = {}
        for row in rows:
            if held.etags.get(row.id) == row.etag and row.id in held.subs:
                subs[row.id] = held.subs[row.id]
                continue
            sub = self._subs.get(held.project, held.queue, record, row.id)
            if sub is not None:
                subs[row.id], held.etags[row.id] = sub, row.etag
        held.subs = subs
        for sid in list(held.state):
            if sid not in subs:
                del held.state[sid]
                held.dirty = True
        for sid in subs:
            if sid not in held.state:
                held.state[sid] = SubState(naming.subscription_micros(sid))
                held.dirty = True
        if not subs:
            self._forget(key, record)
            return False
        return True

    def _forget(self, key: QueueKey, record: QueueRecord) -> None:
        """No subscription left: leave the index; if one was made meanwhile,
        come back (its creator indexes it after writing it, so one of the
        two sees the other)."""
        self._subs.unindex(*key)
        if any(True for _ in self._subs.rows(key[0], key[1], record)):
            self._subs.index(*key)
            return
        self._delivery.release(self._target(key))
        self._drop(key)
        with self._lock:
            self._queues.discard(key)

    def _eligible(self, held: Held) -> dict[str, StoredSubscription]:
        """The subscriptions to deliver to; with confirmation required, the
        confirmed ones, from the moment they were confirmed on."""
        if not self.settings.require_confirmation:
            return held.subs
        eligible = {sid: s for sid, s in held.subs.items() if s.confirmed}
        for sid, sub in eligible.items():
            state, floor = held.state[sid], int(sub.confirmed_at * 1e6)
            if state.mark < floor:
                state.mark, held.dirty = floor, True
                low = naming.batch_id(floor, 0)
                state.progress = {b: n for b, n in state.progress.items() if b >= low}
                state.fail = {b: f for b, f in state.fail.items() if b >= low}
        return eligible

    def _deliver(self, held: Held, record: QueueRecord) -> None:
        subs = self._eligible(held)
        wall = self._subs.now()
        self._skip_unconfirmed(held, subs, wall)
        if not subs:
            return
        start = min(held.state[sid].mark for sid in subs)
        batches, cut_short = self._store_for(record).batches_from(
            held.project, held.queue, record, start, ROWS_PER_PASS)
        if not cut_short:
            self._forget_vanished(held, subs, {v.batch for v in batches})
        tasks = self._plan(held, subs, batches, wall)
        if tasks:
            self._submit(held, record, tasks, {v.batch: v for v in batches})
        self._advance(held, subs, batches, cut_short, wall)

    def _skip_unconfirmed(self, held: Held, subs: dict[str, StoredSubscription],
                          wall: float) -> None:
        """An unconfirmed subscription gets nothing: what is posted before
        it is confirmed is passed over (as Zaqar, which notifies only the
        confirmed at post time; a post in the last poll interval before the
        confirmation may still be delivered)."""
        ceiling = int(wall * 1e6)
        for sid, state in held.state.items():
            if sid not in subs and state.mark < ceiling:
                state.mark, state.progress, state.fail = ceiling, {}, {}
                held.dirty = True

    @staticmethod
    def _forget_vanished(held: Held, subs: dict[str, StoredSubscription],
                         listed: set[str]) -> None:
        """A failing batch that is gone (deleted, expired, purged) is not
        retried any more: it would hold its subscriber up for ever."""
        for sid in subs:
            state = held.state[sid]
            for batch in [b for b in state.fail if b not in listed]:
                del state.fail[batch]
                held.dirty = True

    def _complete(self, held: Held, sid: str, view: views.BatchView, wall: float) -> bool:
        if wall >= max(view.expires_at(i) for i in view.indexes()):
            return True   # every message expired: nothing left to deliver
        return held.state[sid].progress.get(view.batch, 0) >= view.info.size

    def _plan(self, held: Held, subs: dict[str, StoredSubscription],
              batches: list[views.BatchView], wall: float) -> dict[str, list[tuple[str, int]]]:
        """batch -> [(subscription, first message to send)] for this pass."""
        tasks: dict[str, list[tuple[str, int]]] = {}
        for sid in subs:
            state = held.state[sid]
            failing = min(state.fail) if state.fail else None
            room = self.settings.max_per_subscriber - self._busy[sid]
            for view in batches:
                if room <= 0 or naming.batch_micros(view.batch) < state.mark:
                    continue
                if (sid, view.batch) in held.inflight or self._complete(held, sid, view, wall):
                    continue
                if failing is not None and (view.batch != failing
                                            or state.fail[failing][1] > wall):
                    continue   # a failing subscriber: only its oldest batch, when due
                if len(state.progress) >= self.settings.max_pending and \
                        view.batch not in state.progress:
                    continue
                tasks.setdefault(view.batch, []).append(
                    (sid, state.progress.get(view.batch, 0)))
                room -= 1
        return tasks

    def _submit(self, held: Held, record: QueueRecord, tasks: dict[str, list[tuple[str, int]]],
                found: dict[str, views.BatchView]) -> None:
        bodies = self._store_for(record).bodies(held.project, held.queue, sorted(tasks))
        queue_policy = record.metadata.get('_retry_policy')
        key = (held.project, held.queue)
        for batch, wanted in tasks.items():
            view = found[batch]
            for sid, first in wanted:
                if batch not in bodies:   # deleted before it was delivered
                    held.state[sid].progress[batch] = view.info.size
                    held.dirty = True
                    continue
                messages = [senders.notification(body, view.info.ttls[i], held.queue)
                            for i, body in enumerate(bodies[batch])]
                sub = held.subs[sid]
                policy = retry.effective(queue_policy, sub.options.get('_retry_policy'))
                held.inflight.add((sid, batch))
                self._busy[sid] += 1
                self._pool.submit(self._run, key, sub, batch, first, messages, policy)

    def _run(self, key: QueueKey, sub: StoredSubscription, batch: str, first: int,
             messages: list[dict[str, Any]], policy: dict[str, Any]) -> None:
        """In a pool thread: send the batch's messages from ``first`` on, in
        order, stopping at the first failure worth retrying."""
        outcome, index = senders.DELIVERED, first
        try:
            for index in range(first, len(messages)):
                outcome = self._send.send(sub.subscriber, messages[index], sub.options)
                if not outcome.delivered and outcome.retry:
                    break
                if not outcome.delivered:
                    LOG.warning('%s: %s refused a notification for good: %s', self.name,
                                sub.subscriber, outcome.detail)
            else:
                index = len(messages)
        except Exception as exc:   # a sender bug must not lose the result
            LOG.exception('%s: delivery to %s failed', self.name, sub.subscriber)
            outcome = senders.Outcome(False, True, repr(exc))
        self._results.put(Result(key, sub.id, batch, index, outcome, policy))
        self.wake(*key)   # its queue has room again: plan at once

    def _apply_results(self) -> int:
        done, wall = 0, self._subs.now()
        while True:
            try:
                result = self._results.get_nowait()
            except queue_module.Empty:
                return done
            self._busy[result.sid] -= 1
            held = self._held.get(result.key)
            if held is None or result.sid not in held.state:
                continue
            held.inflight.discard((result.sid, result.batch))
            state, held.dirty = held.state[result.sid], True
            delivered = result.upto - state.progress.get(result.batch, 0)
            state.progress[result.batch] = max(result.upto, state.progress.get(result.batch, 0))
            done += max(0, delivered)
            if result.outcome.delivered or not result.outcome.retry:
                state.fail.pop(result.batch, None)
                continue
            failures = int(state.fail.get(result.batch, [0, 0])[0]) + 1
            wait = retry.delay(result.policy, failures)
            state.fail[result.batch] = [failures, wall + wait]
            sub = held.subs.get(result.sid)
            LOG.info('%s: %s failed (%s); retry %d in %.0f s', self.name,
                     sub.subscriber if sub else result.sid, result.outcome.detail, failures,
                     wait)

    def _advance(self, held: Held, subs: dict[str, StoredSubscription],
                 batches: list[views.BatchView], cut_short: bool, wall: float) -> None:
        """Move each mark to the first batch not done (at most now − window)."""
        ceiling = int((wall - self.settings.window) * 1e6)
        if cut_short and batches:
            ceiling = min(ceiling, naming.batch_micros(batches[-1].batch))
        for sid in subs:
            state = held.state[sid]
            mark = ceiling
            for view in batches:
                micros = naming.batch_micros(view.batch)
                if micros >= state.mark and not self._complete(held, sid, view, wall):
                    mark = min(mark, micros)
                    break
            if mark > state.mark:
                state.mark = mark
                low = naming.batch_id(mark, 0)
                state.progress = {b: n for b, n in state.progress.items() if b >= low}
                state.fail = {b: f for b, f in state.fail.items() if b >= low}
                held.dirty = True

    def _save(self, held: Held) -> None:
        now = self._monotonic()
        if not held.dirty or (held.inflight and now - held.written_at < 0.5):
            return
        self._delivery.write_state(self._target((held.project, held.queue)),
                                   {'subs': {sid: s.doc() for sid, s in held.state.items()}},
                                   STATE_LIFE)
        held.dirty, held.written_at = False, now
