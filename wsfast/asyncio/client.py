"""``connect()``: open a client WebSocket connection."""
from __future__ import annotations

import asyncio
import ssl as ssl_module
from typing import Any, Generator, Sequence

from wsfast.asyncio.connection import WebSocket, compression_option
from wsfast.connection import Connection
from wsfast.deflate import PerMessageDeflate
from wsfast.errors import HandshakeError
from wsfast.handshake import ClientHandshake, parse_url

__all__ = ["connect"]


class ClientWebSocket(WebSocket):
    """Client side: sends the upgrade request and checks the response."""

    def __init__(self, handshake: ClientHandshake, **options: Any) -> None:
        super().__init__("client", **options)
        self._handshake = handshake

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        transport.write(self._handshake.request_bytes())  # type: ignore[attr-defined]

    def _handshake_data(self, data: bytes) -> None:
        hs = self._handshake
        try:
            response = hs.receive_data(data)
        except HandshakeError as exc:
            if not self._opened.done():
                self._opened.set_exception(exc)
            self.transport.close()  # type: ignore[union-attr]
            return
        if response is None:
            return
        self.response = response
        self.request = hs.request_headers
        self.subprotocol = hs.subprotocol
        conn = Connection("client", max_message_size=self.max_message_size,
                          compression=hs.compression, reply_before_failing=True)
        self._opened_with(conn, hs.leftover)


class connect:
    """Open a WebSocket connection to ``url`` (ws:// or wss://).

    ``async with connect(url) as ws:`` closes it on exit; ``ws = await
    connect(url)`` leaves that to you. Raises HandshakeError when the server
    refuses the upgrade, OSError when it cannot be reached, TimeoutError
    after ``open_timeout``. ``write_timeout``: see ``serve``.
    """

    def __init__(self, url: str, *, origin: str | None = None,
                 subprotocols: Sequence[str] | None = None,
                 extra_headers: Sequence[tuple[str, str]] | None = None,
                 compression: str | PerMessageDeflate | None = "deflate",
                 max_message_size: int | None = 1024 * 1024, max_queue: int = 16,
                 ping_interval: float | None = 20, ping_timeout: float | None = 20,
                 close_timeout: float = 10, open_timeout: float | None = 10,
                 write_timeout: float | None = None,
                 ssl: ssl_module.SSLContext | None = None,
                 server_hostname: str | None = None) -> None:
        self.url = url
        self._target = parse_url(url)
        self._handshake_options = dict(origin=origin, subprotocols=subprotocols,
                                       extra_headers=extra_headers,
                                       compression=compression_option(compression))
        self._options = dict(max_message_size=max_message_size, max_queue=max_queue,
                             ping_interval=ping_interval, ping_timeout=ping_timeout,
                             close_timeout=close_timeout, open_timeout=None,
                             write_timeout=write_timeout)
        self.open_timeout = open_timeout
        self.ssl = ssl
        self.server_hostname = server_hostname
        self._ws: ClientWebSocket | None = None

    async def _open(self) -> ClientWebSocket:
        target = self._target
        ssl_context = self.ssl
        if target.secure and ssl_context is None:
            ssl_context = ssl_module.create_default_context()
        if not target.secure and ssl_context is not None:
            raise ValueError(f"{self.url}: an ssl context needs a wss:// URL")
        loop = asyncio.get_running_loop()
        handshake = ClientHandshake(self.url, **self._handshake_options)  # type: ignore[arg-type]

        async def open_connection() -> ClientWebSocket:
            _, ws = await loop.create_connection(
                lambda: ClientWebSocket(handshake, **self._options),
                target.host, target.port, ssl=ssl_context,
                server_hostname=(self.server_hostname or target.host) if ssl_context else None)
            await ws._opened
            return ws

        task = asyncio.ensure_future(open_connection())
        try:
            return await asyncio.wait_for(task, self.open_timeout)
        except asyncio.TimeoutError:
            raise asyncio.TimeoutError(
                f"{self.url}: opening handshake not complete in {self.open_timeout}s") from None

    def __await__(self) -> Generator[Any, None, WebSocket]:
        return self._open().__await__()

    async def __aenter__(self) -> WebSocket:
        self._ws = await self._open()
        return self._ws

    async def __aexit__(self, *exc: object) -> None:
        assert self._ws is not None
        await self._ws.close()
