"""Messages of a queue, stored in that queue's Swift container.

See doc/design.md for the layout, the request counts and the consistency
argument. In short:

* one POST is one object (``m/<batch>/b``), its ttl/delay/client in the
  Content-Type, so listings classify messages without GETs;
* claims change a batch's state by adding objects of its next generation
  (claims.py holds that algorithm);
* deleting a message writes a tombstone, or removes the whole batch in one
  bulk request when no live message would be left;
* purge and queue delete move the queue's cut; the purge worker reclaims the
  space later, from a job object.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import time
from typing import Any, Callable, NamedTuple

from zaqar_swift import errors
from zaqar_swift import metrics
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import encoding
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift import posts
from zaqar_swift.storage.swift import reader
from zaqar_swift.storage.swift import views
from zaqar_swift.storage.swift.claims import TAKE, ClaimRecord, Claims, Intent
from zaqar_swift.storage.swift.clock import Clock
from zaqar_swift.storage.swift.queues import Catalog, QueueRecord
from zaqar_swift.storage.swift.reader import QueueReader, RowBudget, StoredMessage

LOG = logging.getLogger(__name__)

__all__ = ['ClaimRecord', 'Clock', 'Cursor', 'Job', 'MessageStore', 'Page', 'Progress',
           'StoredMessage']

# Listing rows one API request may read, when the deployment sets nothing.
DEFAULT_MAX_ROWS = 10000
# The longest a claim can keep a message (max claim ttl + max grace), when
# the deployment sets nothing: how long a tombstone must outlive a renewal
# that raced with it.
DEFAULT_LONGEST_CLAIM = 2 * 43200


class Page(NamedTuple):
    """A page of a message listing, and the marker the next page starts
    after (None: nothing was listed)."""

    messages: list[StoredMessage]
    marker: str | None


class MessageStore:
    """Messages and claims of every queue of every project."""

    def __init__(self, client: swift.SwiftClient, catalog: Catalog, prefix: str,
                 policy: str | None = None, settle: float = 0.25,
                 clock: Clock | None = None, sleep: Callable[[float], None] = time.sleep,
                 bulk_delete: bool = True, reseller_prefix: str | None = None,
                 max_rows: int = DEFAULT_MAX_ROWS,
                 longest_claim: int = DEFAULT_LONGEST_CLAIM, page: int | None = None) -> None:
        self._client = client
        self._catalog = catalog
        self._prefix = prefix
        self._policy = policy
        self._settle = settle
        self._clock = clock or Clock()
        self._bulk = bulk_delete
        self._posts = posts.PostGroups()
        self._reseller = reseller_prefix
        self._longest_claim = longest_claim
        self._reader = QueueReader(client, max_rows, page or reader.PAGE)
        self.claims = Claims(client, self._reader, settle, self._clock, sleep, bulk_delete)

    def container(self, project: str, queue: str) -> swift.Target:
        return swift.Target(naming.project_account(self._reseller, project),
                            naming.queue_container(self._prefix, project, queue))

    def now(self) -> float:
        return self._clock.time()

    # -- messages ---------------------------------------------------------------
    def post(self, project: str, queue: str, record: QueueRecord, client_id: str | None,
             messages: list[tuple[Any, int, int]], client_key: str | None = None
             ) -> list[str]:
        """Store one POST in one object (with the posts to the same queue
        that wait while another is written: posts.py); returns the message
        ids. A message moved between queues keeps its poster: pass
        ``client_key``."""
        post = posts.Post([json.dumps(m[0]).encode('utf-8') for m in messages],
                          [m[1] for m in messages], [m[2] for m in messages],
                          client_key or encoding.client_key(client_id), record.cut)
        target = self.container(project, queue)
        return self._posts.post(target, post, functools.partial(self._write_posts, target))

    def _write_posts(self, target: swift.Target, group: list[posts.Post]) -> list[str]:
        """PUT one batch object holding every post of ``group``, in order."""
        micros = self._clock.micros(max(p.cut for p in group))
        batch = naming.batch_id(micros, self._clock.nonce(32))
        keys = tuple(p.key for p in group for _ in p.bodies)
        info = encoding.BatchInfo(keys[0], tuple(t for p in group for t in p.ttls),
                                  tuple(d for p in group for d in p.delays), keys)
        body = b'[' + b','.join(b for p in group for b in p.bodies) + b']'
        delete_at = views.body_expiry(micros / 1e6 + ttl for ttl in info.ttls)
        self._client.put_object_creating(
            target, naming.batch_object(batch), body, encoding.encode_batch(info),
            {'X-Delete-At': str(delete_at)}, self._policy)
        metrics.posts_grouped(len(group))
        return [naming.message_id(batch, i) for i in range(info.size)]

    def list(self, project: str, queue: str, record: QueueRecord, client_id: str,
             marker: str | None, limit: int, echo: bool, include_claimed: bool,
             include_delayed: bool) -> Page:
        """Up to ``limit`` messages after ``marker``. When the request's row
        budget runs out first, the page is short and its marker is the last
        message of the last batch read, so the next page goes on from there."""
        target = self.container(project, queue)
        after = naming.split_message_id(marker) if marker else None
        now, budget = self.now(), self._reader.budget()
        wanted = {views.FREE} | ({views.CLAIMED} if include_claimed else set()) | (
            {views.DELAYED} if include_delayed else set())
        own = None if echo else encoding.client_key(client_id)
        picks: list[tuple[views.BatchView, int]] = []
        last = None
        start = naming.cut_marker(record.cut)
        if after:
            start = max(start, naming.batch_prefix(after[0]))
        for view in self._reader.scan(target, start, budget):
            last = view
            picks += [(view, i) for i in view.indexes()
                      if view.info.key(i) != own
                      and not (after and view.batch == after[0] and i <= after[1])
                      and view.status(i, now) in wanted]
            if len(picks) >= limit:
                break
        found = self._reader.messages(target, picks[:limit], now)
        if len(found) < limit and budget.exhausted and last is not None:
            return Page(found, naming.message_id(last.batch, last.info.size - 1))
        return Page(found, found[-1].id if found else None)

    def arrivals(self, project: str, queue: str, record: QueueRecord,
                 cursor: Cursor) -> list[StoredMessage]:
        """The live messages (claimed and delayed ones too) of the batches
        that are news to ``cursor``, which then knows them: one bounded
        listing of the cursor's window plus one GET per new batch."""
        target = self.container(project, queue)
        now, budget = self.now(), self._reader.budget()
        start = max(naming.cut_marker(record.cut), naming.cut_marker(cursor.start(now)))
        listed, picks = [], []
        for view in self._reader.scan(target, start, budget):
            listed.append(view.batch)
            if cursor.is_news(view.batch):
                picks += [(view, i) for i in view.live(now)]
        cursor.advance(listed, now)
        return self._reader.messages(target, picks, now)

    def get(self, project: str, queue: str, record: QueueRecord,
            ids: list[str]) -> list[StoredMessage]:
        """The messages among ``ids`` that exist, in the order asked."""
        target = self.container(project, queue)
        wanted = self._wanted(record, ids)
        found = self._reader.batches(target, (b for b, _ in wanted), self._reader.budget())
        now = self.now()
        picks = [(found[b], i) for b, i in wanted
                 if b in found and i < found[b].info.size
                 and found[b].status(i, now) != views.GONE]
        return self._reader.messages(target, picks, now)

    @staticmethod
    def _wanted(record: QueueRecord, ids: list[str]) -> list[tuple[str, int]]:
        """(batch, index) of the ids that can name a message of the queue
        now: ours, and above its cut."""
        pairs = [p for p in map(naming.split_message_id, ids) if p]
        return [p for p in pairs if naming.batch_micros(p[0]) > record.cut]

    def delete(self, project: str, queue: str, record: QueueRecord, ids: list[str],
               claim_ids: list[str] | None, check_claims: bool) -> None:
        """Delete messages. With ``check_claims``, a claimed message needs one
        of ``claim_ids`` (else MessageIsClaimed / ClaimMismatch)."""
        if claim_ids:
            _check_claims_live(queue, record, claim_ids)
        target = self.container(project, queue)
        wanted = self._wanted(record, ids)
        budget = self._reader.budget()
        found = self._reader.batches(target, (b for b, _ in wanted), budget)
        found.update(self._unlisted(target, {b for b, _ in wanted} - set(found), budget))
        now = self.now()
        doomed: dict[str, set[int]] = {}
        for batch, index in wanted:
            view = found.get(batch)
            if view is None or index >= view.info.size or view.status(index, now) == views.GONE:
                continue
            _check_holder(view, index, now, claim_ids, check_claims)
            doomed.setdefault(batch, set()).add(index)
        self._remove(target, {b: found[b] for b in doomed}, doomed, now)

    def _unlisted(self, target: swift.Target, batches: set[str], budget: RowBudget
                  ) -> dict[str, views.BatchView]:
        """Batches a delete's listing did not show: gone, unless a container
        replica lacks their row (a device that failed in the middle of the
        body's PUT leaves one without it, with no async pending, until
        container replication: doc/design.md). A body found by name is
        listed again; one no listing shows is a 503, never a 204 for a
        delete that deleted nothing. One HEAD per such batch."""
        found = {}
        for batch in sorted(batches):
            try:
                self._client.head_object(target, naming.batch_object(batch))
            except swift.Missing:
                continue
            view = self._reader.batch(target, batch, budget)
            if view is None:
                raise errors.StorageUnavailable(
                    'Message batch %s exists but the queue listing does not show it '
                    'yet (a container replica is behind); try again.' % batch)
            found[batch] = view
        return found

    def _remove(self, target: swift.Target, found: dict[str, views.BatchView],
                doomed: dict[str, set[int]], now: float) -> None:
        whole: list[str] = []
        for batch, indexes in doomed.items():
            view = found[batch]
            if set(view.live(now)) <= indexes:
                whole += view.names
                continue
            expiry = self._tombstone_expiry(view, now)
            for index in sorted(indexes):
                self._client.put_object(
                    target, naming.tombstone_object(batch, index), b'',
                    'application/x-zaqar-tombstone', {'X-Delete-At': str(expiry)})
        self._client.delete_many(target, whole, self._bulk)

    def _tombstone_expiry(self, view: views.BatchView, now: float) -> int:
        """A tombstone outlives the body as it is now and any claim renewal
        that read the batch before the tombstone landed (a renewal that read
        it leaves a deleted message's life alone), so a deleted message can
        never be seen again."""
        racing = math.ceil(now + 2 * self._settle) + self._longest_claim
        return max(view.object_expiry(), racing + views.EXPIRY_MARGIN)

    def stats(self, project: str, queue: str, record: QueueRecord) -> dict[str, Any]:
        """Counts by status and the oldest/newest message, from listings only
        (one LIST of 10,000 rows per 10,000 rows: no per-message request)."""
        now = self.now()
        counts = {views.FREE: 0, views.CLAIMED: 0, views.DELAYED: 0}
        oldest = newest = None
        unbounded = RowBudget(math.inf)   # stats read every row, by design
        for view in self._reader.scan(self.container(project, queue),
                                      naming.cut_marker(record.cut), unbounded, page=10000):
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

    def batches_from(self, project: str, queue: str, record: QueueRecord, micros: int,
                     rows: int) -> tuple[list[views.BatchView], bool]:
        """The batches posted at ``micros`` or later (and above the cut),
        reading at most ``rows`` listing rows: (views, whether rows ran out).
        The notification worker reads what it has to deliver with it."""
        budget = reader.RowBudget(rows)
        start = naming.cut_marker(max(record.cut, micros - 1))
        found = list(self._reader.scan(self.container(project, queue), start, budget))
        return found, budget.exhausted

    def bodies(self, project: str, queue: str, batches: list[str]) -> dict[str, list[Any]]:
        """The message bodies of each batch still stored (one GET each)."""
        return self._reader.bodies(self.container(project, queue), batches)

    # -- claims -----------------------------------------------------------------
    def claim(self, project: str, queue: str, record: QueueRecord, ttl: int, grace: int,
              limit: int, max_claims: int = 0
              ) -> tuple[str, list[StoredMessage], list[StoredMessage]]:
        """Claim up to ``limit`` free messages. Returns (claim id, claimed,
        over-claimed): the last are messages claimed ``max_claims`` times
        already, taken out of circulation for the dead letter queue."""
        target = self.container(project, queue)
        now = self.now()
        cid = naming.claim_id(self._clock.micros(), self._clock.nonce(40))
        expires = math.ceil(now + ttl)   # one expiry: the states and the record

        def write_record(ids: list[str]) -> None:   # during the round's settle wait
            self.claims.write_record(target, ClaimRecord(cid, ttl, grace, now, expires,
                                                         tuple(ids)))
        taken = self.claims.take(target, record, Intent(TAKE, cid, expires, grace), limit,
                                 self._reader.budget(), write_record)
        if not taken.won:
            return cid, [], []
        picks = [(view, i) for view, indexes in taken.won.values() for i in indexes
                 if not self._deleted_unlisted(target, view, i)]
        messages = self._reader.messages(target, picks, self.now(), taken.bodies,
                                         newest=True)
        dead = [m for m in messages if max_claims and m.claim_count >= max_claims]
        claimed = [dataclasses.replace(m, claim_id=cid, claim_count=m.claim_count + 1)
                   for m in messages if m not in dead]
        return cid, claimed, dead

    def _deleted_unlisted(self, target: swift.Target, view: views.BatchView,
                          index: int) -> bool:
        """Whether a message claimed before (``view`` as the claim read it)
        has a tombstone its listings did not show: a container replica
        lacks the row of a tombstone whose write the failing device's
        object server died in (doc/design.md, "torn writes"). A consumer
        deletes under a claim, so only redeliveries are looked up by name
        (one HEAD each); a first delivery costs nothing."""
        if view.state.count(index) < 1:
            return False
        try:
            self._client.head_object(target, naming.tombstone_object(view.batch, index))
        except swift.Missing:
            return False
        LOG.warning('message %s has a tombstone its listing did not show: not handed '
                    'out again', naming.message_id(view.batch, index))
        return True

    def claimable(self, project: str, queue: str, record: QueueRecord) -> bool:
        """Whether a claim could take a message now (one bounded listing)."""
        return self.claims.peek(self.container(project, queue), record)

    def read_claim(self, project: str, queue: str, record: QueueRecord,
                   cid: str) -> ClaimRecord | None:
        """The live claim ``cid`` of the queue as ``record`` describes it."""
        return self.claims.read_record(self.container(project, queue), record, cid)

    def claimed_messages(self, project: str, queue: str, record: QueueRecord,
                         claim: ClaimRecord) -> list[StoredMessage]:
        messages = self.get(project, queue, record, list(claim.message_ids))
        return [m for m in messages if m.claim_id == claim.claim_id]

    def renew(self, project: str, queue: str, claim: ClaimRecord, ttl: int,
              grace: int) -> None:
        target = self.container(project, queue)
        now = self.now()
        expires = math.ceil(now + ttl)
        if not self.claims.renew(target, claim, expires, grace):
            raise errors.ClaimNotFound('Claim %s holds no messages any more.'
                                       % claim.claim_id)
        self.claims.write_record(target, dataclasses.replace(
            claim, ttl=ttl, grace=grace, renewed=now, expires=expires))

    def release(self, project: str, queue: str, claim: ClaimRecord) -> None:
        target = self.container(project, queue)
        self.claims.release(target, claim)
        self.claims.delete_record(target, claim.claim_id)

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

    def purge_jobs(self, limit: int = 10000) -> list[Job]:
        """Pending purge jobs (one listing page), in name order."""
        try:
            rows = self._client.list_objects(self._jobs(), limit=limit)
        except swift.Missing:
            return []
        jobs = []
        for row in rows:
            account, container, cut = naming.parse_job(row['name'])
            jobs.append(Job(row['name'], swift.Target(account, container), cut))
        return jobs

    def finish_job(self, job: Job) -> None:
        self._client.delete_object(self._jobs(), job.name)

    def purge_below(self, container: swift.Target, cut: int, pages: int = 5) -> Progress:
        """Delete message-area objects and claim records older than ``cut``,
        at most ``pages`` listing pages of 10,000 rows in this call (so one
        huge queue cannot hold the worker): how many went, and whether
        nothing older than the cut is left."""
        removed = 0
        for prefix, end in ((naming.MESSAGES_PREFIX, naming.cut_marker(cut)),
                            (naming.CLAIMS_PREFIX, naming.claim_object('%014x' % cut))):
            while True:
                if pages <= 0:
                    return Progress(removed, False)
                pages -= 1
                try:
                    rows = self._client.list_objects(container, prefix, None, end, 10000)
                except swift.Missing:
                    return Progress(removed, True)
                self._client.delete_many(container, [r['name'] for r in rows], self._bulk)
                removed += len(rows)
                if len(rows) < 10000:
                    break
        return Progress(removed, True)


