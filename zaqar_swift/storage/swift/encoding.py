"""What a container listing must tell without a GET: batch and claim state.

Swift returns an object's Content-Type, parameters included, in container
listings. zaqar-swift stores there everything listing and claiming need to
decide whether a message is free, claimed, delayed, expired or the caller's
own, so neither reads an object body to decide.

    application/x-zaqar-batch;c=<client id>;m=<ttl>.<delay>,<ttl>.<delay>,...
    application/x-zaqar-state;n=<claim counts>;k=<kept until>;c=<claims>

A claim in a state is ``<claim id>:<expires>:<grace>:<index mask hex>``.
Times are whole epoch seconds.
"""
from __future__ import annotations

import dataclasses

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
    """What one POST stored: its client and each message's ttl and delay."""

    client_id: str
    ttls: tuple[int, ...]
    delays: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.ttls)


def encode_batch(info: BatchInfo) -> str:
    pairs = ','.join('%d.%d' % td for td in zip(info.ttls, info.delays))
    return _format(BATCH_TYPE, {'c': info.client_id, 'm': pairs})


def decode_batch(content_type: str) -> BatchInfo | None:
    kind, params = _params(content_type)
    if kind != BATCH_TYPE or 'm' not in params:
        return None
    try:
        pairs = [p.split('.') for p in params['m'].split(',')]
        return BatchInfo(params.get('c', ''), tuple(int(t) for t, _ in pairs),
                         tuple(int(d) for _, d in pairs))
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
    claims = ','.join('%s:%d:%d:%x' % (c.claim_id, c.expires, c.grace, c.mask)
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
        claims = tuple(_decode_claim(c) for c in params.get('c', '').split(',') if c)
        return BatchState(_ints(params.get('n', '')), _ints(params.get('k', '')), claims)
    except ValueError:
        return None


def _ints(value: str) -> tuple[int, ...]:
    return tuple(int(v) for v in value.split('.')) if value else ()


def _decode_claim(value: str) -> Claim:
    cid, expires, grace, mask = value.split(':')
    return Claim(cid, int(expires), int(grace), int(mask, 16))
