"""wsfast's errors: each carries what the peer needs to hear.

A protocol violation carries the close code to send (RFC 6455 section 7.4.1);
a failed opening handshake carries the HTTP status to answer with.
"""
from __future__ import annotations

__all__ = ["ConnectionClosed", "HandshakeError", "InvalidUTF8", "MessageTooBig",
           "ProtocolError", "WebSocketError"]


class WebSocketError(Exception):
    """Base class of every wsfast error."""


class ProtocolError(WebSocketError):
    """The peer broke RFC 6455; close the connection with ``close_code``."""

    default_code = 1002

    def __init__(self, close_code: int | None = None, reason: str = "") -> None:
        self.close_code = self.default_code if close_code is None else close_code
        self.reason = reason
        super().__init__(f"{reason} (close code {self.close_code})" if reason
                         else f"close code {self.close_code}")


class InvalidUTF8(ProtocolError):
    """A text message or close reason is not valid UTF-8 (close code 1007)."""

    default_code = 1007


class MessageTooBig(ProtocolError):
    """A frame or message exceeds the configured limit (close code 1009)."""

    default_code = 1009


class HandshakeError(WebSocketError):
    """The opening handshake failed; answer with HTTP ``status`` (400, 403, 426...).

    ``headers`` are extra response headers the status calls for, such as
    ``Sec-WebSocket-Version: 13`` with 426.
    """

    def __init__(self, status: int, reason: str,
                 headers: list[tuple[str, str]] | None = None) -> None:
        self.status = status
        self.reason = reason
        self.headers = list(headers or [])
        super().__init__(f"HTTP {status}: {reason}")


class ConnectionClosed(WebSocketError):
    """The connection is closed; ``code`` and ``reason`` are what the peer sent
    (1006 when the connection dropped without a close frame)."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"connection closed: {code} {reason}".rstrip())
