"""Hostile and broken peers against a real ``wsfast.asyncio`` server (and
client) on 127.0.0.1: each must end in the HTTP status or close code RFC 6455
asks for, within a bounded time, without the server buffering more than its
limits. The hostile side is raw sockets (tests/helpers/hostile_peer.py).

Memory is measured with tracemalloc around the attack (server and peer run
in this process; the C extension allocates payloads as Python bytes, which
tracemalloc sees), against bounds derived from the configured limits, far
below what the attack would cost if it were buffered.

Already in tests/asyncio/test_asyncio.py and not repeated here: a slowloris that
sends part of a request once, an unmasked client frame to the server, a
cross-origin client refused, a slow reader pushing back the server's sends.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import zlib
from typing import Any, Iterator

import pytest

from helpers.aio import aio
from helpers.hostile_peer import address, close_code, handshake, header, http_status, open_raw
from wsfast import FrameParser, Opcode, build_frame, parse_close
from wsfast.asyncio import connect, serve
from wsfast.errors import ConnectionClosed
from wsfast.deflate import PerMessageDeflate
from wsfast.handshake import MAX_HEADER_BYTES, ServerHandshake

try:
    import tracemalloc
except ImportError:  # PyPy has none
    tracemalloc = None  # type: ignore[assignment]

# The memory bounds are measured with tracemalloc; where it is missing (PyPy)
# the tests that assert them skip, saying why.
needs_tracemalloc = pytest.mark.skipif(
    tracemalloc is None, reason="no tracemalloc in this interpreter: memory bounds not measurable")

MiB = 1 << 20
LIMIT = 256 * 1024  # max_message_size for the tests that attack it
# asyncio's selector transport reads into a 256 KiB buffer before trimming
# it: every figure below includes one such read.
READ = 256 * 1024


async def sink(ws: Any) -> None:
    """Reads and drops every message."""
    async for _ in ws:
        pass


@contextlib.contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Yields a list that holds, on exit, the peak of Python memory in bytes
    above what was allocated on entry."""
    result: list[int] = []
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        yield result
        result.append(tracemalloc.get_traced_memory()[1] - base)
    finally:
        tracemalloc.stop()


# --- the opening handshake --------------------------------------------------


@aio
async def test_slowloris_that_keeps_trickling_is_dropped_at_open_timeout() -> None:
    # Unlike a peer that goes quiet, this one sends a header byte every 20 ms
    # forever: only a deadline on the whole handshake stops it.
    async with serve(sink, "127.0.0.1", 0, open_timeout=0.5) as server:
        reader, writer = await open_raw(server)
        start = time.monotonic()

        async def trickle() -> None:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            with contextlib.suppress(ConnectionError):
                for _ in range(500):  # 10 s at most
                    writer.write(b"a")
                    await writer.drain()
                    await asyncio.sleep(0.02)

        task = asyncio.ensure_future(trickle())
        try:
            response = await asyncio.wait_for(reader.read(), 5)
        except ConnectionResetError:  # a byte trickled in after the drop
            response = b""
        assert response == b""  # dropped, no response
        elapsed = time.monotonic() - start
        task.cancel()
        writer.close()
        assert elapsed < 4.5  # an upper bound only: it did not wait for the trickle to end
        assert not server.connections


@aio
async def test_cross_site_hijacking_attempt_is_403_and_never_reaches_the_handler() -> None:
    ran = []

    async def handler(ws: Any) -> None:
        ran.append(ws)

    async with serve(handler, "127.0.0.1", 0) as server:
        host, port = address(server)
        for origin in (b"https://evil.example", b"null", b"http://127.0.0.1:1"):
            reader, writer = await open_raw(server)
            # What a browser sends for a page on another site (with the
            # victim's cookies): right Host, foreign Origin.
            writer.write(b"GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                         b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         b"Cookie: session=secret\r\nOrigin: %s\r\n\r\n"
                         % (host.encode(), port, origin))
            assert await http_status(reader) == 403, origin
            assert await asyncio.wait_for(reader.read(), 5) is not None
            writer.close()
    assert ran == []


