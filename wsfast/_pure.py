"""Pure-Python twins of wsfast._speedups: the same API and the same results,
for platforms where the C extension cannot be built (and as the reference the
C kernels are tested against).

Masking XORs the whole payload as one big integer, which runs in C inside
CPython; UTF-8 validation leans on CPython's own decoder and adds the
fail-fast check on a character cut off at the end of a chunk.
"""
from __future__ import annotations

import codecs
import operator
import os
import struct
import sys
import threading
from typing import Any

from wsfast import _contract as _fr

zlib = _fr.zlib_module()
from wsfast.errors import MessageTooBig, ProtocolError

__all__ = ["KERNEL", "DeflateStreams", "Frame", "FrameParser", "Utf8Validator", "apply_mask",
           "available_kernels", "build_frame", "mask_into", "validate_utf8"]

KERNEL = "python"

_decode = codecs.utf_8_decode


def available_kernels() -> list[str]:
    """Kernel variants of the C extension: none in pure Python."""
    return []


def _view(obj: object, what: str) -> memoryview:
    try:
        view = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be a bytes-like object, not {type(obj).__name__}") from None
    if not view.c_contiguous:
        raise TypeError(f"{what} must be a contiguous buffer: "
                        "memoryview: underlying buffer is not C-contiguous")
    if view.itemsize != 1 or view.ndim != 1:
        view = view.cast("B")
    return view


def _key(key: object) -> bytes:
    k = key if type(key) is bytes else bytes(_view(key, "key"))
    if len(k) != 4:
        raise ValueError(f"key must be exactly 4 bytes, got {len(k)}")
    return k


def _phase(phase: object) -> int:
    phase = operator.index(phase)  # type: ignore[arg-type]
    if not 0 <= phase <= 3:
        raise ValueError(f"phase must be 0, 1, 2 or 3, got {phase}")
    return phase


def apply_mask(data: object, key: object, phase: int = 0) -> bytes:
    """Return data XOR-ed with the 4-byte masking key (RFC 6455 section 5.3)."""
    k = _key(key)
    phase = _phase(phase)
    buf = data if type(data) is bytes else _view(data, "data")
    if phase:
        k = k[phase:] + k[:phase]
    return _xor(buf, k)


def _xor(data: bytes | memoryview, key: bytes) -> bytes:
    """data XOR the repeated 4-byte key, as one big integer (C inside CPython)."""
    n = len(data)
    if n >= _TRANSLATE_MIN:
        return _xor_translate(data, key)
    words = (n + 3) >> 2
    if words <= _REPUNIT_WORDS:
        # The repeated key is the key times 0x...000100000001 (one 1 per
        # 32-bit word): one small multiplication instead of building bytes.
        masked = (int.from_bytes(data, "little") ^
                  int.from_bytes(key, "little") * _REPUNITS[words]).to_bytes(words * 4, "little")
        return masked if words * 4 == n else masked[:n]
    pattern = (key * ((n >> 2) + 1))[:n]
    value = int.from_bytes(data, "little") ^ int.from_bytes(pattern, "little")
    return value.to_bytes(n, "little")


