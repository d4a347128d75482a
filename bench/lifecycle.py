"""Message lifecycle benchmark: post -> claim -> delete by claim.

Starts its own local Swift (``zaqar_swift.testing.saio.LocalSwift``, in a temporary
directory, on free ports) and one zaqar-swift-api process against it, then
pushes N messages through their whole life in batches of 10:

* ``post``:   POST /v2/queues/bench/messages with 10 messages;
* ``claim``:  POST /v2/queues/bench/claims?limit=10;
* ``delete``: DELETE /v2/queues/bench/messages?ids=...&claim_ids=<claim>.

Every API response carries ``X-Swift-Requests``, the Swift requests the
driver made for it; the benchmark sums them per operation. It prints one
table row per operation and, as its very last line::

    lifecycle: N messages, X Swift requests per message, Y messages/s

``--concurrency K`` runs K client threads, each with its own Client-ID and
HTTP session, sharing the queue. Everything it started is stopped on exit,
also on errors and Ctrl-C. Run ``python bench/lifecycle.py --help``.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from typing import Any, Iterator

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from zaqar_swift.testing.api import LocalApi  # noqa: E402
from zaqar_swift.testing.ports import free_port_block  # noqa: E402
from zaqar_swift.testing.saio import LocalSwift  # noqa: E402

BATCH = 10
QUEUE = 'bench'
SWIFT_START_TIMEOUT = 90.0
API_START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 60.0
OPERATIONS = ('post', 'claim', 'delete')


class BenchError(RuntimeError):
    """The benchmark could not run or its result is wrong."""


# -- what is measured ------------------------------------------------------------
@dataclasses.dataclass
class Sample:
    op: str
    seconds: float
    swift_requests: int | None
    messages: int


class Recorder:
    """Thread-safe list of samples."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.samples: list[Sample] = []

    def add(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)


def swift_requests(resp: requests.Response) -> int | None:
    value = resp.headers.get('X-Swift-Requests')
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# -- the processes under test ----------------------------------------------------
class ApiProcess(LocalApi):
    """zaqar-swift-api started against ``swift`` on ``port``."""

    def __init__(self, swift: LocalSwift, workdir: str, port: int) -> None:
        super().__init__(os.path.join(workdir, 'api.conf'),
                         os.path.join(workdir, 'api.log'), port)
        swift.write_api_conf(self.conf_path, bind_port=port)

    def start(self) -> None:
        try:
            super().start(API_START_TIMEOUT)
        except RuntimeError as exc:
            raise BenchError(str(exc)) from exc


