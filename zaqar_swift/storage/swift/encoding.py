"""What a container listing must tell without a GET: batch and claim state.

Swift returns an object's Content-Type, parameters included, in container
listings. zaqar-swift stores there everything listing and claiming need to
decide whether a message is free, claimed, delayed, expired or the caller's
own, so neither reads an object body to decide.

    application/x-zaqar-batch;c=<client key>;m=<ttl>.<delay>_<ttl>.<delay>_...
    application/x-zaqar-batch;c=<client key>.<count>_<client key>.<count>;m=...

(the second when posts of several clients share the object: each key with
how many messages in a row are its poster's).
    application/x-zaqar-state;n=<claim counts>;k=<kept until>;c=<claims>

A claim in a state is ``<claim id>-<expires>-<grace>-<mask hex>``;
lists are joined with ``_`` and numbers with ``.``: Swift keeps only token
characters of a parameter value in listings (it cuts at ``,`` or ``:``).
Times are whole epoch seconds. The client key is a hash of the Client-ID, so
any Client-ID fits.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools

BATCH_TYPE = 'application/x-zaqar-batch'
STATE_TYPE = 'application/x-zaqar-state'


def _params(content_type: str) -> tuple[str, dict[str, str]]:
    head, *rest = content_type.split(';')
    params = {}
    for item in rest:
        key, _, value = item.strip().partition('=')
        params[key] = value
    return head.strip(), params


def _format(kind: str, params: dict[str, str]) -> str:
    return ';'.join([kind] + ['%s=%s' % kv for kv in params.items()])


@dataclasses.dataclass(frozen=True)
class BatchInfo:
    """What one batch object stores: its poster's client key (``keys``:
    each message's, when posts of several clients share the object) and
    each message's ttl and delay."""

    client_key: str
    ttls: tuple[int, ...]
    delays: tuple[int, ...]
    keys: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.ttls)

    def key(self, index: int) -> str:
        """The client key of message ``index``'s poster."""
        return self.keys[index] if self.keys else self.client_key


def client_key(client_id: str) -> str:
    """What a batch stores of its poster's Client-ID (for ``echo``)."""
    return hashlib.sha256(client_id.encode('utf-8')).hexdigest()[:20]


def encode_batch(info: BatchInfo) -> str:
    pairs = '_'.join('%d.%d' % td for td in zip(info.ttls, info.delays))
    keys = info.client_key
    if len(set(info.keys)) > 1:
        keys = '_'.join('%s.%d' % (key, len(list(run)))
                        for key, run in itertools.groupby(info.keys))
    return _format(BATCH_TYPE, {'c': keys, 'm': pairs})


