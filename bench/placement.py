"""Placement of new queues over pools (weighted rendezvous hashing): the
shares each pool gets over N queue names against its weight share, what a
pool added later takes, and the cost of one choice. Pure: no Swift.

    python bench/placement.py [--queues 1000]
"""
from __future__ import annotations

import argparse
import collections
import time

from zaqar_swift import placement

CASES = {
    'equal 100/100': [('a', 100), ('b', 100)],
    '1:2:1': [('a', 100), ('b', 200), ('c', 100)],
    '30/70 + weight 0': [('a', 30), ('b', 70), ('off', 0)],
    '10 pools of 1..10': [('p%d' % w, w) for w in range(1, 11)],
}


def shares(keys: list[str], pools: list[tuple[str, int]]) -> dict[str, float]:
    counts = collections.Counter(placement.choose(k, pools) for k in keys)
    return {name: counts[name] / len(keys) for name, _ in pools}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--queues', type=int, default=1000)
    args = parser.parse_args()
    keys = [placement.queue_key('project-%d' % (i % 13), 'queue-%d' % i)
            for i in range(args.queues)]
    print('%d queue names' % len(keys))
    for case, pools in CASES.items():
        total = sum(w for _, w in pools)
        got = shares(keys, pools)
        worst = max(abs(got[n] - w / total) for n, w in pools)
        print('%-20s %s   worst |share - weight share| = %.1f points' % (
            case, ' '.join('%s=%.1f%%' % (n, 100 * got[n]) for n, _ in pools), 100 * worst))
    old, new = CASES['equal 100/100'], CASES['equal 100/100'] + [('late', 200)]
    moved = [k for k in keys if placement.choose(k, old) != placement.choose(k, new)]
    print('pool added later with half the weight: takes %.1f%% of names; moved elsewhere: %d'
          % (100 * len(moved) / len(keys),
             sum(1 for k in moved if placement.choose(k, new) != 'late')))
    pools = CASES['10 pools of 1..10']
    start = time.perf_counter()
    for key in keys:
        placement.choose(key, pools)
    print('one choice over 10 pools: %.1f µs' % ((time.perf_counter() - start) / len(keys) * 1e6))


if __name__ == '__main__':
    main()
