"""Posting benchmark: many producers posting small POSTs to one queue.

Starts its own local Swift and one zaqar-swift-api process (as
``lifecycle.py`` does), then has ``--producers`` threads, each with its own
Client-ID, post ``--messages`` messages in POSTs of ``--per-post`` messages
to one queue. Posts that arrive while another post to the queue is being
written share the next batch object (``zaqar_swift/storage/swift/posts.py``);
the benchmark reads how many objects were written from the message ids (a
message id starts with its batch object's id) and the Swift requests from
the ``X-Swift-Requests`` header of each answer. One line per producer
count, the last one::

    posts: P producers, N messages in POSTs of K: X posts/s, Y messages/s,
    p50 Z ms, W Swift requests per message, V posts per object

Run ``python bench/posts.py --help``.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from zaqar_swift.storage.swift import naming  # noqa: E402

from lifecycle import (REQUEST_TIMEOUT, BenchError, Environment,  # noqa: E402
                       percentile, swift_requests)


class Producer(threading.Thread):
    def __init__(self, url: str, project: str, queue: str, posts: int, per_post: int,
                 start_gate: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url = '%s/v2/queues/%s/messages' % (url.rstrip('/'), queue)
        self.posts, self.per_post, self.gate = posts, per_post, start_gate
        self.session = requests.Session()
        self.session.headers.update({'X-Project-ID': project, 'Client-ID': str(uuid.uuid4()),
                                     'Accept': 'application/json'})
        self.seconds: list[float] = []
        self.swift = 0
        self.ids: list[str] = []
        self.error: str | None = None

    def run(self) -> None:
        self.gate.wait()
        body = {'messages': [{'body': {'i': i}, 'ttl': 3600} for i in range(self.per_post)]}
        for _ in range(self.posts):
            began = time.perf_counter()
            resp = self.session.post(self.url, json=body, timeout=REQUEST_TIMEOUT)
            self.seconds.append(time.perf_counter() - began)
            if resp.status_code != 201:
                self.error = 'post -> %d %s' % (resp.status_code, resp.text[:200])
                return
            self.swift += swift_requests(resp) or 0
            self.ids += [r.rsplit('/', 1)[-1] for r in resp.json()['resources']]


def run(url: str, producers: int, messages: int, per_post: int) -> str:
    project, queue = 'bench-posts-%s' % uuid.uuid4().hex[:8], 'posts'
    session = requests.Session()
    session.headers.update({'X-Project-ID': project, 'Client-ID': str(uuid.uuid4())})
    # the queue's container exists before the clock starts
    session.post('%s/v2/queues/%s/messages' % (url, queue),
                 json={'messages': [{'body': 'warm-up', 'ttl': 60}]}, timeout=REQUEST_TIMEOUT)
    posts = max(1, messages // per_post // producers)
    gate = threading.Event()
    threads = [Producer(url, project, queue, posts, per_post, gate) for _ in range(producers)]
    for t in threads:
        t.start()
    began = time.monotonic()
    gate.set()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    errors = [t.error for t in threads if t.error]
    if errors:
        raise BenchError(errors[0])
    ids = [i for t in threads for i in t.ids]
    if len(ids) != len(set(ids)):
        raise BenchError('a message id was handed out twice')
    seconds = [s for t in threads for s in t.seconds]
    objects = len({naming.split_message_id(i)[0] for i in ids})
    return ('posts: %d producers, %d messages in POSTs of %d: %.1f posts/s, %.1f messages/s, '
            'p50 %.1f ms, %.2f Swift requests per message, %.2f posts per object' % (
                producers, len(ids), per_post, len(seconds) / elapsed, len(ids) / elapsed,
                percentile(seconds, 50) * 1000, sum(t.swift for t in threads) / len(ids),
                len(seconds) / objects))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--producers', type=lambda v: [int(x) for x in v.split(',')],
                        default=[1, 8, 16], help='producer counts, comma-separated')
    parser.add_argument('--messages', type=int, default=800)
    parser.add_argument('--per-post', type=int, default=1)
    parser.add_argument('--keep', action='store_true')
    args = parser.parse_args(argv)
    env = Environment(args.keep)
    try:
        url = env.start()
        for producers in args.producers:
            print(run(url, producers, args.messages, args.per_post), flush=True)
    except BenchError as exc:
        print('bench failed: %s' % exc, file=sys.stderr)
        return 1
    finally:
        env.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