class Environment:
    """Local Swift + API in a temporary directory; ``close()`` stops both."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.workdir = tempfile.mkdtemp(prefix='zaqar-swift-bench-')
        self.swift: LocalSwift | None = None
        self.api: ApiProcess | None = None

    def start(self) -> str:
        base = free_port_block(5)
        self.swift = LocalSwift(os.path.join(self.workdir, 'saio'),
                                proxy_port=base, base_port=base + 1)
        began = time.monotonic()
        try:
            self.swift.start(timeout=SWIFT_START_TIMEOUT)
        except RuntimeError as exc:
            raise BenchError(str(exc)) from exc
        print('local Swift ready in %.1f s (%s)' % (time.monotonic() - began,
                                                    self.swift.data_dir), flush=True)
        self.api = ApiProcess(self.swift, self.workdir, free_port_block(1))
        self.api.start()
        print('API ready at %s (log %s)' % (self.api.url, self.api.log_path), flush=True)
        return self.api.url

    def close(self) -> None:
        try:
            if self.api is not None:
                self.api.stop()
        finally:
            if self.swift is not None:
                self.swift.stop()
            if self.keep:
                print('kept %s' % self.workdir)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)


# -- the workload --------------------------------------------------------------------
class Client:
    """One consumer/producer thread's view of the API."""

    def __init__(self, url: str, project: str, recorder: Recorder) -> None:
        self.url = url.rstrip('/') + '/v2/queues/' + QUEUE
        self.recorder = recorder
        self.session = requests.Session()
        self.session.headers.update({'X-Project-ID': project,
                                     'Client-ID': str(uuid.uuid4()),
                                     'Accept': 'application/json'})
        self.posted: list[str] = []
        self.deleted: list[str] = []

    def _call(self, op: str, method: str, path: str, expect: tuple[int, ...],
              **kwargs: Any) -> requests.Response:
        began = time.perf_counter()
        resp = self.session.request(method, self.url + path, timeout=REQUEST_TIMEOUT,
                                    **kwargs)
        seconds = time.perf_counter() - began
        if resp.status_code not in expect:
            raise BenchError('%s %s -> %d %s' % (method, path, resp.status_code,
                                                 resp.text[:500]))
        self._last = (op, seconds, swift_requests(resp))
        return resp

    def _record(self, messages: int) -> None:
        op, seconds, swift = self._last
        self.recorder.add(Sample(op, seconds, swift, messages))

    def post(self, start: int, count: int) -> None:
        batch = [{'body': {'n': start + i, 'pad': 'x' * 64}, 'ttl': 3600}
                 for i in range(count)]
        resp = self._call('post', 'POST', '/messages', (201,), json={'messages': batch})
        ids = [href.rsplit('/', 1)[-1] for href in resp.json()['resources']]
        if len(ids) != count:
            raise BenchError('posted %d messages, got %d ids' % (count, len(ids)))
        self.posted.extend(ids)
        self._record(count)

    def claim_and_delete(self) -> int:
        """Claim up to 10 messages and delete them with their claim id."""
        resp = self._call('claim', 'POST', '/claims', (201, 204),
                          params={'limit': BATCH}, json={'ttl': 300, 'grace': 60})
        if resp.status_code == 204:
            self._record(0)
            return 0
        claim_id = resp.headers['Location'].rstrip('/').rsplit('/', 1)[-1]
        ids = [m['href'].split('?', 1)[0].rsplit('/', 1)[-1]
               for m in resp.json()['messages']]
        self._record(len(ids))
        self._call('delete', 'DELETE', '/messages', (204,),
                   params={'ids': ','.join(ids), 'claim_ids': claim_id})
        self._record(len(ids))
        self.deleted.extend(ids)
        return len(ids)


def batches(total: int, workers: int) -> list[list[tuple[int, int]]]:
    """Split ``total`` messages into batches of 10, dealt round robin."""
    shares: list[list[tuple[int, int]]] = [[] for _ in range(workers)]
    for i, start in enumerate(range(0, total, BATCH)):
        shares[i % workers].append((start, min(BATCH, total - start)))
    return shares


def run_worker(client: Client, share: list[tuple[int, int]],
               errors: list[BaseException]) -> None:
    try:
        for start, count in share:
            client.post(start, count)
            client.claim_and_delete()
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


def drain(client: Client, deadline: float) -> None:
    """Claim and delete what the lifecycle loops left (claims are best-effort)."""
    empty = 0
    while empty < 3:
        if time.monotonic() > deadline:
            raise BenchError('messages were still left at the deadline')
        if client.claim_and_delete() == 0:
            empty += 1
            time.sleep(0.2)
        else:
            empty = 0


def run_workload(url: str, messages: int, concurrency: int,
                 timeout: float) -> tuple[Recorder, float]:
    recorder = Recorder()
    project = 'bench-' + uuid.uuid4().hex[:12]
    clients = [Client(url, project, recorder) for _ in range(concurrency)]
    errors: list[BaseException] = []
    threads = [threading.Thread(target=run_worker, args=(c, s, errors), daemon=True)
               for c, s in zip(clients, batches(messages, concurrency))]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, began + timeout - time.monotonic()))
        if t.is_alive():
            raise BenchError('the workload did not finish within %.0f s' % timeout)
    if errors:
        raise BenchError('a client failed: %r' % errors[0]) from errors[0]
    drain(clients[0], began + timeout)
    elapsed = time.monotonic() - began
    check_complete(clients, messages)
    return recorder, elapsed


