"""Zaqar v2's input rules, as pure functions.

The core calls these on every value that comes from a user, so the REST and
websocket transports accept and reject exactly the same input. Each function
either returns the checked (and defaulted) value or raises
``errors.InvalidRequest`` (``PayloadTooLarge`` for sizes) with a description
that tells the user what to fix. Nothing here does I/O.

Integers are strict: ``True``, ``60.0`` and ``"60"`` are not integers.
"""
from __future__ import annotations

import dataclasses
import json
import re
import urllib.parse
import uuid
from typing import Any

from zaqar_swift import errors
from zaqar_swift.storage.swift import naming

QUEUE_NAME = re.compile(r'[a-zA-Z0-9_.\-]+')
PROJECT_ID_MAX_LENGTH = 256
INT64_MAX = 2 ** 63 - 1
PURGEABLE = ('messages', 'subscriptions')
PATCH_OPS = ('add', 'remove', 'replace')

# Queue metadata keys with a meaning; GET queue always shows all of them.
MAX_POST_SIZE = '_max_messages_post_size'
DEFAULT_TTL = '_default_message_ttl'
DEFAULT_DELAY = '_default_message_delay'
DEAD_LETTER_QUEUE = '_dead_letter_queue'
DEAD_LETTER_TTL = '_dead_letter_queue_messages_ttl'
MAX_CLAIM_COUNT = '_max_claim_count'
RESERVED = (MAX_POST_SIZE, DEFAULT_TTL, DEFAULT_DELAY, DEAD_LETTER_QUEUE,
            DEAD_LETTER_TTL, MAX_CLAIM_COUNT)
RETRY_POLICY = '_retry_policy'
MIN_SUBSCRIPTION_TTL = 60
# Zaqar's retry policy keys (queue metadata, or a subscription's options).
RETRY_INT_KEYS = ('retries_with_no_delay', 'minimum_delay_retries', 'minimum_delay',
                  'maximum_delay', 'maximum_delay_retries')
BACKOFF_FUNCTIONS = ('linear', 'arithmetic', 'exponential', 'geometric')
# Zaqar's defaults of a retry policy, and the step of its backoff functions.
RETRY_DEFAULTS = {'retries_with_no_delay': 3, 'minimum_delay_retries': 3,
                  'minimum_delay': 5, 'maximum_delay': 30, 'maximum_delay_retries': 3,
                  'retry_backoff_function': 'linear'}
LINEAR_INTERVAL = 5
SHARE_KEYS = ('methods', 'expires', 'paths')
SHARE_PATHS = ('messages', 'subscriptions', 'claims')


@dataclasses.dataclass(frozen=True)
class Limits:
    """The ``[limits]`` options as plain values (one field per option)."""

    max_queues_per_page: int
    max_messages_per_page: int
    max_messages_per_claim_or_pop: int
    default_queue_page_size: int
    default_message_page_size: int
    default_claim_limit: int
    max_queue_metadata: int
    max_messages_post_size: int
    max_queue_name_length: int
    max_message_ttl: int
    min_message_ttl: int
    default_message_ttl: int
    max_message_delay: int
    default_message_delay: int
    max_claim_ttl: int
    min_claim_ttl: int
    default_claim_ttl: int
    max_claim_grace: int
    min_claim_grace: int
    default_claim_grace: int
    max_claim_count: int
    client_id_uuid_safe: str
    min_length_client_id: int
    max_length_client_id: int
    max_json_depth: int
    max_subscriptions_per_page: int
    default_subscription_page_size: int
    default_subscription_ttl: int
    max_subscription_ttl: int
    subscriber_types: tuple[str, ...]

    @classmethod
    def from_conf(cls, group: Any) -> Limits:
        """Read every field from an oslo.config group (``conf.limits``)."""
        return cls(**{f.name: _frozen(getattr(group, f.name)) for f in dataclasses.fields(cls)})

    @classmethod
    def defaults(cls) -> Limits:
        """The documented defaults of ``conf.limits_opts`` (handy in tests)."""
        from zaqar_swift import conf
        return cls(**{opt.dest: _frozen(opt.default) for opt in conf.limits_opts})


