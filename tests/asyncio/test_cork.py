"""Joined writes: while an open WebSocket handles one read, or a burst of
queued messages, its MessagePump holds the writes and hands them to the
transport as one (wsfast/asyncio/_pump.pyx and its twin, _pump_py.py).

What must hold: the peer gets the same bytes in the same order as with one
write per frame (checked by parsing them with a Connection), a held write
is never lost or delayed past the event loop's next turn, nothing held
survives a close, and the amount held is bounded (CORK_LIMIT).
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

import wsfast
from helpers.aio import aio
from helpers.connection_outcome import encode, sent_frames
from helpers.pump_outcome import Transport, echo, open_websocket
from wsfast.asyncio import broadcast

from wsfast.asyncio._pump_py import CORK_LIMIT  # the C pump has the same


class Recorder(Transport):
    """A transport that records writes and closes in one ordered list."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Any] = []
        self.parts: list[list[bytes]] = []

    def write(self, data: bytes) -> None:
        super().write(data)
        self.log.append(bytes(data))

    def writelines(self, parts: list[bytes]) -> None:
        # Kept as given, joined only when read (as a transport that queues
        # them): a part changed after the call would show.
        self.parts.append(list(parts))
        self.log.append(self.parts[-1])

    def writes(self) -> list[int]:
        """The size of each write or writelines call, in order."""
        return [len(x) if isinstance(x, bytes) else sum(map(len, x))
                for x in self.log if x not in ("close", "abort")]

    def buffers(self) -> list[bytes]:
        """Every buffer handed to the transport, in order."""
        return [b for x in self.log if x not in ("close", "abort")
                for b in (x if isinstance(x, list) else [x])]

    def on_the_wire(self) -> bytes:
        return b"".join(b"".join(x) if isinstance(x, list) else x
                        for x in self.log if x not in ("close", "abort"))

    def close(self) -> None:
        self.log.append("close")

    def abort(self) -> None:
        self.log.append("abort")


def opened(role: str = "server") -> tuple[Any, Recorder]:
    return open_websocket(role, transport_class=Recorder)


def messages(*payloads: bytes, role: str = "server") -> bytes:
    return encode([(2, True, p, "plain") for p in payloads], role)


@aio
async def test_replies_to_one_read_go_out_as_one_write_in_order() -> None:
    ws, transport = opened()
    ws.on_message = ws.send_nowait
    payloads = [b"one", b"two", b"three" * 50, b""]
    transport.protocol.data_received(messages(*payloads))
    assert len(transport.written) == 1
    assert sent_frames(transport.written[0], "server") == [(2, True, p) for p in payloads]


@aio
async def test_a_single_reply_is_written_as_it_was_built() -> None:
    ws, transport = opened()
    ws.on_message = ws.send_nowait
    transport.protocol.data_received(messages(b"solo"))
    assert transport.written == [b"\x82\x04solo"]


@aio
async def test_control_replies_keep_their_place_among_held_messages() -> None:
    # A read with a message, a ping, a message: the general path answers
    # (the pong) after the callbacks, exactly as without joining.
    ws, transport = opened()
    ws.on_message = ws.send_nowait
    data = encode([(2, True, b"a", "plain"), (9, True, b"ping", "plain"),
                   (2, True, b"b", "plain")], "server")
    transport.protocol.data_received(data)
    assert len(transport.written) == 1
    assert sent_frames(transport.written[0], "server") == [
        (2, True, b"a"), (2, True, b"b"), (10, True, b"ping")]


@aio
async def test_a_held_close_reaches_the_transport_before_it_is_closed() -> None:
    # The peer's Close is answered (held: it is written during the read),
    # then the server closes the TCP connection (RFC 6455 section 7.1.1).
    ws, transport = opened()
    ws.on_message = ws.send_nowait
    data = messages(b"late") + encode([(8, True, b"\x03\xe8", "plain")], "server")
    transport.protocol.data_received(data)
    assert len(transport.log) == 2 and transport.log[1] == "close"
    assert sent_frames(transport.log[0], "server") == [(8, True, b"\x03\xe8")]


@aio
async def test_broadcast_from_a_callback_keeps_its_place() -> None:
    ws, transport = opened()

    def on_message(message: Any) -> None:
        ws.send_nowait(b"before " + message)
        assert broadcast([ws], b"all " + message) == 1
        ws.send_nowait(b"after " + message)

    ws.on_message = on_message
    transport.protocol.data_received(messages(b"x", b"y"))
    assert [p for _, _, p in sent_frames(b"".join(transport.written), "server")] == [
        b"before x", b"all x", b"after x", b"before y", b"all y", b"after y"]


