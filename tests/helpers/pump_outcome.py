"""What the MessagePump checks compare (tests/asyncio/test_pump.py and
fuzz/fuzz_connection.py): a WebSocket past its handshake on a transport that
records what it is asked to do, fed chunks through its MessagePump or
through its general path, and everything it did after each chunk.
"""
from __future__ import annotations

from typing import Any

from helpers.connection_outcome import encode, sent_frames
from wsfast.asyncio.connection import WebSocket
from wsfast.connection import Connection
from wsfast.deflate import NegotiatedDeflate


class Transport:
    """Records what a WebSocket does to its transport."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.calls: list[str] = []
        self.protocol: Any = None

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def writelines(self, parts: list[bytes]) -> None:
        self.write(b"".join(parts))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_protocol(self) -> Any:
        return self.protocol

    def is_closing(self) -> bool:
        return False

    def can_write_eof(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        if name in ("pause_reading", "resume_reading", "abort", "close", "write_eof"):
            return lambda: self.calls.append(name)
        raise AttributeError(name)


def open_websocket(role: str, *, deflate: bool = False, max_queue: int = 16,
                   max_message_size: int | None = 1 << 20,
                   cls: type[WebSocket] = WebSocket,
                   transport_class: type[Transport] = Transport) -> tuple[WebSocket, Any]:
    """A WebSocket past its handshake on a recording transport (inside a loop)."""
    ws = cls(role, max_message_size=max_message_size, max_queue=max_queue,
             ping_interval=None, ping_timeout=None, close_timeout=5, open_timeout=None)
    transport = transport_class()
    transport.protocol = ws
    ws.connection_made(transport)  # type: ignore[arg-type]
    compression = NegotiatedDeflate() if deflate else None
    ws._opened_with(Connection(role, max_message_size=max_message_size,
                               compression=compression), b"")
    return ws, transport


def what_happened(ws: WebSocket, transport: Transport, delivered: list[Any],
                  role: str) -> Any:
    frames = sent_frames(b"".join(transport.written), role)
    return (list(delivered), list(ws._messages), frames, list(transport.calls), ws.close_code,
            ws.close_reason, int(ws.state), len(ws._timers), ws._inbox.paused)


#: Messages the on_message callback of ``run`` acts on.
WORDS = (b"boom", b"echo", b"unset", b"swap", b"again")


async def run(role: str, chunks: list[bytes], deflate: bool, callback: bool,
              max_queue: int, limit: int | None, through_pump: bool | str) -> Any:
    """Feed ``chunks`` (through the pump, or the general path; "buffer":
    through the pump as asyncio.BufferedProtocol, the buffer scribbled over
    after each read) to a fresh WebSocket; after each: what it did. With ``callback``, on_message records
    each message and acts on the WORDS: raise, echo, unset itself (the rest
    queues for recv()), swap in another callback, or feed one more message
    from inside the callback, as a synchronous transport would."""
    ws, transport = open_websocket(role, deflate=deflate, max_queue=max_queue,
                                   max_message_size=limit)
    delivered: list[Any] = []
    receive = transport.protocol.data_received if through_pump else ws._receive
    nested_receive = receive  # a synchronous transport's read, from a callback
    if through_pump == "buffer":
        pump = transport.protocol

        def receive(chunk: bytes) -> None:
            for start in range(0, max(len(chunk), 1), 1 << 16):
                piece = chunk[start:start + (1 << 16)]
                buffer = pump.get_buffer(-1)
                buffer[:len(piece)] = piece
                pump.buffer_updated(len(piece))
                buffer[:len(piece)] = b"\xaa" * len(piece)  # the next read's bytes
    nested = [encode([(1, True, b"nested", "plain")], role)]

    def on_message(message: Any) -> None:
        delivered.append(message)
        word = message.encode() if isinstance(message, str) else message
        if word == b"boom":
            raise ValueError("on_message failed on purpose")
        if word == b"echo":
            ws.send_nowait(message)
        elif word == b"unset":
            ws.on_message = None
        elif word == b"swap":
            ws.on_message = lambda other: delivered.append(("swapped", other))
        elif word == b"again" and nested:
            nested_receive(nested.pop())

    if callback:
        ws.on_message = on_message
    said = []
    for chunk in chunks:  # after each one: a state that a later one could hide
        receive(chunk)
        said.append(what_happened(ws, transport, delivered, role))
    for timer in ws._timers:
        timer.cancel()
    return said


async def echo(ws: WebSocket, consume: str) -> None:
    """An echo server's handler, by ``on_message`` and ``send_nowait`` or by
    ``async for`` and ``send``."""
    if consume == "on_message":
        ws.on_message = ws.send_nowait
        await ws.wait_closed()
    else:
        async for message in ws:
            await ws.send(message)
