"""A claim storm over HTTP, for the fault runs (functional/test_faults.py).

Producers post numbered messages (body ``{"n": i}``) in batches of 10;
consumers claim them and delete what they claim by ids with the claim id.
Everything goes through the public API only, so the runs hold whatever the
storage algorithm underneath. Every request has a timeout and every loop a
deadline. The :class:`Ledger` records each response (status, time,
Retry-After, JSON or not), every delivery (message number, id, claim id) and
every delete, from which :meth:`Ledger.report` computes lost, duplicated
and 5xx counts.
"""
from __future__ import annotations

import collections
import dataclasses
import threading
import time
import uuid
from typing import Any, Callable

import requests

REQUEST_TIMEOUT = 30.0
BATCH = 10
QUEUE = 'storm'


@dataclasses.dataclass(frozen=True)
class Answer:
    """One API request: when it began and ended (monotonic), its status
    (0: no response: connection error; -1: the client timeout)."""

    op: str
    began: float
    ended: float
    status: int
    retry_after: str | None = None
    json_body: bool = False
    text: str = ''


class Ledger:
    """Thread-safe record of a storm."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: list[Answer] = []
        self.posted: dict[int, str] = {}        # n -> id, acknowledged by a 201
        self.claims_of: dict[str, set[str]] = collections.defaultdict(set)  # id -> claims
        self.number_of: dict[str, int] = {}     # id -> n, of every delivered message
        # claim id -> (began, ended, ttl) of the request that made it
        self.claim_times: dict[str, tuple[float, float, int]] = {}
        self.deleted: set[int] = set()          # n
        self.deleted_at: dict[str, float] = {}  # id -> when its delete was answered
        self.started = time.monotonic()
        self.expected = 0
        self.all_deleted = threading.Event()

    def answer(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def post(self, numbers: list[int], ids: list[str]) -> None:
        with self.lock:
            self.posted.update(zip(numbers, ids))

    def deliver(self, claim_id: str, messages: list[tuple[int, str]],
                times: tuple[float, float, int]) -> None:
        with self.lock:
            self.claim_times[claim_id] = times
            for n, mid in messages:
                self.claims_of[mid].add(claim_id)
                self.number_of[mid] = n

    def delete(self, messages: list[tuple[int, str]]) -> None:
        """``messages`` ((number, id)) were deleted (204), or found gone (404)."""
        with self.lock:
            self.deleted.update(n for n, _mid in messages)
            now = time.monotonic()
            for _n, mid in messages:
                self.deleted_at.setdefault(mid, now)
            if self.expected and len(self.deleted) >= self.expected \
                    and set(self.posted) <= self.deleted:
                self.all_deleted.set()

    def report(self) -> dict[str, Any]:
        with self.lock:
            answers = list(self.answers)
            posted = dict(self.posted)
            claims_of = {mid: set(c) for mid, c in self.claims_of.items()}
            numbers = set(self.number_of.values())
            claim_times = dict(self.claim_times)
            deleted_at = dict(self.deleted_at)
            number_of = dict(self.number_of)
        server_errors = [a for a in answers if a.status >= 500]
        return {
            'requests': len(answers),
            'posted': len(posted),
            'delivered': len(numbers & set(posted)),
            'lost': sorted(set(posted) - numbers),
            # one message (one id) handed to more than one claim
            'duplicates': sum(len(c) - 1 for c in claims_of.values()),
            'duplicated_ids': sorted(m for m, c in claims_of.items() if len(c) > 1),
            # how each duplicate came about: its claims' request times and
            # when the message's delete was answered (seconds into the storm)
            'duplicate_detail': _duplicate_detail(claims_of, claim_times, number_of,
                                                  deleted_at, self.started),
            # a claim that got a message after its delete was answered: never allowed
            'after_delete': sorted(mid for mid, c in claims_of.items() if mid in deleted_at
                                   and any(claim_times[x][0] > deleted_at[mid] for x in c)),
            # ... by two claims that were both alive: never allowed
            'overlapping': _overlapping(claims_of, claim_times),
            # messages posted twice because a POST's answer was lost
            'copies': len(claims_of) - len(numbers),
            '5xx': len(server_errors),
            '5xx_by_op': dict(collections.Counter('%s %d' % (a.op, a.status)
                                                  for a in server_errors)),
            '5xx_first': [a.text for a in server_errors[:3]],
            # the storm sends only valid requests: a 4xx other than a lost
            # claim's 400/403 on delete is the service's mistake
            '4xx_by_op': dict(collections.Counter(
                '%s %d' % (a.op, a.status) for a in answers
                if 400 <= a.status < 500 and a.op != 'delete')),
            'statuses': dict(collections.Counter(a.status for a in answers)),
            '500': [a for a in server_errors if a.status == 500],
            'bad_5xx': [a for a in server_errors
                        if not a.json_body or not a.retry_after],
            'timeouts': [a for a in answers if a.status == -1],
        }


def _duplicate_detail(claims_of: dict[str, set[str]],
                      claim_times: dict[str, tuple[float, float, int]],
                      number_of: dict[str, int], deleted_at: dict[str, float],
                      started: float) -> list[str]:
    found = []
    for mid, claims in sorted(claims_of.items()):
        if len(claims) < 2:
            continue
        ordered = sorted(claims, key=lambda c: claim_times[c][0])
        spans = ', '.join('%s %.2f-%.2f' % (c[-6:], claim_times[c][0] - started,
                                            claim_times[c][1] - started) for c in ordered)
        gone = deleted_at.get(mid)
        found.append('%s (n %d): claims %s; deleted %s' % (
            mid, number_of[mid], spans,
            'never' if gone is None else '%.2f' % (gone - started)))
    return found


def _overlapping(claims_of: dict[str, set[str]],
                 claim_times: dict[str, tuple[float, float, int]]
                 ) -> list[tuple[str, str, str]]:
    """(message id, claim, later claim) where the later claim was answered
    before the earlier one can have expired: its expiry is at least the
    earlier request's start + ttl."""
    found = []
    for mid, claims in claims_of.items():
        ordered = sorted(claims, key=lambda c: claim_times[c][0])
        for first, later in zip(ordered, ordered[1:]):
            began, _ended, ttl = claim_times[first]
            if claim_times[later][1] < began + ttl:
                found.append((mid, first, later))
    return found


