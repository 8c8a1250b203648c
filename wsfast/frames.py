"""Frames (RFC 6455 section 5): parse bytes from the wire, build frames,
encode and parse close payloads (section 5.5.1, 7.4).

FrameParser, Frame and build_frame are C (csrc/frame.c) when the extension
is built and their pure-Python twins otherwise, with the same results.
"""
from __future__ import annotations

import enum

from wsfast._contract import DEFAULT_MAX_FRAME_SIZE
from wsfast._impl import Frame, FrameParser, build_frame, validate_utf8
from wsfast.errors import InvalidUTF8, ProtocolError

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "CloseCode", "Frame", "FrameParser", "Opcode",
           "build_frame", "encode_close", "parse_close"]


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


# A close frame is a control frame (125 bytes at most) and starts with a
# 2-byte code, which leaves 123 bytes for the reason.
MAX_CLOSE_REASON = 123


def is_sendable_close_code(code: int) -> bool:
    """Whether a close frame may carry ``code`` (RFC 6455 section 7.4).

    1004 is reserved, 1005, 1006 and 1015 only report what happened locally,
    1016-2999 are unassigned; 3000-4999 belong to libraries and applications.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def encode_close(code: int, reason: str = "") -> bytes:
    """A close frame's payload: the 2-byte code, then the UTF-8 reason."""
    if not is_sendable_close_code(code):
        raise ValueError(f"close code {code} may not be sent in a close frame "
                         "(RFC 6455 section 7.4)")
    data = reason.encode("utf-8")
    if len(data) > MAX_CLOSE_REASON:
        raise ValueError(f"close reason of {len(data)} bytes in UTF-8 is longer than "
                         f"{MAX_CLOSE_REASON} bytes")
    return code.to_bytes(2, "big") + data


def parse_close(payload: bytes | bytearray | memoryview) -> tuple[int, str]:
    """A close frame's (code, reason); an empty payload is (1005, "").

    A 1-byte payload, a code that may not be sent or a payload over 125
    bytes is a ProtocolError (1002); a reason that is not UTF-8 InvalidUTF8.
    """
    data = bytes(payload)
    if not data:
        return CloseCode.NO_STATUS_RCVD, ""
    if len(data) == 1:
        raise ProtocolError(1002, "close frame payload of 1 byte; a close code takes 2")
    if len(data) > 125:
        raise ProtocolError(1002, f"close frame payload of {len(data)} bytes is longer "
                                  "than a control frame may be (125)")
    code = int.from_bytes(data[:2], "big")
    if not is_sendable_close_code(code):
        raise ProtocolError(1002, f"close code {code} may not appear in a close frame")
    if not validate_utf8(data[2:]):
        raise InvalidUTF8(1007, "close reason is not valid UTF-8")
    return (CloseCode(code) if code < 3000 else code), data[2:].decode("utf-8")
