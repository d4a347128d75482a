"""The claim algorithm: how claims take, renew and release messages in Swift,
which has no compare-and-swap.

A batch's claim state is the merge of the objects of its newest generation
(``m/<batch>/g<n>.<writer>``; views.py merges them). Every change to it is a
*round*, and a round reads top to bottom in :meth:`Claims.take` and
:meth:`Claims._change_held`:

1. **read**    list the batches; reading and writing are serialised per queue
               in this process (:class:`QueueLocks`), and the claimers that
               wait for that lock share one round (:class:`Ticket`): one
               listing, one write per batch, one settle wait, one verify.
2. **extend**  a state that keeps messages longer than the body's
               X-Delete-At first moves the body's X-Delete-At (one POST), so
               no state object that exists promises more than the body has;
               if that fails, nothing is written and the request fails.
3. **write**   PUT generation n+1 under a name of the writer's own; a write
               that came back later than the settle delay after the read is
               withdrawn (deleted, not counted on).
4. **settle**  wait the settle delay Δ (a claim round reads the bodies and
               writes the claim records meanwhile).
5. **verify**  list the batches again: a write whose change the merged
               newest state carries has won.
6. **tidy**    delete lost writes; write out a "ghost" (a withdrawn claim a
               reader carried forward before the withdrawal); drop state
               generations nobody reads any more.

doc/design.md ("Claims") argues why this is exclusive and what it costs;
functional/test_claim_rounds.py reaches every branch on purpose.
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import functools
import itertools
import json
import logging
import math
import threading
import weakref
import zlib
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
SHARED = 8           # claimers one shared round serves at most
WAVE = 1             # state writes of a shared round sent side by side
HINT_LIFE = 5.0      # seconds a listing start hint is trusted at most
HINTS = 10000        # queues whose hint a process keeps (least recently used go)
PEER_LIFE = 3.0      # seconds a process counts another claiming the same queue
PEERS = 8            # claiming processes of one queue that split its batches at most
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
class Change:
    """What a round writes into one batch: the new state, made of the
    changes of one or more intents (claimers of one shared round)."""

    view: views.BatchView     # the batch as the round read it
    state: encoding.BatchState
    intents: tuple[Intent, ...]


@dataclasses.dataclass(frozen=True)
class Write:
    """One state object a round wrote (``name`` None: withdrawn)."""

    view: views.BatchView     # the batch as the writer read it
    name: str | None
    intents: tuple[Intent, ...]
    landed: float             # monotonic: its PUT (or its withdrawal) had returned


@dataclasses.dataclass(eq=False)
class Ticket:
    """One claim request's part in shared rounds: its intent, how many
    messages it wants, what it won so far (per batch, the view as read and
    the indexes it holds), and how its last round ended."""

    intent: Intent
    limit: int
    won: dict[str, tuple[views.BatchView, list[int]]] = dataclasses.field(
        default_factory=dict)
    served: threading.Event = dataclasses.field(default_factory=threading.Event)
    bodies: dict[str, list[Any]] = dataclasses.field(default_factory=dict)  # of won batches
    # writes the claim record of the messages picked (called during the settle wait)
    write_record: Callable[[list[str]], None] | None = None
    picked: bool = False          # the last round wrote something for it
    skipped: bool = False         # the last round had no time left to write its picks
    settles: float | None = None  # nothing free but batches settling until then
    error: BaseException | None = None

    @property
    def need(self) -> int:
        return self.limit - sum(len(indexes) for _, indexes in self.won.values())


@dataclasses.dataclass
class Free:
    """What a shared round's read found: free messages of settled batches
    handed out to its tickets, and when the batches with free messages that
    were too young to build on settle."""

    views: dict[str, views.BatchView] = dataclasses.field(default_factory=dict)
    picks: dict[str, list[tuple[Ticket, list[int]]]] = dataclasses.field(
        default_factory=dict)
    settles: float | None = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How a round ended: per batch, the claim ids whose change the merged
    newest state carries, and the batches as the verification read them."""

    won: dict[str, set[str]]
    after: dict[str, views.BatchView]