# Payloads up to 1 KiB use precomputed repunits (128 KiB of ints in all).
_REPUNIT_WORDS = 256
_REPUNITS = [((1 << (32 * m)) - 1) // 0xFFFFFFFF for m in range(_REPUNIT_WORDS + 1)]

# From here on bytes.translate beats the big integer, whose conversions cost
# more per byte as it grows (measured: even at 8 KiB, 1.1x at 16-64 KiB,
# 3x at 1 MiB).
_TRANSLATE_MIN = 16 * 1024
_XOR_TABLES: list[bytes | None] = [None] * 256


def _xor_translate(data: bytes | memoryview, key: bytes) -> bytes:
    """Byte i of the key applies to every 4th byte from i: four strided
    slices, each mapped through a 256-byte XOR table by bytes.translate (a
    C loop), written back interleaved."""
    if type(data) is not bytes:
        data = bytes(data)  # strided slices of a memoryview copy byte by byte
    out = bytearray(len(data))
    for i in range(4):
        table = _XOR_TABLES[key[i]]
        if table is None:
            table = _XOR_TABLES[key[i]] = bytes(b ^ key[i] for b in range(256))
        out[i::4] = data[i::4].translate(table)
    return bytes(out)


def mask_into(buffer: object, key: object, phase: int = 0) -> int:
    """XOR a writable buffer with the masking key in place; return the next phase."""
    k = _key(key)
    phase = _phase(phase)
    view = _view(buffer, "buffer")
    if view.readonly:
        raise TypeError("mask_into needs a writable buffer such as a bytearray, "
                        f"not a read-only {type(buffer).__name__}")
    view[:] = apply_mask(view, k, phase)
    return (phase + len(view)) & 3


def validate_utf8(data: object) -> bool:
    """True when data is complete, valid UTF-8 (RFC 3629)."""
    buf = data if type(data) is bytes else _view(data, "data")
    try:
        _decode(buf, "strict", True)
    except UnicodeDecodeError:
        return False
    return True


def decode_utf8(data: object) -> str:
    """``bytes(data).decode("utf-8")``: the same str, and the same
    UnicodeDecodeError for invalid input."""
    buf = data if type(data) is bytes else _view(data, "data")
    return str(buf, "utf-8")


# (first byte range, second byte range) of every multi-byte character
# (RFC 3629 section 4): the narrow ranges exclude overlongs, surrogates and
# code points above U+10FFFF.
_LEADS = {}
for _lo, _hi, _second in ((0xC2, 0xDF, range(0x80, 0xC0)), (0xE0, 0xE0, range(0xA0, 0xC0)),
                          (0xE1, 0xEC, range(0x80, 0xC0)), (0xED, 0xED, range(0x80, 0xA0)),
                          (0xEE, 0xEF, range(0x80, 0xC0)), (0xF0, 0xF0, range(0x90, 0xC0)),
                          (0xF1, 0xF3, range(0x80, 0xC0)), (0xF4, 0xF4, range(0x80, 0x90))):
    for _lead in range(_lo, _hi + 1):
        _LEADS[_lead] = _second


def _valid_prefix(tail: bytes) -> bool:
    """Whether the 1-3 bytes a decoder holds back can still start a character.

    CPython's incremental decoder already rejects most bad prefixes, but not
    all (it holds back ED A0, a surrogate, until more bytes arrive).
    """
    second = _LEADS.get(tail[0])
    if second is None:
        return False
    if len(tail) > 1 and tail[1] not in second:
        return False
    return all(0x80 <= b <= 0xBF for b in tail[2:])


class Utf8Validator:
    """Streaming UTF-8 validation for a message that arrives in pieces.

    ``feed`` is False as soon as the bytes seen can no longer be valid, even
    in the middle of a character; ``finish`` is False if the input ended
    inside a character. One validator belongs to one message at a time.
    """

    __slots__ = ("_pending", "_failed")

    def __init__(self) -> None:
        self._pending = b""
        self._failed = False

    def feed(self, chunk: object) -> bool:
        buf = chunk if type(chunk) is bytes else _view(chunk, "chunk")
        if self._failed:
            return False
        data = self._pending + bytes(buf) if self._pending else buf
        try:
            _, used = _decode(data, "strict", False)
        except UnicodeDecodeError:
            self._failed = True
            return False
        self._pending = bytes(data[used:])
        if self._pending and not _valid_prefix(self._pending):
            self._failed = True
        return not self._failed

    def finish(self) -> bool:
        return not self._failed and not self._pending

    def reset(self) -> None:
        self._pending = b""
        self._failed = False


# ---- Frames (RFC 6455 section 5): the twin of csrc/frame.c -----------------

def _first_byte_error(b0: int, in_message: bool, rsv1_allowed: bool) -> int:
    """wsf_frame_next's checks of a header's first byte, in the same order."""
    opcode = b0 & 0x0F
    if 3 <= opcode <= 7 or opcode > 0xA:
        return _fr.E_RESERVED_OPCODE
    if opcode >= 8 and not b0 & 0x80:
        return _fr.E_CONTROL_FRAGMENTED
    if b0 & 0x20:
        return _fr.E_RSV2
    if b0 & 0x10:
        return _fr.E_RSV3
    if b0 & 0x40:
        if opcode >= 8:
            return _fr.E_RSV1_CONTROL
        if opcode == 0:
            return _fr.E_RSV1_CONTINUATION
        if not rsv1_allowed:
            return _fr.E_RSV1
    if opcode == 0 and not in_message:
        return _fr.E_CONTINUATION_WITHOUT_START
    if opcode in (1, 2) and in_message:
        return _fr.E_MESSAGE_INTERLEAVED
    return 0


# _FIRST_BYTE[rsv1_allowed][in_message][b0]: the error number, 0 when fine.
_FIRST_BYTE = tuple(tuple(tuple(_first_byte_error(b0, m, r) for b0 in range(256))
                          for m in (False, True)) for r in (False, True))
_unpack16 = struct.Struct("!H").unpack_from
_unpack64 = struct.Struct("!Q").unpack_from
_unpack_key = struct.Struct("<I").unpack_from  # little-endian, as _xor's integers


class Frame:
    """One frame: opcode (an int equal to an Opcode), FIN and RSV flags, payload."""

    __slots__ = _fr.FRAME_FIELDS

    def __init__(self, opcode: int, payload: bytes = b"", fin: bool = True,
                 rsv1: bool = False, rsv2: bool = False, rsv3: bool = False) -> None:
        self.opcode = opcode
        self.payload = payload if type(payload) is bytes else bytes(_view(payload, "payload"))
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3

    __repr__ = _fr.frame_repr
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        theirs = _fr.frame_fields(other)
        return NotImplemented if theirs is None else _fr.frame_fields(self) == theirs


# RFC 7692 section 7.2.1: a sync flush ends with this empty stored block,
# which the sender removes and the receiver appends back.
_DEFLATE_TAIL = b"\x00\x00\xff\xff"


class DeflateStreams:
    """One connection's permessage-deflate streams (RFC 7692): compresses
    what it sends, decompresses what it receives. ``local_*`` govern the
    compressor, ``remote_*`` the peer's (the decompressor). Used by one
    connection, one thread at a time.

    Without context takeover on a side its zlib object is dropped after each
    message (an idle connection then holds nothing for it). Decompression
    never produces more than ``max_size + 1`` bytes per call (zlib's
    ``max_length``), so a decompression bomb costs one message limit of
    memory and ends in MessageTooBig (1009).
    """

    __slots__ = ("local_no_context_takeover", "remote_no_context_takeover",
                 "local_max_window_bits", "remote_max_window_bits", "compress_level",
                 "mem_level", "threshold", "_compressor", "_decompressor", "_size")

    def __init__(self, *, local_no_context_takeover: bool = False,
                 remote_no_context_takeover: bool = False, local_max_window_bits: int = 15,
                 remote_max_window_bits: int = 15, compress_level: int = 6, mem_level: int = 8,
                 threshold: int = 64) -> None:
        self.local_no_context_takeover = bool(local_no_context_takeover)
        self.remote_no_context_takeover = bool(remote_no_context_takeover)
        self.local_max_window_bits = operator.index(local_max_window_bits)
        self.remote_max_window_bits = operator.index(remote_max_window_bits)
        self.compress_level = operator.index(compress_level)
        self.mem_level = operator.index(mem_level)
        self.threshold = operator.index(threshold)
        self._compressor: Any = None
        self._decompressor: Any = None
        self._size = 0  # bytes decompressed so far in the current message

    def compress(self, data: object) -> bytes:
        """One whole message's payload, compressed (send it with RSV1 set)."""
        c = self._compressor
        if c is None:
            if self.local_max_window_bits == 8:
                # zlib's raw deflate has no 8-bit window: Huffman-only
                # output has no back-references, so fits any window.
                c = zlib.compressobj(self.compress_level, zlib.DEFLATED, -9, self.mem_level,
                                     zlib.Z_HUFFMAN_ONLY)
            else:
                c = zlib.compressobj(self.compress_level, zlib.DEFLATED,
                                     -self.local_max_window_bits, self.mem_level)
            if not self.local_no_context_takeover:
                self._compressor = c
        out: bytes = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4]  # drop the 00 00 ff ff (see _DEFLATE_TAIL)

    def decompress(self, data: object, fin: bool, max_size: int | None) -> bytes:
        """Decompress one frame of a compressed message (``fin`` on its last
        frame). MessageTooBig once the message passes ``max_size`` bytes,
        ProtocolError (1002) for data that is not deflate."""
        max_size = _fr.limit(max_size, "max_size")
        d = self._decompressor
        if d is None:
            d = self._decompressor = zlib.decompressobj(-self.remote_max_window_bits)
        try:
            if max_size >= sys.maxsize:
                out = d.decompress(data)
                if fin:
                    out += d.decompress(_DEFLATE_TAIL)
            else:
                # max_length caps what zlib produces: memory stays bounded by
                # the limit whatever the compression ratio.
                budget = max_size - self._size
                out = d.decompress(data, budget + 1)
                if fin and len(out) <= budget:
                    out += d.decompress(_DEFLATE_TAIL, budget + 1 - len(out))
                if len(out) > budget:
                    self._size = 0
                    self._decompressor = None
                    raise MessageTooBig(reason=f"decompressed message is over {max_size} bytes")
        except zlib.error as exc:
            self._decompressor = None
            raise ProtocolError(reason=f"invalid compressed data: {exc}") from None
        if fin:
            self._size = 0
            # Without context takeover the peer starts afresh each message;
            # a final deflate block (BFINAL) ends the stream for good.
            if self.remote_no_context_takeover or d.eof:
                self._decompressor = None
        else:
            self._size += len(out)
        return out  # type: ignore[no-any-return]


