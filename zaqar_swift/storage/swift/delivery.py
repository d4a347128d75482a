"""Notification delivery state and the lease on it, in the queue's container.

``n/state`` is a JSON document per queue: for each subscription, a mark
(every batch posted before it is delivered or given up), how many messages
of each later batch were delivered, and the failing batches with their
failure count and next try. Only the lease holder writes it.

``n/lease`` says which worker delivers the queue now. Taking it is recipe B
of SWIFT_NOTES.md (PUT with ``If-None-Match: *`` and a body of one's own,
wait Δ, read it back with ``X-Newest``; the owner is the one whose body it
is), with its stall guard (a PUT slower than Δ does not count). It expires
by itself (``X-Delete-After``) and is renewed by POST after the holder read
it back as its own, so a stale holder never overwrites a new one.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable

from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import naming

STATE_TYPE = 'application/json'
LEASE_TYPE = 'application/x-zaqar-lease'


class DeliveryStore:
    """State and leases of the queues this worker delivers."""

    def __init__(self, client: swift.SwiftClient, settle: float,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, token: str | None = None) -> None:
        self._client = client
        self._settle = settle
        self._monotonic = monotonic
        self._sleep = sleep
        self.token = (token or uuid.uuid4().hex).encode('ascii')

    # -- state ----------------------------------------------------------------------
    def read_state(self, target: swift.Target) -> dict[str, Any]:
        try:
            _, data = self._client.get_object(target, naming.DELIVERY_STATE, newest=True)
        except swift.Missing:
            return {}
        return json.loads(data)

    def write_state(self, target: swift.Target, state: dict[str, Any], life: int) -> None:
        self._client.put_object(target, naming.DELIVERY_STATE,
                                json.dumps(state, separators=(',', ':')).encode('utf-8'),
                                STATE_TYPE, {'X-Delete-After': str(life)})

    # -- lease ----------------------------------------------------------------------
    def acquire(self, target: swift.Target, ttl: float) -> bool:
        """Whether this worker now holds the queue's lease for ``ttl`` s."""
        started = self._monotonic()
        try:
            self._client.put_object(target, naming.DELIVERY_LEASE, self.token, LEASE_TYPE,
                                    {'X-Delete-After': str(int(ttl))}, if_none_match=True)
        except (swift.PreconditionFailed, swift.Missing):
            return False
        if self._monotonic() - started > self._settle:
            return False   # a PUT this slow may have landed after a rival's check
        self._sleep(self._settle)
        return self._mine(target)

    def renew(self, target: swift.Target, ttl: float) -> bool:
        """Extend a lease read back as ours; False when it is not (any more)."""
        if not self._mine(target):
            return False
        self._client.post_object(target, naming.DELIVERY_LEASE,
                                 {'X-Delete-After': str(int(ttl)), 'Content-Type': LEASE_TYPE})
        return True

    def release(self, target: swift.Target) -> None:
        if self._mine(target):
            self._client.delete_object(target, naming.DELIVERY_LEASE)

    def _mine(self, target: swift.Target) -> bool:
        try:
            _, data = self._client.get_object(target, naming.DELIVERY_LEASE, newest=True)
        except swift.Missing:
            return False
        return data == self.token
