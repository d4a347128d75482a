"""The notification worker's planning, without Swift: which deliveries a pass
starts, and how far each subscription's mark moves (the trailing window,
late batches, failing subscribers, bounded concurrency)."""
from __future__ import annotations

from zaqar_swift.notification.worker import Held, NotificationWorker, Settings, SubState
from zaqar_swift.storage.swift import encoding
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift import views
from zaqar_swift.storage.swift.subscriptions import StoredSubscription

NOW = 1_800_000_000.0
WINDOW = 10.0


def batch(seconds_ago: float, rand: int = 1) -> str:
    return naming.batch_id(int((NOW - seconds_ago) * 1e6), rand)


def view(name: str, size: int = 2, ttl: int = 3600) -> views.BatchView:
    row = {'name': naming.batch_object(name), 'last_modified': '2027-01-01T00:00:00.000000',
           'content_type': encoding.encode_batch(
               encoding.BatchInfo('k', (ttl,) * size, (0,) * size))}
    return next(views.fold([row]))


def worker(**settings: object) -> NotificationWorker:
    return NotificationWorker(None, None, None, None, None,
                              Settings(window=WINDOW, **settings))


def held(*sids: str, mark: float = 60.0) -> Held:
    h = Held('p', 'q', 0.0, {sid: SubState(int((NOW - mark) * 1e6)) for sid in sids})
    h.subs = {sid: StoredSubscription(sid, 'http://x/' + sid, 600, {}, True, NOW - 100)
              for sid in sids}
    return h


def test_every_undelivered_batch_is_planned_and_the_mark_stays_below_them():
    w, h = worker(), held('a')
    batches = [view(batch(30)), view(batch(20)), view(batch(5))]
    tasks = w._plan(h, h.subs, batches, NOW)
    assert sorted(tasks) == sorted(v.batch for v in batches)
    w._advance(h, h.subs, batches, False, NOW)
    assert h.state['a'].mark == naming.batch_micros(batches[0].batch)


def test_the_mark_never_passes_now_minus_the_window():
    w, h = worker(), held('a')
    batches = [view(batch(30)), view(batch(5))]
    for v in batches:
        h.state['a'].progress[v.batch] = 2
    w._advance(h, h.subs, batches, False, NOW)
    assert h.state['a'].mark == int((NOW - WINDOW) * 1e6)
    assert list(h.state['a'].progress) == [batches[1].batch]   # kept: inside the window


def test_a_late_batch_inside_the_window_is_still_delivered():
    w, h = worker(), held('a')
    delivered, late = view(batch(2, rand=9)), view(batch(8, rand=1))
    h.state['a'].mark = int((NOW - WINDOW) * 1e6)
    h.state['a'].progress[delivered.batch] = 2
    assert list(w._plan(h, h.subs, [late, delivered], NOW)) == [late.batch]


def test_expired_and_deleted_batches_do_not_hold_the_mark():
    w, h = worker(), held('a', mark=200)
    gone = view(batch(100), ttl=60)       # every message expired
    w._advance(h, h.subs, [gone], False, NOW)
    assert h.state['a'].mark == int((NOW - WINDOW) * 1e6)


def test_a_failing_subscriber_retries_only_its_oldest_batch_when_due_others_go_on():
    w, h = worker(), held('bad', 'good')
    batches = [view(batch(40)), view(batch(30)), view(batch(20))]
    h.state['bad'].fail[batches[0].batch] = [2, NOW + 5]
    tasks = w._plan(h, h.subs, batches, NOW)
    assert all(sid == 'good' for wanted in tasks.values() for sid, _ in wanted)
    tasks = w._plan(h, h.subs, batches, NOW + 6)
    assert [b for b, wanted in tasks.items() if ('bad', 0) in wanted] == [batches[0].batch]


def test_deliveries_in_flight_per_subscriber_are_bounded_and_resume_mid_batch():
    w, h = worker(max_per_subscriber=2), held('a')
    batches = [view(batch(50 - i)) for i in range(5)]
    h.state['a'].progress[batches[0].batch] = 1
    tasks = w._plan(h, h.subs, batches, NOW)
    assert tasks == {batches[0].batch: [('a', 1)], batches[1].batch: [('a', 0)]}
    h.inflight.add(('a', batches[0].batch))
    w._busy['a'] = 2
    assert w._plan(h, h.subs, batches, NOW) == {}


def test_a_vanished_failing_batch_is_forgotten():
    h = held('a')
    h.state['a'].fail['x' * 22] = [3, NOW]
    NotificationWorker._forget_vanished(h, h.subs, set())
    assert h.state['a'].fail == {} and h.dirty