class FrameParser:
    """Bytes from the network in, complete frames out (RFC 6455 section 5).

    ``role`` is "server" (frames arrive masked from clients) or "client".
    Every rule of section 5 is checked; a violation raises ProtocolError (or
    MessageTooBig, InvalidUTF8) whose ``frames`` are the complete frames that
    came before it in the same feed. The parser then stays failed.

    ``validate_utf8="incomplete"`` checks only text that arrives in pieces
    (a frame over several feeds, a fragmented message), where it fails as
    soon as the bad bytes are in: ``feed_messages`` decodes a whole message
    that came at once, which checks it anyway.

    With ``deflate`` (DeflateStreams; RSV1 is then allowed) ``feed_messages``
    inflates a compressed message in one frame itself, and
    ``max_message_size`` is the size of a message inflated: frames on the
    wire may pass it by deflate's overhead, and a fragmented message is the
    caller's to check.
    """

    __slots__ = ("_server", "_rsv1_allowed", "_validate", "_max_frame", "_max_message",
                 "_buf", "_done", "_error", "_in_message", "_message_size",
                 "_message_validate", "_utf8", "_first_byte", "_lock", "_deflate",
                 "_inflated_limit", "_deferred")

    def __init__(self, role: str, *, max_frame_size: int | None = _fr.DEFAULT_MAX_FRAME_SIZE,
                 max_message_size: int | None = None, rsv1_allowed: bool = False,
                 validate_utf8: bool | str = True,
                 deflate: DeflateStreams | None = None) -> None:
        self._server = _fr.server_role(role)
        self._max_frame = _fr.limit(max_frame_size, "max_frame_size")
        self._max_message = self._inflated_limit = _fr.limit(max_message_size,
                                                             "max_message_size")
        if deflate is not None:
            if not isinstance(deflate, DeflateStreams):
                raise TypeError(f"deflate must be DeflateStreams, not {type(deflate).__name__}")
            rsv1_allowed = True
            self._max_frame = _fr.deflate_bound(self._max_frame)
            self._max_message = _fr.deflate_bound(self._max_message)
        self._deflate = deflate
        self._deferred = False
        self._rsv1_allowed = bool(rsv1_allowed)
        self._validate = _fr.validate_mode(validate_utf8)
        self._first_byte = _FIRST_BYTE[self._rsv1_allowed]
        self._buf = bytearray()   # at most one incomplete frame, between feeds
        self._done = 0            # its payload bytes already validated
        self._error: ProtocolError | None = None
        self._in_message = False
        self._message_size = 0
        self._message_validate = False
        self._utf8 = Utf8Validator()
        self._lock = threading.Lock()  # one feed at a time, as the C parser

    @property
    def buffered(self) -> int:
        """Bytes held for a frame that is not complete yet."""
        return len(self._buf)

    @property
    def deflate(self) -> DeflateStreams | None:
        """The streams whole compressed messages are inflated with."""
        return self._deflate

    def feed(self, data: object) -> list[Frame]:
        """Append data; return every frame now complete, in order.

        Several threads may feed one parser: each feed is applied whole, one
        after another.
        """
        frames: list[Any] = []
        with self._lock:
            self._feed(data, frames, False)
        return frames

    def feed_messages(self, data: object, out: list[Any]) -> int:
        """Like ``feed``, but append to ``out``, and a whole message in one
        frame (FIN, text or binary, no RSV1) as its payload alone: str for
        text (decoded; InvalidUTF8 if it is not UTF-8), bytes for binary.
        Every other frame is appended as a Frame; returns how many were.
        On a ProtocolError ``out`` holds all that came before the bad frame.
        ``out`` must not be used by another thread during the call.
        """
        if type(out) is not list:  # as the C parser's typed argument
            raise TypeError(f"out must be a list, not {type(out).__name__}")
        with self._lock:
            return self._feed(data, out, True)

    def _feed(self, data: object, frames: list[Any], messages: bool) -> int:
        """Parse into frames; with ``messages``, return how many Frames were
        appended (feed() needs no count)."""
        if self._error is not None:
            error = self._error
            raise type(error)(error.close_code, error.reason)
        start = len(frames)
        self._deferred = False
        try:
            if self._buf:
                buf = self._buf
                buf += _view(data, "data") if type(data) is not bytes else data
                del buf[:self._parse(buf, frames, messages)]
            else:
                if type(data) is bytes or type(data) is bytearray:
                    whole: bytes | bytearray = data
                else:
                    whole = bytes(_view(data, "data"))  # slices of it are keys, payloads
                used = self._parse(whole, frames, messages)
                if used < len(whole):
                    self._buf += whole[used:]
            if self._buf:
                self._partial()
        except ProtocolError as exc:
            exc.frames = frames[start:]  # type: ignore[attr-defined]
            self._error = exc
            self._buf = bytearray()  # a failed parser holds no memory
            raise
        return sum(type(item) is Frame for item in frames[start:]) if messages else 0

    def _header(self, buf: Any, pos: int, end: int) -> tuple[Any, ...] | None:
        """wsf_frame_next's twin: None while the header is incomplete, else
        (header length, payload length, key, opcode, fin, rsv1, validate)."""
        if pos >= end:
            return None
        b0 = buf[pos]
        opcode = b0 & 0x0F
        err = self._first_byte[self._in_message][b0]
        if err:
            raise _fr.frame_error(err, opcode)
        if end - pos < 2:
            return None
        b1 = buf[pos + 1]
        masked = b1 > 127
        if masked is not self._server:
            raise _fr.frame_error(_fr.E_UNMASKED if self._server else _fr.E_MASKED, opcode)
        n = b1 & 0x7F
        if n < 126:
            size = 2
        elif opcode >= 8:
            raise _fr.frame_error(_fr.E_CONTROL_TOO_LONG, opcode)
        else:
            size = 4 if n == 126 else 10
        if masked:
            size += 4
        if end - pos < size:
            return None
        if n == 126:
            n = _unpack16(buf, pos + 2)[0]
        elif n == 127:
            n = _unpack64(buf, pos + 2)[0]
            if n >> 63:
                raise _fr.frame_error(_fr.E_LENGTH_MSB, opcode)
        if n > self._max_frame:
            raise _fr.frame_error(_fr.E_FRAME_TOO_BIG, opcode, n, self._max_frame)
        if opcode < 8:
            total = n + self._message_size if opcode == 0 else n
            if total > self._max_message:
                raise _fr.frame_error(_fr.E_MESSAGE_TOO_BIG, opcode, total, self._max_message)
        validate = self._validate and (opcode == 1 and not b0 & 0x40 or
                                       opcode == 0 and self._message_validate)
        return (size, n, buf[pos + size - 4:pos + size] if masked else None,
                opcode, b0 > 127, b0 & 0x40 != 0, validate)

    def _parse(self, buf: Any, frames: list[Any], messages: bool) -> int:
        """Take every complete frame from buf; return how many bytes they used."""
        with memoryview(buf) as view:  # released before the buffer is resized
            return self._parse_view(buf, view, frames, messages)

    def _parse_view(self, buf: Any, view: memoryview, frames: list[Any],
                    messages: bool) -> int:
        pos = 0
        end = len(buf)
        header = self._header
        append = frames.append
        # What nearly every frame is, taken without _header, its tuple or any
        # attribute store (half the time per small frame): a whole text or
        # binary message, FIN, no RSV bit, a 7- or 16-bit length within the
        # limits, masked as the role wants. Anything else, every error
        # included, goes through _header.
        server = self._server
        short = 6 if server else 2  # the header with a 7-bit length (and key)
        # With deflate, a message over the inflated limit takes the long way.
        limit = min(self._max_frame, self._max_message, self._inflated_limit)
        validate_text = self._validate == 1  # "incomplete" leaves a whole frame unchecked
        deflate = self._deflate
        # Masked payloads are sliced from here: a slice of bytes is the one
        # copy int.from_bytes needs anyway (of a memoryview it would make
        # that copy itself, after the cost of a view object).
        source = buf if type(buf) is bytes else view
        from_bytes = int.from_bytes
        while True:
            if end - pos >= short + 2 and not self._in_message:
                b0 = buf[pos]
                b1 = buf[pos + 1]
                n = b1 & 0x7F
                if (b0 == 0x82 or b0 == 0x81) and (b1 > 127) is server and n != 127:
                    start = pos + short
                    if n == 126:
                        n = buf[pos + 2] << 8 | buf[pos + 3]
                        start += 2
                    if n <= limit:
                        # A whole message: what came before it finished its
                        # own, so the message size and UTF-8 state need no update.
                        stop = start + n
                        if stop > end:
                            return pos
                        if not server:
                            payload = buf[start:stop]
                            if type(payload) is not bytes:
                                payload = bytes(payload)
                        elif n <= _REPUNIT_WORDS * 4:
                            # _xor inlined, with the key read as an int.
                            words = (n + 3) >> 2
                            payload = (from_bytes(source[start:stop], "little") ^
                                       _unpack_key(buf, start - 4)[0] * _REPUNITS[words]
                                       ).to_bytes(words * 4, "little")
                            if words * 4 != n:
                                payload = payload[:n]
                        else:
                            payload = _xor(source[start:stop], buf[start - 4:start])
                        if b0 == 0x82:
                            append(payload if messages else Frame(2, payload, True, False))
                        elif messages or validate_text:
                            self._done = 0  # what _partial checked of it is decoded again
                            try:
                                text = _decode(payload, "strict", True)[0]
                            except UnicodeDecodeError:
                                raise _fr.frame_error(_fr.E_INVALID_UTF8, 1) from None
                            append(text if messages else Frame(1, payload, True, False))
                        else:
                            append(Frame(1, payload, True, False))
                        pos = stop
                        continue
            h = header(buf, pos, end)
            if h is None:
                return pos
            size, n, key, opcode, fin, rsv1, validate = h
            start = pos + size
            if start + n > end:
                return pos
            if key is not None:
                payload = _xor(source[start:start + n], key)
            else:
                payload = buf[start:start + n]
                if type(payload) is not bytes:
                    payload = bytes(payload)
            if validate:
                self._check_text(payload, opcode, fin)
            if opcode == 0:
                self._message_size += n
                self._in_message = not fin
            elif opcode < 8:
                self._message_size = n
                self._in_message = not fin
                self._message_validate = validate
            if (messages and fin and (opcode == 1 or opcode == 2)
                    and not (rsv1 and (deflate is None or self._deferred))):
                if rsv1:
                    payload = deflate.decompress(  # type: ignore[union-attr]  # not None: rsv1
                        payload, True, self._inflated_limit)
                elif deflate is not None and n > self._inflated_limit:
                    raise _fr.frame_error(_fr.E_MESSAGE_TOO_BIG, opcode, n,
                                          self._inflated_limit)
                if opcode == 2:
                    append(payload)
                else:
                    try:
                        append(_decode(payload, "strict", True)[0])
                    except UnicodeDecodeError:
                        raise _fr.frame_error(_fr.E_INVALID_UTF8, opcode) from None
            else:
                if opcode <= 2:
                    # Inflated later, by the caller: a compressed message
                    # after it in this feed must wait its turn on the stream.
                    self._deferred = True
                append(Frame(opcode, payload, fin, rsv1))
            pos = start + n

    def _check_text(self, payload: bytes, opcode: int, fin: bool) -> None:
        """wsf_frame_take's UTF-8 part: the bytes _partial has not seen yet."""
        done, self._done = self._done, 0
        if opcode and not done:
            if fin and self._validate == 2:
                return  # "incomplete": the caller decodes it
            if fin:  # a whole message in one frame: CPython's decoder does it
                try:
                    _decode(payload, "strict", True)
                    return
                except UnicodeDecodeError:
                    raise _fr.frame_error(_fr.E_INVALID_UTF8, opcode) from None
            self._utf8.reset()
        if not self._utf8.feed(memoryview(payload)[done:]) or fin and not self._utf8.finish():
            raise _fr.frame_error(_fr.E_INVALID_UTF8, opcode)

    def _partial(self) -> None:
        """wsf_frame_partial's twin: validate the part of a text frame's
        payload that has arrived, so invalid UTF-8 fails before the rest."""
        buf = self._buf
        h = self._header(buf, 0, len(buf))
        if h is None or not h[6]:
            return
        size, n, key, opcode = h[:4]
        done, avail = self._done, len(buf) - size
        if avail <= done:
            return
        if opcode and not done:
            self._utf8.reset()
        chunk: bytes | bytearray = buf[size + done:size + avail]
        if key is not None:
            chunk = apply_mask(chunk, key, done & 3)
        if not self._utf8.feed(chunk):
            raise _fr.frame_error(_fr.E_INVALID_UTF8, opcode)
        self._done = avail