def _frozen(value: Any) -> Any:
    """A list option as a tuple, so Limits stays hashable and immutable."""
    return tuple(value) if isinstance(value, list) else value


# -- scalars ------------------------------------------------------------------
def integer(value: Any, name: str, low: int, high: int) -> int:
    """``value`` as an int in ``low..high`` (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise errors.InvalidRequest(
            f'{name} must be an integer from {low} to {high}.')
    return value


def _optional_int(value: Any, name: str, default: int, low: int, high: int) -> int:
    return default if value is None else integer(value, name, low, high)


def page_limit(limit: Any, maximum: int, default: int) -> int:
    """A page size: ``default`` when None, else an int from 1 to ``maximum``."""
    if limit is None:
        return min(default, maximum)
    return integer(limit, 'limit', 1, maximum)


MAX_WAIT = 20   # seconds a long-polling request may wait (as SQS' WaitTimeSeconds)


def wait_seconds(wait: Any) -> int:
    """How long a claim or listing may wait for messages (``?wait=``):
    0 (answer at once) when None, else an int from 0 to MAX_WAIT."""
    return 0 if wait is None else integer(wait, 'wait', 0, MAX_WAIT)


def pop_count(count: Any, limits: Limits) -> int:
    """How many messages a ``DELETE ?pop=`` may pop."""
    return integer(count, 'pop', 1, limits.max_messages_per_claim_or_pop)


# -- identifiers --------------------------------------------------------------
def queue_name(name: Any, limits: Limits, kind: str = 'queue') -> None:
    """ASCII letters, digits, ``_``, ``-`` and ``.``; at most the configured
    length; not ``.`` or ``..``, which would be dot segments of a Swift path.
    Topic names follow the same rules (``kind='topic'`` words the errors)."""
    if not isinstance(name, str) or not name:
        raise errors.InvalidRequest(f'A {kind} name must be a non-empty string.')
    if len(name) > limits.max_queue_name_length:
        raise errors.InvalidRequest(
            f'{kind.capitalize()} names may not be more than '
            f'{limits.max_queue_name_length} characters long.')
    if not QUEUE_NAME.fullmatch(name):
        raise errors.InvalidRequest(
            f'{kind.capitalize()} names may only contain ASCII letters, digits, '
            'underscores, dashes and dots.')
    if not naming.path_segment_safe(name):
        raise errors.InvalidRequest(f'A {kind} name may not be "." or "..".')


def project_id(value: str | None) -> str:
    """The X-Project-ID header: present, non-empty, at most 256 characters."""
    if value is None:
        raise errors.MissingHeader('The header X-Project-ID was missing.')
    if not value or len(value) > PROJECT_ID_MAX_LENGTH:
        raise errors.MissingHeader(
            f'X-Project-ID must be 1 to {PROJECT_ID_MAX_LENGTH} characters long.')
    return value


def client_id(value: str | None, limits: Limits) -> str:
    """The Client-ID header: a UUID (normalised, so two spellings of one UUID
    are one client), or with ``client_id_uuid_safe = off`` any string of the
    configured length."""
    if not value:
        raise errors.MissingHeader('The header Client-ID was missing.')
    if limits.client_id_uuid_safe == 'off':
        return _client_id_string(value, limits)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.MissingHeader('Client-ID must be a UUID (malformed hexadecimal '
                                   'UUID).', title='Wrong UUID value') from None


def _client_id_string(value: str, limits: Limits) -> str:
    low, high = limits.min_length_client_id, limits.max_length_client_id
    if not low <= len(value) <= high:
        raise errors.MissingHeader(
            f'Client-ID must be {low} to {high} characters long.')
    return value


def _id_list(ids: Any, name: str, maximum: int) -> list[str]:
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise errors.InvalidRequest(f'{name} must be a list of non-empty strings.')
    if not 1 <= len(ids) <= maximum:   # counted as sent, repeats included (Zaqar)
        raise errors.InvalidRequest(
            f'{name} must have at least 1 and at most {maximum} values.')
    return list(dict.fromkeys(ids))


def message_ids(ids: Any, limits: Limits) -> list[str]:
    """The ``ids`` of a GET or DELETE on messages: 1..max_messages_per_page
    strings; duplicates are then dropped, order kept."""
    return _id_list(ids, 'ids', limits.max_messages_per_page)


def claim_ids(ids: Any, limits: Limits) -> list[str]:
    """The ``claim_ids`` that may accompany a DELETE by ``ids``."""
    return _id_list(ids, 'claim_ids', limits.max_messages_per_page)


def message_deletion(ids: list[str] | None, pop: Any) -> None:
    """A DELETE on the messages collection names ``ids`` or ``pop``, not both."""
    if ids is not None and pop is not None:
        raise errors.InvalidRequest(
            'pop and ids parameters cannot be present together in the delete '
            'request.')
    if ids is None and pop is None:
        raise errors.InvalidRequest(
            'The request should have either "ids" or "pop" parameter in the '
            'request, to be able to delete.')


def purge_types(resource_types: Any) -> list[str]:
    """What a queue purge drops; None means every purgeable resource."""
    if resource_types is None:
        return list(PURGEABLE)
    return _purge_list(resource_types)


def _purge_list(resource_types: Any) -> list[str]:
    if not isinstance(resource_types, list) or not all(
            isinstance(t, str) and t in PURGEABLE for t in resource_types):
        raise errors.InvalidRequest(
            'resource_types must be a list drawn from: %s.' % ', '.join(PURGEABLE))
    return list(dict.fromkeys(resource_types))


# -- request documents ----------------------------------------------------------
def document(value: Any, required: bool) -> dict[str, Any] | None:
    """A request body that must be a JSON object; None stands for an empty
    body, refused when ``required``."""
    if value is None:
        if required:
            raise errors.InvalidRequest('Request body can not be empty.')
        return None
    if not isinstance(value, dict):
        raise errors.InvalidRequest('Request body must be a JSON object.')
    return value


def member(doc: dict[str, Any], key: str, description: str) -> Any:
    """``doc[key]``, or InvalidRequest(``description``) when absent."""
    if key not in doc:
        raise errors.InvalidRequest(description)
    return doc[key]


def nesting(value: Any, name: str, limit: int) -> None:
    """Refuse ``value`` when its arrays and objects nest more than ``limit``
    levels (a scalar is 0 levels, ``[1]`` one). Iterative: one visit per
    container, no recursion, whatever the depth."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            raise errors.InvalidRequest(
                f'{name} may nest arrays and objects at most {limit} levels deep.')
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))


