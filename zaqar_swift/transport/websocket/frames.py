"""Frames of Zaqar's websocket protocol: decoding a request, encoding a reply.

A request is ``{"action": str, "headers": {str: str}, "body": {...}}`` in a
JSON text frame or a MessagePack binary frame; the reply is in the same
format and echoes the request: ``{"request": {...}, "headers": {"status":
int}, "body": ...}``. A push (a message of a queue the connection
subscribed to) is a bare document in the format of the subscription's
request.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

import msgpack

from zaqar_swift import errors

API = 'v2'


@dataclasses.dataclass(frozen=True)
class Request:
    """One decoded request; ``binary`` says it came as MessagePack."""

    action: str
    headers: dict[str, str]
    body: dict[str, Any]
    binary: bool

    def echo(self) -> dict[str, Any]:
        """The request as a reply repeats it."""
        return {'action': self.action, 'headers': self.headers, 'body': self.body,
                'api': API}


def decode(frame: str | bytes) -> Any:
    """The document of a frame: JSON text or MessagePack binary."""
    try:
        if isinstance(frame, bytes):
            return msgpack.unpackb(frame, raw=False)
        return json.loads(frame)
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException) as exc:
        kind = 'binary (MessagePack)' if isinstance(frame, bytes) else 'text (JSON)'
        raise errors.InvalidRequest(f'Cannot decode the {kind} frame: {exc}.') from None


def request(document: Any, binary: bool) -> Request:
    """The request of a decoded frame; InvalidRequest says what is wrong."""
    if not isinstance(document, dict):
        raise errors.InvalidRequest('A request must be an object with "action", '
                                    '"headers" and "body".')
    action = document.get('action')
    if not isinstance(action, str) or not action:
        raise errors.InvalidRequest('The request has no "action" string.')
    headers = document.get('headers', {})
    if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise errors.MissingHeader('"headers" must be an object of strings.')
    body = document.get('body', {})
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise errors.InvalidRequest('"body" must be an object.')
    return Request(action, headers, body, binary)


def reply(req: Request | None, status: int, body: Any) -> dict[str, Any]:
    """The reply document to ``req`` (None: a frame that was no request)."""
    echoed = req.echo() if req is not None else {
        'action': None, 'headers': {}, 'body': {}, 'api': API}
    return {'request': echoed, 'headers': {'status': status}, 'body': body}


def encode(document: Any, binary: bool) -> str | bytes:
    """A frame of ``document``: MessagePack when ``binary``, else JSON text."""
    if binary:
        return msgpack.packb(document, use_bin_type=True)
    return json.dumps(document, ensure_ascii=False)
