"""The sans-IO WebSocket connection (RFC 6455 sections 5-7): bytes in, events
out; calls in, bytes out. No sockets, no asyncio, no clocks.

Strategy: the FrameParser (C when built) does every per-frame rule and the
unmasking; this layer routes frames to events. The common case, a whole
message in one frame (inflated by the parser when compressed), takes one
branch and one allocation for its event; fragments and control frames take
the slower paths. Text is checked by CPython's UTF-8 decoder for a whole
frame (it decodes and validates in one pass, faster than validating first),
and by the streaming validator frame by frame for fragmented text, so an
invalid byte fails the connection (1007) in the frame that carries it.

Use::

    conn = Connection("server", compression=handshake.compression)
    conn.receive_data(data)            # b"" at EOF; raises on a violation
    for event in conn.events(): ...
    sock.send(conn.bytes_to_send())    # pongs, the close echo, error closes
    sock.send(conn.send_text("hi"))
"""
from __future__ import annotations

import codecs
import enum
from typing import Any

from wsfast._impl import Utf8Validator, decode_utf8
from wsfast.deflate import NegotiatedDeflate
from wsfast.errors import ConnectionClosed, InvalidUTF8, MessageTooBig, ProtocolError
from wsfast.events import (BinaryFragment, BinaryMessage, CloseReceived, Event, Ping, Pong,
                           TextFragment, TextMessage)
from wsfast.frames import FrameParser, Opcode, build_frame, encode_close, parse_close

__all__ = ["Connection", "State"]

_new = tuple.__new__
# Opcodes as plain ints in module globals: one lookup each, and int
# comparisons (an enum member's are slower).
CONTINUATION, TEXT, BINARY = (int(op) for op in (Opcode.CONTINUATION, Opcode.TEXT, Opcode.BINARY))
CLOSE, PING, PONG = (int(op) for op in (Opcode.CLOSE, Opcode.PING, Opcode.PONG))
_utf8_decoder = codecs.getincrementaldecoder("utf-8")


class State(enum.IntEnum):
    """Where the connection is in its life (RFC 6455 section 4 and 7)."""

    CONNECTING = 0  # opening handshake in progress (before a Connection exists)
    OPEN = 1        # messages flow both ways
    CLOSING = 2     # we sent Close (or failed) and wait for the peer's
    CLOSED = 3      # both Close frames exchanged, or the transport ended


OPEN, CLOSING, CLOSED = State.OPEN, State.CLOSING, State.CLOSED


