"""aiohttp: a frame reader on wsfast's FrameParser, and the client writer's mask.

aiohttp's compiled reader (``aiohttp._websocket.reader_c``) unmasks with a
function it binds in C, so no module attribute reaches it. wsfast instead
gives aiohttp a reader with the same interface -- ``WebSocketReader(queue,
max_msg_size, compress, decode_text)``, ``feed_data(data) -> (error, tail)``,
``feed_eof()`` -- that parses, unmasks and validates every complete frame
of a read in one C call, and assembles the same messages aiohttp's does:
``WSMessage`` tuples, decompression with aiohttp's own decompressor, the
same limits and the same ``WebSocketError`` close codes, the same
back-pressure on the data queue. It is installed where aiohttp constructs
readers: ``aiohttp.web_ws`` (server side) and ``aiohttp.client`` (client
side); every other binding, which aiohttp's own tests use, stays as it was.
aiohttp's queue stays, compiled or not: the reader stalls on a full queue
through a gate in front of the queue's protocol (see ``ResumeGate``), as
aiohttp's compiled reader does through a hook that only C code can set.

The writer masks what a client sends with ``websocket_mask(mask, data:
bytearray) -> None`` (in place), bound in ``aiohttp._websocket.writer``.

Knowingly stricter than aiohttp (RFC 6455 / 7692 say so): a server's reader
refuses unmasked frames and a client's masked ones, and RSV1 on a control
frame is an error instead of being ignored (close code 1002 for all three).
"""
from __future__ import annotations

import importlib
import inspect
import os
import re
from typing import TYPE_CHECKING, Any, Callable

from wsfast import _impl
from wsfast.errors import ProtocolError
from wsfast.frames import FrameParser
from wsfast.integrations._registry import (Mismatch, Target, require_attr, require_version,
                                           same_results)

if TYPE_CHECKING:
    from wsfast.integrations._aiohttp_feed import ReaderLoop
else:
    ReaderLoop = _impl.twin("wsfast.integrations._aiohttp_feed",
                            "wsfast.integrations._aiohttp_feed_py").ReaderLoop

_mask_into = _impl.mask_into

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def websocket_mask(mask: bytes, data: bytearray) -> None:
    """aiohttp's ``websocket_mask`` on wsfast's kernel: masks data in place."""
    _mask_into(data, mask)


class _Aiohttp:
    """The aiohttp names the reader needs, looked up once by plan()."""

    models: Any = None
    helpers: Any = None
    compression: Any = None
    message: Any = None  # WSMessage
    text: Any = None  # WSMsgType.TEXT
    binary: Any = None  # WSMsgType.BINARY


class WebSocketReader(ReaderLoop):
    """aiohttp's WebSocketReader interface on wsfast's FrameParser; its
    per-read loop is ReaderLoop's (C, or its twin), the rest is here.

    ``ROLE`` is the side this reader parses for: "server" readers expect
    masked frames from clients, "client" readers unmasked ones.
    """

    ROLE = "server"

    def __init__(self, queue: Any, max_msg_size: int, compress: bool,
                 decode_text: bool = True) -> None:
        # aiohttp refuses a data frame once the message would reach
        # max_msg_size (">="); wsfast's limit refuses what exceeds it (">").
        parser = FrameParser(
            self.ROLE, max_frame_size=None,
            max_message_size=max_msg_size - 1 if max_msg_size else None,
            rsv1_allowed=bool(compress), validate_utf8=bool(decode_text))
        # Whole one-frame messages come back as their payload (str for text:
        # wsfast's parser decodes text itself), so only with decode_text.
        super().__init__(queue, parser, bool(decode_text), _Aiohttp.message, _Aiohttp.text,
                         _Aiohttp.binary, _Aiohttp.helpers.set_exception)
        self._max_msg_size = max_msg_size
        self._compress = compress
        self._decode_text = decode_text
        self._opcode = OP_CONTINUATION  # of the message in progress
        self._compressed = False
        self._fragments: list[bytes] = []
        self._decompressobj: Any = None

    def _protocol_error(self, exc: ProtocolError) -> BaseException:
        """What the queue fails with: aiohttp's error for the same violation."""
        return _Aiohttp.models.WebSocketError(  # type: ignore[no-any-return]
            _close_code(exc.close_code), _aiohttp_text(exc.reason))

    def _handle_frame(self, frame: Any) -> None:
        models = _Aiohttp.models
        opcode, payload = frame.opcode, frame.payload
        if opcode <= OP_BINARY:
            if opcode != OP_CONTINUATION:
                self._opcode, self._compressed = opcode, frame.rsv1
            if not frame.fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                self._fragments.append(payload)
                payload = b"".join(self._fragments)
                self._fragments.clear()
            if self._compressed:
                payload = self._decompress(payload)
            size = len(payload)
            if self._opcode == OP_TEXT:
                if self._decode_text:
                    try:
                        text = payload.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise models.WebSocketError(
                            models.WSCloseCode.INVALID_TEXT,
                            "Invalid UTF-8 text message") from exc
                    message: Any = models.WSMessage(models.WSMsgType.TEXT, text, "")
                else:
                    message = models.WSMessageTextBytes(models.WSMsgType.TEXT, payload, "")
            else:
                message = models.WSMessage(models.WSMsgType.BINARY, payload, "")
            self.queue.feed_data(message, size)
        elif opcode == OP_CLOSE:
            self.queue.feed_data(_close_message(payload), 0)
        else:
            kind = models.WSMsgType.PING if opcode == OP_PING else models.WSMsgType.PONG
            self.queue.feed_data(models.WSMessage(kind, payload, ""), len(payload))

    def _decompress(self, payload: bytes) -> bytes:
        models = _Aiohttp.models
        if self._decompressobj is None:
            self._decompressobj = _Aiohttp.compression.ZLibDecompressor(
                suppress_deflate_header=True)
        limit = self._max_msg_size
        try:
            # One byte over the limit tells a message that is too big.
            data = self._decompressobj.decompress_sync(
                payload + models.WS_DEFLATE_TRAILING, limit + 1 if limit else limit)
        except _Aiohttp.compression.TooManyMembersError as exc:
            raise models.WebSocketError(models.WSCloseCode.MESSAGE_TOO_BIG,
                                        "Compressed message has too many deflate members"
                                        ) from exc
        if limit and len(data) > limit:
            raise models.WebSocketError(models.WSCloseCode.MESSAGE_TOO_BIG,
                                        f"Decompressed message exceeds size limit {limit}")
        return data  # type: ignore[no-any-return]


