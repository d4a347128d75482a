"""Drain benchmark: many consumers claim and delete from one queue.

Starts its own local Swift and ``--processes`` zaqar-swift-api processes
against it (the largest number asked for; a run with fewer uses the first
ones). Each run posts ``--messages`` messages (batches of 10) to a new queue
of a new project, then starts its consumers, dealt round robin over the run's
API processes; each consumer claims (``limit`` 10, ttl 300, grace 60) and
deletes what it got by ids with the claim id, until every posted message is
deleted. It prints, per run::

    drain: N messages, C consumers, P processes: X msg/s, claim p50 .. p95 .. ms,
           Y Swift req/message (Z by the processes), duplicates D, losses L

* msg/s is N over the time from the first claim to the last delete;
* claim p50/p95 are client-side latencies of the claims that got messages;
* Swift requests per message: the sum of ``X-Swift-Requests`` of the claims
  and deletes over N, and (in brackets) every Swift request the API
  processes made meanwhile (``/metrics``: background workers included);
* duplicates: deliveries of a message to more than one claim; losses:
  posted messages never delivered.

Then the idle long-poll cost: ``--idle-clients`` clients per process send
``POST .../claims?wait=--idle-wait`` to an empty queue for ``--idle-seconds``
and the Swift requests the processes made meanwhile (less a baseline of the
same length without clients) are printed per second and per process. Code
without long polling answers such a claim at once: the clients then claim in
a loop, which is what an idle consumer costs there.

``--consumers 8,16 --processes 1,2`` (the defaults) run the four
combinations; ``--consumers 8 --processes 1`` one. The imported
``zaqar_swift`` is printed first (with ``PYTHONPATH=/path/to/other/tree``
the API processes run that tree too).
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

import requests

try:   # the tree on PYTHONPATH first (a "before" measurement), else this one
    import zaqar_swift
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import zaqar_swift

from zaqar_swift.testing.ports import free_port_block  # noqa: E402
from zaqar_swift.testing.saio import LocalSwift  # noqa: E402

from lifecycle import (SWIFT_START_TIMEOUT, ApiProcess, BenchError,  # noqa: E402
                       _raise_on_sigterm, percentile, swift_requests)

BATCH = 10
REQUEST_TIMEOUT = 60.0
CLAIM = {'ttl': 300, 'grace': 60}
METRIC = re.compile(r'^zaqar_swift_swift_requests_total\{operation="[A-Z]+"\} (\d+)$', re.M)


class Environment:
    """One local Swift and ``processes`` API processes; ``close()`` stops all."""

    def __init__(self, processes: int, keep: bool) -> None:
        self.count = processes
        self.keep = keep
        self.workdir = tempfile.mkdtemp(prefix='zaqar-swift-drain-')
        self.swift: LocalSwift | None = None
        self.apis: list[ApiProcess] = []

    def start(self) -> list[str]:
        base = free_port_block(5)
        self.swift = LocalSwift(os.path.join(self.workdir, 'saio'),
                                proxy_port=base, base_port=base + 1)
        try:
            self.swift.start(timeout=SWIFT_START_TIMEOUT)
        except RuntimeError as exc:
            raise BenchError(str(exc)) from exc
        for n in range(self.count):
            workdir = os.path.join(self.workdir, 'api%d' % n)
            os.makedirs(workdir)
            api = ApiProcess(self.swift, workdir, free_port_block(1))
            self.apis.append(api)
            api.start()
        print('local Swift and %d API process(es) ready (%s)' % (self.count, self.workdir),
              flush=True)
        return [api.url for api in self.apis]

    def close(self) -> None:
        try:
            for api in self.apis:
                api.stop()
        finally:
            if self.swift is not None:
                self.swift.stop()
            if self.keep:
                print('kept %s' % self.workdir)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)


def process_swift_requests(urls: list[str]) -> int:
    """Every Swift request the API processes made so far (``/metrics``)."""
    total = 0
    for url in urls:
        resp = requests.get(url + '/metrics', timeout=REQUEST_TIMEOUT,
                            headers={'X-Project-ID': 'bench', 'X-Roles': 'admin'})
        total += sum(int(v) for v in METRIC.findall(resp.text))
    return total


class Ledger:
    """What the consumers of one run got and did."""

    def __init__(self, posted: list[str]) -> None:
        self.lock = threading.Lock()
        self.posted = set(posted)
        self.claims_of: dict[str, int] = collections.Counter()
        self.deleted: set[str] = set()
        self.claim_seconds: list[float] = []
        self.swift = 0
        self.refused = 0
        self.done = threading.Event()

    def claimed(self, ids: list[str], seconds: float, swift: int | None) -> None:
        with self.lock:
            self.claim_seconds.append(seconds)
            self.swift += swift or 0
            for mid in ids:
                self.claims_of[mid] += 1

    def deleted_ids(self, ids: list[str], swift: int | None) -> None:
        with self.lock:
            self.swift += swift or 0
            self.deleted.update(ids)
            if self.posted <= self.deleted:
                self.done.set()

    def count(self, swift: int | None) -> None:
        with self.lock:
            self.swift += swift or 0


def session(project: str) -> requests.Session:
    s = requests.Session()
    s.headers.update({'X-Project-ID': project, 'Client-ID': str(uuid.uuid4()),
                      'Accept': 'application/json'})
    return s


def post_all(url: str, project: str, queue: str, messages: int) -> list[str]:
    """Post ``messages`` in batches of 10 from 8 threads; their ids."""
    ids: list[str] = []
    lock = threading.Lock()
    starts = list(range(0, messages, BATCH))

    def worker(share: list[int]) -> None:
        s = session(project)
        for start in share:
            batch = [{'body': {'n': n, 'pad': 'x' * 64}, 'ttl': 3600}
                     for n in range(start, min(start + BATCH, messages))]
            resp = s.post('%s/v2/queues/%s/messages' % (url, queue),
                          json={'messages': batch}, timeout=REQUEST_TIMEOUT)
            if resp.status_code != 201:
                raise BenchError('post -> %d %s' % (resp.status_code, resp.text[:300]))
            with lock:
                ids.extend(h.rsplit('/', 1)[-1] for h in resp.json()['resources'])
    threads = [threading.Thread(target=worker, args=(starts[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(ids) != messages:
        raise BenchError('posted %d of %d messages' % (len(ids), messages))
    return ids


def consume(url: str, project: str, queue: str, ledger: Ledger, deadline: float,
            wait: int | None, errors: list[BaseException]) -> None:
    s = session(project)
    claims = '%s/v2/queues/%s/claims' % (url, queue)
    params: dict[str, Any] = {'limit': BATCH}
    if wait:
        params['wait'] = wait
    try:
        while not ledger.done.is_set() and time.monotonic() < deadline:
            began = time.perf_counter()
            resp = s.post(claims, params=params, json=CLAIM, timeout=REQUEST_TIMEOUT)
            seconds = time.perf_counter() - began
            if resp.status_code == 204:
                ledger.count(swift_requests(resp))
                time.sleep(0.05)
                continue
            if resp.status_code != 201:
                raise BenchError('claim -> %d %s' % (resp.status_code, resp.text[:300]))
            cid = resp.headers['Location'].rstrip('/').rsplit('/', 1)[-1]
            ids = [m['href'].split('?', 1)[0].rsplit('/', 1)[-1]
                   for m in resp.json()['messages']]
            ledger.claimed(ids, seconds, swift_requests(resp))
            resp = s.delete('%s/v2/queues/%s/messages' % (url, queue),
                            params={'ids': ','.join(ids), 'claim_ids': cid},
                            timeout=REQUEST_TIMEOUT)
            if resp.status_code != 204:
                with ledger.lock:
                    ledger.refused += 1
                continue
            ledger.deleted_ids(ids, swift_requests(resp))
    except BaseException as exc:   # reported by the main thread
        errors.append(exc)
        ledger.done.set()


def run(urls: list[str], messages: int, consumers: int, wait: int | None,
        timeout: float) -> dict[str, Any]:
    project, queue = 'drain-' + uuid.uuid4().hex[:12], 'drain'
    posted = post_all(urls[0], project, queue, messages)
    ledger = Ledger(posted)
    errors: list[BaseException] = []
    before = process_swift_requests(urls)
    began = time.monotonic()
    threads = [threading.Thread(target=consume, daemon=True, args=(
        urls[i % len(urls)], project, queue, ledger, began + timeout, wait, errors))
        for i in range(consumers)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads) and \
            time.monotonic() < began + timeout + REQUEST_TIMEOUT:
        time.sleep(0.1)
    elapsed = time.monotonic() - began
    total = process_swift_requests(urls) - before
    if errors:
        raise BenchError('a consumer failed: %r' % errors[0]) from errors[0]
    delivered = set(ledger.claims_of)
    seconds = ledger.claim_seconds or [float('nan')]
    return {
        'messages': messages, 'consumers': consumers, 'processes': len(urls),
        'rate': len(ledger.deleted & ledger.posted) / elapsed, 'seconds': elapsed,
        'p50': percentile(seconds, 50) * 1000, 'p95': percentile(seconds, 95) * 1000,
        'swift': ledger.swift / messages, 'process_swift': total / messages,
        'duplicates': sum(n - 1 for n in ledger.claims_of.values()),
        'losses': len(ledger.posted - delivered), 'refused': ledger.refused,
    }


def line(r: dict[str, Any]) -> str:
    return ('drain: %(messages)d messages, %(consumers)d consumers, %(processes)d '
            'process(es): %(rate).1f msg/s (%(seconds).1f s), claim p50 %(p50).0f ms '
            'p95 %(p95).0f ms, %(swift).2f Swift req/message (%(process_swift).2f by the '
            'processes), duplicates %(duplicates)d, losses %(losses)d, refused deletes '
            '%(refused)d' % r)


def idle(urls: list[str], clients: int, wait: int, seconds: float) -> str:
    """Swift requests per second and process while ``clients`` clients per
    process long-poll an empty queue, less the same time's baseline."""
    project, queue = 'idle-' + uuid.uuid4().hex[:12], 'idle'
    requests.put('%s/v2/queues/%s' % (urls[0], queue), timeout=REQUEST_TIMEOUT,
                 headers={'X-Project-ID': project, 'Client-ID': str(uuid.uuid4())})
    before = process_swift_requests(urls)
    time.sleep(seconds)
    baseline = process_swift_requests(urls) - before
    stop = threading.Event()
    calls = collections.Counter()

    def poll(url: str) -> None:
        s = session(project)
        while not stop.is_set():
            s.post('%s/v2/queues/%s/claims' % (url, queue), json=CLAIM,
                   params={'limit': BATCH, 'wait': wait}, timeout=wait + REQUEST_TIMEOUT)
            calls[url] += 1
    threads = [threading.Thread(target=poll, args=(url,), daemon=True)
               for url in urls for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(1.0)   # every client's first claim has looked
    calls.clear()
    before = process_swift_requests(urls)
    time.sleep(seconds)
    during = process_swift_requests(urls) - before
    stop.set()
    for t in threads:
        t.join(wait + REQUEST_TIMEOUT)
    answered = sum(calls.values())
    per = (during - baseline) / seconds / len(urls)
    return ('idle: %d long-polling clients x %d process(es), wait=%d, %.0f s: %.2f Swift '
            'requests/s per process (%d claims answered; baseline without clients %.2f/s '
            'per process)' % (clients, len(urls), wait, seconds, per, answered,
                              baseline / seconds / len(urls)))


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(',') if v]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--messages', type=int, default=1000)
    parser.add_argument('--consumers', type=_ints, default=[8, 16],
                        help='comma-separated consumer counts (default 8,16)')
    parser.add_argument('--processes', type=_ints, default=[1, 2],
                        help='comma-separated API process counts (default 1,2)')
    parser.add_argument('--wait', type=int, default=None,
                        help='claim with ?wait=N (long polling) during the drain')
    parser.add_argument('--idle-clients', type=int, default=4)
    parser.add_argument('--idle-wait', type=int, default=5)
    parser.add_argument('--idle-seconds', type=float, default=10.0,
                        help='0 skips the idle measurement')
    parser.add_argument('--timeout', type=float, default=600.0)
    parser.add_argument('--keep', action='store_true')
    args = parser.parse_args(argv)
    _raise_on_sigterm()
    print('zaqar_swift from %s' % os.path.dirname(zaqar_swift.__file__), flush=True)
    env = Environment(max(args.processes), args.keep)
    lines = []
    try:
        urls = env.start()
        for processes in args.processes:
            for consumers in args.consumers:
                lines.append(line(run(urls[:processes], args.messages, consumers,
                                      args.wait, args.timeout)))
                print(lines[-1], flush=True)
        if args.idle_seconds > 0:
            lines.append(idle(urls, args.idle_clients, args.idle_wait, args.idle_seconds))
            print(lines[-1], flush=True)
    except BenchError as exc:
        print('bench failed: %s' % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    finally:
        env.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