def header_stream(kind: str, total: int) -> Iterator[bytes]:
    """``total`` bytes of request head that never end it."""
    yield b"GET / HTTP/1.1\r\nHost: x\r\n"
    if kind == "one long line":
        line = b"X-Big: "
        while total > 0:
            yield line + b"a" * 65536
            line, total = b"", total - 65536
    else:
        line = b"X-Pad-%d: " + b"b" * 50 + b"\r\n"
        chunk = b"".join(line % i for i in range(1000))
        while total > 0:
            yield chunk
            total -= len(chunk)


@needs_tracemalloc
@pytest.mark.parametrize("kind", ["one long line", "many fields"])
@aio
async def test_ten_megabyte_header_is_431_without_buffering_it(kind: str) -> None:
    async with serve(sink, "127.0.0.1", 0) as server:
        reader, writer = await open_raw(server)
        sent = 0
        with peak_memory() as peak:
            with contextlib.suppress(ConnectionError):
                for chunk in header_stream(kind, 10 * MiB):
                    writer.write(chunk)
                    sent += len(chunk)
                    await writer.drain()
            status = await http_status(reader)
        writer.close()
    assert status == 431
    # The server holds at most the header limit plus one read (256 KiB in
    # asyncio); the peer's chunks (64 KiB) are in the figure too.
    assert peak[0] < 2 * MiB, peak[0]
    assert MAX_HEADER_BYTES < 2 * MiB


@pytest.mark.parametrize("request_bytes, status", [
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) * 2, 400),  # TLS hello
    (b"\x00" * 64 + b"\r\n\r\n", 400),
    (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(300))
     + b"\r\n", 431),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 400),
])
@aio
async def test_garbage_or_malformed_request_is_an_http_error(request_bytes: bytes,
                                                              status: int) -> None:
    async with serve(sink, "127.0.0.1", 0) as server:
        reader, writer = await open_raw(server)
        writer.write(request_bytes)
        assert await http_status(reader) == status
        assert await asyncio.wait_for(reader.read(), 5) is not None  # then closed
        writer.close()
        # The server keeps serving.
        async with connect(f"ws://127.0.0.1:{address(server)[1]}/") as ws:
            await ws.send("still here")


# --- frames -----------------------------------------------------------------


@pytest.mark.parametrize("length, code", [(2 ** 63 - 1, 1009), (2 ** 63, 1002),
                                          (2 ** 64 - 1, 1002), (LIMIT + 1, 1009)])
@needs_tracemalloc
@aio
async def test_frame_claiming_a_huge_length_is_refused_before_any_payload(length: int,
                                                                          code: int) -> None:
    # 2^63 and up have the most significant bit set, which RFC 6455 section
    # 5.2 forbids (1002); below that the claim is just too big (1009).
    async with serve(sink, "127.0.0.1", 0, max_message_size=LIMIT) as server:
        reader, writer, leftover, _ = await handshake(server)
        with peak_memory() as peak:
            writer.write(header(Opcode.BINARY, length) + os.urandom(4096))
            got, _ = await close_code(reader, leftover)
        writer.close()
    assert got == code
    assert peak[0] < READ + 64 * 1024, peak[0]  # one read; nothing of the claimed size


