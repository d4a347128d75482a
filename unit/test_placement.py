"""Weighted rendezvous placement: proportions, stability, weight 0, a pool
added later (pure: 1,000 or more names, no Swift)."""
from __future__ import annotations

import collections

from zaqar_swift import placement

NAMES = [placement.queue_key('p%d' % (i % 7), 'queue-%d' % i) for i in range(20000)]


def _shares(pools):
    counts = collections.Counter(placement.choose(k, pools) for k in NAMES)
    return {name: counts[name] / len(NAMES) for name, _ in pools}


def test_proportional_to_weights_within_a_few_percent():
    pools = [('a', 100), ('b', 200), ('c', 100)]
    shares = _shares(pools)
    for name, weight in pools:
        assert abs(shares[name] - weight / 400) < 0.02, shares


def test_thousand_queues_proportions():
    pools = [('east', 30), ('west', 70)]
    counts = collections.Counter(placement.choose(k, pools) for k in NAMES[:1000])
    assert abs(counts['east'] / 1000 - 0.3) < 0.04, counts


def test_stable_and_independent_of_order():
    pools = [('a', 10), ('b', 20), ('c', 30)]
    for key in NAMES[:500]:
        assert placement.choose(key, pools) == placement.choose(key, pools[::-1])


def test_weight_zero_gets_nothing():
    pools = [('a', 10), ('off', 0), ('b', 10)]
    assert all(placement.choose(k, pools) != 'off' for k in NAMES[:2000])
    assert placement.choose('x', [('off', 0)]) is None
    assert placement.choose('x', []) is None


def test_new_pool_takes_its_share_and_moves_nothing_else():
    old = [('a', 50), ('b', 50)]
    new = old + [('c', 100)]
    before = {k: placement.choose(k, old) for k in NAMES}
    after = {k: placement.choose(k, new) for k in NAMES}
    moved = [k for k in NAMES if before[k] != after[k]]
    assert all(after[k] == 'c' for k in moved)   # only to the new pool
    assert abs(len(moved) / len(NAMES) - 0.5) < 0.02


def test_weight_change_to_zero_moves_only_its_queues():
    old = [('a', 10), ('b', 10), ('c', 10)]
    new = [('a', 10), ('b', 0), ('c', 10)]
    for key in NAMES[:2000]:
        if placement.choose(key, old) != 'b':
            assert placement.choose(key, new) == placement.choose(key, old)
