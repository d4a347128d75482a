"""The in-process cache that stands in for memcached in a local Swift."""
from __future__ import annotations

from zaqar_swift.testing.saio.cache import LocalCache, filter_factory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_values_round_trip_through_json_like_memcached():
    cache = LocalCache()
    info = {'status': 200, 'meta': {}}
    cache.set('account/AUTH_a', info)
    got = cache.get('account/AUTH_a')
    assert got == info
    got['status'] = 404  # callers mutate what they read
    assert cache.get('account/AUTH_a')['status'] == 200
    cache.set('token', (1234.5, 'g1,g2'))
    assert cache.get('token') == [1234.5, 'g1,g2']


def test_entries_expire_after_their_time():
    clock = Clock()
    cache = LocalCache(clock=clock)
    cache.set('k', 'v', time=10)
    clock.now += 9.9
    assert cache.get('k') == 'v'
    clock.now += 0.2
    assert cache.get('k') is None


def test_large_time_is_an_absolute_timestamp():
    clock = Clock()
    cache = LocalCache(clock=clock)
    cache.set('k', 'v', time=clock.now + 31 * 24 * 3600)
    clock.now += 30 * 24 * 3600
    assert cache.get('k') == 'v'


def test_incr_decr_start_from_zero_and_stop_at_zero():
    cache = LocalCache()
    assert cache.incr('n', 5) == 5
    assert cache.incr('n') == 6
    assert cache.decr('n', 10) == 0
    assert cache.get('n') == b'0'


def test_delete_and_multi():
    cache = LocalCache()
    cache.set_multi({'a': 1, 'b': 2}, 'server')
    assert cache.get_multi(['a', 'b', 'c'], 'server') == [1, 2, None]
    cache.delete('a')
    assert cache.get('a') is None


def test_oldest_entries_are_evicted_at_the_size_limit():
    cache = LocalCache(max_items=3)
    for i in range(5):
        cache.set('k%d' % i, i)
    assert [cache.get('k%d' % i) for i in range(5)] == [None, None, 2, 3, 4]


def test_filter_shares_one_cache_between_requests():
    seen = []

    def app(env, start_response):
        seen.append(env['swift.cache'])
        return []

    wrapped = filter_factory({})(app)
    wrapped({}, None)
    wrapped({}, None)
    assert seen[0] is seen[1] and isinstance(seen[0], LocalCache)
