"""The asyncio WebSocket: an ``asyncio.Protocol`` driving the sans-IO Connection.

Bytes from the transport go through the opening handshake; then the
transport's protocol becomes a MessagePump (wsfast/asyncio/_pump.pyx), which
takes reads of whole messages itself and hands the rest to ``_receive`` /
``_received`` here, over the Connection (the seam: wsfast/seam.py). Messages
go through the Inbox to ``on_message`` or a bounded queue (reading pauses
when it is full). Every write goes through the pump too, which joins the
writes made while handling one read (or a burst of queued messages) into
one. Writes wait while the transport is above its high-water mark, so
memory stays bounded under a fast writer and under a slow reader; a write
that waits longer than ``write_timeout`` drops the connection, and while the
peer does not read, pongs are not piled up: only those answering the latest
pings are kept (RFC 6455 section 5.5.3 allows that).
"""
from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Union

from wsfast._impl import Inbox, twin
from wsfast.connection import Connection, State
from wsfast.deflate import PerMessageDeflate
from wsfast.errors import ConnectionClosed, ProtocolError
from wsfast.events import CloseReceived, Pong

__all__ = ["WebSocket", "Data", "compression_option"]

logger = logging.getLogger("wsfast")

Data = Union[str, bytes]

OPEN, CLOSED = State.OPEN, State.CLOSED

if TYPE_CHECKING:
    # The stub; the twin follows it.
    from wsfast.asyncio._pump import BufferedMessagePump, MessagePump
else:
    _pump = twin("wsfast.asyncio._pump", "wsfast.asyncio._pump_py")
    MessagePump, BufferedMessagePump = _pump.MessagePump, _pump.BufferedMessagePump

#: Close codes after which ``async for message in ws`` ends quietly.
NORMAL_CLOSURES = (1000, 1001)


def compression_option(value: str | PerMessageDeflate | None) -> PerMessageDeflate | None:
    """``compression=``: "deflate" for permessage-deflate with defaults, a
    configured PerMessageDeflate, or None for no compression."""
    if value is None or isinstance(value, PerMessageDeflate):
        return value
    if value == "deflate":
        return PerMessageDeflate()
    raise ValueError(f'compression must be "deflate", a PerMessageDeflate or None, not {value!r}')


