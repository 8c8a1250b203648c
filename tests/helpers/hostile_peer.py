"""A hand-driven peer for the hostile tests (tests/asyncio/test_hostile.py): raw
sockets on loopback, the opening handshake through ClientHandshake, then
whatever bytes a test wants, valid or not."""
from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from wsfast import FrameParser, Opcode, parse_close
from wsfast.deflate import PerMessageDeflate
from wsfast.handshake import ClientHandshake


def address(server: Any) -> tuple[str, int]:
    host, port = server.sockets[0].getsockname()[:2]
    return host, port


async def open_raw(server: Any, *, rcvbuf: int | None = None
                   ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection to the server; ``rcvbuf`` shrinks the socket's
    receive buffer so the kernel cannot absorb much of what the server
    writes to a peer that does not read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, address(server))
    return await asyncio.open_connection(sock=sock)


async def handshake(server: Any, *, deflate: bool = False, rcvbuf: int | None = None
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes, Any]:
    """Open a WebSocket connection by hand: reader, writer, the bytes that
    followed the 101, and the negotiated compression (or None)."""
    reader, writer = await open_raw(server, rcvbuf=rcvbuf)
    host, port = address(server)
    hs = ClientHandshake(f"ws://{host}:{port}/",
                         compression=PerMessageDeflate() if deflate else None)
    writer.write(hs.request_bytes())
    while True:
        data = await asyncio.wait_for(reader.read(4096), 10)
        assert data, "the server closed during the handshake"
        if hs.receive_data(data) is not None:
            return reader, writer, hs.leftover, hs.compression


def header(opcode: int, length: int, *, fin: bool = True, rsv1: bool = False,
           key: bytes | None = b"\x01\x02\x03\x04") -> bytes:
    """A frame header claiming ``length`` bytes (any 64-bit value, even the
    ones RFC 6455 forbids), masked with ``key`` unless it is None."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    mask = 0x80 if key is not None else 0
    if length < 126:
        out = bytes([b0, mask | length])
    elif length < 65536:
        out = bytes([b0, mask | 126]) + struct.pack("!H", length)
    else:
        out = bytes([b0, mask | 127]) + struct.pack("!Q", length)
    return out + (key or b"")


async def close_code(reader: asyncio.StreamReader, leftover: bytes = b"",
                     timeout: float = 10) -> tuple[int, list[Any]]:
    """Read server frames until its Close; its code and the frames before."""
    parser = FrameParser("client", max_frame_size=None, max_message_size=None)
    frames = parser.feed(leftover)
    while not any(f.opcode == Opcode.CLOSE for f in frames):
        data = await asyncio.wait_for(reader.read(65536), timeout)
        assert data, "connection closed without a close frame"
        frames += parser.feed(data)
    close = [f for f in frames if f.opcode == Opcode.CLOSE][0]
    return parse_close(close.payload)[0], frames


async def http_status(reader: asyncio.StreamReader, timeout: float = 10) -> int:
    """The status code of the server's HTTP response."""
    line = await asyncio.wait_for(reader.readline(), timeout)
    assert line.startswith(b"HTTP/1.1 "), line
    return int(line.split()[1])
