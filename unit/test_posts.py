"""Posts that arrive together share one batch object (storage/swift/posts.py).

The writer here is a plain function (no Swift): these tests check who
writes which group, in what order, within which bounds, and that a failed
write fails every post of its group and no other.
"""
import threading
import time

import pytest

from zaqar_swift.storage.swift import posts


def _post(messages=1, size=10, key='k'):
    return posts.Post([b'x' * size] * messages, [60] * messages, [0] * messages, key, 0)


class Writer:
    """Records each group; the first call blocks until ``release``."""

    def __init__(self, block_first=False, fail=()):
        self.groups = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not block_first:
            self.release.set()
        self.fail = set(fail)           # numbers of the calls that raise
        self.lock = threading.Lock()

    def __call__(self, group):
        with self.lock:
            self.groups.append(group)
            number = len(self.groups)
        self.entered.set()
        self.release.wait(10)
        if number in self.fail:
            raise RuntimeError('write %d failed' % number)
        count = sum(len(p.bodies) for p in group)
        return ['g%d.%d' % (number, i) for i in range(count)]


def _start(groups, writer, post, results, target='q'):
    """Post ``post`` on a thread of its own; its ids (or error) go to ``results``."""
    def go():
        try:
            results[id(post)] = groups.post(target, post, writer)
        except RuntimeError as exc:
            results[id(post)] = exc
    thread = threading.Thread(target=go)
    thread.start()
    return thread


def _behind_a_write(groups, writer, first, waiting):
    """Post ``first``, hold its write until every post of ``waiting`` has
    queued behind it, then let it go; every post's ids (or error), by post."""
    results = {}
    threads = [_start(groups, writer, first, results)]
    assert writer.entered.wait(5)
    threads += [_start(groups, writer, post, results) for post in waiting]
    _wait_until(lambda: len(groups._queues['q'].waiting) == len(waiting))
    writer.release.set()
    for thread in threads:
        thread.join(10)
    return results


def test_a_lone_post_writes_at_once_alone():
    writer, groups = Writer(), posts.PostGroups()
    post = _post(3)
    assert groups.post('q', post, writer) == ['g1.0', 'g1.1', 'g1.2']
    assert writer.groups == [[post]]


def test_posts_arriving_during_a_write_share_the_next_object_in_order():
    writer, groups = Writer(block_first=True), posts.PostGroups()
    first = _post(2)
    later = [_post(1, key='k%d' % i) for i in range(5)]
    results = _behind_a_write(groups, writer, first, later)
    assert [len(g) for g in writer.groups] == [1, 5]
    assert writer.groups[1] == later           # in arrival order
    assert results[id(first)] == ['g1.0', 'g1.1']
    assert [results[id(p)] for p in later] == [['g2.%d' % i] for i in range(5)]


def test_an_object_stays_within_its_bounds_and_a_large_post_goes_alone():
    writer, groups = Writer(block_first=True), posts.PostGroups()
    waiting = [_post(8), _post(8), _post(8), _post(30), _post(1, size=posts.GROUP_BYTES)]
    results = _behind_a_write(groups, writer, _post(1), waiting)
    sizes = [sum(len(p.bodies) for p in g) for g in writer.groups]
    assert sizes[0] == 1
    assert all(s <= posts.GROUP_MESSAGES for s, g in zip(sizes, writer.groups) if len(g) > 1)
    assert 30 in sizes                          # never split
    assert sum(sizes) == 1 + 8 * 3 + 30 + 1
    assert all(not isinstance(r, Exception) for r in results.values())


def test_a_failed_write_fails_every_post_of_its_group_and_no_other():
    writer, groups = Writer(block_first=True, fail={2}), posts.PostGroups()
    first = _post(1)
    failing = [_post(1), _post(1)]
    results = _behind_a_write(groups, writer, first, failing)
    assert results[id(first)] == ['g1.0']
    assert all(isinstance(results[id(p)], RuntimeError) for p in failing)
    # the line is free again: the next post writes at once
    assert groups.post('q', _post(1), writer) == ['g3.0']


def test_queues_do_not_wait_for_each_other():
    writer, groups = Writer(block_first=True), posts.PostGroups()
    blocked = _start(groups, writer, _post(1), {}, target='a')
    assert writer.entered.wait(5)
    other = Writer()
    assert groups.post('b', _post(1), other) == ['g1.0']
    writer.release.set()
    blocked.join(10)


def _wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail('condition not reached')
        time.sleep(0.005)