class KeyPool:
    """Masking keys from the OS CSPRNG, drawn 4 KiB (1024 keys) at a time.

    RFC 6455 section 5.3 asks for an unpredictable key per frame; os.urandom
    is that, and a batch makes it cheap. A forked child draws a new batch so
    parent and child never reuse keys.
    """

    BATCH = 4096

    def __init__(self) -> None:
        self.reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self._keys: list[bytes] = []

    def take(self) -> bytes:
        # list.pop is atomic, with the GIL or without it (free-threaded
        # builds lock the list), so no key is handed out twice and no lock
        # is needed: a lock cost 5x the pop. Threads that find the list
        # empty at once each draw a batch and take from their own; only the
        # last one published stays.
        try:
            return self._keys.pop()
        except IndexError:
            batch = os.urandom(self.BATCH)
            keys = [batch[i:i + 4] for i in range(0, self.BATCH, 4)]
            key = keys.pop()
            self._keys = keys
            return key


_keys = KeyPool()


def build_frame(opcode: int, payload: object, *, fin: bool = True, rsv1: bool = False,
                mask: bool = False) -> bytes:
    """One frame's bytes: minimal length encoding (RFC 6455 section 5.2), and
    with ``mask`` a fresh key from the OS CSPRNG (section 5.3)."""
    data: bytes | memoryview
    if isinstance(payload, str):
        data = payload.encode("utf-8")
    elif type(payload) is bytes:
        data = payload
    else:
        data = _view(payload, "payload")
    opcode = _fr.check_opcode(opcode)
    n = len(data)
    err = _build_error(opcode, fin, rsv1, n)
    if err:
        raise _fr.build_error(err, opcode)
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    b1 = 0x80 if mask else 0
    if n <= 125:
        header = bytes((b0, b1 | n))
    elif n <= 0xFFFF:
        header = struct.pack("!BBH", b0, b1 | 126, n)
    else:
        header = struct.pack("!BBQ", b0, b1 | 127, n)
    if not mask:
        return header + data
    key = _keys.take()
    return header + key + _xor(data, key)


def _build_error(opcode: int, fin: bool, rsv1: bool, n: int) -> int:
    """wsf_header_encode's refusals, in the same order."""
    if 3 <= opcode <= 7 or opcode > 0xA:
        return _fr.E_RESERVED_OPCODE
    if opcode >= 8:
        if not fin:
            return _fr.E_CONTROL_FRAGMENTED
        if rsv1:
            return _fr.E_RSV1_CONTROL
        if n > _fr.CONTROL_MAX:
            return _fr.E_CONTROL_TOO_LONG
    if opcode == 0 and rsv1:
        return _fr.E_RSV1_CONTINUATION
    if n >> 63:
        return _fr.E_LENGTH_MSB
    return 0