class Connection:
    """One WebSocket connection after its opening handshake, without I/O.

    - ``role``: "client" (masks what it sends) or "server".
    - ``max_message_size``: a message (and, with compression, its compressed
      payload) over this many bytes fails the connection with 1009; None for
      no limit.
    - ``max_frame_size``: a limit per frame; None means ``max_message_size``.
    - ``compression``: the ``NegotiatedDeflate`` from the handshake, or None.
    - ``stream_fragments``: hand out TextFragment/BinaryFragment events as
      frames arrive instead of whole messages.
    - ``reply_before_failing``: after a violation in a read that also held
      messages, hold our Close back (``failure_pending``) and let messages
      still be sent, so that replies to those messages go out before it;
      ``finish_failing()`` then gives the Close and ends sending.

    ``receive_data`` never sends: replies (pongs, the close echo, the Close
    after a violation) queue in ``bytes_to_send()``. The ``send_*`` methods
    return the frame bytes for the caller to write.

    For the I/O layer (RFC 6455 section 7.1.1): after every
    ``receive_data``, write ``bytes_to_send()``. When ``state`` is CLOSED
    (both Close frames exchanged) a server closes the transport at once and
    a client waits a little for the server to close it. After a
    ProtocolError (state CLOSING, our Close queued) close the transport once
    that Close is written; no reply needs to be awaited.
    """

    __slots__ = ("role", "state", "close_code", "close_reason", "max_message_size",
                 "stream_fragments", "reading", "writing", "_client", "_parser", "_feed_messages",
                 "_deflate", "_items",
                 "_out", "_msg_text", "_msg_compressed", "_msg_size",
                 "_parts", "_validator", "_decoder", "_reply_first", "_failure_close")

    def __init__(self, role: str, *, max_message_size: int | None = 1 << 20,
                 max_frame_size: int | None = None,
                 compression: NegotiatedDeflate | None = None,
                 stream_fragments: bool = False, reply_before_failing: bool = False) -> None:
        if role not in ("client", "server"):
            raise ValueError(f'role must be "client" or "server", not {role!r}')
        self.role = role
        self._client = role == "client"
        self.max_message_size = max_message_size
        self.stream_fragments = stream_fragments
        self._reply_first = reply_before_failing
        self._failure_close: bytes | None = None
        self._deflate = compression
        frame_limit = max_message_size if max_frame_size is None else max_frame_size
        # UTF-8: a whole message taken at once is checked by decoding it
        # (see the module comment); the parser checks only text that comes
        # in pieces, so that it fails as soon as the bad bytes arrive, also
        # inside a frame not yet complete (RFC 6455 section 8.1).
        # With compression the parser inflates whole messages itself and
        # checks them against the limit inflated; it lets a frame pass the
        # limits by deflate's overhead (stored blocks), and _data_frame
        # checks a fragmented message exactly.
        self._parser = FrameParser(
            role, max_frame_size=frame_limit, max_message_size=max_message_size,
            validate_utf8="incomplete", deflate=compression)
        # Whole messages skip Frame objects and events until events() (see
        # receive_data).
        self._feed_messages = self._parser.feed_messages
        self.state = OPEN
        #: The peer's close code and reason: 1005 for a Close without code,
        #: 1006 when the transport ended without one; None while open.
        self.close_code: int | None = None
        self.close_reason = ""
        # Received, oldest first: events, except that a whole message is
        # held as its bare str or bytes until events() wraps it.
        self._items: list[Any] = []
        self._out: list[bytes] = []
        #: Whether data received still counts (until the peer's Close, a
        #: failure or EOF) and whether messages may still be sent (until our
        #: Close, sent or queued, or EOF). Read only.
        self.reading = True
        self.writing = True
        # The fragmented (or compressed) message being received.
        self._msg_text = False
        self._msg_compressed = False
        self._msg_size = 0  # with compression: bytes of an uncompressed message so far
        self._parts: list[bytes] = []
        self._validator: Any = None
        self._decoder: Any = None

    def __repr__(self) -> str:
        return f"<Connection {self.role} {self.state.name}>"

    # -- receiving -----------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the transport; ``b""`` means it reached EOF.

        Events go to ``events()``, replies to ``bytes_to_send()``. A protocol
        violation queues a Close with its code (1002, 1007, 1009), moves to
        CLOSING and raises the ProtocolError; events before it stay queued.
        After the peer's Close or a failure, more data is ignored.
        """
        if not data or not self.reading:
            self._receive_rare(data)
            return
        items = self._items
        start = len(items)
        try:
            if not self._feed_messages(data, items):
                return  # whole messages only: the common case, done
        except ProtocolError as exc:
            # What came before the bad frame still counts (and may fail
            # first); feed_messages put it in items already.
            self._settle(start, exc)
            return
        self._settle(start, None)

    def receive_parsed(self, items: list[Any], error: ProtocolError | None = None) -> None:
        """``receive_data`` for a caller that ran ``feed_messages`` on this
        Connection's parser itself (the asyncio layer's MessagePump): what
        it gave, in order, and the ProtocolError it raised, if any. Raises
        as ``receive_data`` would."""
        if not self.reading:
            return  # as receive_data: section 5.5.1, nothing counts after the peer's Close
        start = len(self._items)
        self._items += items
        self._settle(start, error)

    @property
    def parser(self) -> FrameParser:
        """The FrameParser for ``receive_parsed``."""
        return self._parser

    def _settle(self, start: int, error: ProtocolError | None) -> None:
        """Resolve what was parsed from ``_items[start:]`` on; then fail with
        ``error``, unless a Close came before it."""
        if error is not None:
            try:
                if self._resolve(start):
                    return  # a Close came first: the rest is not read
            except ProtocolError as first:
                self._fail(first)
            self._fail(error)
        try:
            self._resolve(start)
        except ProtocolError as exc:
            self._fail(exc)

    def _resolve(self, start: int) -> bool:
        """Replace the Frames in ``_items[start:]`` by what they mean, in
        order; True at a Close, after which nothing is kept."""
        items = self._items
        tail = items[start:]
        del items[start:]
        for item in tail:
            kind = type(item)
            if kind is str or kind is bytes:
                items.append(item)
            elif self._frame(item):
                return True
        return False

    def _receive_rare(self, data: bytes) -> None:
        if data:
            return  # section 5.5.1: nothing counts after the peer's Close
        self.reading = self.writing = False
        self.state = CLOSED
        if self.close_code is None:
            self.close_code = 1006  # section 7.1.5: closed abnormally

    def _frame(self, frame: Any) -> bool:
        """Any frame, the slow way; True for a Close (stop reading)."""
        opcode = frame.opcode
        if opcode <= BINARY:  # the parser refuses reserved opcodes 3-7
            self._data_frame(frame)
        elif opcode == PING:
            self._items.append(_new(Ping, (frame.payload,)))
            if self.writing:
                # Section 5.5.2: answer with the same application data.
                self._out.append(build_frame(PONG, frame.payload, mask=self._client))
        elif opcode == PONG:
            self._items.append(_new(Pong, (frame.payload,)))
        else:  # CLOSE: the parser refuses reserved opcodes 0xB-0xF
            self._close_frame(frame.payload)
            return True  # section 5.5.1: nothing after a Close is processed
        return False

    def _data_frame(self, frame: Any) -> None:
        """A fragment, or a compressed message (RSV1, RFC 7692 section 6)."""
        opcode, fin, payload = frame.opcode, frame.fin, frame.payload
        if opcode != CONTINUATION:  # first frame of a message
            self._msg_text = opcode == TEXT
            self._msg_compressed = frame.rsv1
        if self._msg_compressed:
            payload = self._deflate.decompress(  # type: ignore[union-attr]
                payload, fin, self.max_message_size)
            if opcode != CONTINUATION and fin and not self.stream_fragments:
                self._whole(payload)
                return
        elif self._deflate is not None and self.max_message_size is not None:
            # An uncompressed message on a compressed connection: the parser
            # only checked the deflate-widened limit (see __init__).
            size = len(payload) + (0 if opcode != CONTINUATION else self._msg_size)
            if size > self.max_message_size:
                raise MessageTooBig(reason=f"message of at least {size} bytes exceeds the "
                                           f"limit of {self.max_message_size} bytes")
            self._msg_size = size
        if self._msg_text:
            validator = self._validator
            if validator is None:
                validator = self._validator = Utf8Validator()
            # Fail as soon as a frame can no longer be valid UTF-8.
            if not validator.feed(payload):
                validator.reset()
                raise InvalidUTF8(reason="text message is not valid UTF-8")
            if fin:
                complete = validator.finish()
                validator.reset()
                if not complete:
                    raise InvalidUTF8(reason="text message ends inside a UTF-8 character")
        if self.stream_fragments:
            self._fragment(payload, fin)
        elif not fin:
            self._parts.append(payload)
        else:
            parts = self._parts
            parts.append(payload)
            self._parts = []
            self._whole(b"".join(parts))

    def _whole(self, data: bytes) -> None:
        if self._msg_text:
            try:
                text = decode_utf8(data)
            except UnicodeDecodeError:
                raise InvalidUTF8(reason="text message is not valid UTF-8") from None
            self._items.append(text)  # wrapped by events()
        else:
            self._items.append(data)

    def _fragment(self, data: bytes, fin: bool) -> None:
        if not self._msg_text:
            self._items.append(_new(BinaryFragment, (data, fin)))
            return
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = _utf8_decoder()
        try:
            text = decoder.decode(data, fin)
        except UnicodeDecodeError:
            raise InvalidUTF8(reason="text message is not valid UTF-8") from None
        finally:
            if fin:
                decoder.reset()
        self._items.append(_new(TextFragment, (text, fin)))

    def _close_frame(self, payload: bytes) -> None:
        code, reason = parse_close(payload)  # ProtocolError 1002 / InvalidUTF8 1007
        self.close_code, self.close_reason = code, reason
        self._items.append(_new(CloseReceived, (code, reason)))
        self.reading = False
        if self.writing:
            # Section 5.5.1: echo the status code; 1005 means none was sent.
            self._out.append(build_frame(CLOSE, encode_close(1000 if code == 1005 else code, ""),
                                         mask=self._client))
            self.writing = False
        self.state = CLOSED

    def _fail(self, exc: ProtocolError) -> None:
        """Section 7.1.7, Fail the WebSocket Connection: send a Close with the
        error's code unless one went already, then stop."""
        self.reading = False
        if self.writing:
            # A close reason holds at most 123 bytes (section 5.5).
            reason = exc.reason.encode()[:123].decode(errors="ignore")
            close = build_frame(CLOSE, encode_close(exc.close_code, reason), mask=self._client)
            self.state = CLOSING
            if self._reply_first and any(type(item) in (str, bytes) for item in self._items):
                self._failure_close = close  # see finish_failing
            else:
                self._out.append(close)
                self.writing = False
        raise exc

    @property
    def failure_pending(self) -> bool:
        """A violation failed the connection, and its Close waits for
        ``finish_failing()`` (see ``reply_before_failing``)."""
        return self._failure_close is not None

    def finish_failing(self) -> bytes:
        """The Close held back after a violation (b"" if none): nothing may
        be sent after it."""
        close, self._failure_close = self._failure_close, None
        if close is None:
            return b""
        self.writing = False
        return close

    def events(self) -> list[Event]:
        """The events received since the last call, oldest first."""
        items = self._items
        self._items = []
        for i, item in enumerate(items):
            kind = type(item)
            if kind is bytes:
                items[i] = _new(BinaryMessage, (item,))
            elif kind is str:
                items[i] = _new(TextMessage, (item,))
        return items

    def messages_and_events(self) -> list[Any]:
        """Like ``events()``, but a whole message comes as its data alone
        (str or bytes) rather than a TextMessage or BinaryMessage: the
        cheapest way to consume a stream of messages."""
        items = self._items
        self._items = []
        return items

    @property
    def has_bytes_to_send(self) -> bool:
        """Whether ``bytes_to_send()`` would return something."""
        return bool(self._out)

    def bytes_to_send(self) -> bytes:
        """Frames this side owes the peer (pongs, close echo, error close),
        to write to the transport; clears them."""
        if not self._out:
            return b""
        out = b"".join(self._out)
        self._out = []
        return out

    # -- sending -------------------------------------------------------------------

    def _check_open(self) -> None:
        if not self.writing:
            raise ConnectionClosed(self.close_code if self.close_code is not None else 1006,
                                   self.close_reason)

    def _check_control(self) -> None:
        """Only messages may go out while a failure's Close is held back."""
        self._check_open()
        if self._failure_close is not None:
            raise ConnectionClosed(1006, "the connection failed")

    def send(self, message: str | bytes | bytearray | memoryview) -> bytes:
        """A message as frame bytes: text for a str, binary for anything
        else; ConnectionClosed after Close."""
        if not self.writing:
            self._check_open()
        if self._deflate is None:
            # build_frame encodes a str as UTF-8 itself.
            return build_frame(TEXT if isinstance(message, str) else BINARY, message,
                               mask=self._client)
        return self.send_text(message) if isinstance(message, str) else self.send_binary(message)

    def send_text(self, text: str) -> bytes:
        """A text message as frame bytes; ConnectionClosed after Close."""
        if not self.writing:
            self._check_open()
        data = text.encode()
        deflate = self._deflate
        if deflate is not None and len(data) >= deflate.threshold:
            return build_frame(TEXT, deflate.compress(data), rsv1=True, mask=self._client)
        return build_frame(TEXT, data, mask=self._client)

    def send_binary(self, data: bytes | bytearray | memoryview) -> bytes:
        """A binary message as frame bytes; ConnectionClosed after Close."""
        if not self.writing:
            self._check_open()
        if type(data) is str:  # type: ignore[comparison-overlap]  # for untyped callers
            raise TypeError("send_binary takes bytes; use send_text for a str")
        deflate = self._deflate
        if deflate is not None and len(data) >= deflate.threshold:
            return build_frame(BINARY, deflate.compress(data), rsv1=True, mask=self._client)
        return build_frame(BINARY, data, mask=self._client)

    def ping(self, payload: bytes = b"") -> bytes:
        """A Ping frame (payload up to 125 bytes)."""
        self._check_control()
        return build_frame(PING, payload, mask=self._client)

    def pong(self, payload: bytes = b"") -> bytes:
        """An unsolicited Pong frame, a one-way heartbeat (section 5.5.3)."""
        self._check_control()
        return build_frame(PONG, payload, mask=self._client)

    def close(self, code: int = 1000, reason: str = "") -> bytes:
        """Start the closing handshake: the Close frame to send. The state
        becomes CLOSING until the peer's Close arrives (after a violation
        whose Close is held back: that Close)."""
        if self._failure_close is not None:
            return self.finish_failing()
        self._check_open()
        frame = build_frame(CLOSE, encode_close(code, reason), mask=self._client)
        self.writing = False
        self.state = CLOSING
        return frame