def check_complete(clients: list[Client], messages: int) -> None:
    posted = [m for c in clients for m in c.posted]
    deleted = collections.Counter(m for c in clients for m in c.deleted)
    if len(posted) != messages or len(set(posted)) != messages:
        raise BenchError('posted %d ids (%d distinct) for %d messages'
                         % (len(posted), len(set(posted)), messages))
    missing = set(posted) - set(deleted)
    twice = [m for m, n in deleted.items() if n > 1]
    if missing or twice or set(deleted) - set(posted):
        raise BenchError('%d messages never deleted, %d deleted twice'
                         % (len(missing), len(twice)))


# -- the report ----------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summarize(samples: list[Sample]) -> dict[str, Any]:
    swift = [s.swift_requests for s in samples]
    known = all(v is not None for v in swift)
    return {
        'requests': len(samples),
        'swift': sum(v for v in swift if v is not None) if known else None,
        'p50': percentile([s.seconds for s in samples], 50) * 1000,
        'p95': percentile([s.seconds for s in samples], 95) * 1000,
    }


def report_lines(recorder: Recorder, messages: int, elapsed: float,
                 concurrency: int) -> Iterator[str]:
    by_op: dict[str, list[Sample]] = collections.defaultdict(list)
    for s in recorder.samples:
        by_op[s.op].append(s)
    header = '%-8s %12s %18s %18s %9s %9s' % (
        'op', 'API requests', 'Swift req/API req', 'Swift req/message',
        'p50 ms', 'p95 ms')
    yield header
    yield '-' * len(header)
    rows = [(op, summarize(by_op[op])) for op in OPERATIONS if by_op[op]]
    rows.append(('total', summarize(recorder.samples)))
    for op, row in rows:
        yield '%-8s %12d %18s %18s %9.1f %9.1f' % (
            op, row['requests'], _ratio(row['swift'], row['requests']),
            _ratio(row['swift'], messages), row['p50'], row['p95'])
    total = rows[-1][1]['swift']
    if total is None:
        yield ('warning: some responses had no X-Swift-Requests header; '
               'Swift request counts are unknown')
    yield '%d client thread%s, %.2f s' % (concurrency, '' if concurrency == 1 else 's',
                                          elapsed)
    per_message = total / messages if total is not None else float('nan')
    yield 'lifecycle: %d messages, %.2f Swift requests per message, %.1f messages/s' % (
        messages, per_message, messages / elapsed)


def _ratio(numerator: int | None, denominator: int) -> str:
    if numerator is None:
        return 'n/a'
    return '%.2f' % (numerator / denominator) if denominator else '-'


# -- command line ----------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='post -> claim -> delete-by-claim lifecycle benchmark of '
                    'zaqar-swift against a local Swift it starts itself.')
    parser.add_argument('--messages', type=int, default=1000,
                        help='messages to push through (default: %(default)s)')
    parser.add_argument('--concurrency', type=int, default=1,
                        help='client threads (default: %(default)s)')
    parser.add_argument('--timeout', type=float, default=1800.0,
                        help='seconds the workload may take (default: %(default)s)')
    parser.add_argument('--api-url',
                        help='use this running API instead of starting Swift '
                             'and the API')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary directory (logs, Swift data)')
    return parser


def _raise_on_sigterm() -> None:
    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.messages < 1 or args.concurrency < 1:
        print('--messages and --concurrency must be at least 1', file=sys.stderr)
        return 2
    _raise_on_sigterm()
    env = None if args.api_url else Environment(keep=args.keep)
    try:
        url = args.api_url or env.start()
        recorder, elapsed = run_workload(url, args.messages, args.concurrency,
                                         args.timeout)
        lines = list(report_lines(recorder, args.messages, elapsed, args.concurrency))
    except BenchError as exc:
        print('bench failed: %s' % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    finally:
        if env is not None:
            env.close()
    print('\n'.join(lines), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
