"""wsfast as uvicorn's WebSocket protocol: ASGI 3 WebSockets (spec 2.4) on
wsfast's asyncio WebSocket, for FastAPI, Starlette and any ASGI app.

    uvicorn app:app --ws wsfast.uvicorn:WebSocketProtocol
    uvicorn.run(app, ws="wsfast.uvicorn:WebSocketProtocol")

Once the app accepts, the connection is a wsfast WebSocket like any other
(wsfast/seam.py): whole messages go from the C parser through the Inbox to
the app's ``receive()`` without per-frame Python, and ``send()`` frames and
joins its writes in the MessagePump. uvicorn's settings apply: ``ws_max_size``
(a larger message fails with 1009), ``ws_max_queue`` (reading pauses while
that many messages wait), ``ws_ping_interval`` / ``ws_ping_timeout``,
``ws_per_message_deflate``, and its default headers (server, date) on the
101. The origin policy is the app's, as ASGI has it.
"""
from __future__ import annotations

import asyncio
import collections
import email.utils
import logging
from typing import Any, Dict, Optional
from urllib.parse import unquote

from uvicorn.config import Config
from uvicorn.protocols.utils import (ClientDisconnected, get_client_addr, get_local_addr,
                                     get_path_with_query_string, get_remote_addr, is_ssl)
from uvicorn.server import ServerState

from wsfast.asyncio.connection import WebSocket
from wsfast.connection import Connection, State
from wsfast.deflate import PerMessageDeflate
from wsfast.errors import ConnectionClosed, HandshakeError
from wsfast.handshake import ServerHandshake, format_response

__all__ = ["WebSocketProtocol"]

Message = Dict[str, Any]

#: Seconds the closing handshake may take before the TCP connection is dropped
#: (uvicorn's own protocols wait as long).
CLOSE_TIMEOUT = 10.0
#: Bytes a client may send after its request and before the app accepts;
#: reading pauses above it.
EARLY_DATA_MAX = 64 * 1024


def _discard(message: Any) -> None:
    """Where messages go once the app has closed."""


def _text_headers(raw: Any) -> list[tuple[str, str]]:
    return [(bytes(name).decode("latin-1"), bytes(value).decode("latin-1")) for name, value in raw]


