"""Request documents: JSON text in, checked Python values out.

Every transport hands the raw body of a request to ``parse``, so REST and
websocket accept and refuse the same documents. JSON is parsed strictly,
so nothing the storage cannot round-trip gets in: UTF-8 only, integers
within 64 bits, finite numbers, no ``NaN``/``Infinity``. Sizes are checked
before parsing: a body longer than its request's limit is Zaqar's 400
(``PayloadTooLarge``); the transports refuse anything longer than
``largest_body`` (413, ``RequestTooLarge``) before they read it.
"""
from __future__ import annotations

import json
import math
from typing import Any

from zaqar_swift import errors
from zaqar_swift import validation


class _BadJSON(ValueError):
    """A value JSON can carry but this service refuses (described)."""


def _int64(text: str) -> int:
    value = int(text)
    if abs(value) > validation.INT64_MAX:
        raise _BadJSON('JSON contains integer that is too large.')
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadJSON('JSON contains a number that is too large.')
    return value


def _constant(name: str) -> Any:
    raise _BadJSON(f'{name} is not valid JSON.')


def message_post_limit(limits: validation.Limits) -> int:
    """Longest body of a message POST, in bytes."""
    return limits.max_messages_post_size


def request_limit(limits: validation.Limits) -> int:
    """Longest body of every other request (queue metadata, JSON patch,
    claim and purge documents), in bytes."""
    return limits.max_queue_metadata


def largest_body(limits: validation.Limits) -> int:
    """Longest body of any legal request: longer ones are refused unread."""
    return max(message_post_limit(limits), request_limit(limits))


def too_large(limits: validation.Limits) -> errors.RequestTooLarge:
    """The error of a body longer than any request may be."""
    return errors.RequestTooLarge(
        f'Request body is too large: no request may be longer than '
        f'{largest_body(limits)} bytes.')


def check_length(length: int, limit: int) -> None:
    """PayloadTooLarge when a body of ``length`` bytes exceeds its request's
    ``limit`` (transports call it with a declared length before reading)."""
    if length > limit:
        raise errors.PayloadTooLarge(
            f'Request body is {length} bytes or more; the limit is {limit} bytes.')


def parse(raw: bytes | str, limit: int) -> Any:
    """The document of a request body of at most ``limit`` bytes; None when
    the body is empty (a body of ``null`` is refused: no request document
    is null). InvalidRequest says why a body is not a document,
    PayloadTooLarge when it is too long."""
    data = raw.encode('utf-8') if isinstance(raw, str) else raw
    check_length(len(data), limit)
    if not data:
        return None
    try:
        document = json.loads(data.decode('utf-8'), parse_int=_int64,
                              parse_float=_finite, parse_constant=_constant)
    except _BadJSON as exc:
        raise errors.InvalidRequest(str(exc)) from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.InvalidRequest('Request body could not be parsed.') from None
    if document is None:   # None means "no body" to the core
        raise errors.InvalidRequest('Request body must be a JSON object or array, not null.')
    return document
