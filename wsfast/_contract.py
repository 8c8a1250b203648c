"""The contract between csrc/ and Python: what the C binding (_speedups)
and its pure twin (_pure) share, so that both give the same results.

The C parser (csrc/frame.c) reports a refused frame as a wsf_frame_error
number (csrc/wsfast.h; tests/core/test_contract.py checks the two tables
agree); this module turns it into the error a peer needs to hear (close
code) with a reason a person understands. Also the limits and argument
checks both twins apply.
"""
from __future__ import annotations

import importlib
import operator
import os
import zlib
from types import ModuleType

from wsfast.errors import InvalidUTF8, MessageTooBig, ProtocolError

# A frame's payload over this is refused unless the parser is told otherwise
# (the same default as websockets' max_size).
DEFAULT_MAX_FRAME_SIZE = 1 << 20
# "No limit", as the C parser's uint64 fields spell it.
UNLIMITED = (1 << 64) - 1

CONTROL_MAX = 125  # RFC 6455 section 5.5

# csrc/wsfast.h's wsf_frame_error numbers, WSF_ERR_RESERVED_OPCODE to
# WSF_ERR_INVALID_UTF8.
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
    from wsfast.frames import Opcode  # built after this module; needed only here
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


def validate_mode(value: object) -> int:
    """FrameParser's ``validate_utf8`` as csrc/wsfast.h spells it: 0, 1, or
    2 for "incomplete" (only text that arrives in pieces: see there)."""
    if value == "incomplete":
        return 2
    if isinstance(value, str):
        raise ValueError(f'validate_utf8 must be True, False or "incomplete", not {value!r}')
    return 1 if value else 0


def deflate_bound(size: int) -> int:
    """The most bytes deflate may produce for ``size`` bytes of input
    (5-byte stored-block headers, generously); UNLIMITED stays so."""
    return UNLIMITED if size >= UNLIMITED - (size >> 8) - 64 else size + (size >> 8) + 64


def zlib_module() -> ModuleType:
    """The zlib binding permessage-deflate uses: zlib-ng's drop-in one
    where it is installed (``pip install 'wsfast[zlib-ng]'``: the same
    format, deflate about 2.5x as fast at 1 KiB), else the standard one.
    WSFAST_ZLIB=zlib forces the standard one, WSFAST_ZLIB=zlib-ng zlib-ng's."""
    choice = os.environ.get("WSFAST_ZLIB", "")
    if choice not in ("", "zlib", "zlib-ng"):
        raise ValueError(f'WSFAST_ZLIB must be "zlib" or "zlib-ng", not {choice!r}')
    if choice != "zlib":
        try:
            return importlib.import_module("zlib_ng.zlib_ng")
        except ImportError:
            if choice:
                raise
    return zlib


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
