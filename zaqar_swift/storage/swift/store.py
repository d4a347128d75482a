"""Messages and claims of a queue, stored in that queue's Swift container.

See doc/design.md for the layout, the request counts and the consistency
argument. In short:

* one POST is one object (``m/<batch>/b``), its ttl/delay/client in the
  Content-Type, so listings classify messages without GETs;
* a claim changes a batch's state by writing the *next generation*
  ``m/<batch>/g<n+1>`` with ``If-None-Match: *``, waiting ``settle`` seconds
  and verifying in a listing that the newest generation carries its change
  (the lease recipe of SWIFT_NOTES.md); claims in one process are also
  serialised by a per-queue lock;
* deleting a message writes a tombstone, or removes the whole batch in one
  bulk request when no live message would be left.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import random
import threading
import time
from typing import Any, Callable, Iterable, Iterator

from zaqar_swift import errors
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import encoding
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift import views
from zaqar_swift.storage.swift.queues import Catalog, QueueRecord

LOG = logging.getLogger(__name__)
PAGE = 1000
ATTEMPTS = 4


@dataclasses.dataclass(frozen=True)
class StoredMessage:
    """A message as the core sees it."""

    id: str
    body: Any
    ttl: int
    created: float
    expires: float
    claim_id: str | None
    claim_count: int
    client_key: str


@dataclasses.dataclass(frozen=True)
class ClaimRecord:
    """The claim record object: which messages a claim took, and its terms."""

    claim_id: str
    ttl: int
    grace: int
    renewed: float
    message_ids: tuple[str, ...]

    @property
    def expires(self) -> float:
        return self.renewed + self.ttl


class Clock:
    """Time and ids, injectable for tests. Batch ids grow strictly in one
    process, so listing order is enqueue order per API node."""

    def __init__(self, time_fn: Callable[[], float] = time.time,
                 rand: Callable[[int], int] = random.getrandbits) -> None:
        self.time = time_fn
        self._rand = rand
        self._last = 0
        self._lock = threading.Lock()

    def micros(self, floor: int = 0) -> int:
        with self._lock:
            self._last = max(self._last + 1, int(self.time() * 1e6), floor + 1)
            return self._last

    def nonce(self, bits: int) -> int:
        return self._rand(bits)


class MessageStore:
    """Messages and claims of every queue of every project."""

    def __init__(self, client: swift.SwiftClient, catalog: Catalog, prefix: str,
                 policy: str | None = None, settle: float = 0.25,
                 clock: Clock | None = None, sleep: Callable[[float], None] = time.sleep,
                 bulk_delete: bool = True, reseller_prefix: str | None = None) -> None:
        self._client = client
        self._catalog = catalog
        self._prefix = prefix
        self._policy = policy
        self._settle = settle
        self._clock = clock or Clock()
        self._sleep = sleep
        self._bulk = bulk_delete
        self._reseller = reseller_prefix
        self._locks = [threading.Lock() for _ in range(64)]

    # -- helpers ----------------------------------------------------------------
    def container(self, project: str, queue: str) -> swift.Target:
        return swift.Target(naming.project_account(self._reseller, project),
                            naming.queue_container(self._prefix, project, queue))

    def now(self) -> float:
        return self._clock.time()

    def _lock(self, project: str, queue: str) -> threading.Lock:
        digest = hashlib.md5(f'{project}/{queue}'.encode('utf-8')).digest()
        return self._locks[digest[0] % len(self._locks)]

    def _scan(self, container: swift.Target, marker: str, end_marker: str | None = None,
              page: int = PAGE) -> Iterator[views.BatchView]:
        try:
            rows = self._client.iter_objects(container, naming.MESSAGES_PREFIX,
                                             marker, end_marker, page)
            yield from views.fold(rows)
        except swift.Missing:
            return

    def _start(self, record: QueueRecord, marker_batch: str | None = None) -> str:
        start = naming.cut_marker(record.cut)
        if marker_batch is not None:
            start = max(start, naming.batch_prefix(marker_batch))
        return start

    def _batch_view(self, container: swift.Target, batch: str) -> views.BatchView | None:
        try:
            rows = self._client.list_objects(container, naming.batch_prefix(batch))
        except swift.Missing:
            return None
        return next(views.fold(rows), None)

    def _range_views(self, container: swift.Target, batches: Iterable[str]
                     ) -> dict[str, views.BatchView]:
        batches = sorted(set(batches))
        if not batches:
            return {}
        if len(batches) == 1:
            view = self._batch_view(container, batches[0])
            return {view.batch: view} if view else {}
        marker = naming.batch_prefix(batches[0])[:-1]
        end = naming.batch_end_marker(batches[-1])
        wanted = set(batches)
        return {v.batch: v for v in self._scan(container, marker, end) if v.batch in wanted}

    def _bodies(self, container: swift.Target, batches: Iterable[str]) -> dict[str, list[Any]]:
        bodies = {}
        for batch in sorted(set(batches)):
            try:
                _, data = self._client.get_object(container, naming.batch_object(batch))
            except swift.Missing:
                continue
            bodies[batch] = json.loads(data)
        return bodies

    def _messages(self, container: swift.Target, picks: list[tuple[views.BatchView, int]],
                  now: float) -> list[StoredMessage]:
        bodies = self._bodies(container, (v.batch for v, _ in picks))
        out = []
        for view, index in picks:
            if view.batch in bodies:
                out.append(_message(view, index, bodies[view.batch][index], now))
        return out

    # -- messages ---------------------------------------------------------------
    def post(self, project: str, queue: str, record: QueueRecord, client_id: str | None,
             messages: list[tuple[Any, int, int]], client_key: str | None = None
             ) -> list[str]:
        """Store one POST as one object; returns the message ids. A message
        moved between queues keeps its poster: pass ``client_key``."""
        micros = self._clock.micros(record.cut)
        batch = naming.batch_id(micros, self._clock.nonce(32))
        key = client_key or encoding.client_key(client_id)
        info = encoding.BatchInfo(key, tuple(m[1] for m in messages),
                                  tuple(m[2] for m in messages))
        body = json.dumps([m[0] for m in messages]).encode('utf-8')
        delete_at = math.ceil(micros / 1e6 + max(info.ttls)) + 2
        self._client.put_object_creating(
            self.container(project, queue), naming.batch_object(batch), body,
            encoding.encode_batch(info), {'X-Delete-At': str(delete_at)}, self._policy)
        return [naming.message_id(batch, i) for i in range(len(messages))]

    def list(self, project: str, queue: str, record: QueueRecord, client_id: str,
             marker: str | None, limit: int, echo: bool, include_claimed: bool,
             include_delayed: bool) -> list[StoredMessage]:
        container = self.container(project, queue)
        after = naming.split_message_id(marker) if marker else None
        now = self.now()
        picks: list[tuple[views.BatchView, int]] = []
        start = self._start(record, after[0] if after else None)
        for view in self._scan(container, start):
            if not echo and view.info.client_key == encoding.client_key(client_id):
                continue
            for index in view.indexes():
                if after and view.batch == after[0] and index <= after[1]:
                    continue
                status = view.status(index, now)
                if status == views.FREE or (
                        status == views.CLAIMED and include_claimed) or (
                        status == views.DELAYED and include_delayed):
                    picks.append((view, index))
            if len(picks) >= limit:
                break
        return self._messages(container, picks[:limit], now)

    def get(self, project: str, queue: str, record: QueueRecord,
            ids: list[str]) -> list[StoredMessage]:
        """The messages among ``ids`` that exist, in the order asked."""
        container = self.container(project, queue)
        wanted = [p for p in map(naming.split_message_id, ids) if p]
        wanted = [p for p in wanted if naming.batch_micros(p[0]) > record.cut]
        found = self._range_views(container, (b for b, _ in wanted))
        now = self.now()
        picks = [(found[b], i) for b, i in wanted
                 if b in found and i < found[b].info.size
                 and found[b].status(i, now) != views.GONE]
        return self._messages(container, picks, now)

    def delete(self, project: str, queue: str, record: QueueRecord, ids: list[str],
               claim_ids: list[str] | None, check_claims: bool) -> None:
        """Delete messages. With ``check_claims``, a claimed message needs one
        of ``claim_ids`` (else MessageIsClaimed / ClaimMismatch)."""
        container = self.container(project, queue)
        wanted = [p for p in map(naming.split_message_id, ids) if p]
        found = self._range_views(container, (b for b, _ in wanted))
        now = self.now()
        doomed: dict[str, set[int]] = {}
        for batch, index in wanted:
            view = found.get(batch)
            if view is None or index >= view.info.size or view.status(index, now) == views.GONE:
                continue
            holder = view.state.holder(index, now)
            if check_claims and holder is not None and not claim_ids:
                raise errors.MessageIsClaimed(
                    'Message %s is claimed; delete it with its claim_id.'
                    % naming.message_id(batch, index))
            if claim_ids and holder is None:
                raise errors.MessageNotClaimed(
                    'A claim was specified, but message %s is not currently '
                    'claimed (the claim may have expired or been released).'
                    % naming.message_id(batch, index))
            if claim_ids and holder.claim_id not in claim_ids:
                raise errors.ClaimMismatch(
                    'Message %s is not held by the given claim (it may have '
                    'expired).' % naming.message_id(batch, index))
            doomed.setdefault(batch, set()).add(index)
        self._remove(container, {b: found[b] for b in doomed}, doomed, now)

    def _remove(self, container: swift.Target, found: dict[str, views.BatchView],
                doomed: dict[str, set[int]], now: float) -> None:
        whole: list[str] = []
        for batch, indexes in doomed.items():
            view = found[batch]
            if set(view.live(now)) <= indexes:
                whole += view.names
                continue
            for index in sorted(indexes):
                self._client.put_object(
                    container, naming.tombstone_object(batch, index), b'',
                    'application/x-zaqar-tombstone',
                    {'X-Delete-At': str(view.object_expiry())})
        self._delete_names(container, whole)

    def _delete_names(self, container: swift.Target, names: list[str]) -> None:
        if self._bulk:
            for start in range(0, len(names), 10000):
                self._client.bulk_delete(container, names[start:start + 10000])
        else:
            for name in names:
                self._client.delete_object(container, name)

    def stats(self, project: str, queue: str, record: QueueRecord) -> dict[str, Any]:
        """Counts by status and the oldest/newest message, from listings only."""
        now = self.now()
        counts = {views.FREE: 0, views.CLAIMED: 0, views.DELAYED: 0}
        oldest = newest = None
        for view in self._scan(self.container(project, queue), self._start(record),
                               page=10000):
            for index in view.indexes():
                status = view.status(index, now)
                if status == views.GONE:
                    continue
                counts[status] += 1
                mid = naming.message_id(view.batch, index)
                oldest = oldest or (mid, view.created)
                newest = (mid, view.created)
        return {'free': counts[views.FREE], 'claimed': counts[views.CLAIMED],
                'delayed': counts[views.DELAYED], 'oldest': oldest, 'newest': newest,
                'total': sum(counts.values()), 'now': now}

    # -- claims -----------------------------------------------------------------
    def claim(self, project: str, queue: str, record: QueueRecord, ttl: int, grace: int,
              limit: int, max_claims: int = 0
              ) -> tuple[str, list[StoredMessage], list[StoredMessage]]:
        """Claim up to ``limit`` free messages. Returns (claim id, claimed,
        over-claimed): the last are messages claimed ``max_claims`` times
        already, taken out of circulation for the dead letter queue."""
        container = self.container(project, queue)
        cid = naming.claim_id(self._clock.micros(), self._clock.nonce(40))
        expires = int(math.ceil(self.now() + ttl))   # one expiry: state and record
        won: dict[str, tuple[views.BatchView, list[int]]] = {}
        for _ in range(ATTEMPTS):
            need = limit - sum(len(w[1]) for w in won.values())
            if need <= 0:
                break
            picks, young = self._free_settled(project, queue, record, need, won)
            if picks:
                won.update(self._take(project, queue, cid, picks, expires, grace))
            elif not young:
                break
        if not won:
            return cid, [], []
        now = self.now()
        claimed, dead = self._split_dead(container, won, max_claims, now)
        claimed = [dataclasses.replace(m, claim_id=cid, claim_count=m.claim_count + 1)
                   for m in claimed]
        if claimed:
            record = ClaimRecord(cid, ttl, grace, expires - ttl, tuple(m.id for m in claimed))
            self._write_claim(container, record, expires)
        return cid, claimed, dead

    def _free_settled(self, project: str, queue: str, record: QueueRecord, need: int,
                      exclude: dict) -> tuple[dict, bool]:
        """Free messages in batches whose state has settled; when only
        unsettled batches have free messages, wait once for them."""
        for wait in (False, True):
            if wait:
                self._sleep(2 * self._settle)
            picks, young = self._free(self.container(project, queue), record, need,
                                      exclude)
            if picks or not young:
                return picks, young
        return picks, young

    def _free(self, container: swift.Target, record: QueueRecord, need: int, exclude: dict
              ) -> tuple[dict[str, tuple[views.BatchView, list[int]]], bool]:
        """(picks, young): free messages of settled batches, and whether a
        batch with free messages was skipped because its state is too young
        to build on (a racing write of that generation may still land)."""
        now = self.now()
        picks: dict[str, tuple[views.BatchView, list[int]]] = {}
        count, young = 0, False
        for view in self._scan(container, self._start(record)):
            if view.batch in exclude:
                continue
            free = [i for i in view.indexes() if view.status(i, now) == views.FREE]
            if free and now - view.newest_write() < 2 * self._settle:
                young = True
                continue
            if free:
                picks[view.batch] = (view, free[:need - count])
                count += len(picks[view.batch][1])
            if count >= need:
                break
        return picks, young

    def _take(self, project: str, queue: str, cid: str, picks: dict, expires: int,
              grace: int) -> dict[str, tuple[views.BatchView, list[int]]]:

        def change(view: views.BatchView) -> encoding.BatchState:
            indexes = picks[view.batch][1]
            mask = sum(1 << i for i in indexes)
            return _with_claim(view, encoding.Claim(cid, expires, grace, mask), indexes,
                               self.now())

        def verify(state: encoding.BatchState, view: views.BatchView) -> bool:
            return state.claim(cid) is not None and state.claim(cid).mask != 0

        def undo(view: views.BatchView) -> encoding.BatchState:
            return dataclasses.replace(view.state, claims=tuple(
                c for c in view.state.claims if c.claim_id != cid))

        read = [v for v, _ in picks.values()]
        won = self._advance(project, queue, lambda: read, change, verify, undo)
        held = {}
        for batch, view in won.items():
            mask = view.state.claim(cid).mask
            held[batch] = (picks[batch][0], [i for i in picks[batch][1] if mask >> i & 1])
        return held

    def _advance(self, project: str, queue: str,
                 read: Callable[[], list[views.BatchView]],
                 change: Callable[[views.BatchView], encoding.BatchState],
                 verify: Callable[[encoding.BatchState, views.BatchView], bool],
                 undo: Callable[[views.BatchView], encoding.BatchState] | None = None
                 ) -> dict[str, views.BatchView]:
        """Write the next state generation of each batch ``read`` returns and
        give back, for the batches whose newest state (after settling) carries
        the change, that newest view. See "Claims" in doc/design.md.

        In one process, reading and writing are serialised per queue, so a
        second writer always reads the first one's state; the settle wait and
        the verification are outside the lock."""
        container = self.container(project, queue)
        with self._lock(project, queue):
            started = time.monotonic()
            before = read()
            outcome = {v.batch: self._write_state(container, v, change(v), started)
                       for v in before}
        written = {b: name for b, name in outcome.items() if name}
        if not outcome:
            return {}
        self._sleep(self._settle)
        after = self._range_views(container, outcome)
        won = {b: after[b] for b in written if b in after and verify(after[b].state, after[b])}
        for batch, view in won.items():   # only a verified winner moves X-Delete-At
            self._keep_body(container, view, before)
        for batch in written.keys() - won.keys():
            # A lost write helps nobody; one a listing did not show yet would
            # otherwise surface later and take messages (see "Ghosts").
            self._client.delete_object(container, written[batch])
        ghosts = [after[b] for b in outcome.keys() - written
                  if b in after and verify(after[b].state, after[b])]
        if ghosts and undo is not None:
            self._exorcise(container, ghosts, undo)
        return won

    def _exorcise(self, container: swift.Target, ghosts: list[views.BatchView],
                  undo: Callable[[views.BatchView], encoding.BatchState]) -> None:
        """A withdrawn claim that a reader merged before it was withdrawn lives
        on in a newer generation: write it out again (best effort), so its
        messages do not wait for the claim to expire."""
        for view in ghosts:
            self._write_state(container, view, undo(view), time.monotonic())

    def _write_state(self, container: swift.Target, view: views.BatchView,
                     state: encoding.BatchState, read_started: float) -> str | None:
        """PUT generation gen+1 under a name of our own. A writer whose
        read-to-write took longer than the settle delay may land after a
        racing writer verified or a reader built on the generation, so it
        withdraws its object and does not count on it. Returns the object's
        name, or None when withdrawn."""
        name = naming.gen_object(view.batch, view.gen + 1, self._clock.nonce(32))
        expiry = max(view.object_expiry(), _state_expiry(state))
        self._client.put_object(container, name, b'', encoding.encode_state(state),
                                {'X-Delete-At': str(expiry)})
        if time.monotonic() - read_started <= self._settle:
            return name
        LOG.info('state write %s came later than the settle delay; withdrawn', name)
        self._client.delete_object(container, name)
        return None

    def _keep_body(self, container: swift.Target, view: views.BatchView,
                   before: list[views.BatchView]) -> None:
        """Extend the batch object's X-Delete-At when a claim outlives it. The
        new value is a maximum over the verified state, so it never shortens."""
        old = next(v for v in before if v.batch == view.batch)
        if view.object_expiry() > old.object_expiry():
            self._extend(container, view.batch, view.object_expiry())

    def _extend(self, container: swift.Target, batch: str, expiry: int) -> None:
        try:
            self._client.post_object(container, naming.batch_object(batch),
                                     {'X-Delete-At': str(expiry)})
        except swift.Missing:
            pass

    def _split_dead(self, container: swift.Target, won: dict, max_claims: int, now: float
                    ) -> tuple[list[StoredMessage], list[StoredMessage]]:
        picks = [(view, i) for view, indexes in won.values() for i in indexes]
        messages = self._messages(container, picks, now)
        if not max_claims:
            return messages, []
        claimed = [m for m in messages if m.claim_count < max_claims]
        dead = [m for m in messages if m.claim_count >= max_claims]
        return claimed, dead

    def _write_claim(self, container: swift.Target, claim: ClaimRecord, expires: int) -> None:
        body = json.dumps({'ttl': claim.ttl, 'grace': claim.grace,
                           'renewed': claim.renewed, 'messages': list(claim.message_ids)})
        self._client.put_object(container, naming.claim_object(claim.claim_id),
                                body.encode('utf-8'), 'application/json',
                                {'X-Delete-At': str(expires + 1)})

    def read_claim(self, project: str, queue: str, cid: str) -> ClaimRecord | None:
        if not naming.valid_claim_id(cid):
            return None
        try:
            _, data = self._client.get_object(self.container(project, queue),
                                              naming.claim_object(cid))
        except swift.Missing:
            return None
        doc = json.loads(data)
        record = ClaimRecord(cid, doc['ttl'], doc['grace'], doc['renewed'],
                             tuple(doc['messages']))
        return record if record.expires > self.now() else None

    def claimed_messages(self, project: str, queue: str, record: QueueRecord,
                         claim: ClaimRecord) -> list[StoredMessage]:
        messages = self.get(project, queue, record, list(claim.message_ids))
        return [m for m in messages if m.claim_id == claim.claim_id]

    def renew(self, project: str, queue: str, claim: ClaimRecord, ttl: int,
              grace: int) -> None:
        container = self.container(project, queue)
        now = self.now()
        expires = int(math.ceil(now + ttl))

        def change(view: views.BatchView) -> encoding.BatchState:
            old = view.state.claim(claim.claim_id)
            held = [i for i in view.indexes() if old and old.holds(i)]
            return _with_claim(view, encoding.Claim(claim.claim_id, expires, grace,
                                                    old.mask if old else 0), held,
                               now, count=False)

        def verify(state: encoding.BatchState, view: views.BatchView) -> bool:
            mine = state.claim(claim.claim_id)
            return mine is None or mine.expires == expires

        if not self._each_batch(project, queue, claim, change, verify):
            raise errors.ClaimNotFound('Claim %s holds no messages any more.'
                                       % claim.claim_id)
        self._write_claim(container, ClaimRecord(claim.claim_id, ttl, grace, expires - ttl,
                                                 claim.message_ids), expires)

    def release(self, project: str, queue: str, claim: ClaimRecord) -> None:
        def change(view: views.BatchView) -> encoding.BatchState:
            return dataclasses.replace(view.state, claims=tuple(
                c for c in view.state.claims if c.claim_id != claim.claim_id))

        self._each_batch(project, queue, claim, change,
                         lambda s, v: s.claim(claim.claim_id) is None)
        self._client.delete_object(self.container(project, queue),
                                   naming.claim_object(claim.claim_id))

    def _each_batch(self, project: str, queue: str, claim: ClaimRecord,
                    change: Callable, verify: Callable) -> bool:
        """Apply ``change`` to every batch where the claim holds a live
        message, retrying batches whose new generation lost to a concurrent
        writer. False when the claim holds nothing any more."""
        container = self.container(project, queue)
        batches = {naming.split_message_id(m)[0] for m in claim.message_ids}
        held: list[int] = []

        def read() -> list[views.BatchView]:
            now = self.now()
            found = self._range_views(container, batches)
            live = [v for v in found.values() if _holds_live(v, claim.claim_id, now)]
            held.append(len(live))
            return live

        for _ in range(ATTEMPTS):
            done = self._advance(project, queue, read, change, verify)
            batches -= set(done)
            if not held[0]:
                return False
            if not batches or not read():
                return True
        raise errors.Conflict('The claim is being changed concurrently; try again.')

    # -- whole queues -------------------------------------------------------------
    def next_cut(self) -> int:
        """A purge cut: every batch posted before now is below it."""
        return self._clock.micros()

    def schedule_purge(self, project: str, queue: str, cut: int) -> None:
        """Record a job for the purge worker (messages below ``cut`` are
        already invisible; the job reclaims their space)."""
        target = self.container(project, queue)
        name = naming.job_object(target.account, target.container, cut)
        self._client.put_object_creating(self._jobs(), name, b'', 'application/x-zaqar-job')

    def _jobs(self) -> swift.Target:
        return swift.Target(None, naming.jobs_container(self._prefix))

    def purge_jobs(self, limit: int = 100) -> list[tuple[str, swift.Target, int]]:
        """(job name, container, cut) of pending purge jobs."""
        try:
            rows = self._client.list_objects(self._jobs(), limit=limit)
        except swift.Missing:
            return []
        jobs = []
        for row in rows:
            account, container, cut = naming.parse_job(row['name'])
            jobs.append((row['name'], swift.Target(account, container), cut))
        return jobs

    def finish_job(self, job: str) -> None:
        self._client.delete_object(self._jobs(), job)

    def purge_below(self, container: swift.Target, cut: int) -> int:
        """Delete every message-area object and claim record older than ``cut``
        (a background job). Returns how many objects were removed."""
        removed = 0
        for prefix, end in ((naming.MESSAGES_PREFIX, naming.cut_marker(cut)),
                            (naming.CLAIMS_PREFIX, naming.claim_object('%014x' % cut))):
            while True:
                try:
                    rows = self._client.list_objects(container, prefix, None, end, 10000)
                except swift.Missing:
                    return removed
                self._delete_names(container, [r['name'] for r in rows])
                removed += len(rows)
                if len(rows) < 10000:
                    break
        return removed


def _with_claim(view: views.BatchView, claim: encoding.Claim, indexes: list[int],
                now: float, count: bool = True) -> encoding.BatchState:
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


def _holds_live(view: views.BatchView, claim_id: str, now: float) -> bool:
    claim = view.state.claim(claim_id)
    return claim is not None and any(
        claim.holds(i) and view.status(i, now) != views.GONE for i in view.indexes())


def _state_expiry(state: encoding.BatchState) -> int:
    return max(state.kept or (0,)) + 2


def _message(view: views.BatchView, index: int, body: Any, now: float) -> StoredMessage:
    holder = view.state.holder(index, now)
    return StoredMessage(
        id=naming.message_id(view.batch, index), body=body,
        ttl=view.info.ttls[index], created=view.created,
        expires=view.expires_at(index),
        claim_id=holder.claim_id if holder else None,
        claim_count=view.state.count(index), client_key=view.info.client_key)
