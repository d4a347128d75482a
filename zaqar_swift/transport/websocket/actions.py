"""The websocket actions: for each, the REST operation it mirrors (whose
policy rule it is held to) and a responder of a few lines: read the body,
call the ``MessagingService`` method the REST resource calls, render.

Request documents that REST reads from a body are rebuilt from the
action's body and go through ``documents.parse`` with the same limit, so
sizes, 64-bit integers, non-finite numbers and nesting are judged alike on
both transports (a document's size is that of its compact JSON form).
Query parameters of REST are members of the body here, with JSON types.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

from zaqar_swift import documents
from zaqar_swift import errors
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.transport import render as rest
from zaqar_swift.transport.websocket import render

Reply = tuple[int, Any]

_Q = '/v2/queues/{queue}'


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who sends a request: the project it acts for and its Client-ID."""

    project: str
    client_id: str


@dataclasses.dataclass(frozen=True)
class Action:
    """One action: the REST operation it mirrors and its responder."""

    method: str
    path: str
    respond: Callable[['Responders', Caller, dict[str, Any]], Reply]
    tenant_scoped: bool = True


# -- reading a body ------------------------------------------------------------
def required(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        raise errors.InvalidRequest(f'The body of this action needs "{key}".')
    return body[key]


def string(body: dict[str, Any], key: str, optional: bool = False) -> str | None:
    value = body.get(key) if optional else required(body, key)
    if value is not None and not isinstance(value, str):
        raise errors.InvalidRequest(f'"{key}" must be a string.')
    return value


def flag(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise errors.InvalidRequest(f'"{key}" must be true or false.')
    return value


def document(value: Any, limit: int, limits: validation.Limits) -> Any:
    """``value`` judged as REST judges a body of that document: longer than
    any request may be is 413 (``documents.too_large``), longer than
    ``limit`` a 400, then ``documents.parse``."""
    if value is None:
        return None
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(',', ':'))
    except (TypeError, ValueError, RecursionError):
        raise errors.InvalidRequest('The request document cannot be represented '
                                    'in JSON.') from None
    data = text.encode('utf-8')
    if len(data) > documents.largest_body(limits):
        raise documents.too_large(limits)
    return documents.parse(data, limit)


def members(body: dict[str, Any], keys: tuple[str, ...], limit: int,
            limits: validation.Limits, required: bool = False) -> Any:
    """The REST document made of ``keys`` of ``body``. When none is there:
    an empty document if the REST operation requires a body, else None (no
    body)."""
    present = {k: body[k] for k in keys if k in body}
    return document(present, limit, limits) if present or required else None


def query(body: dict[str, Any], strings: tuple[str, ...] = (), ints: tuple[str, ...] = (),
          flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """REST query parameters from ``body``: the present ones, type-checked
    as a query string parser would."""
    found = {k: string(body, k, optional=True) for k in strings}
    found.update({k: body.get(k) for k in ints})
    found.update({k: flag(body, k) for k in flags})
    return {k: v for k, v in found.items() if v is not None}


# -- the responders --------------------------------------------------------------
class Responders:
    """Every responder, over one service."""

    def __init__(self, service: MessagingService, limits: validation.Limits) -> None:
        self.service = service
        self.limits = limits
        self.small = documents.request_limit(limits)
        self.post_limit = documents.message_post_limit(limits)

    # queues
    def queue_list(self, c: Caller, body: dict[str, Any]) -> Reply:
        params = query(body, ('marker', 'name'), ('limit',), ('detailed', 'with_count'))
        queues, marker, count = self.service.list_queues(c.project, **params)
        params.pop('with_count', None)
        return 200, rest.queue_page(rest.QUEUES, queues, marker, count, params)

    def queue_create(self, c: Caller, body: dict[str, Any]) -> Reply:
        metadata = document(body.get('metadata'), self.small, self.limits)
        created = self.service.create_queue(c.project, required(body, 'queue_name'), metadata)
        return (201 if created else 204), render.EMPTY

    def queue_get(self, c: Caller, body: dict[str, Any]) -> Reply:
        return 200, self.service.get_queue(c.project, required(body, 'queue_name'))

    def queue_update(self, c: Caller, body: dict[str, Any]) -> Reply:
        patch = document(body.get('patch'), self.small, self.limits)
        return 200, self.service.update_queue(c.project, required(body, 'queue_name'), patch)

    def queue_delete(self, c: Caller, body: dict[str, Any]) -> Reply:
        self.service.delete_queue(c.project, required(body, 'queue_name'))
        return 204, render.EMPTY

    def queue_get_stats(self, c: Caller, body: dict[str, Any]) -> Reply:
        queue = required(body, 'queue_name')
        return 200, rest.stats(self.service.queue_stats(c.project, queue), queue)

    def queue_purge(self, c: Caller, body: dict[str, Any]) -> Reply:
        purge = members(body, ('resource_types',), self.small, self.limits)
        self.service.purge_queue(c.project, required(body, 'queue_name'), purge)
        return 204, render.EMPTY

    # messages
    def message_list(self, c: Caller, body: dict[str, Any]) -> Reply:
        queue = required(body, 'queue_name')
        params = query(body, ('marker',), ('limit', 'wait'),
                       ('echo', 'include_claimed', 'include_delayed'))
        found, marker = self.service.list_messages(c.project, queue, c.client_id, **params)
        return 200, render.message_page(queue, found, marker, params)

    def message_get(self, c: Caller, body: dict[str, Any]) -> Reply:
        queue = required(body, 'queue_name')
        found = self.service.get_message(c.project, queue, string(body, 'message_id'))
        return 200, {'messages': render.message(found, queue)}

    def message_get_many(self, c: Caller, body: dict[str, Any]) -> Reply:
        queue = required(body, 'queue_name')
        found = self.service.get_messages(c.project, queue, required(body, 'message_ids'))
        return 200, render.messages(found, queue)

    def message_post(self, c: Caller, body: dict[str, Any]) -> Reply:
        queue = required(body, 'queue_name')
        posted = members(body, ('messages',), self.post_limit, self.limits,
                         required=True)
        ids = self.service.post_messages(c.project, queue, c.client_id, posted)
        return 201, render.posted(queue, ids)

    def message_delete(self, c: Caller, body: dict[str, Any]) -> Reply:
        self.service.delete_message(c.project, required(body, 'queue_name'),
                                    string(body, 'message_id'),
                                    string(body, 'claim_id', optional=True))
        return 204, render.EMPTY

    def message_delete_many(self, c: Caller, body: dict[str, Any]) -> Reply:
        popped = self.service.delete_many(
            c.project, required(body, 'queue_name'), c.client_id, body.get('message_ids'),
            body.get('pop'), body.get('claim_ids'))
        if popped is None:
            return 204, render.EMPTY
        return 200, {'messages': [rest.popped(m) for m in popped]}

    # claims
    def claim_create(self, c: Caller, body: dict[str, Any]) -> Reply:
        queue = required(body, 'queue_name')
        claim = members(body, ('ttl', 'grace'), self.small, self.limits)
        claim_id, found = self.service.create_claim(c.project, queue, c.client_id, claim,
                                                    body.get('limit'), body.get('wait'))
        return (201 if found else 204), render.claimed(found, queue, claim_id)

    def claim_get(self, c: Caller, body: dict[str, Any]) -> Reply:
        queue = required(body, 'queue_name')
        found = self.service.get_claim(c.project, queue, string(body, 'claim_id'))
        return 200, render.claim(found, queue)

    def claim_update(self, c: Caller, body: dict[str, Any]) -> Reply:
        self.service.update_claim(c.project, required(body, 'queue_name'),
                                  string(body, 'claim_id'),
                                  members(body, ('ttl', 'grace'), self.small,
                                          self.limits, required=True))
        return 204, render.EMPTY

    def claim_delete(self, c: Caller, body: dict[str, Any]) -> Reply:
        self.service.delete_claim(c.project, required(body, 'queue_name'),
                                  string(body, 'claim_id'))
        return 204, render.EMPTY

    # discovery
    def ping(self, c: Caller | None, body: dict[str, Any]) -> Reply:
        return 204, render.EMPTY

    def health(self, c: Caller | None, body: dict[str, Any]) -> Reply:
        return 200, self.service.health()


ACTIONS: dict[str, Action] = {
    'queue_list': Action('GET', '/v2/queues', Responders.queue_list),
    'queue_create': Action('PUT', _Q, Responders.queue_create),
    'queue_get': Action('GET', _Q, Responders.queue_get),
    'queue_update': Action('PATCH', _Q, Responders.queue_update),
    'queue_delete': Action('DELETE', _Q, Responders.queue_delete),
    'queue_get_stats': Action('GET', _Q + '/stats', Responders.queue_get_stats),
    'queue_purge': Action('POST', _Q + '/purge', Responders.queue_purge),
    'message_list': Action('GET', _Q + '/messages', Responders.message_list),
    'message_get': Action('GET', _Q + '/messages/{message_id}', Responders.message_get),
    'message_get_many': Action('GET', _Q + '/messages', Responders.message_get_many),
    'message_post': Action('POST', _Q + '/messages', Responders.message_post),
    'message_delete': Action('DELETE', _Q + '/messages/{message_id}',
                             Responders.message_delete),
    'message_delete_many': Action('DELETE', _Q + '/messages', Responders.message_delete_many),
    'claim_create': Action('POST', _Q + '/claims', Responders.claim_create),
    'claim_get': Action('GET', _Q + '/claims/{claim_id}', Responders.claim_get),
    'claim_update': Action('PATCH', _Q + '/claims/{claim_id}', Responders.claim_update),
    'claim_delete': Action('DELETE', _Q + '/claims/{claim_id}', Responders.claim_delete),
    'ping': Action('GET', '/v2/ping', Responders.ping, tenant_scoped=False),
    'health': Action('GET', '/v2/health', Responders.health, tenant_scoped=False),
}
