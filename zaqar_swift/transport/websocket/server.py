"""The websocket server: connections (``websockets``, asyncio), requests run
in a thread pool, pushes, and the limits that keep one client from hurting
the others.

* A frame larger than ``max_frame_size`` closes its connection with 1009
  (the library's check, before the frame is buffered whole).
* A connection has one request running at a time; the library reads no
  more than a few frames ahead, so a flood of frames is served in turn
  and slows only the connection that sends it.
* More than ``max_connections`` open connections: HTTP 503 before the upgrade.
* A connection that does not read its pushes (more than
  ``MAX_PENDING_PUSHES`` unsent) is closed with 1008.
* Under keystone, a connection whose token expires is closed with 4003.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import http
import json
import logging
import time
from typing import Any, Callable

import websockets
from websockets.asyncio import server as ws_server

from zaqar_swift import errormap
from zaqar_swift import errors
from zaqar_swift.transport.websocket import frames
from zaqar_swift.transport.websocket import render
from zaqar_swift.transport.websocket.push import Watcher
from zaqar_swift.transport.websocket.session import Dispatcher, Session

LOG = logging.getLogger(__name__)

MAX_PENDING_PUSHES = 1000
EXPIRED = 4003            # Zaqar's close code for an expired token
SLOW_CONSUMER = 1008


class Server:
    """One websocket server over a dispatcher (and its push watcher)."""

    def __init__(self, dispatcher: Dispatcher, watcher: Watcher | None, host: str,
                 port: int, max_frame_size: int, max_connections: int,
                 threads: int) -> None:
        self._dispatcher = dispatcher
        self._watcher = watcher
        self._host = host
        self._port = port
        self._max_size = max_frame_size
        self._max_connections = max_connections
        self._pool = concurrent.futures.ThreadPoolExecutor(threads, 'ws-request')
        self._open: set[Any] = set()
        self.port: int | None = None   # the bound port, once serving

    async def serve(self, stopping: asyncio.Event,
                    ready: Callable[[], None] = lambda: None) -> None:
        """Serve until ``stopping`` is set."""
        async with ws_server.serve(self._connection, self._host, self._port,
                                   max_size=self._max_size, compression=None,
                                   process_request=self._admit, max_queue=4) as server:
            self.port = server.sockets[0].getsockname()[1]
            LOG.info('Zaqar v2 websocket API listening on ws://%s:%s/', self._host, self.port)
            ready()
            tasks = [asyncio.create_task(self._watcher.run(stopping))] if self._watcher else []
            await stopping.wait()
            await asyncio.gather(*tasks)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _admit(self, connection: Any, request: Any) -> Any:
        if len(self._open) < self._max_connections:
            return None
        body = json.dumps({'title': 'Too many connections', 'description':
                           'This server has as many websocket connections as it '
                           'may; try again later.'})
        response = connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, body)
        response.headers['Content-Type'] = 'application/json'
        response.headers['Retry-After'] = errormap.RETRY_AFTER
        return response

    async def _connection(self, ws: Any) -> None:
        session = Session()
        session.push = _Pusher(ws)
        self._open.add(ws)
        expiry = _Expiry(ws)
        try:
            async for frame in ws:
                await ws.send(await self._reply(session, frame))
                expiry.watch(session)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._open.discard(ws)
            expiry.cancel()
            self._dispatcher.forget(session)

    async def _reply(self, session: Session, frame: str | bytes) -> str | bytes:
        binary = isinstance(frame, bytes)
        try:
            req = frames.request(frames.decode(frame), binary)
        except errors.ZaqarSwiftError as exc:
            return frames.encode(frames.reply(None, errormap.status_for(exc),
                                              render.error(exc)), binary)
        loop = asyncio.get_running_loop()
        document = await loop.run_in_executor(self._pool, self._dispatcher.handle,
                                              session, req)
        try:
            return frames.encode(document, binary)
        except (TypeError, ValueError, OverflowError):   # an echo that cannot go back
            document['request'] = frames.reply(None, 0, None)['request']
            return frames.encode(document, binary)


class _Pusher:
    """Sends pushes to one connection without waiting for it; a connection
    that lets them pile up is closed."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._pending = 0

    def __call__(self, frame: str | bytes) -> None:
        if self._pending >= MAX_PENDING_PUSHES:
            asyncio.ensure_future(self._ws.close(SLOW_CONSUMER, 'Pushes are not read.'))
            return
        self._pending += 1
        asyncio.ensure_future(self._ws.send(frame)).add_done_callback(self._sent)

    def _sent(self, task: asyncio.Future) -> None:
        self._pending -= 1
        if not task.cancelled():
            task.exception()   # a closed connection: nothing to do


class _Expiry:
    """Closes a connection with 4003 when its token expires; re-armed when
    the connection authenticates again."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._expires: float | None = None
        self._handle: asyncio.TimerHandle | None = None

    def watch(self, session: Session) -> None:
        expires = session.identity.expires if session.identity is not None else None
        if expires == self._expires:
            return
        self.cancel()
        self._expires = expires
        if expires is not None:
            self._handle = asyncio.get_running_loop().call_later(
                max(0.0, expires - time.time()), self._close)

    def _close(self) -> None:
        asyncio.ensure_future(self._ws.close(EXPIRED, 'Authentication expired.'))

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