@dataclasses.dataclass(frozen=True)
class Hint:
    """Where a queue's free messages start, as far as this process knows:
    every batch below ``marker`` was, when listed, wholly gone, held or
    delayed, and stays so until ``until`` (its first hold or delay ends,
    at most HINT_LIFE later). Valid only for the cut it was made under."""

    cut: int
    marker: str
    until: float


class Hints:
    """Listing start hints of the queues this process claims from (an LRU
    of HINTS entries), so a claim lists from where free messages start and
    not from the cut over every batch held or in flight."""

    def __init__(self, size: int = HINTS) -> None:
        self._hints: collections.OrderedDict[swift.Target, Hint] = collections.OrderedDict()
        self._size = size
        self._guard = threading.Lock()

    def start(self, target: swift.Target, record: QueueRecord, now: float) -> str:
        """The marker a claim listing starts after."""
        cut = naming.cut_marker(record.cut)
        with self._guard:
            hint = self._hints.get(target)
        if hint is None or hint.cut != record.cut or now >= hint.until:
            return cut
        return max(cut, hint.marker)

    def remember(self, target: swift.Target, hint: Hint) -> None:
        with self._guard:
            self._hints[target] = hint
            self._hints.move_to_end(target)
            while len(self._hints) > self._size:
                self._hints.popitem(last=False)

    def forget(self, target: swift.Target) -> None:
        """Messages below the hint may be free again (a release, a ghost)."""
        with self._guard:
            self._hints.pop(target, None)


class Peers:
    """The other processes claiming from each queue, as this process saw
    them: the writers of young state objects in its claim listings (a state
    object's writer number starts with its process's token). While others
    claim, each process first takes the settled batches that hash to its
    share, so rounds of several processes rarely write the same batches and
    lose to each other; the others' share is still taken when its own runs
    out. Only a preference: exclusivity is the verify step's, never this."""

    def __init__(self, token: int, size: int = HINTS) -> None:
        self.token = token
        self._seen: collections.OrderedDict[swift.Target, dict[int, float]] = \
            collections.OrderedDict()
        self._size = size
        self._guard = threading.Lock()

    def see(self, target: swift.Target, view: views.BatchView, now: float) -> None:
        """Note the foreign writers of a young view's newest generation."""
        for row in view.gen_rows:
            writer = naming.state_writer(row['name'])
            if writer is not None and writer >> 16 != self.token:
                with self._guard:
                    self._seen.setdefault(target, {})[writer >> 16] = now
                    self._seen.move_to_end(target)
                    while len(self._seen) > self._size:
                        self._seen.popitem(last=False)

    def share(self, target: swift.Target, now: float) -> tuple[int, int]:
        """(this process's place, how many split the queue): (0, 1) alone."""
        with self._guard:
            seen = self._seen.get(target, {})
            for token in [t for t, when in seen.items() if now - when > PEER_LIFE]:
                del seen[token]
            tokens = sorted([self.token] + sorted(seen)[:PEERS - 1])
        return tokens.index(self.token), len(tokens)


def _mine(batch: str, place: int, count: int) -> bool:
    """Whether ``batch`` falls in the share ``place`` of ``count``."""
    return count == 1 or zlib.crc32(batch.encode('ascii')) % count == place