class Client:
    """One thread's HTTP session to the API (own Client-ID)."""

    def __init__(self, base_url: str, project: str, queue: str, ledger: Ledger) -> None:
        self.url = '%s/v2/queues/%s' % (base_url.rstrip('/'), queue)
        self.ledger = ledger
        self.session = requests.Session()
        self.session.headers.update({'X-Project-ID': project, 'Accept': 'application/json',
                                     'Client-ID': str(uuid.uuid4())})

    def call(self, op: str, method: str, path: str, **kwargs: Any
             ) -> requests.Response | None:
        """The response, or None when none came (recorded either way)."""
        began = time.monotonic()
        try:
            resp = self.session.request(method, self.url + path, timeout=REQUEST_TIMEOUT,
                                        **kwargs)
        except requests.Timeout:
            self.ledger.answer(Answer(op, began, time.monotonic(), -1))
            return None
        except requests.ConnectionError:
            self.ledger.answer(Answer(op, began, time.monotonic(), 0))
            self.session.close()   # drop a half-dead keep-alive connection
            return None
        ctype = resp.headers.get('Content-Type', '')
        self.ledger.answer(Answer(op, began, time.monotonic(), resp.status_code,
                                  resp.headers.get('Retry-After'),
                                  ctype.startswith('application/json'), resp.text[:300]))
        return resp


def number_and_id(message: dict) -> tuple[int, str]:
    return message['body']['n'], message['href'].split('?', 1)[0].rsplit('/', 1)[-1]