class ClientWebSocketReader(WebSocketReader):
    """The reader for aiohttp's client: frames from a server are unmasked."""

    ROLE = "client"


# wsfast's reason for a refused frame -> the text aiohttp gives the same error.
_TEXTS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"reserved opcode (0x[0-9a-f]+)"),
     lambda m: f"Unexpected opcode={int(m[1], 16)}"),
    (re.compile(r"fragmented control frame"), lambda m: "Received fragmented control frame"),
    (re.compile(r"RSV[123] bit set"), lambda m: "Received frame with non-zero reserved bits"),
    (re.compile(r"continuation frame without"),
     lambda m: "Continuation frame for non started message"),
    (re.compile(r"new (\w+) frame before"),
     lambda m: "The opcode in non-fin frame is expected to be zero, "
               f"got {OP_TEXT if m[1] == 'TEXT' else OP_BINARY}"),
    (re.compile(r"control frame \(\w+\) longer than 125"),
     lambda m: "Control frame payload cannot be larger than 125 bytes"),
    # wsfast's limit is aiohttp's minus one (see WebSocketReader.__init__).
    (re.compile(r"message of at least (\d+) bytes exceeds the limit of (\d+)"),
     lambda m: f"Message size {m[1]} exceeds limit {int(m[2]) + 1}"),
    (re.compile(r"not valid UTF-8"), lambda m: "Invalid UTF-8 text message"),
]


def _aiohttp_text(reason: str) -> str:
    """aiohttp's wording of a frame error, where it has one; else wsfast's."""
    for pattern, text in _TEXTS:
        match = pattern.match(reason) or pattern.search(reason)
        if match:
            return text(match)
    return reason


def _close_code(code: int) -> Any:
    try:
        return _Aiohttp.models.WSCloseCode(code)
    except ValueError:
        return code


def _close_message(payload: bytes) -> Any:
    """A close frame as aiohttp reports it: (CLOSE, code, reason), (CLOSE, 0, "")."""
    models = _Aiohttp.models
    if not payload:
        return models.WSMessage(models.WSMsgType.CLOSE, 0, "")
    if len(payload) < 2:
        raise models.WebSocketError(models.WSCloseCode.PROTOCOL_ERROR,
                                    f"Invalid close frame: {payload!r}")
    code = int.from_bytes(payload[:2], "big")
    if code < 3000 and code not in _ALLOWED_CLOSE_CODES:
        raise models.WebSocketError(models.WSCloseCode.PROTOCOL_ERROR,
                                    f"Invalid close code: {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise models.WebSocketError(models.WSCloseCode.INVALID_TEXT,
                                    "Invalid UTF-8 text message") from exc
    return models.WSMessage(models.WSMsgType.CLOSE, code, reason)


