"""The claim algorithm: how claims take, renew and release messages in Swift,
which has no compare-and-swap.

A batch's claim state is the merge of the objects of its newest generation
(``m/<batch>/g<n>.<writer>``; views.py merges them). Every change to it is a
*round*, and a round reads top to bottom in :meth:`Claims.take` and
:meth:`Claims._change_held`:

1. **read**    list the batches; reading and writing are serialised per queue
               in this process (:class:`QueueLocks`).
2. **extend**  a state that keeps messages longer than the body's
               X-Delete-At first moves the body's X-Delete-At (one POST), so
               no state object that exists promises more than the body has;
               if that fails, nothing is written and the request fails.
3. **write**   PUT generation n+1 under a name of the writer's own; a write
               that came back later than the settle delay after the read is
               withdrawn (deleted, not counted on).
4. **settle**  wait the settle delay Δ.
5. **verify**  list the batches again: a write whose change the merged
               newest state carries has won.
6. **tidy**    delete lost writes; write out a "ghost" (a withdrawn claim a
               reader carried forward before the withdrawal); drop state
               generations nobody reads any more.

doc/design.md ("Claims") argues why this is exclusive and what it costs;
functional/test_claim_rounds.py reaches every branch on purpose.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import json
import logging
import math
import threading
import weakref
from typing import Any, Callable

from zaqar_swift import errors
from zaqar_swift import metrics
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import encoding
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift import views
from zaqar_swift.storage.swift.clock import Clock
from zaqar_swift.storage.swift.queues import QueueRecord
from zaqar_swift.storage.swift.reader import QueueReader, RowBudget

LOG = logging.getLogger(__name__)

ATTEMPTS = 4         # rounds one API request may spend before giving up
WRITERS = 8          # threads writing one round's batches side by side
STALE_LIMIT = 8      # stale state objects a batch may keep before a tidy-up
TAKE, RENEW, RELEASE = 'take', 'renew', 'release'


@dataclasses.dataclass(frozen=True)
class ClaimRecord:
    """The claim record object ``c/<claim id>``: the claim's terms and the
    messages it took."""

    claim_id: str
    ttl: int
    grace: int
    renewed: float        # when the claim was made or last renewed (its age)
    expires: int          # whole epoch seconds, as in the batch states
    message_ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Intent:
    """What every round of one request writes into a batch's state."""

    kind: str             # TAKE, RENEW or RELEASE
    claim_id: str
    expires: int = 0      # TAKE and RENEW: the claim's new expiry
    grace: int = 0

    def apply(self, view: views.BatchView, indexes: list[int], now: float
              ) -> encoding.BatchState:
        """The state to write: ``view``'s state with this change. TAKE holds
        ``indexes``; RENEW extends the messages the claim holds that are not
        gone (a deleted message's life is never extended); RELEASE drops
        the claim."""
        if self.kind == RELEASE:
            return _without(view.state, self.claim_id)
        if self.kind == TAKE:
            mask = sum(1 << i for i in indexes)
            return _with_claim(view, encoding.Claim(self.claim_id, self.expires, self.grace,
                                                    mask), indexes, now, count=True)
        old = view.state.claim(self.claim_id)
        held = [i for i in view.indexes()
                if old and old.holds(i) and view.status(i, now) != views.GONE]
        return _with_claim(view, encoding.Claim(self.claim_id, self.expires, self.grace,
                                                old.mask if old else 0), held, now,
                           count=False)

    def carried(self, state: encoding.BatchState) -> bool:
        """Whether a (merged) state has this change in it."""
        mine = state.claim(self.claim_id)
        if self.kind == TAKE:
            return mine is not None and mine.mask != 0
        if self.kind == RENEW:
            return mine is None or mine.expires == self.expires
        return mine is None


@dataclasses.dataclass(frozen=True)
class Write:
    """One state object a round wrote (``name`` None: withdrawn)."""

    view: views.BatchView     # the batch as the writer read it
    name: str | None


