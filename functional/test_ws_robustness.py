"""Bad frames, floods and many connections never kill the websocket server
nor hurt another connection; limits close or refuse with a clear code."""
from __future__ import annotations

import json
import statistics
import time

import msgpack
import pytest
import websocket

from zaqar_swift.testing import processes

try:
    from functional.wsclient import WsClient
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    from wsclient import WsClient


@pytest.fixture(scope='module')
def small_ws(ws_factory):
    """A server with a 64 KiB frame limit and at most 250 connections."""
    return ws_factory(websocket={'max_frame_size': 65536, 'max_connections': 250})


def _ping_ok(url: str) -> bool:
    client = WsClient(url)
    try:
        return client.call('ping') == (204, {})
    finally:
        client.close()


BAD_TEXT = {
    'not JSON': ('{"action": ', 'Cannot decode the text (JSON) frame'),
    'an array': ('[1, 2]', 'A request must be an object'),
    'no action': ('{"headers": {}}', 'no "action"'),
    'action not a string': ('{"action": 3}', 'no "action"'),
    'unknown action': ('{"action": "queue_explode", "headers": {}}', 'Unknown action'),
    'headers not strings': ('{"action": "ping", "headers": {"a": 1}}', 'headers'),
    'body not an object': ('{"action": "queue_get", "headers": {}, "body": [1]}',
                           '"body" must be an object'),
    'deep nesting': ('[' * 30000 + ']' * 30000, 'Cannot decode'),
    'missing queue_name': (json.dumps({'action': 'queue_get', 'headers': {
        'Client-ID': '3f0f6c2e-6c1a-4c59-a1a4-6f0d4d3c1a11', 'X-Project-ID': 'p'}}),
        'needs "queue_name"'),
}


@pytest.mark.parametrize('name', sorted(BAD_TEXT))
def test_bad_text_frames_get_a_400_and_the_connection_goes_on(small_ws, name):
    frame, words = BAD_TEXT[name]
    client = WsClient(small_ws.url)
    client.send_raw(frame)
    answer = client.recv()
    assert answer['headers']['status'] == 400
    assert words in answer['body']['description']
    assert client.call('ping') == (204, {})
    client.close()


def test_bad_binary_frames_get_a_messagepack_400(small_ws):
    client = WsClient(small_ws.url, binary=True)
    for frame in (b'\xc1\xc1garbage', msgpack.packb([1]), msgpack.packb({'action': b'x'}),
                  msgpack.packb({'action': 'message_post', 'headers': client.headers(),
                                 'body': {'queue_name': 'b', 'messages': [{'body': b'\x00'}]}})):
        client.send_raw(frame)
        answer = client.recv()   # decoded from MessagePack: a binary reply
        assert answer['headers']['status'] == 400, answer
    assert client.call('ping') == (204, {})
    client.close()


def test_oversized_frame_closes_with_1009_and_nothing_else(small_ws):
    bystander = WsClient(small_ws.url)
    ws = websocket.create_connection(small_ws.url, timeout=30)
    ws.send(json.dumps({'action': 'ping', 'headers': {}, 'body': {'x': 'a' * 70000}}))
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(data[:2], 'big') == 1009
    assert bystander.call('ping') == (204, {})
    assert _ping_ok(small_ws.url)
    bystander.close()


def test_a_flood_slows_only_its_own_connection(small_ws):
    flooder, bystander = WsClient(small_ws.url), WsClient(small_ws.url)
    frames = 2000
    started = time.monotonic()
    for n in range(frames):
        flooder.send_raw('{"action": "ping", "headers": {}}' if n % 2 else 'garbage')
    latencies = []
    for _ in range(20):
        t = time.monotonic()
        assert bystander.call('ping') == (204, {})
        latencies.append(time.monotonic() - t)
    statuses = [flooder.recv()['headers']['status'] for _ in range(frames)]
    assert statuses.count(204) == frames // 2 and statuses.count(400) == frames // 2
    print('flood of %d frames answered in %.2f s; bystander ping p50 %.1f ms max %.1f ms' % (
        frames, time.monotonic() - started, statistics.median(latencies) * 1000,
        max(latencies) * 1000))
    assert max(latencies) < 2.0
    flooder.close()
    bystander.close()


def test_connections_beyond_the_limit_get_503(ws_factory):
    limited = ws_factory(websocket={'max_connections': 3})
    open_ = [WsClient(limited.url) for _ in range(3)]
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(limited.url, timeout=10)
    assert refused.value.status_code == 503
    open_.pop().close()
    time.sleep(0.3)
    assert _ping_ok(limited.url)
    for client in open_:
        client.close()


def test_200_idle_connections_and_one_busy_client(api, small_ws):
    busy = WsClient(small_ws.url)

    def round_trips(count: int) -> list[float]:
        took = []
        for n in range(count):
            t = time.monotonic()
            status, _ = busy.call('message_post', {'queue_name': 'busy',
                                                   'messages': [{'body': n}]})
            assert status == 201
            assert busy.call('message_list', {'queue_name': 'busy', 'echo': True,
                                              'limit': 1})[0] == 200
            took.append(time.monotonic() - t)
        return took

    round_trips(3)
    before = small_ws.rss_bytes()
    alone = round_trips(20)
    idle = [websocket.create_connection(small_ws.url, timeout=30) for _ in range(200)]
    for conn in idle:   # each one has been served once
        conn.send('{"action": "ping", "headers": {}}')
    for conn in idle:
        conn.recv()
    time.sleep(0.5)
    after = small_ws.rss_bytes()
    crowded = round_trips(20)
    per_connection = (after - before) / 200
    print('200 idle connections: %.1f KiB RSS per connection (%.1f -> %.1f MiB); busy '
          'client post+list p50 %.0f ms alone, %.0f ms with them (max %.0f ms)' % (
              per_connection / 1024, before / 2 ** 20, after / 2 ** 20,
              statistics.median(alone) * 1000, statistics.median(crowded) * 1000,
              max(crowded) * 1000))
    assert per_connection < 256 * 1024
    assert statistics.median(crowded) < 3 * statistics.median(alone) + 0.2
    for conn in idle:
        conn.close()
    busy.close()
    assert processes.pid_alive(small_ws.process.pid())
