"""longpoll.Pollers: one check per queue and interval, whatever the number
of waiters (no Swift: the check is a counter)."""
import threading
import time

from zaqar_swift.longpoll import Pollers


def _waiters(pollers, key, check, seconds, count):
    results = []

    def run():
        results.append(pollers.wait(key, check, pollers.deadline(seconds)))
    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    return threads, results


def test_many_waiters_check_once_per_interval():
    pollers, checks = Pollers(0.05, 100), []
    threads, results = _waiters(pollers, 'q', lambda: checks.append(1) or False, 0.5, 10)
    for t in threads:
        t.join(5)
    assert results == [False] * 10
    assert 5 <= len(checks) <= 0.5 / 0.05 + 2


def test_a_check_that_finds_messages_wakes_every_waiter():
    pollers, found = Pollers(0.05, 100), threading.Event()
    threads, results = _waiters(pollers, 'q', found.is_set, 5.0, 4)
    time.sleep(0.1)
    began = time.monotonic()
    found.set()
    for t in threads:
        t.join(5)
    assert results == [True] * 4
    assert time.monotonic() - began < 1.0


def test_a_wake_answers_at_once_without_a_check():
    pollers, checks = Pollers(10.0, 100), []
    pollers.found_empty('q', 'record')          # the interval's look is done
    threads, results = _waiters(pollers, 'q', lambda: checks.append(1) or False, 5.0, 3)
    time.sleep(0.1)
    pollers.wake('q')
    for t in threads:
        t.join(5)
    assert results == [True] * 3 and checks == []


def test_a_known_empty_queue_and_the_waiter_limit():
    pollers = Pollers(10.0, 1)
    assert pollers.known_empty('q') is None
    pollers.found_empty('q', 'record')
    assert pollers.known_empty('q') == 'record'
    pollers.wake('q')
    assert pollers.known_empty('q') is None
    pollers.found_empty('q', 'record')
    threads, _ = _waiters(pollers, 'q', lambda: False, 0.5, 1)
    time.sleep(0.1)
    assert pollers.known_empty('q') is None     # no waiter slot left: look, answer
    assert pollers.wait('q', lambda: False, pollers.deadline(1.0)) is False
    for t in threads:
        t.join(5)