@needs_tracemalloc
@aio
async def test_fragmented_message_that_never_ends_is_1009_at_max_message_size() -> None:
    async with serve(sink, "127.0.0.1", 0, max_message_size=LIMIT) as server:
        reader, writer, leftover, _ = await handshake(server)
        fragment = os.urandom(16 * 1024)
        with peak_memory() as peak:
            writer.write(build_frame(Opcode.BINARY, fragment, fin=False, mask=True))
            for _ in range(LIMIT // len(fragment)):  # one fragment past the limit
                writer.write(build_frame(Opcode.CONTINUATION, fragment, fin=False, mask=True))
            got, frames = await close_code(reader, leftover)
        writer.close()
    assert got == 1009
    # The message's parts (the limit) and one read of frames, not more.
    assert peak[0] < 4 * LIMIT, peak[0]


@needs_tracemalloc
@aio
async def test_decompression_bomb_is_1009_with_bounded_memory() -> None:
    async with serve(sink, "127.0.0.1", 0, max_message_size=LIMIT) as server:
        reader, writer, leftover, deflate = await handshake(server, deflate=True)
        assert deflate is not None
        compressor = zlib.compressobj(9, zlib.DEFLATED, -deflate.local_max_window_bits)
        bomb = compressor.compress(bytes(64 * MiB)) + compressor.flush(zlib.Z_SYNC_FLUSH)
        assert len(bomb) < LIMIT // 2  # 64 MiB inflated, a small frame on the wire
        with peak_memory() as peak:
            writer.write(build_frame(Opcode.BINARY, bomb[:-4], rsv1=True, mask=True))
            got, _ = await close_code(reader, leftover)
        writer.close()
    assert got == 1009
    assert peak[0] < 4 * LIMIT, peak[0]  # the limit plus the frame, never 64 MiB


@pytest.mark.parametrize("attack, code", [
    (build_frame(Opcode.TEXT, b"caf\xc3\x28", mask=True), 1007),
    (header(Opcode.BINARY, 4, rsv1=True) + b"oops", 1002),
    (build_frame(Opcode.CLOSE, b"\x03\xe7", mask=True), 1002),  # close code 999
], ids=["invalid UTF-8", "RSV1 not negotiated", "close code 999"])
@aio
async def test_server_ends_the_tcp_connection_after_failing_without_close_timeout(
        attack: bytes, code: int) -> None:
    # RFC 6455 section 7.1.7: the Close, then the end of the connection from
    # the server; not a socket held for close_timeout (60 s here) per bad
    # frame. More frames follow the bad one, unread by the server.
    ended = asyncio.Event()

    async def handler(ws: Any) -> None:
        with contextlib.suppress(ConnectionClosed):
            await sink(ws)
        await ws.wait_closed()
        ended.set()

    async with serve(handler, "127.0.0.1", 0, close_timeout=60) as server:
        reader, writer, leftover, _ = await handshake(server)
        writer.write(attack + build_frame(Opcode.BINARY, b"more" * 1000, mask=True) * 20)
        got, _ = await close_code(reader, leftover)
        assert got == code
        # The Close is followed by the end of the stream (a half close),
        # while the peer's own Close and data are still on their way.
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.write(build_frame(Opcode.CLOSE, b"\x03\xe8", mask=True))
        writer.close()
        await asyncio.wait_for(ended.wait(), 10)


@pytest.mark.parametrize("style", ["async for", "on_message"])
@aio
async def test_messages_before_a_violation_are_answered_before_the_close(style: str) -> None:
    # Autobahn 3.2, 5.15: a message and a violation in one read; the echo of
    # the message goes out first, then the Close, then the end.
    async def echo(ws: Any) -> None:
        if style == "on_message":
            ws.on_message = ws.send_nowait
            await ws.wait_closed()
            return
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, close_timeout=60) as server:
        reader, writer, leftover, _ = await handshake(server)
        writer.write(build_frame(Opcode.TEXT, "first", mask=True)
                     + build_frame(Opcode.BINARY, b"second", mask=True)
                     + header(Opcode.TEXT, 2, rsv1=True) + b"no")  # RSV1 not negotiated
        got, frames = await close_code(reader, leftover)
        assert got == 1002
        assert [(f.opcode, f.payload) for f in frames] == [
            (Opcode.TEXT, b"first"), (Opcode.BINARY, b"second"), (Opcode.CLOSE, frames[-1].payload)]
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()


@aio
async def test_invalid_utf8_in_a_frame_not_yet_complete_fails_fast_with_1007() -> None:
    # Autobahn 6.4.3: the frame's rest never comes; its first bytes cannot
    # be UTF-8, which is enough.
    async with serve(sink, "127.0.0.1", 0) as server:
        reader, writer, leftover, _ = await handshake(server)
        key = b"\x01\x02\x03\x04"
        start = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"
        writer.write(header(Opcode.TEXT, 1000, key=key)
                     + bytes(b ^ key[i & 3] for i, b in enumerate(start)))
        got, _ = await close_code(reader, leftover)
        writer.close()
    assert got == 1007