@aio
async def test_a_large_server_payload_is_written_as_it_is_after_its_own_header() -> None:
    ws, transport = opened()
    big, text = bytes(range(256)) * 80, "é" * 10_000  # 20 kB each
    ws.send_nowait(big)
    ws.send_nowait(text)
    assert sent_frames(transport.on_the_wire(), "server") == [
        (2, True, big), (1, True, text.encode())]
    if wsfast.IMPLEMENTATION == "c":  # the pure twin copies: same bytes
        assert transport.written == [] and transport.parts[0][1] is big
        assert [len(p[0]) for p in transport.parts] == [4, 4]  # 16-bit lengths


@aio
async def test_large_and_small_replies_to_one_read_keep_their_order() -> None:
    ws, transport = opened()
    ws.on_message = ws.send_nowait
    payloads = [b"a", b"B" * 70_000, b"c", b"D" * 9000, b"e"]
    transport.protocol.data_received(messages(*payloads))
    assert sent_frames(transport.on_the_wire(), "server") == [(2, True, p) for p in payloads]


@aio
async def test_a_buffer_changed_after_sending_does_not_change_what_was_sent() -> None:
    for role in ("server", "client"):
        ws, transport = opened(role)
        data = bytearray(b"x" * 20_000)
        ws.send_nowait(data)
        view = memoryview(bytearray(b"y" * 20_000))
        ws.send_nowait(view)
        data[:] = b"z" * 20_000
        view[:] = b"z" * 20_000
        assert sent_frames(transport.on_the_wire(), role) == [
            (2, True, b"x" * 20_000), (2, True, b"y" * 20_000)]


@aio
async def test_a_held_reply_goes_out_before_the_transport_closes_at_the_peers_eof() -> None:
    ws, transport = opened()
    transport.protocol.data_received(messages(b"a", b"b"))
    await ws.send(await ws.recv())  # one more is queued: the reply is held
    # The peer ends its stream: unless told otherwise, the transport closes.
    if not transport.protocol.eof_received():
        transport.close()
    assert transport.log[-1] == "close"
    assert sent_frames(transport.on_the_wire(), "server") == [(2, True, b"a")]


@aio
async def test_a_large_write_is_not_joined_with_what_is_held() -> None:
    for role in ("server", "client"):
        ws, transport = opened(role)
        big = b"x" * (4 * CORK_LIMIT)

        def on_message(message: Any) -> None:
            ws.send_nowait(b"ack")
            ws.send_nowait(big)

        ws.on_message = on_message
        transport.protocol.data_received(messages(b"go", role=role))
        # No buffer handed to the transport holds more than one frame.
        key = 4 if role == "client" else 0
        assert max(map(len, transport.buffers())) <= 10 + key + len(big)
        assert sent_frames(transport.on_the_wire(), role) == [(2, True, b"ack"), (2, True, big)]


@aio
async def test_what_is_held_stays_bounded() -> None:
    ws, transport = opened()
    chunk = b"z" * 10_000

    def on_message(message: Any) -> None:
        for _ in range(40):  # 400 kB of replies to one read
            ws.send_nowait(chunk)

    ws.on_message = on_message
    transport.protocol.data_received(messages(b"go"))
    sizes = transport.writes()
    assert all(size < CORK_LIMIT + len(chunk) + 14 for size in sizes)
    assert len(sizes) >= 400_000 // (CORK_LIMIT + len(chunk) + 14)
    assert sent_frames(transport.on_the_wire(), "server") == [(2, True, chunk)] * 40


@aio
async def test_a_burst_read_with_recv_is_answered_in_one_write() -> None:
    ws, transport = opened()
    transport.protocol.data_received(messages(b"1", b"2", b"3"))

    async def echo(n: int) -> None:
        for _ in range(n):
            await ws.send(await ws.recv())

    await echo(3)
    await asyncio.sleep(0)
    assert len(transport.written) == 1
    assert sent_frames(transport.written[0], "server") == [(2, True, p) for p in b"1 2 3".split()]