def purge_document(doc: Any) -> list[str]:
    """What the body of a purge drops: every purgeable resource when there
    is no body, else its ``resource_types``."""
    doc = document(doc, required=False)
    if doc is None:
        return purge_types(None)
    return _purge_list(member(doc, 'resource_types',
                              'Post body must contain key "resource_types".'))


def collection_deletion(ids: Any, pop: Any, claims: Any, limits: Limits
                        ) -> tuple[list[str] | None, int | None, list[str] | None]:
    """``(ids, pop, claim_ids)`` of a DELETE on the messages collection:
    exactly one of ``ids`` and ``pop``; ``claims`` (the ``claim_ids``) are
    checked when they come with ``ids`` and ignored with ``pop``."""
    message_deletion(ids, pop)
    if pop is not None:
        return None, pop_count(pop, limits), None
    checked = None if claims is None else claim_ids(claims, limits)
    return message_ids(ids, limits), None, checked


# -- queue metadata -------------------------------------------------------------
def _compact_size(document: Any) -> int:
    text = json.dumps(document, ensure_ascii=False, separators=(',', ':'))
    return len(text.encode('utf-8'))


def _reserved_rules(limits: Limits) -> dict[str, tuple[int, int]]:
    return {
        MAX_POST_SIZE: (1, limits.max_messages_post_size),
        DEFAULT_TTL: (limits.min_message_ttl, limits.max_message_ttl),
        DEFAULT_DELAY: (0, limits.max_message_delay),
        DEAD_LETTER_TTL: (limits.min_message_ttl, limits.max_message_ttl),
        MAX_CLAIM_COUNT: (0, INT64_MAX),
    }