_ALLOWED_CLOSE_CODES: frozenset[int] = frozenset()


def _reader_self_check(original: type, queue_cls: type, ours: type, masked: bool) -> None:
    """Feed the same frames to aiohttp's reader and ours, each on a queue of
    the class aiohttp uses; compare the queues."""
    key = os.urandom(4)

    def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
        head = bytes([(0x80 if fin else 0) | opcode, (0x80 if masked else 0) | len(payload)])
        if not masked:
            return head + payload
        return head + key + _impl.apply_mask(payload, key)

    wire = (frame(OP_TEXT, "añ€".encode()) + frame(OP_PING, b"p") +
            frame(OP_BINARY, b"\x00\x01", fin=False) + frame(OP_CONTINUATION, b"\xff") +
            frame(OP_CLOSE, b"\x03\xe8bye"))
    results = []
    for cls in (original, ours):
        queue = queue_cls(_SelfCheckProtocol(), 1 << 16, loop=None)
        reader = cls(queue, 1 << 16, compress=True, decode_text=True)
        outcome = [reader.feed_data(wire[:3]), reader.feed_data(wire[3:])]
        results.append((outcome, [tuple(m) for m, _ in queue._buffer],
                        [size for _, size in queue._buffer]))
    if results[0] != results[1]:
        raise Mismatch(f"aiohttp's WebSocketReader gives {results[0]!r:.120} where "
                       f"wsfast's gives {results[1]!r:.120}")


class _SelfCheckProtocol:
    """Just enough of a protocol for a WebSocketDataQueue that is never read."""

    _reading_paused = False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _init_params(cls: type) -> list[str]:
    """The constructor's parameter names; a compiled reader that hides them is
    compiled from aiohttp's Python reader, whose names are read instead."""
    params = list(inspect.signature(cls.__init__).parameters)[1:]  # type: ignore[misc]
    if params == ["args", "kwargs"]:
        twin = importlib.import_module("aiohttp._websocket.reader_py").WebSocketReader
        params = list(inspect.signature(twin.__init__).parameters)[1:]
    return params


def plan() -> list[Target]:
    """Check aiohttp and name the bindings to replace."""
    global _ALLOWED_CLOSE_CODES
    require_version("aiohttp", (3, 11))
    # The writer's binding (and, by the sweep, the Python reader's); the
    # defining module, aiohttp._websocket.helpers, keeps its own.
    writer = importlib.import_module("aiohttp._websocket.writer")
    data, key = bytearray(os.urandom(45)), os.urandom(4)
    original = require_attr(writer, "websocket_mask")
    same_results("aiohttp._websocket.writer.websocket_mask", original, websocket_mask,
                 (key, data), (key, bytearray()), (key, data[:5]))
    targets = [Target(writer, "websocket_mask", websocket_mask,
                      keep=("aiohttp._websocket.helpers",))]

    _Aiohttp.models = importlib.import_module("aiohttp._websocket.models")
    _Aiohttp.helpers = importlib.import_module("aiohttp.helpers")
    _Aiohttp.compression = importlib.import_module("aiohttp.compression_utils")
    for module, names in ((_Aiohttp.models, ("WebSocketError", "WSCloseCode", "WSMessage",
                                             "WSMessageTextBytes", "WSMsgType",
                                             "WS_DEFLATE_TRAILING")),
                          (_Aiohttp.helpers, ("set_exception",)),
                          (_Aiohttp.compression, ("ZLibDecompressor", "TooManyMembersError"))):
        for name in names:
            require_attr(module, name)
    _ALLOWED_CLOSE_CODES = frozenset(int(c) for c in _Aiohttp.models.WSCloseCode)
    _Aiohttp.message = _Aiohttp.models.WSMessage
    _Aiohttp.text = _Aiohttp.models.WSMsgType.TEXT
    _Aiohttp.binary = _Aiohttp.models.WSMsgType.BINARY

    web_ws = importlib.import_module("aiohttp.web_ws")
    client = importlib.import_module("aiohttp.client")
    for module, ours in ((web_ws, WebSocketReader), (client, ClientWebSocketReader)):
        require_attr(module, "WebSocketDataQueue")
        original = require_attr(module, "WebSocketReader")
        params = _init_params(original)
        if params[:4] != ["queue", "max_msg_size", "compress", "decode_text"]:
            raise Mismatch(f"{module.__name__}.WebSocketReader takes {params}, "
                           "not (queue, max_msg_size, compress, decode_text)")
        _reader_self_check(original, module.WebSocketDataQueue, ours,
                           masked=ours.ROLE == "server")
        targets.append(Target(module, "WebSocketReader", ours, sweep=False))
    return targets
