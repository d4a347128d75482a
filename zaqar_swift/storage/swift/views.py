"""Reading a queue container listing into per-batch views.

A listing of ``m/`` returns, for each batch, its body object, its claim
state generations and its tombstones, next to each other. ``BatchView``
folds those rows into what a message's status needs, so nothing has to GET
an object to learn whether a message is free, claimed, delayed or expired.
"""
from __future__ import annotations

import dataclasses
import datetime
import math
from typing import Any, Iterable, Iterator

from zaqar_swift.storage.swift import encoding
from zaqar_swift.storage.swift import naming

FREE, CLAIMED, DELAYED, GONE = 'free', 'claimed', 'delayed', 'gone'
# Seconds added to every X-Delete-At: X-Delete-After is truncated to whole
# seconds by Swift, and a GET may 404 up to 0.1 s before X-Delete-At.
EXPIRY_MARGIN = 2


def body_expiry(lives: Iterable[float]) -> int:
    """The X-Delete-At a batch body needs: every message of it lives until
    ``max(created + ttl, kept until)`` (``lives``); one formula for the POST that creates
    the body and for every state write that extends it."""
    return max(math.ceil(life) for life in lives) + EXPIRY_MARGIN


def listing_time(row: dict[str, Any]) -> float:
    """Epoch seconds of a listing row's last_modified."""
    stamp = datetime.datetime.fromisoformat(row['last_modified'])
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()


@dataclasses.dataclass
class BatchView:
    """Everything a listing says about one batch."""

    batch: str
    info: encoding.BatchInfo | None = None
    gen: int = 0
    gen_rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    gen_states: list[encoding.BatchState] = dataclasses.field(default_factory=list)
    state: encoding.BatchState = dataclasses.field(default_factory=encoding.BatchState)
    tombstones: set[int] = dataclasses.field(default_factory=set)
    names: list[str] = dataclasses.field(default_factory=list)
    older: list[tuple[int, str]] = dataclasses.field(default_factory=list)

    @property
    def created(self) -> float:
        return naming.batch_micros(self.batch) / 1e6

    def expires_at(self, index: int) -> float:
        own = self.created + self.info.ttls[index]
        return max(own, self.state.kept_until(index))

    def status(self, index: int, now: float) -> str:
        if index in self.tombstones or now >= self.expires_at(index):
            return GONE
        if self.state.holder(index, now) is not None:
            return CLAIMED
        if now < self.created + self.info.delays[index]:
            return DELAYED
        return FREE

    def indexes(self) -> range:
        return range(self.info.size)

    def live(self, now: float) -> list[int]:
        return [i for i in self.indexes() if self.status(i, now) != GONE]

    def newest_write(self) -> float:
        """Epoch seconds of the newest state write (0 without state)."""
        return max((listing_time(r) for r in self.gen_rows), default=0.0)

    def object_expiry(self, state: encoding.BatchState | None = None) -> int:
        """The X-Delete-At the batch object needs to keep every message under
        ``state`` (the state read, by default). Every state object that
        exists was written only after the body had at least this expiry for
        it (doc/design.md, "Why a message is never lost")."""
        state = self.state if state is None else state
        return body_expiry((
            max(self.created + self.info.ttls[i], state.kept_until(i))
            for i in self.indexes()))

    def stale_names(self) -> list[str]:
        """State objects older than the previous generation: nothing reads
        them any more (the newest generation decides, the previous one is
        kept for a reader whose listing lags)."""
        return [name for number, name in self.older if number < self.gen - 1]


def fold(rows: Iterable[dict[str, Any]]) -> Iterator[BatchView]:
    """Group listing rows into views; batches without a body are skipped."""
    view: BatchView | None = None
    for row in rows:
        parsed = naming.parse_object(row['name'])
        if parsed is None:
            continue
        kind, batch, number = parsed
        if view is None or view.batch != batch:
            if view is not None and view.info is not None:
                yield _merged(view)
            view = BatchView(batch)
        view.names.append(row['name'])
        _apply(view, kind, number, row)
    if view is not None and view.info is not None:
        yield _merged(view)


def _apply(view: BatchView, kind: str, number: int | None, row: dict[str, Any]) -> None:
    if kind == 'b':
        view.info = encoding.decode_batch(row.get('content_type', ''))
    elif kind == 'x':
        view.tombstones.add(number)
    elif number < view.gen:
        view.older.append((number, row['name']))
    else:
        state = encoding.decode_state(row.get('content_type', ''))
        if state is None:
            return
        if number > view.gen:
            view.older += [(view.gen, r['name']) for r in view.gen_rows]
            view.gen, view.gen_rows, view.gen_states = number, [], []
        view.gen_rows.append(row)
        view.gen_states.append(state)


def _merged(view: BatchView) -> BatchView:
    """Racing writers of one generation are merged in the order Swift stamped
    their PUTs (then by name), so the earliest writer wins a contested message."""
    if view.gen_states:
        order = sorted(range(len(view.gen_rows)), key=lambda i: (
            view.gen_rows[i]['last_modified'], view.gen_rows[i]['name']))
        view.state = encoding.merge([view.gen_states[i] for i in order])
    return view
