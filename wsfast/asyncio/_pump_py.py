"""Pure-Python twin of wsfast/asyncio/_pump.pyx: the same MessagePump, the
same bytes on the wire and the same deliveries."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

from wsfast.errors import ProtocolError

__all__ = ["BufferedMessagePump", "CORK_LIMIT", "MessagePump"]

# Bytes held back while corked before they are written anyway (see the C one).
CORK_LIMIT = 64 * 1024
# The transport reads into one buffer per thread (see the C one).
READ_SIZE = 256 * 1024
_read_buffers = threading.local()


def _thread_read_buffer() -> memoryview:
    view: memoryview | None = getattr(_read_buffers, "view", None)
    if view is None:
        view = _read_buffers.view = memoryview(bytearray(READ_SIZE))
    return view


class MessagePump:
    """An open WebSocket's transport protocol (see wsfast/seam.py); as
    BufferedMessagePump, an asyncio.BufferedProtocol too.

    A read of whole messages only goes from the parser's ``feed_messages``
    to the Inbox; every other read to the I/O layer's general path. Writes
    are held while corked and joined, as in the C one (which also writes a
    large payload without copying it into its frame).
    """

    def __init__(self, conn: Any, inbox: Any, transport: Any, loop: Any, *,
                 receive: Callable[[bytes], None],
                 received: Callable[[list[Any], ProtocolError | None], None],
                 send: Callable[[Any], None], eof_received: Callable[[], Any],
                 connection_lost: Callable[[Exception | None], None],
                 pause_writing: Callable[[], None], resume_writing: Callable[[], None]) -> None:
        self._conn = conn
        self._feed_messages = conn.parser.feed_messages
        self._inbox = inbox
        self._mask = conn.role == "client"
        self._transport_write = transport.write
        self._loop = loop
        self._receive_general = receive
        self._received = received
        self._send = send
        self._eof_received = eof_received
        self._connection_lost = connection_lost
        self._pause_writing = pause_writing
        self._resume_writing = resume_writing
        self._items: list[Any] = []
        self._busy = False
        self._out: list[bytes] = []
        self._out_bytes = 0
        self._corked = self._flush_scheduled = self._lost = False
        self._read_view = _thread_read_buffer()

    def get_buffer(self, sizehint: int) -> memoryview:
        """Where the transport reads to (asyncio.BufferedProtocol)."""
        return self._read_view

    def buffer_updated(self, nbytes: int) -> None:
        """The transport read nbytes into get_buffer()'s buffer."""
        self.data_received(self._read_view[:nbytes])

    def data_received(self, data: bytes | bytearray | memoryview) -> None:
        was_corked, self._corked = self._corked, True
        try:
            self._receive(data)
        finally:
            if not was_corked:
                self._corked = False
                self.flush()

    def _receive(self, data: bytes | bytearray | memoryview) -> None:
        feed_messages = self._feed_messages
        if not data or not self._conn.reading:
            # The general path may keep what it is given: bytes of its own.
            self._receive_general(data if type(data) is bytes else bytes(data))
            return
        if self._busy:  # a read nested in a callback of another: a list of its own
            items: list[Any] = []
        else:
            items = self._items
            self._busy = True
        try:
            try:
                count = feed_messages(data, items)
            except ProtocolError as exc:
                self._received(items, exc)
                return
            if count or (items is not self._items and self._conn.has_bytes_to_send):
                self._received(items, None)
            elif items:
                self._inbox.deliver(items)
        finally:
            del items[:]
            if items is self._items:
                self._busy = False

    def send_nowait(self, message: Any) -> None:
        """WebSocket.send_nowait: one message, text for a str."""
        conn = self._conn
        if not conn.writing or self._lost:
            self._send(message)
            return
        self.write(conn.send(message))

    def write(self, data: bytes) -> None:
        """Write bytes to the transport after everything written before."""
        if not self._corked:
            self._transport_write(data)
            return
        n = len(data)
        if n >= CORK_LIMIT:  # what is held, then it as it is (a join would copy it)
            self.flush()
            if not self._lost:
                self._transport_write(data)
            return
        self._out.append(data)
        self._out_bytes += n
        if self._out_bytes >= CORK_LIMIT:
            self.flush()

    def cork(self) -> None:
        """Hold writes until the event loop's next turn."""
        if not self._corked:
            self._corked = True
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self._loop.call_soon(self.uncork)

    def uncork(self) -> None:
        self._flush_scheduled = self._corked = False
        self.flush()

    def flush(self) -> None:
        """Write what is held now, as one write."""
        out = self._out
        if not out:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        self._out = []
        self._out_bytes = 0
        if not self._lost:
            self._transport_write(data)

    def pause_writing(self) -> None:
        self._pause_writing()

    def resume_writing(self) -> None:
        self._resume_writing()

    def eof_received(self) -> Any:
        result = self._eof_received()
        self.flush()  # the transport closes itself after this
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._connection_lost(exc)


class BufferedMessagePump(MessagePump, asyncio.BufferedProtocol):
    """The MessagePump as a BufferedProtocol (see the C one)."""