@aio
async def test_a_held_reply_goes_out_on_the_next_turn_even_if_the_reader_stops() -> None:
    ws, transport = opened()
    transport.protocol.data_received(messages(b"first", b"second"))
    await ws.send(await ws.recv())  # one more is queued: the reply is held...
    never = asyncio.get_running_loop().create_future()
    waiting = asyncio.ensure_future(asyncio.wait_for(never, 5))
    await asyncio.sleep(0)  # ...but only until the loop turns
    assert sent_frames(b"".join(transport.written), "server") == [(2, True, b"first")]
    waiting.cancel()


@aio
async def test_nothing_held_is_written_after_the_connection_is_lost() -> None:
    ws, transport = opened()
    transport.protocol.data_received(messages(b"a", b"b"))
    await ws.send(await ws.recv())
    transport.protocol.connection_lost(None)
    await asyncio.sleep(0)
    assert transport.written == []


@aio
async def test_client_frames_are_masked_each_with_its_own_key_when_joined() -> None:
    ws, transport = opened("client")
    ws.on_message = ws.send_nowait
    transport.protocol.data_received(messages(b"same", b"same", role="client"))
    (joined,) = transport.written
    assert joined[2:6] != joined[12:16]  # 2-byte header, key, 4 bytes; twice
    assert sent_frames(joined, "client") == [(2, True, b"same")] * 2


LOOPS = ["asyncio", "uvloop"]


def run_on(loop_name: str, main: Any) -> None:
    if loop_name == "uvloop":
        uvloop = pytest.importorskip("uvloop", reason="pip install uvloop")
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(main(), 20))
    finally:
        loop.close()


def tls_contexts() -> tuple[Any, Any]:
    """A server and a client SSLContext from one test CA (trustme)."""
    import ssl
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return server_ctx, client_ctx


def _pipelined(consume: str, compression: Any, tls: bool) -> Any:
    """A client that sends 3000 messages without waiting (text, binary, a
    ping among them, sizes around CORK_LIMIT, some written by reference) to
    an echo server over loopback, then reads every echo: all of them, in
    order, byte for byte."""
    from wsfast.asyncio import connect, serve

    async def handler(ws: Any) -> None:
        await echo(ws, consume)

    sizes = [0, 1, 125, 126, 1000, CORK_LIMIT - 10, CORK_LIMIT + 10]
    sent = [("t%d" % i) * (sizes[i % len(sizes)] // 5) if i % 3 else
            bytes([i % 256]) * sizes[i % len(sizes)] for i in range(3000)]

    server_ctx, client_ctx = tls_contexts() if tls else (None, None)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, compression=compression,
                         max_message_size=None, ssl=server_ctx) as server:
            port = server.sockets[0].getsockname()[1]
            scheme = "wss" if tls else "ws"
            async with connect(f"{scheme}://127.0.0.1:{port}/", compression=compression,
                               max_message_size=None, ssl=client_ctx) as ws:
                async def reader() -> list[Any]:
                    return [await ws.recv() for _ in sent]
                reading = asyncio.ensure_future(reader())
                for i, message in enumerate(sent):
                    await ws.send(message)
                    if i == 1500:
                        pong = await ws.ping()
                assert await reading == sent
                assert await asyncio.wait_for(pong, 5) >= 0
    return main


@pytest.mark.parametrize("loop_name", LOOPS)
@pytest.mark.parametrize("consume", ["async for", "on_message"])
@pytest.mark.parametrize("compression, tls", [(None, False), ("deflate", False), (None, True)])
def test_a_pipelined_stream_over_loopback_comes_back_whole_and_in_order(
        loop_name: str, consume: str, compression: Any, tls: bool) -> None:
    run_on(loop_name, _pipelined(consume, compression, tls))


@aio
async def test_pongs_held_while_paused_are_not_sent_after_our_close() -> None:
    # RFC 6455 section 5.5.1: the Close is the last frame an endpoint sends.
    # Pongs kept while the peer did not read (above the high-water mark)
    # must not follow it when writing resumes.
    ws, transport = opened()
    ws.pause_writing()
    transport.protocol.data_received(encode([(9, True, b"ping", "plain")], "server"))
    assert ws._held_pongs
    close = asyncio.ensure_future(ws.close(1000, "bye"))
    await asyncio.sleep(0)
    ws.resume_writing()
    await asyncio.sleep(0)
    frames = sent_frames(b"".join(transport.written), "server")
    assert frames and frames[-1][0] == 8, frames
    close.cancel()
