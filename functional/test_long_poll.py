"""Long polling (``?wait=N`` on POST .../claims and GET .../messages),
through real API processes and the real local Swift.

* ``wait`` above 20, negative or not an integer is a 400 JSON error (REST
  and websocket);
* a waiting claim answers as soon as a message is posted, through its own
  process (woken at once) or another one (its next poll);
* without messages it answers 204 after ``wait`` seconds;
* waiting requests cost one Swift listing per poll interval and process,
  whatever their number (counted from /metrics);
* without ``wait`` nothing changes (the other claim tests).
"""
import re
import threading
import time

import pytest

from functional import helpers as h

INTERVAL = 0.5
METRIC = re.compile(r'^zaqar_swift_swift_requests_total\{operation="([A-Z]+)"\} (\d+)$', re.M)


@pytest.fixture(scope='module')
def poll_api(api_factory):
    return api_factory(swift={'long_poll_interval': INTERVAL})


def _swift_requests(api):
    resp = h.Tenant(api.url).get('/metrics', headers={'X-Roles': 'admin', 'Accept': 'text/plain'})
    assert resp.status_code == 200, h.describe(resp)
    return {op: int(n) for op, n in METRIC.findall(resp.text)}


def _in_thread(func):
    result = {}

    def run():
        began = time.monotonic()
        result['value'] = func()
        result['seconds'] = time.monotonic() - began
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _claim(tenant, queue, wait, limit=10):
    return tenant.post(f'/v2/queues/{queue}/claims', params={'wait': wait, 'limit': limit},
                       json={'ttl': 60, 'grace': 60})


@pytest.mark.parametrize('wait', ['21', '-1', 'abc', '1.5'])
def test_a_bad_wait_is_400(poll_api, wait):
    t = h.Tenant(poll_api.url)
    h.assert_json_error(_claim(t, 'q', wait), 400)
    h.assert_json_error(t.get('/v2/queues/q/messages', params={'wait': wait}), 400)


def test_wait_over_the_websocket(ws):
    from functional.wsclient import WsClient
    client = WsClient(ws.url)
    try:
        for action in ('claim_create', 'message_list'):
            status, body = client.call(action, {'queue_name': 'q', 'wait': 21})
            assert status == 400, body
        status, _ = client.call('claim_create', {'queue_name': 'q', 'wait': 1})
        assert status == 204
    finally:
        client.close()


def test_a_waiting_claim_answers_when_a_message_is_posted(poll_api):
    t = h.Tenant(poll_api.url)
    t.create_queue('q')
    thread, result = _in_thread(lambda: _claim(t, 'q', 10))
    time.sleep(1.0)
    posted_at = time.monotonic()
    ids = t.post_bodies('q', 2)
    thread.join(15)
    resp = result['value']
    assert resp.status_code == 201, h.describe(resp)
    assert [h.message_id(m['href']) for m in resp.json()['messages']] == ids
    assert time.monotonic() - posted_at < 5     # woken at once: no poll needed


def test_a_waiting_claim_sees_a_post_through_another_process(poll_api, api):
    waiter, poster = h.Tenant(poll_api.url), None
    poster = h.Tenant(api.url, project=waiter.project)
    poster.create_queue('q')
    thread, result = _in_thread(lambda: _claim(waiter, 'q', 15))
    time.sleep(1.0)
    ids = poster.post_bodies('q', 1)
    thread.join(20)
    resp = result['value']
    assert resp.status_code == 201, h.describe(resp)
    assert [h.message_id(m['href']) for m in resp.json()['messages']] == ids
    assert result['seconds'] < 10


def test_a_waiting_claim_on_an_empty_queue_is_204_after_the_wait(poll_api):
    t = h.Tenant(poll_api.url)
    t.create_queue('q')
    began = time.monotonic()
    resp = _claim(t, 'q', 2)
    assert resp.status_code == 204, h.describe(resp)
    assert 2 <= time.monotonic() - began < 6


def test_a_waiting_listing_answers_when_a_message_is_posted(poll_api):
    t = h.Tenant(poll_api.url)
    t.create_queue('q')
    other = t.peer()
    thread, result = _in_thread(lambda: t.get('/v2/queues/q/messages',
                                              params={'wait': 10}))
    time.sleep(1.0)
    ids = other.post_bodies('q', 1)
    thread.join(15)
    resp = result['value']
    assert resp.status_code == 200, h.describe(resp)
    assert [m['id'] for m in resp.json()['messages']] == ids
    assert result['seconds'] < 8


def _spent(api, seconds):
    before = _swift_requests(api)
    time.sleep(seconds)
    after = _swift_requests(api)
    return {op: n - before.get(op, 0) for op, n in after.items() if n > before.get(op, 0)}


def test_waiting_requests_cost_one_listing_per_interval(poll_api):
    """Six clients long-poll an empty queue for 6 s, asking again each time
    they get a 204: at most one Swift request per interval more than the
    process makes meanwhile without them (its background workers)."""
    t = h.Tenant(poll_api.url)
    t.create_queue('q')
    baseline = _spent(poll_api, 6.0)
    clients = [t.peer() for _ in range(6)]
    stop = threading.Event()
    answers = []

    def poll(client):
        while not stop.is_set():
            answers.append(_claim(client, 'q', 2).status_code)
    threads = [threading.Thread(target=poll, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    time.sleep(1.0)                     # the first claims have looked
    spent = _spent(poll_api, 6.0)
    stop.set()
    for thread in threads:
        thread.join(10)
    print('Swift requests in 6 s: %s with 6 waiting clients, %s without; answers %s'
          % (spent, baseline, set(answers)))
    assert set(answers) == {204}
    assert sum(spent.values()) - sum(baseline.values()) <= 6.0 / INTERVAL + 1, spent
