"""Reading a queue's container: bounded listings folded into batch views, and
the bodies of the messages a request returns.

Every listing an API request makes draws on one :class:`RowBudget`, so no
request reads an unbounded number of rows whatever the queue holds: a
request that runs out answers with what it found (a listing also with a
marker to go on from).
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable, Iterator

from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift import views

PAGE = 1000


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


class RowBudget:
    """How many listing rows one API request may still read."""

    def __init__(self, rows: int) -> None:
        self.left = rows
        self.exhausted = False

    def page(self, size: int) -> int:
        """The size of the next page to ask for (0: nothing left)."""
        return max(0, min(size, self.left))

    def spend(self, rows: int) -> None:
        self.left -= rows


class QueueReader:
    """Listings and bodies of queue containers (``target`` is one)."""

    def __init__(self, client: swift.SwiftClient, max_rows: int, page: int = PAGE) -> None:
        self._client = client
        self.max_rows = max_rows
        self.page = page

    def budget(self) -> RowBudget:
        """A fresh budget: one per API request."""
        return RowBudget(self.max_rows)

    def scan(self, target: swift.Target, start: str, budget: RowBudget,
             end: str | None = None, page: int | None = None) -> Iterator[views.BatchView]:
        """The batches after ``start``, a page at a time. A batch whose rows
        straddle two pages is held back until it is whole; when the budget
        runs out, the batch in hand is dropped (a view missing some of its
        state rows could show a claimed message as free) and
        ``budget.exhausted`` is set."""
        marker, carried, page = start, [], page or self.page
        while True:
            size = budget.page(page)
            if not size:
                budget.exhausted = True
                return
            try:
                rows = self._client.list_objects(target, naming.MESSAGES_PREFIX,
                                                 marker, end, size)
            except swift.Missing:
                return
            budget.spend(len(rows))
            if len(rows) < size:
                yield from views.fold(carried + rows)
                return
            marker = rows[-1]['name']
            rows = carried + rows
            carried = _last_batch(rows)
            yield from views.fold(rows[:len(rows) - len(carried)])

    def batches(self, target: swift.Target, batches: Iterable[str], budget: RowBudget
                ) -> dict[str, views.BatchView]:
        """The views of ``batches`` (the missing ones are absent): one range
        listing of at most a page, then a listing per batch it did not reach,
        so ids spread over the whole queue never list the whole queue."""
        wanted = sorted(set(batches))
        if not wanted:
            return {}
        found: dict[str, views.BatchView] = {}
        if len(wanted) > 1:
            marker = naming.batch_prefix(wanted[0])[:-1]
            end = naming.batch_end_marker(wanted[-1])
            allowed = budget.page(self.page)
            scan, reached = RowBudget(allowed), ''
            for view in self.scan(target, marker, scan, end):
                reached = view.batch
                if view.batch in wanted:
                    found[view.batch] = view
            budget.spend(allowed - scan.left)
            if not scan.exhausted:
                return found
            wanted = [b for b in wanted if b > reached]
        for batch in wanted:
            view = self.batch(target, batch, budget)
            if view is not None:
                found[batch] = view
        return found

    def batch(self, target: swift.Target, batch: str, budget: RowBudget
              ) -> views.BatchView | None:
        """One batch's view, every page of it, or None when it is gone."""
        prefix = naming.batch_prefix(batch)
        scan = self.scan(target, prefix[:-1], budget, naming.batch_end_marker(batch))
        return next((v for v in scan if v.batch == batch), None)

    def bodies(self, target: swift.Target, batches: Iterable[str], newest: bool = False
               ) -> dict[str, list[Any]]:
        """The message bodies of each batch still stored. ``newest`` asks
        every replica (X-Newest), so a replica that missed the body's delete
        (its device was away) cannot hand it out again: claims read so."""
        bodies = {}
        for batch in sorted(set(batches)):
            try:
                _, data = self._client.get_object(target, naming.batch_object(batch),
                                                  newest=newest)
            except swift.Missing:
                continue
            bodies[batch] = json.loads(data)
        return bodies

    def messages(self, target: swift.Target, picks: list[tuple[views.BatchView, int]],
                 now: float, known: dict[str, list[Any]] | None = None,
                 newest: bool = False) -> list[StoredMessage]:
        """The picked messages (view, index) with their bodies, in order;
        one GET per batch whose body is not ``known`` already."""
        bodies = dict(known or {})
        bodies.update(self.bodies(target, {v.batch for v, _ in picks} - set(bodies),
                                  newest))
        return [message(view, index, bodies[view.batch][index], now)
                for view, index in picks if view.batch in bodies]


def _last_batch(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trailing rows of ``rows`` that belong to its last batch."""
    last = naming.parse_object(rows[-1]['name'])
    if last is None:
        return []
    start = len(rows)
    while start and (naming.parse_object(rows[start - 1]['name']) or (0, None))[1] == last[1]:
        start -= 1
    return rows[start:]


def message(view: views.BatchView, index: int, body: Any, now: float) -> StoredMessage:
    holder = view.state.holder(index, now)
    return StoredMessage(
        id=naming.message_id(view.batch, index), body=body,
        ttl=view.info.ttls[index], created=view.created,
        expires=view.expires_at(index),
        claim_id=holder.claim_id if holder else None,
        claim_count=view.state.count(index), client_key=view.info.key(index))
