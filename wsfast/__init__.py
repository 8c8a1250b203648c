"""wsfast: RFC 6455 WebSocket framing at C speed for Python.

The kernels (masking, UTF-8 validation, the frame codec) are C with SIMD when
the extension is built, and pure Python with the same results when it is not:
``IMPLEMENTATION`` says which, ``KERNEL`` which C variant runs.

Above them: the opening handshake (``ClientHandshake``, ``ServerHandshake``),
permessage-deflate (``PerMessageDeflate``) and the sans-IO ``Connection``
with its events.
"""
from wsfast._impl import (IMPLEMENTATION, KERNEL, Utf8Validator, apply_mask,
                          available_kernels, mask_into, validate_utf8)
from wsfast._version import __version__
from wsfast.connection import Connection, State
from wsfast.deflate import NegotiatedDeflate, PerMessageDeflate
from wsfast.errors import (ConnectionClosed, HandshakeError, InvalidUTF8, MessageTooBig,
                           ProtocolError, WebSocketError)
from wsfast.events import (BinaryFragment, BinaryMessage, CloseReceived, Event, Ping, Pong,
                           TextFragment, TextMessage)
from wsfast.frames import (CloseCode, Frame, FrameParser, Opcode, build_frame, encode_close,
                           parse_close)
from wsfast.handshake import ClientHandshake, ServerHandshake, accept_key


def patch(*names: str) -> dict[str, str]:
    """Speed up installed WebSocket libraries in place (see wsfast.integrations).

    With no names: every supported library that is installed. Returns what is
    patched now, e.g. ``{"websockets": "c (avx2)"}``.
    """
    from wsfast.integrations import patch as _patch
    return _patch(*names)


def unpatch(*names: str) -> None:
    """Restore the original objects ``patch()`` replaced (default: everywhere)."""
    from wsfast.integrations import unpatch as _unpatch
    _unpatch(*names)


def patched() -> dict[str, str]:
    """Which libraries are patched, each with the implementation it runs on."""
    from wsfast.integrations import patched as _patched
    return _patched()


__all__ = [
    "BinaryFragment",
    "BinaryMessage",
    "ClientHandshake",
    "CloseCode",
    "CloseReceived",
    "Connection",
    "ConnectionClosed",
    "Event",
    "Frame",
    "FrameParser",
    "HandshakeError",
    "IMPLEMENTATION",
    "InvalidUTF8",
    "KERNEL",
    "MessageTooBig",
    "NegotiatedDeflate",
    "Opcode",
    "PerMessageDeflate",
    "Ping",
    "Pong",
    "ProtocolError",
    "ServerHandshake",
    "State",
    "TextFragment",
    "TextMessage",
    "Utf8Validator",
    "WebSocketError",
    "accept_key",
    "apply_mask",
    "available_kernels",
    "build_frame",
    "encode_close",
    "mask_into",
    "parse_close",
    "patch",
    "patched",
    "unpatch",
    "validate_utf8",
    "__version__",
]
