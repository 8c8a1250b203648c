"""The per-read loop of wsfast's aiohttp reader in Python: the twin of
wsfast/integrations/_aiohttp_feed.pyx (see there)."""
from __future__ import annotations

import weakref
from collections import deque
from typing import Any, Callable, Optional, Tuple

from wsfast.errors import ProtocolError

NO_ERROR: Tuple[bool, bytes] = (False, b"")
ERROR: Tuple[bool, bytes] = (True, b"")
_TUPLE_NEW = tuple.__new__


def _size(item: Any) -> int:
    """What aiohttp counts against its queue for a message: its bytes."""
    if type(item) is bytes:
        return len(item)
    return len(item) if item.isascii() else len(item.encode())


class ResumeGate:
    """Stands in for a WebSocketDataQueue's protocol. The queue pauses reading
    above its high-water mark and resumes it once drained; the gate first
    hands the queue what the reader kept back (a stall, see ReaderLoop), and
    resumes only once nothing is kept back."""

    __slots__ = ("protocol", "reader")

    def __init__(self, protocol: Any, reader: "weakref.ref[ReaderLoop]") -> None:
        self.protocol = protocol
        self.reader = reader

    @property
    def _reading_paused(self) -> bool:
        # The reader stalls only above the mark, where the queue has paused.
        return self.protocol._reading_paused  # type: ignore[no-any-return]

    def pause_reading(self) -> None:
        self.protocol.pause_reading()

    def resume_reading(self) -> None:
        reader = self.reader()
        if reader is not None and reader._pending:
            reader.feed_data(b"")
            if reader._pending:
                return  # over the mark again: stay paused
        self.protocol.resume_reading()


class ReaderLoop:
    """aiohttp's ``feed_data(data) -> (error, tail)`` on wsfast's parser."""

    def __init__(self, queue: Any, parser: Any, messages: bool, message: Any, text: Any,
                 binary: Any, set_exception: Callable[[Any, BaseException], None]) -> None:
        self.queue = queue
        self._parser_run = parser.feed_messages if messages else None
        self._parser_feed = parser.feed
        self._message, self._text, self._binary = message, text, binary
        self._set_exception = set_exception
        self._pending: deque[Any] = deque()
        self._pending_error: Optional[BaseException] = None
        self._exc: Optional[BaseException] = None
        self.gate = ResumeGate(queue._protocol, weakref.ref(self))
        queue._protocol = self.gate

    def feed_eof(self) -> None:
        """The connection ended: no more messages (but those kept back)."""
        self.queue.feed_eof()

    def feed_data(self, data: Any) -> Tuple[bool, bytes]:
        """Parse data; queue every message it completes. ``(True, ...)`` on error."""
        if self._exc is not None:
            return True, bytes(data)
        try:
            self._feed(data)
        except Exception as exc:
            self._exc = exc
            self._set_exception(self.queue, exc)
            return ERROR
        return NO_ERROR

    def _feed(self, data: Any) -> None:
        queue, pending = self.queue, self._pending
        limit = queue._limit
        items: list[Any] = []
        if data:
            try:
                if self._parser_run is not None:
                    self._parser_run(data, items)
                else:
                    items = self._parser_feed(data)
            except ProtocolError as exc:
                items = items or list(getattr(exc, "frames", ()))
                self._pending_error = self._protocol_error(exc)
            if pending:
                pending.extend(items)
                items = []
        while pending:
            if queue._size > limit:
                return
            self._handle(pending.popleft())
        for index, item in enumerate(items):
            if queue._size > limit:
                pending.extend(items[index:])
                return
            self._handle(item)
        if self._pending_error is not None:
            raise self._pending_error

    def _handle(self, item: Any) -> None:
        kind = type(item)
        if kind is bytes or kind is str:
            payload_type = self._binary if kind is bytes else self._text
            self.queue.feed_data(_TUPLE_NEW(self._message, (payload_type, item, "")),
                                 _size(item))
        else:
            self._handle_frame(item)

    # The subclass's (wsfast.integrations._aiohttp.WebSocketReader).
    def _handle_frame(self, frame: Any) -> None:
        raise NotImplementedError

    def _protocol_error(self, exc: ProtocolError) -> BaseException:
        raise NotImplementedError
