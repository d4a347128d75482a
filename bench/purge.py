"""Queue stats, delete and purge on a large queue, against the local Swift.

    python bench/purge.py [--messages 100000] [--threads 8]

Posts N messages in batches of 20, then measures: GET stats (Swift requests,
time), DELETE of the queue (Swift requests, time), that the queue reads empty
at once, and how long the purge worker takes to remove every object. Its last
line reads ``purge: N messages, stats X requests in Y s, delete Z requests in
W s, reclaimed in V s``.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import sys
import time
import uuid

import requests

from lifecycle import BenchError, Environment, swift_requests
from zaqar_swift.storage.swift import client as swift_client

QUEUE = 'big'


def _session(project: str) -> requests.Session:
    session = requests.Session()
    session.headers.update({'X-Project-ID': project, 'Client-ID': str(uuid.uuid4())})
    return session


def post_all(url: str, project: str, total: int, threads: int) -> float:
    began = time.monotonic()
    starts = list(range(0, total, 20))

    def post(start: int) -> None:
        session = _session(project)
        batch = [{'body': {'n': n}, 'ttl': 3600} for n in range(start, min(start + 20, total))]
        resp = session.post(url + '/messages', json={'messages': batch}, timeout=60)
        if resp.status_code != 201:
            raise BenchError('post -> %d %s' % (resp.status_code, resp.text[:200]))

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, starts))
    return time.monotonic() - began


def timed(session: requests.Session, method: str, url: str) -> tuple[requests.Response, float]:
    began = time.monotonic()
    resp = session.request(method, url, timeout=600)
    return resp, time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--messages', type=int, default=100000)
    parser.add_argument('--threads', type=int, default=8)
    args = parser.parse_args(argv)
    env = Environment(keep=False)
    try:
        base = env.start()
        project = uuid.uuid4().hex
        url = base + '/v2/queues/' + QUEUE
        posting = post_all(url, project, args.messages, args.threads)
        print('posted %d messages in %.1f s (%.0f messages/s)'
              % (args.messages, posting, args.messages / posting), flush=True)
        session = _session(project)
        stats, stats_s = timed(session, 'GET', url + '/stats')
        total = stats.json()['messages']['total']
        print('stats: total %d, %s Swift requests, %.2f s'
              % (total, swift_requests(stats), stats_s), flush=True)
        deleted, delete_s = timed(session, 'DELETE', url)
        after = session.get(url + '/stats').json()['messages']['total']
        print('delete: %d, %s Swift requests, %.3f s; total right after: %d'
              % (deleted.status_code, swift_requests(deleted), delete_s, after), flush=True)
        reclaimed = wait_reclaimed(env, time.monotonic())
        numbers = (args.messages, swift_requests(stats), stats_s,
                   swift_requests(deleted), delete_s, reclaimed)
        print('purge: %d messages, stats %s requests in %.2f s, delete %s requests in '
              '%.3f s, reclaimed in %.1f s' % numbers)
        return 0 if total == args.messages and after == 0 else 1
    except BenchError as exc:
        print('bench failed: %s' % exc, file=sys.stderr)
        return 1
    finally:
        env.close()


def wait_reclaimed(env: Environment, began: float, timeout: float = 1800) -> float:
    """Seconds until no message container of the bench is left."""
    swift = swift_client.SwiftClient.v1(env.swift.auth_url, env.swift.user, env.swift.key)
    while time.monotonic() - began < timeout:
        headers = swift.head_account()
        if int(headers.get('x-account-object-count', 1)) <= 2:   # catalog + job markers
            return time.monotonic() - began
        time.sleep(2)
    raise BenchError('objects not reclaimed after %d s' % timeout)


if __name__ == '__main__':
    sys.exit(main())