@pytest.mark.parametrize("first, second", [
    (b"caf\xc3", b"\x28 and on"),        # a continuation byte that is not one
    (b"half a surrogate \xed", b"\xa0\x80"),  # U+D800, refused in UTF-8
    (b"too high \xf4", b"\x90\x80\x80"),     # above U+10FFFF
])
@aio
async def test_invalid_utf8_split_across_fragments_fails_fast_with_1007(
        first: bytes, second: bytes) -> None:
    # The message never ends: the Close can only come from checking the
    # fragments as they arrive.
    async with serve(sink, "127.0.0.1", 0) as server:
        reader, writer, leftover, _ = await handshake(server)
        writer.write(build_frame(Opcode.TEXT, first, fin=False, mask=True))
        writer.write(build_frame(Opcode.CONTINUATION, second, fin=False, mask=True))
        got, _ = await close_code(reader, leftover)
        writer.close()
    assert got == 1007


@aio
async def test_ping_flood_from_a_peer_that_never_reads_keeps_pongs_bounded() -> None:
    # 30000 pings of 125 bytes owe 3.8 MB of pongs. The peer reads nothing
    # until the flood is over; the server may answer only the latest pings
    # (RFC 6455 section 5.5.3) and must not pile up the rest.
    server_side: list[Any] = []
    flood_read = asyncio.Event()

    async def handler(ws: Any) -> None:
        # A small kernel send buffer: what the server holds is what it keeps
        # in user space, not what the kernel absorbs.
        ws.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET,
                                                         socket.SO_SNDBUF, 8192)
        server_side.append(ws)
        async for message in ws:
            if message == b"end of flood":
                flood_read.set()

    count = 30000
    async with serve(handler, "127.0.0.1", 0, ping_interval=None) as server:
        reader, writer, leftover, _ = await handshake(server, rcvbuf=8192)
        for i in range(count):
            writer.write(build_frame(Opcode.PING, b"%06d" % i + b"p" * 119, mask=True))
            if i % 1000 == 999:
                await writer.drain()
        writer.write(build_frame(Opcode.BINARY, b"end of flood", mask=True))
        await asyncio.wait_for(flood_read.wait(), 15)
        ws = server_side[0]
        held = ws.transport.get_write_buffer_size() + len(ws._held_pongs)
        # Now read: the pongs that come must include the last ping's.
        parser = FrameParser("client", max_frame_size=None, max_message_size=None)
        pongs = [f.payload for f in parser.feed(leftover) if f.opcode == Opcode.PONG]
        last = b"%06d" % (count - 1) + b"p" * 119
        while last not in pongs:
            data = await asyncio.wait_for(reader.read(65536), 10)
            assert data, "connection closed before the last pong"
            pongs += [f.payload for f in parser.feed(data) if f.opcode == Opcode.PONG]
        writer.close()
    assert held < 1 * MiB, held  # 3.8 MB if every pong were kept
    assert len(pongs) <= count


@aio
async def test_peer_that_never_reads_is_dropped_at_write_timeout() -> None:
    await never_reads_dropped_at_write_timeout()


def test_peer_that_never_reads_is_dropped_at_write_timeout_on_uvloop() -> None:
    # There large payloads go out by reference (writelines): uvloop's must
    # push back as its write does.
    uvloop = pytest.importorskip("uvloop", reason="pip install uvloop")
    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(never_reads_dropped_at_write_timeout(), 20))
    finally:
        loop.close()


