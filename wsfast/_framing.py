"""What both framing twins share: opcodes, close codes, error texts, limits.

The C parser (csrc/frame.c) reports a refused frame as a number; this module
turns that number into the error a peer needs to hear (close code) with a
reason a person understands, so the C and pure-Python parsers raise the very
same errors. wsfast.frames re-exports the public names.
"""
from __future__ import annotations

import enum
import operator
import os

from wsfast.errors import InvalidUTF8, MessageTooBig, ProtocolError

__all__ = ["CloseCode", "DEFAULT_MAX_FRAME_SIZE", "Opcode"]


class Opcode(enum.IntEnum):
    """Frame opcodes (RFC 6455 section 5.2); 3-7 and 0xB-0xF are reserved."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class CloseCode(enum.IntEnum):
    """Close status codes (RFC 6455 section 7.4.1, names from the IANA
    WebSocket Close Code Number Registry)."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    RESERVED = 1004
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


# A frame's payload over this is refused unless the parser is told otherwise
# (the same default as websockets' max_size).
DEFAULT_MAX_FRAME_SIZE = 1 << 20
# "No limit", as the C parser's uint64 fields spell it.
UNLIMITED = (1 << 64) - 1

CONTROL_MAX = 125  # RFC 6455 section 5.5
# Bytes an open WebSocket's MessagePump holds back while corked before it
# writes them anyway: a burst of sends stays bounded, and the transport's
# flow control (pause_writing above its high-water mark) still sees it.
CORK_LIMIT = 64 * 1024

# csrc/wsfast.h's wsf_frame_error numbers.
(E_RESERVED_OPCODE, E_CONTROL_FRAGMENTED, E_RSV2, E_RSV3, E_RSV1_CONTROL,
 E_RSV1_CONTINUATION, E_RSV1, E_CONTINUATION_WITHOUT_START, E_MESSAGE_INTERLEAVED,
 E_UNMASKED, E_MASKED, E_CONTROL_TOO_LONG, E_LENGTH_MSB, E_FRAME_TOO_BIG,
 E_MESSAGE_TOO_BIG, E_INVALID_UTF8) = range(1, 17)

_REASONS = {
    E_RESERVED_OPCODE: "reserved opcode {opcode:#x} (RFC 6455 section 5.2)",
    E_CONTROL_FRAGMENTED: "fragmented control frame ({name} with FIN clear); "
                          "control frames must not be fragmented",
    E_RSV2: "RSV2 bit set, but no extension that uses it was negotiated",
    E_RSV3: "RSV3 bit set, but no extension that uses it was negotiated",
    E_RSV1_CONTROL: "RSV1 bit set on a control frame ({name})",
    E_RSV1_CONTINUATION: "RSV1 bit set on a continuation frame; "
                         "only a message's first frame may carry it",
    E_RSV1: "RSV1 bit set, but no extension that uses it was negotiated",
    E_CONTINUATION_WITHOUT_START: "continuation frame without a message to continue",
    E_MESSAGE_INTERLEAVED: "new {name} frame before the fragmented message "
                           "in progress was finished",
    E_UNMASKED: "unmasked frame from a client; clients must mask every frame",
    E_MASKED: "masked frame from a server; servers must not mask frames",
    E_CONTROL_TOO_LONG: "control frame ({name}) longer than 125 bytes",
    E_LENGTH_MSB: "64-bit payload length with its most significant bit set",
    E_FRAME_TOO_BIG: "frame of {length} bytes exceeds the limit of {limit} bytes",
    E_MESSAGE_TOO_BIG: "message of at least {length} bytes exceeds the limit of {limit} bytes",
    E_INVALID_UTF8: "text message is not valid UTF-8",
}


def opcode_name(opcode: int) -> str:
    try:
        return Opcode(opcode).name
    except ValueError:
        return f"opcode {opcode:#x}"


def frame_error(err: int, opcode: int, length: int = 0, limit: int = 0) -> ProtocolError:
    """The error for wsf_frame_error ``err``: ``length`` and ``limit`` are
    the sizes behind a *_TOO_BIG error."""
    reason = _REASONS[err].format(opcode=opcode, name=opcode_name(opcode),
                                  length=length, limit=limit)
    if err == E_INVALID_UTF8:
        return InvalidUTF8(1007, reason)
    if err in (E_FRAME_TOO_BIG, E_MESSAGE_TOO_BIG):
        return MessageTooBig(1009, reason)
    return ProtocolError(1002, reason)


def build_error(err: int, opcode: int) -> ValueError:
    """build_frame's refusal of a frame that may not be sent."""
    if err == E_LENGTH_MSB:
        return ValueError("payload of 2**63 bytes or more cannot be framed")
    return ValueError("cannot build this frame: " + _REASONS[err].format(
        opcode=opcode, name=opcode_name(opcode), length=0, limit=0))


def server_role(role: str) -> bool:
    """True for "server" (frames from clients arrive masked), False for "client"."""
    if role == "server":
        return True
    if role == "client":
        return False
    raise ValueError(f'role must be "server" or "client", not {role!r}')


def limit(value: int | None, name: str) -> int:
    """A size limit as an int, UNLIMITED for None."""
    if value is None:
        return UNLIMITED
    value = operator.index(value)
    if not 0 <= value <= UNLIMITED:
        raise ValueError(f"{name} must be a size in bytes or None, not {value}")
    return value


def check_opcode(opcode: int) -> int:
    opcode = operator.index(opcode)
    if not 0 <= opcode <= 0xF:
        raise ValueError(f"opcode must be 0 to 15, not {opcode}")
    return opcode


def frame_repr(frame: object) -> str:
    payload = frame.payload  # type: ignore[attr-defined]
    shown = repr(payload[:32]) + (f"...({len(payload)} bytes)" if len(payload) > 32 else "")
    flags = "".join(f", {name}=True" for name in ("rsv1", "rsv2", "rsv3")
                    if getattr(frame, name))
    return (f"Frame({opcode_name(frame.opcode)}, {shown}, "  # type: ignore[attr-defined]
            f"fin={bool(frame.fin)}{flags})")  # type: ignore[attr-defined]


FRAME_FIELDS = ("opcode", "fin", "rsv1", "rsv2", "rsv3", "payload")


def frame_fields(frame: object) -> tuple[object, ...] | None:
    """A frame's fields as a tuple, or None for an object that is not a frame."""
    try:
        return tuple(getattr(frame, name) for name in FRAME_FIELDS)
    except AttributeError:
        return None


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
