"""Notification benchmark: messages delivered to 3 webhook subscribers.

Starts its own local Swift and one zaqar-swift-api process (as
``lifecycle.py`` does) and three HTTP receivers (``functional/receiver.py``,
each a process of its own), then:

1. posts N messages (batches of 10) to a queue without subscriptions and
   counts the Swift requests of the POSTs (``X-Swift-Requests``) and of the
   notification worker meanwhile (its count in ``/v2/health``);
2. subscribes the 3 receivers to another queue, posts N messages to it in
   batches of 10 from one client, and waits until every receiver has all N.

With ``--topic`` the same runs go to topics (``/v2/topics``, created
first) and their worker (``topic-notification-worker``).

It prints the Swift requests per POST in both runs (the POST's own and the
worker's), the messages
per second delivered (3 N over the time from the first POST to the last
delivery) and the post-to-delivery latency (from the POST's 201 to the
receiver's arrival) at p50 and p95. Last line::

    notify: N messages x 3 subscribers, D deliveries/s, p50 A s, p95 B s
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from functional.receiver import Receiver  # noqa: E402
from zaqar_swift.testing.api import LocalApi  # noqa: E402
from zaqar_swift.testing.ports import free_port_block  # noqa: E402
from zaqar_swift.testing.saio import LocalSwift  # noqa: E402

BATCH = 10
SETTINGS = {'poll_interval': 1.0, 'index_interval': 5.0, 'lease_ttl': 30.0}


WORKERS = {'queues': 'notification-worker', 'topics': 'topic-notification-worker'}


def worker_requests(url: str, kind: str = 'queues') -> int:
    """Swift requests the notification worker made so far (``/v2/health``)."""
    resp = requests.get(url + '/v2/health', headers={'X-Roles': 'admin'}, timeout=60)
    return resp.json()[WORKERS[kind]]['swift_requests']


class Client:
    def __init__(self, url: str, kind: str = 'queues') -> None:
        self.url = url
        self.kind = kind   # queues or topics
        self.session = requests.Session()
        self.session.headers.update({'X-Project-ID': 'bench-' + uuid.uuid4().hex[:8],
                                     'Client-ID': str(uuid.uuid4())})

    def post(self, queue: str, first: int, count: int) -> tuple[float, int]:
        resp = self.session.post('%s/v2/%s/%s/messages' % (self.url, self.kind, queue), json={
            'messages': [{'body': {'n': n}, 'ttl': 3600} for n in range(first, first + count)]},
            timeout=60)
        if resp.status_code != 201:
            raise RuntimeError('POST answered %d: %s' % (resp.status_code, resp.text))
        return time.time(), int(resp.headers.get('X-Swift-Requests', 0))

    def subscribe(self, queue: str, subscriber: str) -> None:
        resp = self.session.post('%s/v2/%s/%s/subscriptions' % (self.url, self.kind, queue),
                                 json={'subscriber': subscriber, 'ttl': 3600}, timeout=60)
        if resp.status_code != 201:
            raise RuntimeError('subscribe answered %d: %s' % (resp.status_code, resp.text))

    def create(self, name: str) -> None:
        resp = self.session.put('%s/v2/%s/%s' % (self.url, self.kind, name), timeout=60)
        if resp.status_code not in (201, 204):
            raise RuntimeError('PUT answered %d: %s' % (resp.status_code, resp.text))


def post_all(client: Client, queue: str, count: int) -> tuple[dict[int, float], int]:
    """(201 time of each message, Swift requests of the POSTs themselves)."""
    own, posted = 0, {}
    for first in range(0, count, BATCH):
        at, swift_requests = client.post(queue, first, min(BATCH, count - first))
        own += swift_requests
        posted.update({n: at for n in range(first, min(first + BATCH, count))})
    return posted, own


def run(count: int, workdir: str, kind: str = 'queues') -> dict[str, Any]:
    base = free_port_block(5)
    swift = LocalSwift(os.path.join(workdir, 'saio'), proxy_port=base, base_port=base + 1)
    swift.start(timeout=90)
    hooks: list[Receiver] = []
    api = None
    try:
        port = free_port_block(1)
        conf = os.path.join(workdir, 'api.conf')
        swift.write_api_conf(conf, bind_port=port, extra={'notification': SETTINGS})
        api = LocalApi(conf, os.path.join(workdir, 'api.log'), port).start(30)
        client = Client(api.url, kind)
        for name in ('plain', 'notified') if kind == 'topics' else ():
            client.create(name)    # a topic is not created by its first POST
        before = worker_requests(api.url, kind)
        _, own_plain = post_all(client, 'plain', count)
        all_plain = worker_requests(api.url, kind) - before
        hooks = [Receiver() for _ in range(3)]
        for hook in hooks:
            client.subscribe('notified', hook.url)
        time.sleep(SETTINGS['poll_interval'] * 2)    # the worker has the queue's lease
        started, before = time.time(), worker_requests(api.url, kind)
        posted, own_sub = post_all(client, 'notified', count)
        deadline = time.time() + 600
        while any(len(h.received) < count for h in hooks):
            if time.time() > deadline:
                raise RuntimeError('not every message was delivered in 600 s')
            time.sleep(0.2)
        all_sub = worker_requests(api.url, kind) - before
        received = [(at, body['body']['n']) for h in hooks for at, body, _ in h.received]
        latency = sorted(at - posted[n] for at, n in received)
        return {'count': count, 'own_plain': own_plain / (count / BATCH),
                'all_plain': all_plain / (count / BATCH),
                'own_sub': own_sub / (count / BATCH),
                'all_sub': all_sub / (count / BATCH),
                'rate': len(received) / (max(at for at, _ in received) - started),
                'p50': statistics.median(latency),
                'p95': latency[int(len(latency) * 0.95) - 1],
                'duplicates': len(received) - 3 * count}
    finally:
        for hook in hooks:
            hook.close()
        if api is not None:
            api.stop()
        swift.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--messages', type=int, default=300)
    parser.add_argument('--topic', action='store_true', help='post to topics, not queues')
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix='zaqar-swift-notify-')
    kind = 'topics' if args.topic else 'queues'
    try:
        r = run(args.messages, workdir, kind)
    finally:
        if not os.environ.get('NOTIFY_BENCH_KEEP'):
            shutil.rmtree(workdir, ignore_errors=True)
    print('Swift requests per POST of %d messages:' % BATCH)
    print('  no subscriptions : %.2f by the POST itself, %.2f by the notification worker '
          '(meanwhile)' % (r['own_plain'], r['all_plain']))
    print('  3 subscriptions  : %.2f by the POST itself, %.2f by the notification worker '
          '(until the last delivery)' % (r['own_sub'], r['all_sub']))
    print('duplicates: %d' % r['duplicates'])
    print('notify%s: %d messages x 3 subscribers, %.1f deliveries/s, p50 %.3f s, p95 %.3f s'
          % (' (topics)' if args.topic else '', r['count'], r['rate'], r['p50'], r['p95']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