class Cursor:
    """Where a watcher of one queue stands. Batches enqueued before
    ``floor`` (epoch seconds) are not news; every look re-lists the last
    ``window`` seconds, so a batch that shows in the listing late (a slow
    PUT, a posting node whose clock lags) is still news once, and remembers
    the batches of that window it has seen."""

    def __init__(self, floor: float, window: float) -> None:
        self._floor = int(floor * 1e6)
        self._window = int(window * 1e6)
        self._seen: set[str] = set()

    def start(self, now: float) -> int:
        """Microseconds the next listing starts at."""
        return max(self._floor, int(now * 1e6) - self._window)

    def is_news(self, batch: str) -> bool:
        return batch not in self._seen and naming.batch_micros(batch) >= self._floor

    def advance(self, listed: list[str], now: float) -> None:
        """Remember ``listed``; forget what the next window starts after."""
        start = self.start(now)
        self._seen = {b for b in self._seen.union(listed) if naming.batch_micros(b) >= start}


class Job(NamedTuple):
    """A purge job: reclaim ``target``'s objects older than ``cut``."""

    name: str
    target: swift.Target
    cut: int


class Progress(NamedTuple):
    """What one call of ``purge_below`` did."""

    removed: int
    done: bool


def _check_holder(view: views.BatchView, index: int, now: float,
                  claim_ids: list[str] | None, check_claims: bool) -> None:
    """Zaqar's rules for deleting a message that may be claimed."""
    holder = view.state.holder(index, now)
    mid = naming.message_id(view.batch, index)
    if check_claims and holder is not None and not claim_ids:
        raise errors.MessageIsClaimed(
            'Message %s is claimed; delete it with its claim_id.' % mid)
    if claim_ids and holder is None:
        raise errors.MessageNotClaimed(
            'A claim was specified, but message %s is not currently claimed (the '
            'claim may have expired or been released).' % mid)
    if claim_ids and holder.claim_id not in claim_ids:
        raise errors.ClaimMismatch(
            'Message %s is not held by the given claim (it may have expired).' % mid)


def _check_claims_live(queue: str, record: QueueRecord, claim_ids: list[str]) -> None:
    """Claims of a deleted queue, or made before it was recreated or purged,
    are gone: a delete that names only such claims is a 404."""
    stale = [c for c in claim_ids
             if naming.valid_claim_id(c) and naming.claim_micros(c) <= record.cut]
    if not record.exists or len(stale) == len(claim_ids):
        raise errors.ClaimNotFound(
            'Claim %s does not exist in queue %s (it was deleted, recreated or '
            'purged).' % (','.join(claim_ids), queue))
