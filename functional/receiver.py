"""A real HTTP receiver of webhook notifications for the tests.

``Receiver(behaviour)`` listens on a free port in a thread of the test
process and records every POST (its JSON body, headers and arrival time).
``behaviour(receiver)`` returns the status to answer (200 by default), or
None to never answer (a dead subscriber: the connection stays open until
the server stops).
"""
from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any, Callable

from zaqar_swift.testing.ports import free_port_block


class Receiver:
    def __init__(self, behaviour: Callable[['Receiver'], int | None] | None = None) -> None:
        self.behaviour = behaviour or (lambda r: 200)
        self.received: list[tuple[float, dict[str, Any], dict[str, str]]] = []
        self.attempts = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get('Content-Length') or 0))
                with receiver._lock:
                    receiver.attempts += 1
                status = receiver.behaviour(receiver)
                if status is None:
                    receiver._stop.wait(60)
                    return
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.received.append((time.monotonic(), json.loads(data),
                                                  dict(self.headers)))
                self.send_response(status)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port_block(1)
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return 'http://127.0.0.1:%d/hook' % self.port

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [body for _, body, _ in self.received]

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