@dataclasses.dataclass
class Free:
    """What a claimer's read found: free messages of settled batches, and
    whether a batch with free messages was too young to build on."""

    views: dict[str, views.BatchView] = dataclasses.field(default_factory=dict)
    picks: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    young: bool = False

    @property
    def count(self) -> int:
        return sum(map(len, self.picks.values()))


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How a round ended: the newest view of each batch that carries the
    change, and the batches where it did not take."""

    won: dict[str, views.BatchView]
    lost: set[str]


class _QueueLock:
    __slots__ = ('_lock', '__weakref__')

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> '_QueueLock':
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class QueueLocks:
    """One lock per queue container in this process, alive while in use, so
    claims on one queue never wait for another queue's Swift requests."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def hold(self, target: swift.Target) -> _QueueLock:
        with self._guard:
            lock = self._locks.get(target)
            if lock is None:
                lock = self._locks[target] = _QueueLock()
            return lock


class Claims:
    """Claim rounds and claim records of queue containers."""

    def __init__(self, client: swift.SwiftClient, reader: QueueReader, settle: float,
                 clock: Clock, sleep: Callable[[float], None], bulk_delete: bool = True
                 ) -> None:
        self._client = client
        self._reader = reader
        self._settle = settle
        self._clock = clock
        self._sleep = sleep
        self._bulk = bulk_delete
        self._locks = QueueLocks()
        self._pool = concurrent.futures.ThreadPoolExecutor(WRITERS, 'claim-writer')

    # -- taking free messages ---------------------------------------------------
    def take(self, target: swift.Target, record: QueueRecord, intent: Intent, limit: int,
             budget: RowBudget) -> dict[str, tuple[views.BatchView, list[int]]]:
        """Claim up to ``limit`` free messages for ``intent`` (a TAKE).
        Returns, per batch, the view as read (claim counts before this
        claim) and the indexes this claim now holds."""
        won: dict[str, tuple[views.BatchView, list[int]]] = {}
        for _ in range(ATTEMPTS):
            need = limit - sum(len(indexes) for _, indexes in won.values())
            if need <= 0:
                break
            with self._locks.hold(target):                                  # 1. read
                started = self._clock.monotonic()
                free = self._free(target, record, need, won, budget)
                writes = self._write(target, intent, free.views, free.picks, started)  # 2, 3
            if not writes:
                if not free.young:
                    break
                self._sleep(2 * self._settle)   # only unsettled batches: wait once
                continue
            verdict = self._settle_and_verify(target, intent, writes)       # 4, 5, 6
            now = self._clock.time()
            for batch, after in verdict.won.items():
                mask = after.state.claim(intent.claim_id).mask
                held = [i for i in free.picks[batch]
                        if mask >> i & 1 and after.status(i, now) != views.GONE]
                if held:
                    won[batch] = (free.views[batch], held)
        return won

    def _free(self, target: swift.Target, record: QueueRecord, need: int,
              exclude: dict, budget: RowBudget) -> Free:
        """Free messages from the cut on. A batch whose newest state write is
        younger than 2Δ is skipped: a racing write of that generation may
        still land, and nobody may build on a state that can still change."""
        now, free = self._clock.time(), Free()
        for view in self._reader.scan(target, naming.cut_marker(record.cut), budget):
            indexes = [i for i in view.indexes() if view.status(i, now) == views.FREE]
            if view.batch in exclude or not indexes:
                continue
            if now - view.newest_write() < 2 * self._settle:
                free.young = True
                continue
            free.views[view.batch] = view
            free.picks[view.batch] = indexes[:need - free.count]
            if free.count >= need:
                break
        return free

    # -- renewing and releasing -------------------------------------------------
    def renew(self, target: swift.Target, claim: ClaimRecord, expires: int,
              grace: int) -> bool:
        """Give the claim's live messages the new expiry; False when it holds
        no live message any more."""
        return self._change_held(target, claim, Intent(RENEW, claim.claim_id, expires, grace))

    def release(self, target: swift.Target, claim: ClaimRecord) -> None:
        """Free the claim's messages."""
        self._change_held(target, claim, Intent(RELEASE, claim.claim_id))

    def _change_held(self, target: swift.Target, claim: ClaimRecord, intent: Intent) -> bool:
        """Apply ``intent`` to every batch where the claim holds a live
        message, again for batches whose write lost to a concurrent writer."""
        pending = {naming.split_message_id(m)[0] for m in claim.message_ids}
        budget = self._reader.budget()
        for attempt in range(ATTEMPTS):
            with self._locks.hold(target):                                  # 1. read
                started, now = self._clock.monotonic(), self._clock.time()
                held = {b: v for b, v in self._reader.batches(target, pending, budget).items()
                        if _holds_live(v, claim.claim_id, now)}
                if not held:
                    return attempt > 0
                writes = self._write(target, intent, held,                  # 2, 3
                                     {b: list(v.indexes()) for b, v in held.items()}, started)
            verdict = self._settle_and_verify(target, intent, writes)       # 4, 5, 6
            pending = set(held) - set(verdict.won)
            if not pending:
                return True
        raise errors.Conflict('The claim is being changed concurrently; try again.')

    # -- the steps of a round ---------------------------------------------------
    def _write(self, target: swift.Target, intent: Intent,
               read: dict[str, views.BatchView], indexes: dict[str, list[int]],
               started: float) -> list[Write]:
        """Steps 2 and 3 for every batch read, the batches in parallel (a
        round that touches many batches still writes within Δ of its read).
        When Swift fails for one batch, the others' writes are withdrawn
        before the error goes up."""
        now = self._clock.time()
        calls = [functools.partial(self._write_state, target, view,
                                   intent.apply(view, indexes[batch], now), started)
                 for batch, view in read.items()]
        outcomes = self._parallel(calls)
        writes = [o for o in outcomes if isinstance(o, Write)]
        failures = [o for o in outcomes if isinstance(o, Exception)]
        if failures:
            for write in writes:
                if write.name:
                    self._delete_quietly(target, write.name)
            raise failures[0]
        return writes

    def _parallel(self, calls: list[Callable[[], Any]]) -> list[Any]:
        """Each call's result or exception, the calls run side by side on the
        writer pool; their Swift requests count for this thread."""
        if len(calls) == 1:
            return [_outcome(calls[0])]
        counted = self._pool.map(functools.partial(_counted, self._client), calls)
        outcomes = []
        for outcome, requests in counted:
            self._client.add_thread_count(requests)
            outcomes.append(outcome)
        return outcomes

    def _write_state(self, target: swift.Target, view: views.BatchView,
                     state: encoding.BatchState, started: float) -> Write | None:
        """Extend the body if ``state`` needs it, then PUT generation n+1.
        None when the body is gone (nothing to claim)."""
        needed = view.object_expiry(state)
        if needed > view.object_expiry():
            try:
                self._client.post_object(target, naming.batch_object(view.batch),
                                         {'X-Delete-At': str(needed)})
            except swift.Missing:
                return None
        name = naming.gen_object(view.batch, view.gen + 1, self._clock.nonce(32))
        self._client.put_object(target, name, b'', encoding.encode_state(state),
                                {'X-Delete-At': str(needed)})
        if self._clock.monotonic() - started <= self._settle:
            return Write(view, name)
        # It may have landed after a racing writer verified, or after a reader
        # built on this generation: it must not count (design.md, "Claims").
        LOG.info('state write %s came later than the settle delay; withdrawn', name)
        metrics.claim_write('withdrawn')
        self._client.delete_object(target, name)
        return Write(view, None)

    def _settle_and_verify(self, target: swift.Target, intent: Intent,
                           writes: list[Write]) -> Verdict:
        """Steps 4 to 6."""
        self._sleep(self._settle)
        after = self._reader.batches(target, [w.view.batch for w in writes],
                                     self._reader.budget())
        won: dict[str, views.BatchView] = {}
        for write in writes:
            view = after.get(write.view.batch)
            carried = view is not None and intent.carried(view.state)
            if carried and write.name:
                won[view.batch] = view
                metrics.claim_write('won')
            elif write.name:
                metrics.claim_write('lost')
                # A lost write helps nobody, and one a listing did not show
                # yet would otherwise surface later and take messages.
                self._client.delete_object(target, write.name)
            elif carried and intent.kind == TAKE:
                self._exorcise(target, view, intent)
            elif carried:
                won[view.batch] = view   # a withdrawn renewal/release in effect anyway
            if view is not None:
                self._tidy(target, view)
        return Verdict(won, {w.view.batch for w in writes} - set(won))

    def _exorcise(self, target: swift.Target, view: views.BatchView, intent: Intent) -> None:
        """A withdrawn claim that a reader merged before it was withdrawn
        lives on in a newer generation: write it out again (best effort), so
        its messages do not wait for the claim to expire."""
        release = Intent(RELEASE, intent.claim_id)
        metrics.claim_write('exorcised')
        try:
            self._write_state(target, view, release.apply(view, [], self._clock.time()),
                              self._clock.monotonic())
        except errors.StorageUnavailable as exc:
            LOG.warning('ghost claim %s stays until it expires: %s', intent.claim_id,
                        exc.description)

    def _tidy(self, target: swift.Target, view: views.BatchView) -> None:
        """Drop state generations older than the previous one once there are
        enough to matter, so a batch's listing stays a few rows whatever
        the number of renewals."""
        stale = view.stale_names()
        if len(stale) < STALE_LIMIT:
            return
        try:
            self._client.delete_many(target, stale, self._bulk)
        except errors.StorageUnavailable as exc:
            LOG.info('stale state of batch %s stays for now: %s', view.batch, exc.description)

    def _delete_quietly(self, target: swift.Target, name: str) -> None:
        try:
            self._client.delete_object(target, name)
        except errors.StorageUnavailable:
            LOG.warning('withdrawn state write %s could not be deleted', name)

    # -- claim records ------------------------------------------------------------
    def write_record(self, target: swift.Target, claim: ClaimRecord) -> None:
        body = json.dumps({'ttl': claim.ttl, 'grace': claim.grace, 'renewed': claim.renewed,
                           'expires': claim.expires, 'messages': list(claim.message_ids)})
        self._client.put_object(target, naming.claim_object(claim.claim_id),
                                body.encode('utf-8'), 'application/json',
                                {'X-Delete-At': str(claim.expires + 1)})

    def read_record(self, target: swift.Target, record: QueueRecord,
                    claim_id: str) -> ClaimRecord | None:
        """The live claim record, or None: missing, expired, or made before
        the queue was deleted, recreated or purged (its cut)."""
        if not naming.valid_claim_id(claim_id) or not record.exists \
                or naming.claim_micros(claim_id) <= record.cut:
            return None
        try:
            _, data = self._client.get_object(target, naming.claim_object(claim_id))
        except swift.Missing:
            return None
        doc = json.loads(data)
        expires = doc.get('expires') or math.ceil(doc['renewed'] + doc['ttl'])
        claim = ClaimRecord(claim_id, doc['ttl'], doc['grace'], doc['renewed'], expires,
                            tuple(doc['messages']))
        return claim if claim.expires > self._clock.time() else None

    def delete_record(self, target: swift.Target, claim_id: str) -> None:
        self._client.delete_object(target, naming.claim_object(claim_id))