async def never_reads_dropped_at_write_timeout() -> None:
    outcome: list[Any] = []
    most_buffered = [0]
    done = asyncio.Event()

    async def flood(ws: Any) -> None:
        ws.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET,
                                                         socket.SO_SNDBUF, 8192)
        chunk = os.urandom(65536)
        try:
            for _ in range(2000):  # 128 MiB if nothing pushed back
                await ws.send(chunk)
                most_buffered[0] = max(most_buffered[0], ws.transport.get_write_buffer_size())
            outcome.append("sent everything")
        except ConnectionClosed as exc:
            outcome.append(exc)
        finally:
            done.set()

    async with serve(flood, "127.0.0.1", 0, compression=None, write_timeout=0.5,
                     ping_interval=None) as server:
        reader, writer, _, _ = await handshake(server, rcvbuf=8192)
        start = time.monotonic()
        await asyncio.wait_for(done.wait(), 10)
        elapsed = time.monotonic() - start
        writer.close()
    assert isinstance(outcome[0], ConnectionClosed), outcome
    assert elapsed < 8  # upper bound: the timeout fired, not the test's deadline
    # Transport high-water mark (64 KiB) plus one message, never 128 MiB.
    assert most_buffered[0] <= 64 * 1024 + 65536 + 14


@aio
async def test_peer_that_never_reads_is_dropped_by_the_keepalive_without_write_timeout(
        ) -> None:
    # The default has no write_timeout; the keepalive ping bounds the wait.
    done = asyncio.Event()
    outcome: list[Any] = []

    async def flood(ws: Any) -> None:
        chunk = os.urandom(65536)
        try:
            for _ in range(2000):
                await ws.send(chunk)
        except ConnectionClosed as exc:
            outcome.append(exc)
        finally:
            done.set()

    async with serve(flood, "127.0.0.1", 0, compression=None, ping_interval=0.2,
                     ping_timeout=0.3, close_timeout=0.3) as server:
        reader, writer, _, _ = await handshake(server, rcvbuf=8192)
        await asyncio.wait_for(done.wait(), 10)
        writer.close()
    assert outcome and isinstance(outcome[0], ConnectionClosed)


# --- the client side --------------------------------------------------------


def bomb(window_bits: int) -> bytes:
    """64 MiB of zeros as one permessage-deflate payload (about 64 KiB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -window_bits)
    return (compressor.compress(bytes(64 * MiB)) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


SERVER_ATTACKS = {
    "masked frame": (lambda: build_frame(Opcode.TEXT, b"servers must not mask", mask=True),
                     1002),
    "2^63-1 bytes claimed": (lambda: header(Opcode.BINARY, 2 ** 63 - 1, key=None), 1009),
    "decompression bomb": (lambda: build_frame(Opcode.BINARY, bomb(15), rsv1=True), 1009),
    "invalid UTF-8 in a fragment": (
        lambda: build_frame(Opcode.TEXT, b"ok \xed\xa0\x80", fin=False), 1007),
}


@pytest.mark.parametrize("attack", list(SERVER_ATTACKS))
@needs_tracemalloc
@aio
async def test_client_refuses_a_hostile_server(attack: str) -> None:
    make, expected = SERVER_ATTACKS[attack]
    attack_bytes = make()  # built before memory is measured (the bomb takes 64 MiB)
    got: list[Any] = []

    async def rogue_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Accepts permessage-deflate with server context takeover, so the
        # bomb's window (15 bits) is valid.
        hs = ServerHandshake(compression=PerMessageDeflate())
        request = None
        while request is None:
            request = hs.receive_data(await reader.read(4096))
        writer.write(hs.accept(request))
        writer.write(attack_bytes)
        parser = FrameParser("server")
        frames: list[Any] = []
        while not any(f.opcode == Opcode.CLOSE for f in frames):
            data = await asyncio.wait_for(reader.read(4096), 10)
            if not data:
                break
            frames += parser.feed(data)
        got.extend(parse_close(f.payload)[0] for f in frames if f.opcode == Opcode.CLOSE)
        writer.close()

    server = await asyncio.start_server(rogue_server, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        ws = await connect(f"ws://127.0.0.1:{port}/", close_timeout=1,
                           max_message_size=LIMIT)
        with peak_memory() as peak:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            await ws.wait_closed()
    assert got == [expected]
    assert peak[0] < 4 * LIMIT, peak[0]