class _QueueLock:
    """The lock of one queue in this process, and the claimers waiting for
    it: whoever gets the lock serves every claimer waiting (a shared round)."""

    __slots__ = ('_lock', '_guard', '_waiting', '__weakref__')

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guard = threading.Lock()
        self._waiting: list[Ticket] = []

    def wait(self, ticket: Ticket) -> None:
        """Queue up for the next round (a ticket skipped by the last one first)."""
        with self._guard:
            self._waiting.insert(0 if ticket.skipped else len(self._waiting), ticket)

    def waiting(self, ticket: Ticket) -> list[Ticket]:
        """Under the lock: the claimers a round started now serves, if
        ``ticket`` is still among them (else another round took it)."""
        with self._guard:
            if ticket not in self._waiting:
                return []
            self._waiting.remove(ticket)
            taken = self._waiting[:SHARED - 1]
            self._waiting = self._waiting[SHARED - 1:]
            return [t for t in taken if t.skipped] + [ticket] + [
                t for t in taken if not t.skipped]

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
        self._hints = Hints()
        self._peers = Peers(clock.nonce(16))
        self._writes = itertools.count(clock.nonce(16))   # writer numbers: token, counter
        self._pool = concurrent.futures.ThreadPoolExecutor(WRITERS, 'claim-writer')

    # -- taking free messages ---------------------------------------------------
    def take(self, target: swift.Target, record: QueueRecord, intent: Intent, limit: int,
             budget: RowBudget,
             write_record: Callable[[list[str]], None] | None = None
             ) -> Ticket:
        """Claim up to ``limit`` free messages for ``intent`` (a TAKE).
        The ticket's ``won`` has, per batch, the view as read (claim counts
        before this claim) and the indexes this claim now holds; its
        ``bodies`` the bodies of those batches read during the settle wait.
        The claimers of this process waiting for the queue share rounds."""
        ticket, attempts, rounds = Ticket(intent, limit, write_record=write_record), 0, 0
        while attempts < ATTEMPTS and rounds < 4 * ATTEMPTS and ticket.need > 0:
            rounds += 1
            self._round(target, record, ticket, budget)
            if ticket.error is not None:
                raise ticket.error
            if ticket.skipped:
                continue          # served first in a later round
            attempts += 1
            if ticket.picked:
                continue
            if ticket.settles is None:
                break
            # Only batches still settling: wait for them, then look again.
            wait = ticket.settles - self._clock.time()
            self._sleep(min(2 * self._settle, max(0.0, wait)))
        return ticket

    def _round(self, target: swift.Target, record: QueueRecord, ticket: Ticket,
               budget: RowBudget) -> None:
        """Serve ``ticket`` in a shared round: lead one (serving every
        claimer waiting for the queue's lock, this one first) or wait for
        the round another claimer leads for it."""
        queue = self._locks.hold(target)
        ticket.served.clear()
        queue.wait(ticket)
        with queue:                                                         # 1. read
            tickets = queue.waiting(ticket)
            try:
                if tickets:
                    started = self._clock.monotonic()
                    free = self._free(target, record, tickets, budget)
                    writes = self._write_in_turn(target, self._changes(free),  # 2, 3
                                                 tickets, started)
            except BaseException as exc:
                _serve(tickets, exc)
                raise
        if not tickets:
            ticket.served.wait()
            return
        try:
            # Bodies never change: read them while the writes settle; and
            # write each claim record now, naming every message picked (a
            # superset of what the claim keeps: readers of a record only
            # ever use the messages the batch states give the claim).
            bodies = self._pool.submit(_counted, self._client, functools.partial(
                self._reader.bodies, target, [w.view.batch for w in writes if w.name],
                newest=True))
            records = self._records(free, writes, tickets)
            verdict = (self._settle_and_verify(target, writes)              # 4, 5, 6
                       if writes else Verdict({}, {}))
            self._hand_out(free, verdict, tickets, self._joined(bodies))
            for future, ticket in records:
                outcome = self._joined(future, fail=True)
                if isinstance(outcome, Exception) and ticket.won:
                    ticket.error = outcome   # its claim has no record: a 503
        except BaseException as exc:
            _serve(tickets, exc)
            raise
        _serve(tickets, None)

    def _free(self, target: swift.Target, record: QueueRecord, tickets: list[Ticket],
              budget: RowBudget) -> Free:
        """Free messages from where they start (the queue's hint, else the
        cut), handed out to ``tickets`` in order; one listing for all. A
        batch whose newest state write is younger than 2Δ is skipped: a
        racing write of that generation may still land, and nobody may build
        on a state that can still change. While other processes claim from
        the queue (Peers), the batches of this process's share go first and
        the others' only make up what is missing. Remembers the new hint."""
        now, free = self._clock.time(), Free()
        need = {id(t): t.need for t in tickets}
        for t in tickets:
            t.picked, t.skipped, t.settles = False, False, None
        hint = HintFinder(record.cut, now)
        start = self._hints.start(target, record, now)
        place, count = self._peers.share(target, now)
        page = min(self._reader.page, 50 + 4 * count * sum(need.values()))
        theirs: list[tuple[views.BatchView, list[int]]] = []   # another process's share
        for view in self._reader.scan(target, start, budget, page=page):
            young = now - view.newest_write() < 2 * self._settle
            hint.see(view, young)
            if young:
                self._peers.see(target, view, now)
            indexes = [i for i in view.indexes() if view.status(i, now) == views.FREE]
            if not indexes:
                continue
            if young:
                settles = view.newest_write() + 2 * self._settle
                free.settles = min(free.settles or settles, settles)
                continue
            if not _mine(view.batch, place, count):
                theirs.append((view, indexes))
                continue
            self._pick(free, view, indexes, tickets, need)
            if not any(n > 0 for n in need.values()):
                break
        for view, indexes in theirs:
            if not any(n > 0 for n in need.values()):
                break
            self._pick(free, view, indexes, tickets, need)
        self._hints.remember(target, hint.hint(budget.exhausted))
        for t in tickets:
            t.settles = free.settles
        return free

    @staticmethod
    def _pick(free: Free, view: views.BatchView, indexes: list[int],
              tickets: list[Ticket], need: dict[int, int]) -> None:
        """Hand the free ``indexes`` of ``view`` to the tickets in order."""
        for t in tickets:
            if need[id(t)] <= 0 or view.batch in t.won or not indexes:
                continue
            mine, indexes = indexes[:need[id(t)]], indexes[need[id(t)]:]
            need[id(t)] -= len(mine)
            free.views[view.batch] = view
            free.picks.setdefault(view.batch, []).append((t, mine))

    def peek(self, target: swift.Target, record: QueueRecord) -> bool:
        """Whether the queue has a free message a claim could take now: one
        listing of at most a page, from where free messages start (the
        long-poll check: ``longpoll.Pollers``). Moves the hint on."""
        now, budget = self._clock.time(), RowBudget(self._reader.page)
        hint = HintFinder(record.cut, now)
        found = False
        for view in self._reader.scan(target, self._hints.start(target, record, now),
                                      budget, page=self._reader.page):
            young = now - view.newest_write() < 2 * self._settle
            hint.see(view, young)
            if not young and any(view.status(i, now) == views.FREE for i in view.indexes()):
                found = True
                break
        self._hints.remember(target, hint.hint(budget.exhausted))
        return found

    def _changes(self, free: Free) -> list[Change]:
        """One state per batch with the holds of every ticket picking from it."""
        now, changes = self._clock.time(), []
        for batch, picks in free.picks.items():
            view = free.views[batch]
            for ticket, indexes in picks:
                view = dataclasses.replace(view, state=ticket.intent.apply(view, indexes, now))
            changes.append(Change(free.views[batch], view.state,
                                  tuple(t.intent for t, _ in picks)))
        return changes

    def _records(self, free: Free, writes: list[Write], tickets: list[Ticket]
                 ) -> list[tuple[concurrent.futures.Future, Ticket]]:
        """Start writing the claim record of each ticket with a write."""
        written = {w.view.batch for w in writes if w.name}
        started = []
        for ticket in tickets:
            ids = [naming.message_id(batch, i) for batch, picks in free.picks.items()
                   if batch in written for t, indexes in picks if t is ticket for i in indexes]
            ids += [naming.message_id(b, i) for b, (_, held) in ticket.won.items() for i in held]
            if ids and ticket.write_record is not None:
                started.append((self._pool.submit(_counted, self._client, functools.partial(
                    ticket.write_record, sorted(set(ids)))), ticket))
        return started

    def _joined(self, future: concurrent.futures.Future, fail: bool = False) -> Any:
        """A prefetch's result, its Swift requests counted for this thread
        (nothing when it failed: the bodies are read again later; with
        ``fail``, the exception)."""
        outcome, requests = future.result()
        self._client.add_thread_count(requests)
        if isinstance(outcome, Exception):
            return outcome if fail else {}
        return outcome

    def _hand_out(self, free: Free, verdict: Verdict, tickets: list[Ticket],
                  bodies: dict[str, list[Any]]) -> None:
        """Each ticket keeps the messages the verified state gives its claim."""
        now = self._clock.time()
        for batch, picks in free.picks.items():
            after = verdict.after.get(batch)
            for ticket, indexes in picks:
                cid = ticket.intent.claim_id
                if cid not in verdict.won.get(batch, ()):
                    continue
                mask = after.state.claim(cid).mask
                held = [i for i in indexes
                        if mask >> i & 1 and after.status(i, now) != views.GONE]
                if held:
                    ticket.won[batch] = (free.views[batch], held)
                    if batch in bodies:
                        ticket.bodies[batch] = bodies[batch]

    # -- renewing and releasing -------------------------------------------------
    def renew(self, target: swift.Target, claim: ClaimRecord, expires: int,
              grace: int) -> bool:
        """Give the claim's live messages the new expiry; False when it holds
        no live message any more."""
        return self._change_held(target, claim, Intent(RENEW, claim.claim_id, expires, grace))

    def release(self, target: swift.Target, claim: ClaimRecord) -> None:
        """Free the claim's messages."""
        self._change_held(target, claim, Intent(RELEASE, claim.claim_id))
        self._hints.forget(target)

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
                changes = [Change(v, intent.apply(v, list(v.indexes()), now), (intent,))
                           for v in held.values()]
                writes = self._write(target, changes, started)              # 2, 3
            verdict = self._settle_and_verify(target, writes)               # 4, 5, 6
            pending = set(held) - set(verdict.won)
            if not pending:
                return True
        raise errors.Conflict('The claim is being changed concurrently; try again.')

    # -- the steps of a round ---------------------------------------------------
    def _write(self, target: swift.Target, changes: list[Change], started: float
               ) -> list[Write]:
        """Steps 2 and 3 for every batch read, the batches in parallel (a
        round that touches many batches still writes within Δ of its read).
        When Swift fails for one batch, the others' writes are withdrawn
        before the error goes up."""
        calls = [functools.partial(self._write_state, target, c.view, c.state, started,
                                   c.intents) for c in changes]
        outcomes = self._parallel(calls)
        writes = [o for o in outcomes if isinstance(o, Write)]
        failures = [o for o in outcomes if isinstance(o, Exception)]
        if failures:
            for write in writes:
                if write.name:
                    self._delete_quietly(target, write.name)
            raise failures[0]
        return writes

    def _write_in_turn(self, target: swift.Target, changes: list[Change],
                       tickets: list[Ticket], started: float) -> list[Write]:
        """Steps 2 and 3 of a shared round: WAVE batches side by side, wave
        after wave, while half of Δ is left since the read (every write of
        the round is measured from that one read; in a Swift short of CPU,
        parallel PUTs end no sooner than PUTs in turn). The tickets whose
        picks were not written are skipped: served first by the next round."""
        writes: list[Write] = []
        written: set[str] = set()
        for n in range(0, len(changes), WAVE):
            if n and self._clock.monotonic() - started > self._settle / 2:
                break
            try:
                writes += self._write(target, changes[n:n + WAVE], started)
            except Exception:
                for write in writes:
                    if write.name:
                        self._delete_quietly(target, write.name)
                raise
            written.update(i.claim_id for c in changes[n:n + WAVE] for i in c.intents)
        for ticket in tickets:
            ticket.picked = ticket.intent.claim_id in written
            ticket.skipped = not ticket.picked and any(
                ticket.intent in c.intents for c in changes)
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
                     state: encoding.BatchState, started: float,
                     intents: tuple[Intent, ...] = ()) -> Write | None:
        """Extend the body if ``state`` needs it, then PUT generation n+1.
        None when the body is gone (nothing to claim)."""
        needed = view.object_expiry(state)
        if needed > view.object_expiry():
            try:
                self._client.post_object(target, naming.batch_object(view.batch),
                                         {'X-Delete-At': str(needed)})
            except swift.Missing:
                return None
        # Writers of one generation never share a name: another process has
        # another token (or, 1 in 65,536, the same and another counter value).
        writer = self._peers.token << 16 | next(self._writes) & 0xffff
        name = naming.gen_object(view.batch, view.gen + 1, writer)
        self._client.put_object(target, name, b'', encoding.encode_state(state),
                                {'X-Delete-At': str(needed)})
        if self._clock.monotonic() - started <= self._settle:
            return Write(view, name, intents, self._clock.monotonic())
        # It may have landed after a racing writer verified, or after a reader
        # built on this generation: it must not count (design.md, "Claims").
        LOG.info('state write %s came later than the settle delay; withdrawn', name)
        metrics.claim_write('withdrawn')
        self._client.delete_object(target, name)
        return Write(view, None, intents, self._clock.monotonic())

    def _settle_and_verify(self, target: swift.Target, writes: list[Write]) -> Verdict:
        """Steps 4 to 6. The verification starts Δ after the last write of
        the round returned, not Δ after whatever came since."""
        landed = max(w.landed for w in writes)
        self._sleep(max(0.0, min(self._settle, landed + self._settle - self._clock.monotonic())))
        after = self._reader.batches(target, [w.view.batch for w in writes],
                                     self._reader.budget())
        won: dict[str, set[str]] = {}
        for write in writes:
            view = after.get(write.view.batch)
            carried = [i for i in write.intents
                       if view is not None and i.carried(view.state)]
            if carried and write.name:
                won[view.batch] = {i.claim_id for i in carried}
                metrics.claim_write('won')
            elif write.name:
                metrics.claim_write('lost')
                # A lost write helps nobody, and one a listing did not show
                # yet would otherwise surface later and take messages.
                self._client.delete_object(target, write.name)
            elif any(i.kind == TAKE for i in carried):
                self._exorcise(target, view, [i for i in carried if i.kind == TAKE])
            elif carried:   # a withdrawn renewal/release in effect anyway
                won[view.batch] = {i.claim_id for i in carried}
            if view is not None:
                self._tidy(target, view)
        return Verdict(won, after)

    def _exorcise(self, target: swift.Target, view: views.BatchView,
                  intents: list[Intent]) -> None:
        """Withdrawn claims that a reader merged before they were withdrawn
        live on in a newer generation: write them out again (best effort),
        so their messages do not wait for the claims to expire."""
        state = view.state
        for intent in intents:
            metrics.claim_write('exorcised')
            state = _without(state, intent.claim_id)
        try:
            self._write_state(target, view, state, self._clock.monotonic())
        except errors.StorageUnavailable as exc:
            LOG.warning('ghost claims %s stay until they expire: %s',
                        ','.join(i.claim_id for i in intents), exc.description)
        self._hints.forget(target)

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