def _check_reserved(meta: dict[str, Any], limits: Limits) -> None:
    for key, (low, high) in _reserved_rules(limits).items():
        if meta.get(key) is not None:
            integer(meta[key], key, low, high)
    dlq = meta.get(DEAD_LETTER_QUEUE)
    if dlq is not None:
        queue_name(dlq, limits)


def queue_metadata(meta: Any, limits: Limits) -> dict[str, Any]:
    """Queue metadata: a JSON object of at most ``max_queue_metadata`` bytes
    whose reserved keys hold valid values. A reserved key set to null means
    "unset" and is dropped from the returned copy."""
    if not isinstance(meta, dict):
        raise errors.InvalidRequest('Queue metadata must be a JSON object.')
    nesting(meta, 'Queue metadata', limits.max_json_depth)
    if _compact_size(meta) > limits.max_queue_metadata:
        raise errors.InvalidRequest(
            f'Queue metadata is too large. Max size: {limits.max_queue_metadata}')
    _check_reserved(meta, limits)
    retry_policy(meta.get(RETRY_POLICY))
    return {k: v for k, v in meta.items() if not (k in RESERVED and v is None)}


def queue_defaults(limits: Limits) -> dict[str, Any]:
    """The reserved keys as GET queue shows them when the queue sets none."""
    return {
        MAX_POST_SIZE: limits.max_messages_post_size,
        DEFAULT_TTL: limits.default_message_ttl,
        DEFAULT_DELAY: limits.default_message_delay,
        DEAD_LETTER_QUEUE: None,
        DEAD_LETTER_TTL: None,
        MAX_CLAIM_COUNT: limits.max_claim_count or None,
    }


