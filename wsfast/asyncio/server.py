"""``serve()``: an asyncio WebSocket server running one handler per connection."""
from __future__ import annotations

import asyncio
import logging
import ssl as ssl_module
from typing import Any, Awaitable, Callable, Generator, Iterable, Sequence

from wsfast.asyncio.connection import WebSocket, compression_option
from wsfast.connection import Connection
from wsfast.deflate import PerMessageDeflate
from wsfast.errors import ConnectionClosed, HandshakeError
from wsfast.handshake import OriginPolicy, ServerHandshake

__all__ = ["Server", "serve"]

logger = logging.getLogger("wsfast")

Handler = Callable[[WebSocket], Awaitable[Any]]

#: Seconds a rejected connection may keep sending (discarded) before it is
#: closed; see ServerWebSocket._linger_then_close.
REJECT_LINGER = 1.0


class ServerWebSocket(WebSocket):
    """Server side: answers the opening handshake, then runs the handler."""

    def __init__(self, server: Server, **options: Any) -> None:
        super().__init__("server", **options)
        self._server = server
        self._rejected = False  # an HTTP error was answered; lingering
        self._handshake = ServerHandshake(
            subprotocols=server.subprotocols, origins=server.origins,
            compression=server.compression, path=server.path)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._server._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._server._connections.discard(self)

    def _linger_then_close(self) -> None:
        """Close after an HTTP error response without losing it.

        Closing a socket with request bytes still unread makes the kernel
        answer with a reset, which can destroy the response before the
        client reads it (a client sending an oversized header would see a
        reset, not 431). So: end our side, discard whatever still arrives
        (the handshake error is sticky, nothing is buffered) and close at the
        client's EOF or after REJECT_LINGER seconds, whichever comes first.
        """
        transport = self.transport
        assert transport is not None
        if not transport.can_write_eof():  # TLS: no half-close
            transport.close()
            return
        transport.write_eof()
        self._call_later(REJECT_LINGER, transport.close)

    def _handshake_data(self, data: bytes) -> None:
        hs = self._handshake
        try:
            request = hs.receive_data(data)
        except HandshakeError as exc:
            if self._rejected:
                return  # lingering after the error response: discard
            logger.info("%s: rejected handshake: %s", self.remote_address, exc)
            self._rejected = True
            self.transport.write(hs.reject(exc))  # type: ignore[union-attr]
            self._linger_then_close()
            return
        if request is None:
            return  # incomplete: wait for more (open_timeout bounds the wait)
        self.request = request
        self._write(hs.accept(request))
        self.response = hs.response
        self.subprotocol = hs.subprotocol
        conn = Connection("server", max_message_size=self.max_message_size,
                          compression=hs.compression, reply_before_failing=True)
        self._opened_with(conn, hs.leftover)
        self._server._track(self._run_handler())

    async def _run_handler(self) -> None:
        try:
            await self._server.handler(self)
        except ConnectionClosed:
            pass  # the peer went away: nothing left to do
        except Exception:
            logger.exception("%s: connection handler failed", self.remote_address)
            await self.close(1011, "internal error")
            return
        await self.close()


class Server:
    """A listening WebSocket server.

    Use as ``async with serve(...) as server:`` or ``server = await serve(...)``;
    ``close()`` stops listening and closes every connection with 1001.
    ``write_timeout``: drop a connection whose peer has not read for this
    many seconds while a send waits (None: the send waits; the keepalive
    ping, when on, still ends the connection).
    """

    def __init__(self, handler: Handler, host: str | Sequence[str] | None, port: int | None, *,
                 path: str | None = None, subprotocols: Sequence[str] | None = None,
                 origins: OriginPolicy = None,
                 max_message_size: int | None = 1024 * 1024, max_queue: int = 16,
                 ping_interval: float | None = 20, ping_timeout: float | None = 20,
                 close_timeout: float = 10, open_timeout: float | None = 10,
                 write_timeout: float | None = None,
                 compression: str | PerMessageDeflate | None = "deflate", ssl: ssl_module.SSLContext | None = None,
                 reuse_port: bool = False, backlog: int = 512) -> None:
        self.handler = handler
        self.host, self.port = host, port
        self.path = path
        self.subprotocols = subprotocols
        self.origins = origins
        self.compression = compression_option(compression)
        self.ssl = ssl
        self.reuse_port = reuse_port
        self.backlog = backlog
        self._options = dict(max_message_size=max_message_size, max_queue=max_queue,
                             ping_interval=ping_interval, ping_timeout=ping_timeout,
                             close_timeout=close_timeout, open_timeout=open_timeout,
                             write_timeout=write_timeout)
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[ServerWebSocket] = set()
        self._handler_tasks: set[asyncio.Future[None]] = set()

    async def start(self) -> Server:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: ServerWebSocket(self, **self._options), self.host, self.port or 0,
            ssl=self.ssl, reuse_port=self.reuse_port or None, backlog=self.backlog)
        return self

    def __await__(self) -> Generator[Any, None, Server]:
        return self.start().__await__()

    async def __aenter__(self) -> Server:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()

    @property
    def sockets(self) -> tuple[Any, ...]:
        return tuple(self._server.sockets) if self._server else ()

    @property
    def connections(self) -> set[WebSocket]:
        """The open connections (for ``broadcast``)."""
        return set(self._connections)

    def close(self) -> None:
        """Stop accepting connections and close the open ones with 1001."""
        if self._server is not None:
            self._server.close()
        for ws in list(self._connections):
            self._track(ws.close(1001, "server shutting down"))

    def _track(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._handler_tasks.add(task)
        task.add_done_callback(self._handler_tasks.discard)

    async def wait_closed(self) -> None:
        """Wait until the listener and every connection and handler are done."""
        if self._server is not None:
            await self._server.wait_closed()
        while self._handler_tasks:
            tasks = list(self._handler_tasks)
            await asyncio.gather(*tasks, return_exceptions=True)
            # Since 3.12 gather() of finished tasks completes without yielding,
            # before their done callbacks run: drop them here, not only there.
            self._handler_tasks.difference_update(tasks)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()


def serve(handler: Handler, host: str | Sequence[str] | None = None, port: int | None = None,
          **options: Any) -> Server:
    """Create a WebSocket server that runs ``await handler(websocket)`` for
    every connection and closes it (1000) when the handler returns, 1011 when
    it raises. Options: see ``Server``."""
    return Server(handler, host, port, **options)
