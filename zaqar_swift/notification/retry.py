"""Zaqar's retry policy of notifications, as a schedule of delays.

A policy (``_retry_policy`` in queue metadata, or in a subscription's
options) has Zaqar's keys and defaults: ``retries_with_no_delay`` tries at
once, ``minimum_delay_retries`` tries ``minimum_delay`` apart, then the
delays of ``retry_backoff_function`` (linear, arithmetic, geometric,
exponential) from ``minimum_delay`` to ``maximum_delay``, then
``maximum_delay_retries`` tries ``maximum_delay`` apart. Zaqar gives up
there; zaqar-swift keeps trying every ``maximum_delay`` until the message
expires (notifications are durable).
"""
from __future__ import annotations

import math
from typing import Any

from zaqar_swift import validation


def effective(queue_policy: dict[str, Any] | None,
              sub_policy: dict[str, Any] | None) -> dict[str, Any]:
    """The subscription's policy, unless either says
    ``ignore_subscription_override`` (then the queue's), as Zaqar chooses."""
    queue_policy, sub_policy = queue_policy or {}, sub_policy or {}
    if queue_policy.get('ignore_subscription_override') or \
            sub_policy.get('ignore_subscription_override'):
        chosen = queue_policy
    else:
        chosen = sub_policy or queue_policy
    return dict(validation.RETRY_DEFAULTS, **chosen)


def _steps(low: int, high: int, step: int) -> int:
    return max(2, int((high - low) / step))


def backoff(function: str, low: int, high: int,
            step: int = validation.LINEAR_INTERVAL) -> list[int]:
    """The delays of a backoff function from ``low`` towards ``high``."""
    if function == 'linear':
        return list(range(low, high, step))
    count = _steps(low, high, step)
    if function == 'arithmetic':
        d = 2.0 * (high - low) / (count * (count - 1))
        return [int(low + (a - 1) * a * d / 2) for a in range(1, count + 1)]
    base = max(low, 1)   # geometric growth needs a positive start
    ratio = math.pow(high / base, 1.0 / (count - 1))
    return [int(base * math.pow(ratio, a - 1)) for a in range(1, count + 1)]


def schedule(policy: dict[str, Any]) -> list[float]:
    """The delay before each retry: entry n-1 follows the n-th failure."""
    low, high = policy['minimum_delay'], policy['maximum_delay']
    return ([0.0] * policy['retries_with_no_delay']
            + [float(low)] * policy['minimum_delay_retries']
            + [float(d) for d in backoff(policy['retry_backoff_function'], low, high)]
            + [float(high)] * policy['maximum_delay_retries'])


def delay(policy: dict[str, Any], failures: int) -> float:
    """Seconds to wait after the ``failures``-th failure in a row."""
    delays = schedule(policy)
    return delays[failures - 1] if failures <= len(delays) else float(policy['maximum_delay'])