class Producer(threading.Thread):
    """Posts ``numbers`` in batches of 10; retries a batch until acknowledged."""

    def __init__(self, client: Client, numbers: list[int], deadline: float,
                 pause: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.client, self.numbers, self.deadline, self.pause = client, numbers, deadline, pause
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for start in range(0, len(self.numbers), BATCH):
                self._post(self.numbers[start:start + BATCH])
                time.sleep(self.pause)
        except BaseException as exc:   # reported by the test
            self.error = exc

    def _post(self, numbers: list[int]) -> None:
        body = {'messages': [{'body': {'n': n}, 'ttl': 3600} for n in numbers]}
        while time.monotonic() < self.deadline:
            resp = self.client.call('post', 'POST', '/messages', json=body)
            if resp is not None and resp.status_code == 201:
                hrefs = resp.json()['resources']
                self.client.ledger.post(numbers, [h.rsplit('/', 1)[-1] for h in hrefs])
                return
            time.sleep(0.5)
        raise AssertionError('batch %d.. never posted before the deadline' % numbers[0])


class Consumer(threading.Thread):
    """Claims (limit 10) and deletes what it claimed, until every posted
    message is deleted or the deadline passes."""

    def __init__(self, client: Client, deadline: float, ttl: int = 60, grace: int = 60,
                 on_claimed: Callable[[], None] | None = None) -> None:
        super().__init__(daemon=True)
        self.client, self.deadline, self.ttl, self.grace = client, deadline, ttl, grace
        self.on_claimed = on_claimed
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.client.ledger.all_deleted.is_set() \
                    and time.monotonic() < self.deadline:
                if not self._round():
                    time.sleep(0.2)
        except BaseException as exc:   # reported by the test
            self.error = exc

    def _round(self) -> bool:
        """One claim and its deletes; False when nothing was claimed."""
        began = time.monotonic()
        resp = self.client.call('claim', 'POST', '/claims', params={'limit': BATCH},
                                json={'ttl': self.ttl, 'grace': self.grace})
        if resp is None or resp.status_code != 201:
            return False
        claim_id = resp.headers['Location'].rstrip('/').rsplit('/', 1)[-1]
        messages = [number_and_id(m) for m in resp.json()['messages']]
        self.client.ledger.deliver(claim_id, messages, (began, time.monotonic(), self.ttl))
        if self.on_claimed is not None:
            self.on_claimed()
        self._delete_claimed(claim_id, messages)
        return True

    def _delete_claimed(self, claim_id: str, messages: list[tuple[int, str]]) -> None:
        """DELETE by ids with the claim id, retried while no answer or 5xx;
        one by one when the claim no longer holds all of them."""
        ids = ','.join(mid for _n, mid in messages)
        for _attempt in range(20):
            resp = self.client.call('delete', 'DELETE', '/messages',
                                    params={'ids': ids, 'claim_ids': claim_id})
            if resp is not None and resp.status_code == 204:
                self.client.ledger.delete(messages)
                return
            if resp is not None and resp.status_code in (400, 403):
                break
            if time.monotonic() > self.deadline:
                return
            time.sleep(0.5)
        for n, mid in messages:   # the claim expired: keep what it still holds
            resp = self.client.call('delete', 'DELETE', '/messages/%s' % mid,
                                    params={'claim_id': claim_id})
            if resp is not None and resp.status_code in (204, 404):
                self.client.ledger.delete([(n, mid)])


class Storm:
    """Producers and consumers of one new queue of a new project."""

    def __init__(self, api_url: str, project: str, messages: int, producers: int,
                 consumers: int, deadline: float, ttl: int = 60, grace: int = 60,
                 pause: float = 0.0) -> None:
        self.project = project
        self.ledger = Ledger()
        self.ledger.expected = messages
        batches = [list(range(s, min(s + BATCH, messages)))
                   for s in range(0, messages, BATCH)]
        self.deadline = deadline
        self.threads: list[threading.Thread] = [
            Producer(self._client(api_url), [n for b in batches[i::producers] for n in b],
                     deadline, pause) for i in range(producers)]
        self.threads += [Consumer(self._client(api_url), deadline, ttl, grace)
                         for _ in range(consumers)]

    def _client(self, api_url: str) -> Client:
        return Client(api_url, self.project, QUEUE, self.ledger)

    def start(self) -> 'Storm':
        for t in self.threads:
            t.start()
        return self

    def join(self) -> None:
        """Wait for every thread (bounded by the deadline); raise a thread's
        error."""
        for t in self.threads:
            t.join(max(0.0, self.deadline - time.monotonic()) + 5)
        stuck = [t.name for t in self.threads if t.is_alive()]
        assert not stuck, 'threads still running after the deadline: %s' % stuck
        errors = [t.error for t in self.threads if t.error is not None]
        if errors:
            raise errors[0]

    def drain(self, api_url: str, timeout: float) -> dict[str, Any]:
        """Claim and delete what is left (copies of messages posted twice,
        messages of claims cut off) until the queue is empty; the report."""
        consumer = Consumer(self._client(api_url), time.monotonic() + timeout)
        stats = api_url.rstrip('/') + '/v2/queues/%s/stats' % QUEUE
        while time.monotonic() < consumer.deadline:
            if consumer._round():
                continue
            resp = consumer.client.session.get(stats, timeout=REQUEST_TIMEOUT)
            if resp.status_code == 200 and resp.json()['messages']['total'] == 0:
                break
            time.sleep(0.5)
        return self.ledger.report()
