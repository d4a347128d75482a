"""Websocket response documents: the REST documents (``transport/render.py``)
plus the fields Zaqar's websocket API names that REST has not.

* a message carries its ``claim_id`` (None when free);
* ``message_get`` answers ``{"messages": message}``;
* ``message_post`` adds ``message_ids``, ``claim_create`` adds ``claim_id``;
* an error adds ``error`` (its description), which python-zaqarclient's
  websocket transport reads;
* a reply without content (REST's 204) has the body ``{}``.

So a websocket body with those fields taken out is the REST body, which the
REST/websocket parity test checks operation by operation.
"""
from __future__ import annotations

from typing import Any

from zaqar_swift import errormap
from zaqar_swift.transport import render

EMPTY: dict[str, Any] = {}


def _with_claim(shown: dict[str, Any], msg: dict[str, Any],
                claim_id: str | None = None) -> dict[str, Any]:
    return dict(shown, claim_id=claim_id or msg.get('claim_id'))


def message(msg: dict[str, Any], queue: str, claim_id: str | None = None) -> dict[str, Any]:
    return _with_claim(render.message(msg, queue, claim_id), msg, claim_id)


def messages(found: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    return {'messages': [message(m, queue) for m in found]}


def message_page(queue: str, found: list[dict[str, Any]], marker: str | None,
                 query: dict[str, Any]) -> dict[str, Any]:
    page = render.message_page(render.messages_href(queue), queue, found, marker, query)
    page['messages'] = [_with_claim(shown, m) for shown, m in zip(page['messages'], found)]
    return page


def posted(queue: str, ids: list[str]) -> dict[str, Any]:
    return {'resources': [render.message_href(queue, i) for i in ids], 'message_ids': ids}


def claimed(found: list[dict[str, Any]], queue: str, claim_id: str | None) -> dict[str, Any]:
    if not found:
        return EMPTY
    return {'messages': [message(m, queue, claim_id) for m in found], 'claim_id': claim_id}


def claim(document: dict[str, Any], queue: str) -> dict[str, Any]:
    shown = render.claim(document, queue)
    shown['messages'] = [message(m, queue, document['id']) for m in document['messages']]
    return shown


def error(exc: BaseException) -> dict[str, Any]:
    body = errormap.error_body(exc)
    return dict(body, error=body['description'])


def notification(msg: dict[str, Any], queue: str) -> dict[str, Any]:
    """A pushed message, as Zaqar's websocket notifications show it (with
    its id and href besides)."""
    return {'body': msg['body'], 'ttl': msg['ttl'], 'queue_name': queue,
            'Message_Type': 'Notification', 'id': msg['id'],
            'href': render.message_href(queue, msg['id'])}