class WebSocket(asyncio.Protocol):
    """One WebSocket connection, client or server side.

    ``recv()`` / ``async for`` read messages (str for text, bytes for
    binary), ``send()`` writes one, ``ping()`` measures a round trip,
    ``close()`` runs the closing handshake. ``request`` and ``response`` are
    the opening handshake's HTTP messages.
    """

    def __init__(self, role: str, *, max_message_size: int | None, max_queue: int,
                 ping_interval: float | None, ping_timeout: float | None,
                 close_timeout: float, open_timeout: float | None,
                 write_timeout: float | None = None) -> None:
        self.role = role
        self.max_message_size = max_message_size
        self.max_queue = max_queue
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        self.open_timeout = open_timeout
        self.write_timeout = write_timeout
        self.request: Any = None
        self.response: Any = None
        self.subprotocol: str | None = None
        self.close_code: int | None = None
        self.close_reason: str = ""
        self.remote_address: Any = None
        self.transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._conn: Connection | None = None
        self._pump: Any = None  # the MessagePump, once open: every write goes through it
        self._inbox = Inbox(max_queue, self._pause_reading, self._resume_reading,
                            self._on_message_failed)
        self._messages: collections.deque[Data] = self._inbox.queue  # recv() pops from it
        self._writing_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        # Pongs owed while the transport is above its high-water mark.
        self._held_pongs = b""
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._opened: asyncio.Future[None] = self._loop.create_future()
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self._timers: list[asyncio.TimerHandle] = []
        self._keepalive: asyncio.Task[None] | None = None
        self._lost = False

    # --- public API ---------------------------------------------------------

    @property
    def state(self) -> State:
        if self._conn is None:
            return State.CLOSED if self._closed.done() else State.CONNECTING
        return State.CLOSED if self._closed.done() else self._conn.state

    @property
    def on_message(self) -> Callable[[Data], None] | None:
        """A callback for each message, instead of ``recv()``.

        Set it (typically at the start of a handler) to have every message
        delivered by ``on_message(message)`` as soon as it is parsed, with no
        task switch per message: the fastest way to consume a stream. Messages
        already queued are delivered first. It must not block; reply with
        ``send_nowait``. An exception in it closes the connection with 1011.
        """
        return self._inbox.callback

    @on_message.setter
    def on_message(self, callback: Callable[[Data], None] | None) -> None:
        self._inbox.set_callback(callback)

    @property
    def local_address(self) -> Any:
        return self.transport.get_extra_info("sockname") if self.transport else None

    async def recv(self) -> Data:
        """The next message: str for text, bytes for binary.

        Raises ConnectionClosed once the connection is closed and every
        message received before is consumed.
        """
        messages = self._messages
        while not messages:
            await self._message_waiter()
        message = messages.popleft()
        if messages or self._inbox.paused:
            self._taken(messages)
        return message

    def __aiter__(self) -> AsyncIterator[Data]:
        if type(self).recv is not WebSocket.recv:
            return self._recv_each()  # a subclass's recv() is honoured
        return self

    async def _recv_each(self) -> AsyncIterator[Data]:
        """``async for`` over an overridden ``recv()``, ending as ``__anext__``."""
        while True:
            try:
                message = await self.recv()
            except ConnectionClosed as exc:
                if exc.code in NORMAL_CLOSURES:
                    return
                raise
            yield message

    async def __anext__(self) -> Data:
        """``async for message in ws``: ends quietly on a normal close
        (1000, 1001), raises ConnectionClosed on any other."""
        # recv() inlined: a coroutine less per message (6% of the loop's cost).
        messages = self._messages
        try:
            while not messages:
                await self._message_waiter()
        except ConnectionClosed as exc:
            if exc.code in NORMAL_CLOSURES:
                raise StopAsyncIteration from None
            raise
        message = messages.popleft()
        if messages or self._inbox.paused:
            self._taken(messages)
        return message

    def _taken(self, messages: collections.deque[Data]) -> None:
        """After recv() took a message and more are queued, or reading is paused."""
        if messages and self._pump is not None:
            # The caller will likely answer each in turn before it waits
            # again: its writes go out together.
            self._pump.cork()
        if self._inbox.paused:  # a call less per message when not
            self._inbox.consumed()

    def _message_waiter(self) -> asyncio.Future[None]:
        """A future done when a message is queued or the connection ends;
        ConnectionClosed at once if it has ended."""
        conn = self._conn
        if self._lost or (conn is not None and conn.state is not OPEN):  # one test while open
            if self._lost or conn.state is CLOSED:  # type: ignore[union-attr]
                raise self._closed_error()
            if conn.failure_pending:  # type: ignore[union-attr]
                self._finish_failing()  # the reader has answered all that came before
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._inbox.wait(waiter)  # RuntimeError if another task waits already
        return waiter

    def _pause_reading(self) -> None:
        self.transport.pause_reading()  # type: ignore[union-attr]

    def _resume_reading(self) -> None:
        self.transport.resume_reading()  # type: ignore[union-attr]

    async def send(self, message: Data | bytearray | memoryview) -> None:
        """Send one message: text for str, binary for any bytes-like object.

        Waits while the transport's write buffer is above its high-water mark.
        """
        self.send_nowait(message)
        if self._writing_paused:
            await self.drain()

    def send_nowait(self, message: Data | bytearray | memoryview) -> None:
        """Send one message without waiting for buffer space (for callbacks
        such as ``on_message``); pair it with ``await drain()`` to stay bounded."""
        conn = self._conn
        if conn is None or self._lost:
            raise self._closed_error()
        # The Connection raises ConnectionClosed once a Close is sent or received.
        self._write(conn.send(message))

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its low-water mark
        (at most ``write_timeout`` seconds, then the connection is dropped)."""
        if not self._writing_paused or self._lost:
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._drain_waiters.append(waiter)
        if self.write_timeout is None:
            await waiter
            return
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.write_timeout)
        except asyncio.TimeoutError:
            # The peer has not read for write_timeout seconds: a Close frame
            # would sit behind the unread data, so drop the connection.
            logger.info("%s: write blocked for %ss, dropping", self.remote_address,
                        self.write_timeout)
            if self.transport is not None:
                self.transport.abort()
            await waiter  # connection_lost fails it with ConnectionClosed

    async def ping(self, data: bytes | None = None) -> Awaitable[float]:
        """Send a ping; return an awaitable that gives the round-trip time in
        seconds when the matching pong arrives."""
        conn = self._open_conn()
        if data is None:
            data = os.urandom(4)
            while data in self._pings:
                data = os.urandom(4)
        elif data in self._pings:
            raise ValueError("a ping with this payload is already in flight")
        waiter: asyncio.Future[float] = self._loop.create_future()
        self._pings[bytes(data)] = (waiter, time.monotonic())
        self._write(conn.ping(data))
        return waiter

    async def pong(self, data: bytes = b"") -> None:
        """Send an unsolicited pong (a one-way heartbeat, RFC 6455 section 5.5.3)."""
        self._write(self._open_conn().pong(data))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Run the closing handshake and wait until the connection is closed
        (at most ``close_timeout`` seconds, then the TCP connection is dropped)."""
        conn = self._conn
        if conn is not None and conn.failure_pending:
            self._finish_failing()  # a violation's Close instead of ours
        elif conn is not None and conn.state is State.OPEN and not self._closed.done():
            self._write(conn.close(code, reason))
        elif self._conn is None and self.transport is not None:
            self.transport.close()
        await self._wait_closed_or_abort()

    async def wait_closed(self) -> None:
        """Wait until the TCP connection is closed."""
        await asyncio.shield(self._closed)

    # --- helpers ------------------------------------------------------------

    def _open_conn(self) -> Connection:
        conn = self._conn
        if conn is None or conn.state is not State.OPEN or self._lost:
            raise self._closed_error()
        return conn

    def _closed_error(self) -> ConnectionClosed:
        if self.close_code is None and self._conn is not None and self._conn.close_code is not None:
            return ConnectionClosed(self._conn.close_code, self._conn.close_reason or "")
        return ConnectionClosed(self.close_code if self.close_code is not None else 1006,
                                self.close_reason)

    def _write(self, data: bytes) -> None:
        """Write to the peer, after everything written before (through the
        MessagePump once open, which may hold it to join it with others)."""
        if data and not self._lost and self.transport is not None:
            if self._pump is None:
                self.transport.write(data)
            else:
                self._pump.write(data)

    async def _wait_closed_or_abort(self) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(self._closed), self.close_timeout)
        except asyncio.TimeoutError:
            if self.transport is not None:
                self.transport.abort()
            await asyncio.shield(self._closed)

    def _call_later(self, delay: float, callback: Callable[[], None]) -> None:
        self._timers.append(self._loop.call_later(delay, callback))

    def _fail(self, code: int, reason: str) -> None:
        """Close because of an error on our side of the protocol (1011, ...)."""
        conn = self._conn
        if conn is not None and conn.state is State.OPEN:
            self._write(conn.close(code, reason))
        if self.transport is not None:
            self._call_later(self.close_timeout, self.transport.abort)

    # --- the opening handshake: role-specific subclasses --------------------

    def _handshake_data(self, data: bytes) -> None:
        raise NotImplementedError

    def _opened_with(self, conn: Connection, leftover: bytes) -> None:
        """The handshake succeeded: from here on bytes are WebSocket frames."""
        self._conn = conn
        # From here the transport talks to a MessagePump, which takes reads
        # of whole messages (and sends) without a Python frame when the C
        # extension is built, and hands everything else back to this object.
        # asyncio's own transports allocate a buffer for every read (in a
        # fresh process glibc maps and unmaps each one); given a
        # BufferedProtocol they read into the pump's. uvloop reads into a
        # buffer of its own: there get_buffer() would only add calls.
        buffered = type(self.transport).__module__.startswith("asyncio.")
        pump = self._pump = (BufferedMessagePump if buffered else MessagePump)(
            conn, self._inbox, self.transport, self._loop,
            receive=self._receive, received=self._received, send=self.send_nowait,
            eof_received=self.eof_received, connection_lost=self.connection_lost,
            pause_writing=self.pause_writing, resume_writing=self.resume_writing)
        set_protocol = getattr(self.transport, "set_protocol", None)
        if set_protocol is not None:  # else reads keep coming to data_received
            set_protocol(pump)
        if type(self).send_nowait is WebSocket.send_nowait and "send_nowait" not in vars(self):
            self.send_nowait = pump.send_nowait  # type: ignore[method-assign]  # not overridden
        if not self._opened.done():
            self._opened.set_result(None)
        if self.ping_interval:
            self._keepalive = self._loop.create_task(self._keepalive_loop())
        if leftover:
            pump.data_received(leftover)  # frames that came with the handshake

    async def _keepalive_loop(self) -> None:
        assert self.ping_interval
        try:
            while True:
                await asyncio.sleep(self.ping_interval)
                waiter = await self.ping()
                if self.ping_timeout:
                    try:
                        await asyncio.wait_for(asyncio.shield(waiter), self.ping_timeout)
                    except asyncio.TimeoutError:
                        logger.info("%s: no pong in %ss, closing", self.remote_address,
                                    self.ping_timeout)
                        self._fail(1011, "keepalive ping timeout")
                        return
        except ConnectionClosed:
            return

    # --- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.remote_address = transport.get_extra_info("peername")
        if self.open_timeout:
            self._call_later(self.open_timeout, self._open_timed_out)

    def _open_timed_out(self) -> None:
        if self._conn is None and self.transport is not None:
            logger.info("%s: opening handshake not complete in %ss, dropping",
                        self.remote_address, self.open_timeout)
            if not self._opened.done():
                self._opened.set_exception(asyncio.TimeoutError("opening handshake timed out"))
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._conn is None:
            self._handshake_data(data)
        else:
            self._receive(data)

    def _receive(self, data: bytes) -> None:
        """Any read after the handshake, the general way (the MessagePump
        takes the common case, a read of whole messages, without it)."""
        conn = self._conn
        assert conn is not None
        error: ProtocolError | None = None
        try:
            conn.receive_data(data)
        except ProtocolError as exc:
            error = exc
        self._dispatch(conn, error)

    def _received(self, items: list[Any], error: ProtocolError | None) -> None:
        """What the MessagePump parsed from a read that was not only whole
        messages: the Connection resolves it, then it is dispatched."""
        conn = self._conn
        assert conn is not None
        try:
            conn.receive_parsed(items, error)
        except ProtocolError as exc:
            error = exc
        else:
            error = None
        self._dispatch(conn, error)

    def _dispatch(self, conn: Connection, error: ProtocolError | None) -> None:
        """Hand out what the Connection received, write what it owes, and
        act on a violation or the end of the closing handshake."""
        # Whole messages come bare (str, bytes), other events as Event
        # objects; the Inbox delivers the first and hands us the others.
        self._inbox.deliver(conn.messages_and_events(), self._event)
        if conn.has_bytes_to_send:
            out = conn.bytes_to_send()
            if self._writing_paused and conn.state is OPEN:
                # While OPEN only pongs are owed (a Close changes the state).
                # The peer is not reading: keep the pongs for this read's
                # pings, the latest, instead of one more per ping forever.
                self._held_pongs = out
            else:
                self._write(self._held_pongs + out)
                self._held_pongs = b""
        if error is not None:
            logger.info("%s: %s", self.remote_address, error)
            self.close_code, self.close_reason = 1006, str(error.reason)
            if not conn.failure_pending:
                self._end_after_failure()
            elif not self._messages:  # on_message has answered them already
                self._finish_failing()
            else:
                # The reader answers what came before the violation first:
                # its Close goes once it waits for more (_message_waiter),
                # or close_timeout from now at the latest.
                self._call_later(self.close_timeout, self._finish_failing)
        if conn.state is CLOSED:
            self._peer_closed()

    def _finish_failing(self) -> None:
        """The Close held back after a violation (reply_before_failing), now."""
        conn = self._conn
        if conn is not None and conn.failure_pending and not self._lost:
            self._write(conn.finish_failing())
            self._end_after_failure()

    def _end_after_failure(self) -> None:
        """RFC 6455 section 7.1.7: after failing, a server closes the TCP
        connection once its Close is out, processing nothing more (the peer's
        Close reply included). A half close (FIN after our Close) lets a peer
        that is still sending read the Close before it sees the end, where a
        full close with unread input would reset the connection and could
        destroy the Close; the transport closes on the peer's EOF, or is
        dropped at close_timeout. A client waits for the server's end, as
        long."""
        transport = self.transport
        assert transport is not None
        self._call_later(self.close_timeout, transport.abort)
        if self.role != "server":
            return
        if self._pump is not None:
            self._pump.flush()
        if transport.can_write_eof():
            transport.write_eof()
        else:  # TLS: close_notify after what is buffered
            transport.close()

    def _event(self, event: Any) -> None:
        """An event other than a whole message."""
        kind = type(event)
        if kind is Pong:
            self._pong_received(event.payload)
        elif kind is CloseReceived:
            self.close_code, self.close_reason = event.code, event.reason

    def _on_message_failed(self) -> None:
        """on_message raised (called inside the except clause): log, close with 1011."""
        logger.exception("%s: on_message failed", self.remote_address)
        self._fail(1011, "internal error")

    def _peer_closed(self) -> None:
        # RFC 6455 section 7.1.1: the server closes the TCP connection first;
        # the client waits for it, then gives up after close_timeout.
        self._inbox.close()  # nothing more will arrive: wake a waiting reader now
        if self._pump is not None:
            self._pump.flush()  # a held reply must not be cut off by the close
        if self.role == "server":
            self.transport.close()  # type: ignore[union-attr]
        else:
            self._call_later(self.close_timeout, self.transport.close)  # type: ignore[union-attr]

    def _pong_received(self, payload: bytes) -> None:
        if payload not in self._pings:
            return  # unsolicited pong
        now = time.monotonic()
        # A pong answers its ping and every ping sent before it (section 5.5.3).
        for key in list(self._pings):
            waiter, sent = self._pings.pop(key)
            if not waiter.done():
                waiter.set_result(now - sent)
            if key == payload:
                break

    def eof_received(self) -> bool | None:
        if self._conn is not None:
            try:
                self._conn.receive_data(b"")
            except ProtocolError:
                pass
        return None  # let the transport close itself

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        held, self._held_pongs = self._held_pongs, b""
        if held and self._conn is not None and self._conn.state is OPEN:
            # Not after our Close: it is the last frame we send (section 5.5.1).
            self._write(held)
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        # The pump's send_nowait (see _opened_with) holds the pump, which
        # holds this object: drop it, so no reference cycle outlives the
        # connection (an instance send_nowait of the user's own stays).
        bound = vars(self).get("send_nowait")
        if isinstance(getattr(bound, "__self__", None), MessagePump) or \
                getattr(bound, "__func__", None) is WebSocket.send_nowait:
            del self.send_nowait
        self._pump = None
        for timer in self._timers:
            timer.cancel()
        if self.close_code is None:
            if self._conn is not None and self._conn.close_code is not None:
                self.close_code, self.close_reason = self._conn.close_code, self._conn.close_reason or ""
            else:
                self.close_code = 1006
        if not self._opened.done():
            self._opened.set_exception(
                ConnectionError(f"connection closed during the opening handshake: {exc}"
                                if exc else "connection closed during the opening handshake"))
            self._opened.exception()  # mark retrieved: the opener may be gone
        if self._keepalive is not None:
            self._keepalive.cancel()
        closed = self._closed_error()
        for waiter, _ in self._pings.values():
            if not waiter.done():
                waiter.set_exception(closed)
                waiter.exception()
        self._pings.clear()
        for drainer in self._drain_waiters:
            if not drainer.done():
                drainer.set_exception(closed)
        self._drain_waiters.clear()
        self._inbox.close()
        if not self._closed.done():
            self._closed.set_result(None)
