"""A raw client of the websocket protocol for the functional tests
(websocket-client, frames built by hand): JSON text or MessagePack binary."""
from __future__ import annotations

import json
import uuid
from typing import Any

import msgpack
import websocket

try:
    from functional import helpers as h
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h

TIMEOUT = 60


class WsClient:
    """One connection acting for one project with one Client-ID."""

    def __init__(self, url: str, project: str | None = None, client_id: str | None = None,
                 binary: bool = False, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.project = h.new_project() if project is None else project
        self.client_id = str(uuid.uuid4()) if client_id is None else client_id
        self.binary = binary
        self.ws = websocket.create_connection(url, timeout=timeout)

    def headers(self, **extra: str) -> dict[str, str]:
        return dict({'Client-ID': self.client_id, 'X-Project-ID': self.project}, **extra)

    def send(self, action: str, body: Any = None, headers: dict | None = None) -> None:
        frame = {'action': action, 'headers': self.headers() if headers is None else headers}
        if body is not None:
            frame['body'] = body
        self.send_raw(msgpack.packb(frame) if self.binary else json.dumps(frame))

    def send_raw(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            self.ws.send_binary(frame)
        else:
            self.ws.send(frame)

    def recv(self) -> Any:
        opcode, data = self.ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_BINARY:
            return msgpack.unpackb(data)
        return json.loads(data)

    def reply(self, action: str, body: Any = None, headers: dict | None = None) -> dict:
        self.send(action, body, headers)
        return self.recv()

    def call(self, action: str, body: Any = None, headers: dict | None = None
             ) -> tuple[int, Any]:
        """(status, body) of one request."""
        answer = self.reply(action, body, headers)
        return answer['headers']['status'], answer['body']

    def close(self) -> None:
        self.ws.close()