def _serve(tickets: list[Ticket], error: BaseException | None) -> None:
    """A round is over for ``tickets``: wake the claimers waiting for it."""
    for ticket in tickets:
        ticket.error = error or ticket.error
        ticket.served.set()


class HintFinder:
    """Follows a claim listing to the first batch that may have a free
    message now or soon (not wholly gone, held or delayed, or too young to
    judge): the next listing may start there."""

    def __init__(self, cut: int, now: float) -> None:
        self._cut, self._now = cut, now
        self._first: str | None = None
        self._last: str | None = None
        self._until = now + HINT_LIFE

    def see(self, view: views.BatchView, young: bool) -> None:
        if self._first is not None:
            return
        statuses = [view.status(i, self._now) for i in view.indexes()]
        if young or views.FREE in statuses:
            self._first = view.batch
            return
        self._last = view.batch
        for i, status in enumerate(statuses):
            if status == views.CLAIMED:
                self._until = min(self._until, view.state.holder(i, self._now).expires)
            elif status == views.DELAYED:
                self._until = min(self._until, view.created + view.info.delays[i])

    def hint(self, exhausted: bool) -> Hint:
        """Where the next listing starts: before the first batch that may
        be free; after the last one seen when none was (a listing cut short
        by its row budget goes on from there too)."""
        if self._first is not None:
            marker = naming.batch_prefix(self._first)[:-1]
        elif self._last is not None:
            marker = naming.batch_end_marker(self._last)
        else:
            marker = naming.cut_marker(self._cut)
        return Hint(self._cut, marker, self._until)


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as exc:   # handed back: the round withdraws, then raises it
        return exc


def _counted(client: swift.SwiftClient, call: Callable[[], Any]) -> tuple[Any, int]:
    """``call``'s outcome on a pool thread, and the Swift requests it made."""
    client.reset_thread_count()
    return _outcome(call), client.thread_count()