def decode_batch(content_type: str) -> BatchInfo | None:
    kind, params = _params(content_type)
    if kind != BATCH_TYPE or 'm' not in params:
        return None
    try:
        pairs = [p.split('.') for p in params['m'].split('_')]
        info = BatchInfo(params.get('c', ''), tuple(int(t) for t, _ in pairs),
                         tuple(int(d) for _, d in pairs))
        if '.' not in info.client_key:
            return info
        keys: list[str] = []
        for run in info.client_key.split('_'):
            key, count = run.split('.')
            keys += [key] * int(count)
        if len(keys) != info.size:
            return None
        return dataclasses.replace(info, client_key=keys[0], keys=tuple(keys))
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim holding some messages of a batch."""

    claim_id: str
    expires: int
    grace: int
    mask: int

    def holds(self, index: int) -> bool:
        return bool(self.mask >> index & 1)


@dataclasses.dataclass(frozen=True)
class BatchState:
    """Claim state of a batch: per-message claim counts, per-message
    kept-until times (a claim extends a message's life to expiry + grace),
    and the claims that may still be active."""

    counts: tuple[int, ...] = ()
    kept: tuple[int, ...] = ()
    claims: tuple[Claim, ...] = ()

    def count(self, index: int) -> int:
        return self.counts[index] if index < len(self.counts) else 0

    def kept_until(self, index: int) -> int:
        return self.kept[index] if index < len(self.kept) else 0

    def holder(self, index: int, now: float) -> Claim | None:
        for claim in self.claims:
            if claim.expires > now and claim.holds(index):
                return claim
        return None

    def claim(self, claim_id: str) -> Claim | None:
        for claim in self.claims:
            if claim.claim_id == claim_id:
                return claim
        return None


def encode_state(state: BatchState) -> str:
    claims = '_'.join('%s-%d-%d-%x' % (c.claim_id, c.expires, c.grace, c.mask)
                      for c in state.claims)
    return _format(STATE_TYPE, {
        'n': '.'.join(map(str, state.counts)),
        'k': '.'.join(map(str, state.kept)),
        'c': claims,
    })


def decode_state(content_type: str) -> BatchState | None:
    kind, params = _params(content_type)
    if kind != STATE_TYPE:
        return None
    try:
        claims = tuple(_decode_claim(c) for c in params.get('c', '').split('_') if c)
        return BatchState(_ints(params.get('n', '')), _ints(params.get('k', '')), claims)
    except ValueError:
        return None


def _ints(value: str) -> tuple[int, ...]:
    return tuple(int(v) for v in value.split('.')) if value else ()


def _decode_claim(value: str) -> Claim:
    cid, expires, grace, mask = value.split('-')
    return Claim(cid, int(expires), int(grace), int(mask, 16))


def merge(states: list[BatchState]) -> BatchState:
    """The state of a generation written by several racing writers, given in
    the order Swift stamped their writes. A message held by claims of two
    writers goes to the earlier writer; a claim present in
    several objects (carried over from the previous generation) counts once,
    with its latest expiry. Counts and kept-until times take the maximum.
    Merging only ever adds holds: a late-arriving object can make a message
    look claimed, never free."""
    if len(states) == 1:
        return states[0]
    size = max([len(s.counts) for s in states] + [len(s.kept) for s in states])
    counts = tuple(max(s.count(i) for s in states) for i in range(size))
    kept = tuple(max(s.kept_until(i) for s in states) for i in range(size))
    claims: dict[str, Claim] = {}
    taken = 0
    for state in states:
        for claim in state.claims:
            seen = claims.get(claim.claim_id)
            if seen is not None:
                if claim.expires > seen.expires:
                    claims[claim.claim_id] = dataclasses.replace(
                        seen, expires=claim.expires, grace=claim.grace)
                continue
            mask = claim.mask & ~taken
            taken |= mask
            claims[claim.claim_id] = dataclasses.replace(claim, mask=mask)
    return BatchState(counts, kept, tuple(claims.values()))


# -- subscriptions ----------------------------------------------------------------
SUBSCRIPTION_TYPE = 'application/x-zaqar-subscription'


@dataclasses.dataclass(frozen=True)
class SubscriptionInfo:
    """What a listing tells of a subscription: who (a hash of the subscriber
    URI, for the uniqueness check), whether it is confirmed, and when it
    expires (whole epoch seconds), so listings need no GET to decide."""

    subscriber_key: str
    confirmed: bool
    expires: int


def subscriber_key(subscriber: str) -> str:
    return hashlib.sha256(subscriber.encode('utf-8')).hexdigest()[:32]


def encode_subscription(info: SubscriptionInfo) -> str:
    return _format(SUBSCRIPTION_TYPE, {'u': info.subscriber_key,
                                       'c': '1' if info.confirmed else '0',
                                       'e': str(info.expires)})


def decode_subscription(content_type: str) -> SubscriptionInfo | None:
    kind, params = _params(content_type)
    if kind != SUBSCRIPTION_TYPE:
        return None
    try:
        return SubscriptionInfo(params.get('u', ''), params.get('c') == '1',
                                int(params.get('e', '0')))
    except ValueError:
        return None
