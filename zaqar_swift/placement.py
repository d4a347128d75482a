"""Which pool a new queue goes to: weighted rendezvous hashing.

Every pool scores the queue with ``-weight / ln(h)``, ``h`` a hash of the
pool and queue names mapped into (0, 1); the highest score wins. The
winner is a weighted random choice (pool i wins with probability
``w_i / sum(w)``) that depends only on the names and the weights, so:

* the choice is stable: the same queue and pools give the same pool on
  every API node, without any shared state;
* a pool added later wins only the queues whose new score beats their old
  winner's, its share of new queues, and moves no queue decided before
  (queues remember their pool; placement only runs at creation);
* a weight of 0 never wins (it stops new placements).

Pure functions: no I/O.
"""
from __future__ import annotations

import hashlib
import math
from typing import Iterable

_SCALE = float(2 ** 64)


def _unit(pool: str, key: str) -> float:
    """A hash of (pool, key) in the open interval (0, 1)."""
    digest = hashlib.sha256(('%s\n%s' % (pool, key)).encode('utf-8')).digest()
    return (int.from_bytes(digest[:8], 'big') + 0.5) / _SCALE


def score(pool: str, weight: int, key: str) -> float:
    """The pool's score for ``key``; -inf for a weight of 0."""
    if weight <= 0:
        return -math.inf
    return -weight / math.log(_unit(pool, key))


def choose(key: str, pools: Iterable[tuple[str, int]]) -> str | None:
    """The pool ``key`` goes to among ``(name, weight)`` pairs; None when
    no pool has a weight above 0. Ties (never seen) go to the smaller name."""
    best: tuple[float, str] | None = None
    for name, weight in pools:
        if weight <= 0:
            continue
        candidate = (score(name, weight, key), name)
        if best is None or candidate[0] > best[0] or (
                candidate[0] == best[0] and name < best[1]):
            best = candidate
    return best[1] if best else None


def queue_key(project: str, queue: str) -> str:
    """What placement hashes for a queue: its project and name (the same
    queue name in two projects is two independent choices)."""
    return '%s/%s' % (project, queue)
