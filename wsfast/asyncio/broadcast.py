"""``broadcast()``: one message to many connections, encoded once."""
from __future__ import annotations

import logging
from typing import Iterable

from wsfast.asyncio.connection import Data, WebSocket
from wsfast.connection import State
from wsfast.frames import Opcode, build_frame

__all__ = ["broadcast"]

logger = logging.getLogger("wsfast")


def broadcast(connections: Iterable[WebSocket], message: Data) -> int:
    """Send message to every open connection without waiting; return how many
    got it.

    Server frames are not masked (RFC 6455 section 5.1), so the frame is built
    once and the same bytes go to every server-side connection; client-side
    connections mask their own copy. A connection whose write buffer is
    already above its high-water mark is skipped (and logged) rather than
    allowed to buffer without bound. Compression is not applied.
    """
    if isinstance(message, str):
        opcode, payload = Opcode.TEXT, message.encode()
    else:
        opcode, payload = Opcode.BINARY, bytes(message)
    frame = build_frame(opcode, payload)
    sent = 0
    for ws in connections:
        if ws.state is not State.OPEN or ws.transport is None or ws.transport.is_closing():
            continue
        if ws._writing_paused:
            logger.warning("%s: skipped by broadcast, write buffer full", ws.remote_address)
            continue
        if ws.role == "server":
            ws._write(frame)
        else:  # masked: a frame of its own
            ws._write(ws._conn.send_binary(payload) if opcode == Opcode.BINARY  # type: ignore[union-attr]
                      else ws._conn.send_text(message))  # type: ignore[union-attr, arg-type]
        sent += 1
    return sent