def with_defaults(meta: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """``meta`` as Zaqar renders it: a reserved key whose value is missing or
    falsy (0, "", null) shows its default instead."""
    merged = dict(meta)
    for key, default in queue_defaults(limits).items():
        if not merged.get(key):
            merged[key] = default
    return merged


# -- queue PATCH (JSON patch, draft 10, on /metadata/<key> only) ---------------
def _pointer_key(pointer: Any) -> str:
    if not isinstance(pointer, str) or not pointer.startswith('/'):
        raise errors.InvalidRequest('path must be a JSON pointer such as /metadata/key.')
    if re.search('~[^01]|~$', pointer):
        raise errors.InvalidRequest(
            f'Pointer {pointer} contains "~" not part of a recognized escape sequence.')
    parts = [p.replace('~1', '/').replace('~0', '~') for p in pointer[1:].split('/')]
    if len(parts) != 2 or parts[0].lower() != 'metadata' or not parts[1]:
        raise errors.InvalidRequest(
            f'Invalid JSON pointer for this resource: {pointer}, e.g. /metadata/key')
    return parts[1]


def _patch_op(raw: Any) -> tuple[str, str, Any]:
    if not isinstance(raw, dict):
        raise errors.InvalidRequest('Operations must be JSON objects.')
    op = raw.get('op')
    if op not in PATCH_OPS:
        raise errors.InvalidRequest(
            f'Invalid operation: {op!r}. It must be one of: {", ".join(PATCH_OPS)}.')
    key = _pointer_key(raw.get('path'))
    if op != 'remove' and 'value' not in raw:
        raise errors.InvalidRequest(f'Operation "{op}" requires a member named "value".')
    return op, key, raw.get('value')


def queue_patch_ops(patch: Any) -> list[tuple[str, str, Any]]:
    """Check a PATCH document: a list of ``{"op", "path", "value"}`` objects
    with op add/replace/remove and path ``/metadata/<key>``. Returns
    ``(op, key, value)`` triples; None (no body) is refused."""
    if patch is None:
        raise errors.InvalidRequest('Request body can not be empty.')
    if not isinstance(patch, list):
        raise errors.InvalidRequest('Request body must be a JSON array of operation objects.')
    return [_patch_op(raw) for raw in patch]


def _apply(meta: dict[str, Any], op: str, key: str, value: Any) -> None:
    exists = key in meta or key in RESERVED
    if op == 'add' or (op == 'replace' and exists):
        meta[key] = value
    elif op == 'remove' and exists:
        meta.pop(key, None)
    else:
        raise errors.Conflict(f"Can't {op} non-existent object {key}.")


def queue_patch(patch: Any, current: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Apply a PATCH document to ``current`` metadata and return the checked
    result. Replacing or removing a key that does not exist is a Conflict,
    except for reserved keys, which always exist (python-zaqarclient removes
    every key it does not send back, reserved ones included)."""
    meta = dict(current)
    for op, key, value in queue_patch_ops(patch):
        _apply(meta, op, key, value)
    return queue_metadata(meta, limits)


# -- messages ---------------------------------------------------------------------
def _message(raw: Any, index: int, limits: Limits, ttl: int, delay: int
             ) -> tuple[Any, int, int]:
    if not isinstance(raw, dict):
        raise errors.InvalidRequest(f'Message {index} must be a JSON object.')
    if 'body' not in raw:
        raise errors.InvalidRequest(f'Message {index}: missing "body" field.')
    nesting(raw['body'], f'Message {index}: body', limits.max_json_depth)
    ttl = integer(raw.get('ttl', ttl), f'Message {index}: ttl',
                  limits.min_message_ttl, limits.max_message_ttl)
    delay = integer(raw.get('delay', delay), f'Message {index}: delay',
                    0, limits.max_message_delay)
    return raw['body'], ttl, delay


def _post_size_limit(queue_meta: dict[str, Any], limits: Limits) -> int:
    own = queue_meta.get(MAX_POST_SIZE)
    if isinstance(own, int) and not isinstance(own, bool) and own > 0:
        return min(own, limits.max_messages_post_size)
    return limits.max_messages_post_size


def message_post_document(doc: Any) -> Any:
    """The ``messages`` of a POST body ``{"messages": [...]}`` (unchecked)."""
    return member(document(doc, required=True), 'messages',
                  'No messages were found in the request body.')


def message_posts(messages: Any, limits: Limits, queue_meta: dict[str, Any]
                  ) -> list[tuple[Any, int, int]]:
    """The ``messages`` of a POST: 1..max_messages_per_page objects with a
    ``body`` and optional ``ttl``/``delay`` (defaults from the queue's
    metadata, then the limits; an explicit null is refused, as in Zaqar).
    Returns ``(body, ttl, delay)`` per message. The whole document may not
    exceed the queue's ``_max_messages_post_size`` (PayloadTooLarge).
    Unknown fields are ignored, as Zaqar does."""
    if not isinstance(messages, list) or not messages:
        raise errors.InvalidRequest('"messages" must be a non-empty JSON array.')
    if len(messages) > limits.max_messages_per_page:
        raise errors.InvalidRequest(
            f'No more than {limits.max_messages_per_page} messages may be posted at once.')
    size, maximum = _compact_size({'messages': messages}), _post_size_limit(queue_meta, limits)
    if size > maximum:
        raise errors.PayloadTooLarge(
            f'Message collection size is too large. The max size for this queue is {maximum}.')
    ttl = queue_meta.get(DEFAULT_TTL) or limits.default_message_ttl
    delay = queue_meta.get(DEFAULT_DELAY) or limits.default_message_delay
    return [_message(raw, i, limits, ttl, delay) for i, raw in enumerate(messages)]


# -- claims -----------------------------------------------------------------------
def no_nulls(document: dict[str, Any], *keys: str) -> None:
    """A field that is present must not be null (absent means "default")."""
    for key in keys:
        if key in document and document[key] is None:
            raise errors.InvalidRequest(f'The value of the "{key}" field may not be null.')


def claim_request(doc: Any, limit: Any, limits: Limits) -> tuple[int, int, int]:
    """(ttl, grace, limit) of a claim from its optional body and ``limit``."""
    doc = document(doc, required=False) or {}
    no_nulls(doc, 'ttl', 'grace')
    return claim_params(doc.get('ttl'), doc.get('grace'), limit, limits)


def claim_renewal(doc: Any, limits: Limits) -> tuple[int, int]:
    """(ttl, grace) of a claim renewal from its body (required)."""
    doc = document(doc, required=True)
    no_nulls(doc, 'ttl', 'grace')
    ttl, grace, _ = claim_params(doc.get('ttl'), doc.get('grace'), None, limits)
    return ttl, grace


def claim_params(ttl: Any, grace: Any, limit: Any, limits: Limits) -> tuple[int, int, int]:
    """(ttl, grace, limit) of a claim; None means the configured default."""
    return (
        _optional_int(ttl, 'ttl', limits.default_claim_ttl,
                      limits.min_claim_ttl, limits.max_claim_ttl),
        _optional_int(grace, 'grace', limits.default_claim_grace,
                      limits.min_claim_grace, limits.max_claim_grace),
        _optional_int(limit, 'limit', limits.default_claim_limit,
                      1, limits.max_messages_per_claim_or_pop),
    )


# -- subscriptions -----------------------------------------------------------------
def retry_policy(policy: Any) -> dict[str, Any]:
    """A ``_retry_policy`` (queue metadata or subscription options), as
    Zaqar checks it: integer delays and counts, a known backoff function, a
    boolean ``ignore_subscription_override``, and ``maximum_delay`` at least
    two backoff steps above ``minimum_delay``. None means no policy."""
    if policy is None:
        return {}
    if not isinstance(policy, dict):
        raise errors.InvalidRequest('retry_policy must be a dict.')
    for key in RETRY_INT_KEYS:
        if key in policy:
            integer(policy[key], f'Retry policy: {key}', 0, INT64_MAX)
    function = policy.get('retry_backoff_function')
    if function is not None and function not in BACKOFF_FUNCTIONS:
        raise errors.InvalidRequest('invalid retry_backoff_function: it must be one of '
                                    + ', '.join(BACKOFF_FUNCTIONS) + '.')
    override = policy.get('ignore_subscription_override')
    if override is not None and not isinstance(override, bool):
        raise errors.InvalidRequest('ignore_subscription_override must be a boolean.')
    low = policy.get('minimum_delay', RETRY_DEFAULTS['minimum_delay'])
    high = policy.get('maximum_delay', RETRY_DEFAULTS['maximum_delay'])
    if high - low < 2 * LINEAR_INTERVAL:
        raise errors.InvalidRequest(
            f'maximum_delay must be at least {2 * LINEAR_INTERVAL} seconds more than '
            'minimum_delay.')
    return policy


def _subscriber(value: Any, limits: Limits) -> str:
    scheme = urllib.parse.urlparse(value).scheme if isinstance(value, str) else None
    if scheme not in limits.subscriber_types:
        raise errors.InvalidRequest(
            'The subscriber type of subscription must be supported in the list %s.'
            % list(limits.subscriber_types))
    return value


def _subscription_fields(doc: dict[str, Any], limits: Limits) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    if doc.get('subscriber') is not None:
        checked['subscriber'] = _subscriber(doc['subscriber'], limits)
    if doc.get('options') is not None:
        if not isinstance(doc['options'], dict):
            raise errors.InvalidRequest('Options must be a dict.')
        nesting(doc['options'], 'Options', limits.max_json_depth)
        retry_policy(doc['options'].get(RETRY_POLICY))
        checked['options'] = doc['options']
    if doc.get('ttl') is not None:
        checked['ttl'] = integer(doc['ttl'], 'ttl', MIN_SUBSCRIPTION_TTL,
                                 limits.max_subscription_ttl)
    return checked


def subscription_post(doc: Any, limits: Limits) -> tuple[str, int, dict[str, Any]]:
    """(subscriber, ttl, options) of a POST on a queue's subscriptions."""
    doc = document(doc, required=False) or {}
    if 'subscriber' not in doc:
        raise errors.InvalidRequest('Missing parameter subscriber in body.')
    checked = _subscription_fields(doc, limits)
    if 'subscriber' not in checked:
        raise errors.InvalidRequest('Missing parameter subscriber in body.')
    return (checked['subscriber'], checked.get('ttl', limits.default_subscription_ttl),
            checked.get('options', {}))


def subscription_patch(doc: Any, limits: Limits) -> dict[str, Any]:
    """The changes of a PATCH: some of ``subscriber``, ``ttl``, ``options``."""
    if doc is None or doc == {}:
        raise errors.InvalidRequest('No subscription to create.')
    if not isinstance(doc, dict):
        raise errors.InvalidRequest('Subscriptions must be a dict.')
    checked = _subscription_fields(doc, limits)
    if not checked:
        raise errors.InvalidRequest(
            'A subscription update changes at least one of subscriber, ttl, options.')
    return checked


def subscription_confirmation(doc: Any) -> bool:
    """The ``confirmed`` boolean of a confirmation."""
    confirmed = (document(doc, required=False) or {}).get('confirmed')
    if not isinstance(confirmed, bool):
        raise errors.InvalidRequest("The 'confirmed' should be boolean.")
    return confirmed


def subscription_id(value: Any) -> bool:
    """Whether ``value`` can be one of our subscription ids (else: 404)."""
    return isinstance(value, str) and naming.valid_subscription_id(value)


def share_document(doc: Any) -> tuple[list[str], list[str], str | None]:
    """(paths, methods, expires) of a share request; paths are the queue's
    sub-resources (``messages`` by default), methods ``GET`` by default."""
    doc = document(doc, required=False) or {}
    unknown = set(doc) - set(SHARE_KEYS)
    if unknown:
        raise errors.InvalidRequest('Unknown keys: %s' % ', '.join(sorted(unknown)))
    paths = doc.get('paths') or ['messages']
    if not isinstance(paths, list) or not all(p in SHARE_PATHS for p in paths):
        raise errors.InvalidRequest('Invalid paths: paths are drawn from %s.'
                                    % ', '.join(SHARE_PATHS))
    methods = doc.get('methods') or ['GET']
    if not isinstance(methods, list) or not all(isinstance(m, str) and m for m in methods):
        raise errors.InvalidRequest('methods must be a list of HTTP methods.')
    expires = doc.get('expires')
    if expires is not None and not isinstance(expires, str):
        raise errors.InvalidRequest('expires must be a date such as 2016-01-01T00:00:00.')
    return paths, methods, expires


# -- connection subscriptions (websocket push) ---------------------------------------
DEFAULT_SUBSCRIPTION_TTL = 3600    # Zaqar's default_subscription_ttl


def subscription_ttl(ttl: Any) -> int:
    """A subscription's ttl in seconds: Zaqar's default when None."""
    if ttl is None:
        return DEFAULT_SUBSCRIPTION_TTL
    return integer(ttl, 'ttl', MIN_SUBSCRIPTION_TTL, INT64_MAX)


def subscription_options(options: Any) -> dict[str, Any]:
    """A subscription's options: an object ({} when None)."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise errors.InvalidRequest('Options must be a dict.')
    return options