class WebSocketProtocol(WebSocket):
    """One ASGI WebSocket connection under uvicorn (see the module's doc)."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        if not config.loaded:
            config.load()
        super().__init__("server", max_message_size=config.ws_max_size,
                         max_queue=config.ws_max_queue,
                         ping_interval=config.ws_ping_interval or None,
                         ping_timeout=config.ws_ping_timeout, close_timeout=CLOSE_TIMEOUT,
                         open_timeout=None)
        self.config = config
        self.app = config.loaded_app
        self.app_state = app_state
        # uvicorn's set of open connections (its type lists only its own protocols).
        self.connections: set[Any] = server_state.connections
        self.tasks = server_state.tasks
        self.default_headers = server_state.default_headers
        self.logger = logging.getLogger("uvicorn.error")
        self.scope: Any = None
        self._handshake = ServerHandshake(
            origins="*", compression=PerMessageDeflate() if config.ws_per_message_deflate else None)
        # ASGI events owed to receive() before the WebSocket's own messages:
        # websocket.connect, and the disconnect after a close or a denial.
        self._events: collections.deque[Message] = collections.deque()
        self._event_waiter: Optional[asyncio.Future[None]] = None
        self._accepted = False      # the 101 is sent
        self._answered = False      # the 101, a denial or a 500 is sent: no other
        self._close_sent = False    # websocket.close, or a shutdown, is done
        self._close_timer: Optional[asyncio.TimerHandle] = None
        # A denial response started: status, headers, the body so far.
        self._denial: Optional[tuple[int, list[tuple[str, str]], list[bytes]]] = None
        # From the 101 until the connection is lost (None before and after):
        # send_nowait as _opened_with left it (the MessagePump's), for the
        # common case of send(), as an attribute load, not a method lookup.
        self._send_message: Any = None

    # --- uvicorn's side ------------------------------------------------------

    @property
    def close_timer(self) -> Optional[asyncio.TimerHandle]:
        """While our Close waits for the peer's: the timer that drops the
        connection after ``close_timeout`` (as uvicorn's protocols have it)."""
        timer, conn = self._close_timer, self._conn
        if timer is None or timer.cancelled() or conn is None or conn.state is not State.CLOSING:
            return None
        return timer

    def data_received(self, data: bytes) -> None:
        # Once open the transport talks to the MessagePump; a caller that
        # still feeds this object (uvicorn's in-memory test transport has
        # no set_protocol) gets the pump all the same.
        if self._pump is not None:
            self._pump.data_received(data)
        else:
            super().data_received(data)

    def _close_then_wait(self, code: int, reason: str) -> None:
        """Send our Close; the peer's, or close_timeout, ends the connection.
        Messages still arriving meanwhile are dropped, and reading goes on
        (resumed if the queue had paused it) so that the peer's Close gets in."""
        conn = self._conn
        self._close_sent = True
        if conn is not None and conn.state is State.OPEN:
            self._write(conn.close(code, reason))
            self._inbox.set_callback(_discard)
            if self.transport is not None:
                self._close_timer = self._loop.call_later(self.close_timeout, self._give_up)
                self._timers.append(self._close_timer)

    def _give_up(self) -> None:
        """No Close from the peer within close_timeout (RFC 6455 section 7.1.1)."""
        self._close_timer = None
        transport = self.transport
        if transport is not None:
            getattr(transport, "abort", transport.close)()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.connections.add(self)
        stream: Any = transport  # an asyncio.Transport, as uvicorn's helpers want
        self.server = get_local_addr(stream)
        self.client = get_remote_addr(stream)
        self.scheme = "wss" if is_ssl(stream) else "ws"

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._send_message = None  # it holds the pump, which holds this object
        self.connections.discard(self)
        if not self._accepted:
            self._asgi_event({"type": "websocket.disconnect", "code": 1006})

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: close an open connection with 1012
        (Service Restart), answer one still opening with 500."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._close_timer is not None:  # our Close is out: no second one
            self._close_timer.cancel()
            self._close_timer = None
        if self._accepted and not self._close_sent:
            self._close_sent = True
            self._asgi_event({"type": "websocket.disconnect", "code": 1012})
            conn = self._conn
            if conn is not None and conn.state is State.OPEN:
                self._write(conn.close(1012, ""))
        elif not self._answered:
            self._send_500()
        if self._pump is not None:
            self._pump.flush()
        transport.close()

    # --- the opening handshake ---------------------------------------------

    def _handshake_data(self, data: bytes) -> None:
        hs = self._handshake
        first = self.request is None
        try:
            request = hs.receive_data(data)
        except HandshakeError as exc:
            if not self._answered:
                self._answered = True
                self.logger.info('%s - "WebSocket" %d', self._client_text(), exc.status)
                self.transport.write(hs.reject(exc))  # type: ignore[union-attr]
                self.transport.close()  # type: ignore[union-attr]
            return
        if request is None:
            return
        if not first:
            # Frames sent before the app accepted wait in hs.leftover.
            if len(hs.leftover) > EARLY_DATA_MAX:
                self.transport.pause_reading()  # type: ignore[union-attr]
            return
        self.request = request
        target = request.path
        raw_path, _, query = target.partition("?")
        root = self.config.root_path
        self.scope = {
            "type": "websocket",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": self.scheme,
            "server": self.server,
            "client": self.client,
            "root_path": root,
            "path": root + unquote(raw_path),
            "raw_path": (root + raw_path).encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "headers": [(name.lower().encode("latin-1"), value.encode("latin-1"))
                        for name, value in request.headers],
            "subprotocols": list(request.subprotocols),
            "state": self.app_state.copy(),
            "extensions": {"websocket.http.response": {}},
        }
        self._asgi_event({"type": "websocket.connect"})
        task = self._loop.create_task(self._run_asgi())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _client_text(self) -> str:
        return "%s:%d" % self.client if self.client else ""

    async def _run_asgi(self) -> None:
        try:
            result = await self.app(self.scope, self._asgi_receive, self._asgi_send)
        except ClientDisconnected:
            result = None
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            if self._accepted:
                self._close_after_app(1011, "internal error")
            else:
                self._send_500()
            self._close_unless_closing()
            return
        if not self._answered:
            self.logger.error("ASGI callable returned without completing handshake.")
            self._send_500()
        elif result is not None:
            self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        self._close_unless_closing()

    def _close_unless_closing(self) -> None:
        """The app is done: close the TCP connection, as uvicorn's protocols
        do, unless a closing handshake is under way (then it ends it)."""
        self._finish_denial()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        conn = self._conn
        if self._accepted and conn is not None and conn.state is State.CLOSING:
            return  # the peer's Close, or close_timeout, ends it
        if self._pump is not None:
            self._pump.flush()
        transport.close()

    def _close_after_app(self, code: int, reason: str) -> None:
        """The app ended: close with ``code`` unless it closed already; the
        TCP connection goes at the peer's Close or after CLOSE_TIMEOUT."""
        if not self._close_sent:
            self._close_then_wait(code, reason)

    def _respond(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """An HTTP response instead of the 101; then the connection closes."""
        self._answered = True
        self._close_sent = True
        names = {name.lower() for name, _ in headers}
        extra = [(name, value) for name, value in _text_headers(self.default_headers)
                 if name.lower() not in names]
        names |= {name.lower() for name, _ in extra}
        extra += [(name, value) for name, value in (
            ("Date", email.utils.formatdate(usegmt=True)), ("Connection", "close"),
            ("Content-Length", str(len(body))), ("Content-Type", "text/plain; charset=utf-8"))
            if name.lower() not in names]
        transport = self.transport
        assert transport is not None
        transport.write(format_response(status, headers + extra, body))
        transport.close()

    def _finish_denial(self) -> None:
        """The denial response the app started, with the body it sent (all
        of it, or what came before it failed or returned)."""
        denial, self._denial = self._denial, None
        if denial is not None and self.transport is not None and not self.transport.is_closing():
            self._asgi_event({"type": "websocket.disconnect", "code": 1006})
            status, headers, body = denial
            self._respond(status, headers, b"".join(body))

    def _send_500(self) -> None:
        if not self._answered and self.transport is not None and not self.transport.is_closing():
            self.logger.info('%s - "WebSocket %s" 500', self._client_text(),
                             get_path_with_query_string(self.scope) if self.scope else "")
            self._respond(500, [], b"Internal Server Error")

    # --- ASGI ------------------------------------------------------------------

    def _asgi_event(self, message: Message) -> None:
        self._events.append(message)
        waiter = self._event_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _asgi_receive(self) -> Message:
        events = self._events
        if events:
            return events.popleft()
        if self._accepted and not self._close_sent:
            # recv() inlined, as __anext__: a coroutine less per message.
            messages = self._messages
            if not messages:
                try:
                    while not messages:
                        await self._message_waiter()
                except ConnectionClosed as exc:
                    self._close_sent = True
                    if events:  # a shutdown or the app's close came first: its code
                        return events.popleft()
                    return {"type": "websocket.disconnect", "code": exc.code,
                            "reason": exc.reason}
            message = messages.popleft()
            if messages or self._inbox.paused:
                self._taken(messages)
            if type(message) is str:
                return {"type": "websocket.receive", "text": message}
            return {"type": "websocket.receive", "bytes": message}
        while not events:
            # Before the app accepts (or after it closed): the next event is a
            # disconnect, whenever it comes.
            self._event_waiter = self._loop.create_future()
            await self._event_waiter
        return events.popleft()

    async def _asgi_send(self, message: Message) -> None:
        kind = message["type"]
        send = self._send_message  # not None: accepted and not lost
        if (kind == "websocket.send" and send is not None and not self._close_sent
                and not self._writing_paused):
            # The common case first: a message on an open connection.
            data = message.get("bytes")
            if data is None:
                data = message.get("text")
            if data is not None:
                try:
                    send(data)
                except ConnectionClosed:
                    raise ClientDisconnected() from None
                return
        conn = self._conn
        if self._lost or (conn is not None and conn.state is State.CLOSED):
            raise ClientDisconnected()
        if self._denial is not None:
            if kind != "websocket.http.response.body":
                raise RuntimeError("Expected ASGI message 'websocket.http.response.body' "
                                   f"but got '{kind}'.")
            self._denial[2].append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self._finish_denial()
            return
        if not self._answered:
            if kind == "websocket.accept":
                self._accept(message)
            elif kind == "websocket.close":
                self.logger.info('%s - "WebSocket %s" 403', get_client_addr(self.scope),
                                 get_path_with_query_string(self.scope))
                self._asgi_event({"type": "websocket.disconnect", "code": 1006})
                self._respond(403, [], b"")
            elif kind == "websocket.http.response.start":
                status = message["status"]
                if not 100 <= status < 600:
                    raise RuntimeError("Invalid HTTP status code '%d' in response." % status)
                self.logger.info('%s - "WebSocket %s" %d', get_client_addr(self.scope),
                                 get_path_with_query_string(self.scope), status)
                self._denial = (status, _text_headers(message.get("headers", [])), [])
                self._answered = True
            else:
                raise RuntimeError("Expected ASGI message 'websocket.accept', 'websocket.close' "
                                   f"or 'websocket.http.response.start' but got '{kind}'.")
            return
        if self._close_sent or not self._accepted:
            raise RuntimeError(f"Unexpected ASGI message '{kind}', after sending "
                               "'websocket.close' or response already completed.")
        if kind == "websocket.send":
            data = message.get("bytes")
            if data is None:
                data = message.get("text")
                if data is None:
                    raise RuntimeError("websocket.send needs 'bytes' or 'text'")
            try:
                if self._writing_paused:  # wait before writing: memory stays bounded
                    await self.drain()
                self.send_nowait(data)
            except ConnectionClosed:
                raise ClientDisconnected() from None
        elif kind == "websocket.close":
            code = message.get("code") or 1000
            reason = message.get("reason") or ""
            self._asgi_event({"type": "websocket.disconnect", "code": code, "reason": reason})
            self._close_then_wait(code, reason)
        else:
            raise RuntimeError("Expected ASGI message 'websocket.send' or 'websocket.close', "
                               f"but got '{kind}'.")

    def _accept(self, message: Message) -> None:
        transport = self.transport
        assert transport is not None and self.request is not None
        self._answered = True
        if transport.is_closing():
            return
        self.logger.info('%s - "WebSocket %s" [accepted]', get_client_addr(self.scope),
                         get_path_with_query_string(self.scope))
        hs = self._handshake
        request = self.request
        subprotocol = message.get("subprotocol")
        request.subprotocol = subprotocol
        extra = _text_headers(self.default_headers) + _text_headers(message.get("headers", []))
        transport.write(hs.accept(request, extra))
        self.response = hs.response
        self.subprotocol = subprotocol
        self._accepted = True
        conn = Connection("server", max_message_size=self.max_message_size,
                          compression=hs.compression, reply_before_failing=True)
        leftover, hs.leftover = hs.leftover, b""
        transport.resume_reading()
        self._opened_with(conn, leftover)
        if not self._lost:
            self._send_message = self.send_nowait