def _with_claim(view: views.BatchView, claim: encoding.Claim, indexes: list[int],
                now: float, count: bool) -> encoding.BatchState:
    """The batch state after ``claim`` (new or renewed) holds ``indexes``."""
    size = view.info.size
    counts = [view.state.count(i) for i in range(size)]
    kept = [view.state.kept_until(i) for i in range(size)]
    for i in indexes:
        counts[i] += 1 if count else 0
        kept[i] = max(kept[i], claim.expires + claim.grace)
    others = tuple(c for c in view.state.claims
                   if c.claim_id != claim.claim_id and c.expires > now)
    return encoding.BatchState(tuple(counts), tuple(kept), others + (claim,))


def _without(state: encoding.BatchState, claim_id: str) -> encoding.BatchState:
    return dataclasses.replace(state, claims=tuple(
        c for c in state.claims if c.claim_id != claim_id))


def _holds_live(view: views.BatchView, claim_id: str, now: float) -> bool:
    claim = view.state.claim(claim_id)
    return claim is not None and any(
        claim.holds(i) and view.status(i, now) != views.GONE for i in view.indexes())


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as exc:   # handed back: the round withdraws, then raises it
        return exc


def _counted(client: swift.SwiftClient, call: Callable[[], Any]) -> tuple[Any, int]:
    """``call``'s outcome on a pool thread, and the Swift requests it made."""
    client.reset_thread_count()
    return _outcome(call), client.thread_count()
