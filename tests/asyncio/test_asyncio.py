"""The asyncio server and client, end to end on loopback."""
import asyncio
import os
import ssl

import pytest

from helpers.aio import aio
from helpers.ports import refusing_port
from wsfast import FrameParser, Opcode, build_frame, parse_close
from wsfast.asyncio import broadcast, connect, serve
from wsfast.errors import ConnectionClosed, HandshakeError
from wsfast.handshake import ClientHandshake


async def echo(ws):
    async for message in ws:
        await ws.send(message)


def url(server, path="/"):
    host, port = server.sockets[0].getsockname()[:2]
    return f"ws://{host}:{port}{path}"


@aio
async def test_echo_text_binary_large():
    async with serve(echo, "127.0.0.1", 0) as server:
        async with connect(url(server)) as ws:
            for message in ("hello", "κόσμε 🎉", b"\x00\xff" * 10, os.urandom(1024 * 1024 - 1), ""):
                await ws.send(message)
                assert await ws.recv() == message
            await ws.send(bytearray(b"mutable"))
            assert await ws.recv() == b"mutable"
        assert ws.close_code == 1000


@aio
async def test_many_messages_in_flight_keep_order():
    async with serve(echo, "127.0.0.1", 0) as server:
        async with connect(url(server)) as ws:
            for i in range(500):
                await ws.send(f"message {i}")
            for i in range(500):
                assert await ws.recv() == f"message {i}"


@aio
async def test_second_concurrent_recv_is_refused_and_the_first_still_gets_the_message():
    async with serve(echo, "127.0.0.1", 0) as server:
        async with connect(url(server)) as ws:
            first = asyncio.ensure_future(ws.recv())
            await asyncio.sleep(0)  # first is now waiting
            with pytest.raises(RuntimeError, match="already waiting"):
                await ws.recv()
            await ws.send("one")
            assert await asyncio.wait_for(first, 5) == "one"
            # A cancelled reader does not block the next one.
            cancelled = asyncio.ensure_future(ws.recv())
            await asyncio.sleep(0)
            cancelled.cancel()
            await ws.send("two")
            assert await asyncio.wait_for(ws.recv(), 5) == "two"


@pytest.mark.parametrize("max_queue", [1, 2, 3, 4])
@aio
async def test_small_max_queue_pauses_and_resumes_reading(max_queue):
    received = []

    async def handler(ws):
        async for message in ws:
            received.append(message)
            if len(received) == 50:
                await ws.send("all here")

    async with serve(handler, "127.0.0.1", 0, max_queue=max_queue) as server:
        async with connect(url(server)) as ws:
            for i in range(50):
                await ws.send(f"m{i}")
            assert await asyncio.wait_for(ws.recv(), 10) == "all here"
    assert received == [f"m{i}" for i in range(50)]


@pytest.mark.parametrize("code", [1000, 1001, 1011, 4000])
def test_async_for_yields_what_came_before_a_close_then_ends_or_raises(code):
    # RFC 6455 section 7.4.1: 1000 and 1001 are normal closures, the loop
    # just ends; any other code is an error the loop raises.
    async def handler(ws):
        for i in range(3):
            await ws.send(str(i))
        await ws.close(code, "bye")

    async def main():
        async with serve(handler, "127.0.0.1", 0) as server:
            ws = await connect(url(server))
            got = []
            try:
                async for message in ws:
                    got.append(message)
            except ConnectionClosed as exc:
                assert code not in (1000, 1001)
                assert (exc.code, exc.reason) == (code, "bye")
            else:
                assert code in (1000, 1001)
            assert got == ["0", "1", "2"]

    aio(main)()


@aio
async def test_async_for_ends_on_normal_close():
    async def handler(ws):
        for i in range(3):
            await ws.send(str(i))
        await ws.close(1000, "done")

    async with serve(handler, "127.0.0.1", 0) as server:
        ws = await connect(url(server))
        assert [m async for m in ws] == ["0", "1", "2"]
        assert (ws.close_code, ws.close_reason) == (1000, "done")
        with pytest.raises(ConnectionClosed) as info:
            await ws.send("too late")
        assert info.value.code == 1000


@aio
async def test_handler_error_closes_with_1011():
    async def handler(ws):
        await ws.recv()
        raise RuntimeError("boom")

    async with serve(handler, "127.0.0.1", 0) as server:
        ws = await connect(url(server))
        await ws.send("trigger")
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.code == 1011
        await ws.wait_closed()


@aio
async def test_ping_returns_round_trip_time():
    async with serve(echo, "127.0.0.1", 0) as server:
        async with connect(url(server)) as ws:
            waiter = await ws.ping(b"abc")
            latency = await waiter
            assert latency >= 0
            waiters = [await ws.ping() for _ in range(3)]
            assert all([await w >= 0 for w in waiters])


@aio
async def test_subprotocol_by_server_preference():
    async def handler(ws):
        await ws.send(ws.subprotocol or "none")

    async with serve(handler, "127.0.0.1", 0, subprotocols=["chat.v2", "chat.v1"]) as server:
        async with connect(url(server), subprotocols=["chat.v1", "chat.v2"]) as ws:
            assert ws.subprotocol == "chat.v2"
            assert await ws.recv() == "chat.v2"


@aio
async def test_wrong_path_is_404():
    async with serve(echo, "127.0.0.1", 0, path="/echo") as server:
        with pytest.raises(HandshakeError) as info:
            await connect(url(server, "/other"))
        assert info.value.status == 404
        async with connect(url(server, "/echo")) as ws:
            await ws.send("ok")
            assert await ws.recv() == "ok"


@aio
async def test_cross_origin_is_403():
    async with serve(echo, "127.0.0.1", 0) as server:
        with pytest.raises(HandshakeError) as info:
            await connect(url(server), origin="https://evil.example")
        assert info.value.status == 403
    async with serve(echo, "127.0.0.1", 0, origins=["https://app.example"]) as server:
        async with connect(url(server), origin="https://app.example") as ws:
            await ws.send("ok")
            assert await ws.recv() == "ok"


@aio
async def test_server_close_sends_1001_to_clients():
    started = asyncio.Event()

    async def handler(ws):
        started.set()
        await ws.wait_closed()

    server = await serve(handler, "127.0.0.1", 0)
    ws = await connect(url(server))
    await started.wait()
    server.close()
    await server.wait_closed()
    with pytest.raises(ConnectionClosed) as info:
        await ws.recv()
    assert info.value.code == 1001


@aio
async def test_broadcast_reaches_every_client():
    connected = []
    ready = asyncio.Event()

    async def handler(ws):
        connected.append(ws)
        if len(connected) == 5:
            ready.set()
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        clients = [await connect(url(server)) for _ in range(5)]
        await ready.wait()
        assert broadcast(server.connections, "news") == 5
        assert broadcast(server.connections, b"\x01\x02") == 5
        for ws in clients:
            assert await ws.recv() == "news"
            assert await ws.recv() == b"\x01\x02"
        for ws in clients:
            await ws.close()


@aio
async def test_tls_both_ways(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with serve(echo, "127.0.0.1", 0, ssl=server_ctx) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"wss://localhost:{port}/", ssl=client_ctx) as ws:
            await ws.send("secret κόσμε")
            assert await ws.recv() == "secret κόσμε"
            payload = os.urandom(300_000)
            await ws.send(payload)
            assert await ws.recv() == payload
        # A client that does not trust the CA refuses the server.
        with pytest.raises(ssl.SSLError):
            await connect(f"wss://localhost:{port}/", ssl=ssl.create_default_context())


@aio
async def test_slowloris_handshake_dropped_at_open_timeout():
    async with serve(echo, "127.0.0.1", 0, open_timeout=0.3) as server:
        host, port = server.sockets[0].getsockname()[:2]
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # ... and never finish
        data = await asyncio.wait_for(reader.read(), 5)
        assert data == b""  # dropped without a response
        writer.close()


async def raw_client(server, path="/"):
    """A hand-driven client: handshake through ClientHandshake, then raw frames."""
    host, port = server.sockets[0].getsockname()[:2]
    reader, writer = await asyncio.open_connection(host, port)
    hs = ClientHandshake(f"ws://{host}:{port}{path}", compression=None)
    writer.write(hs.request_bytes())
    while True:
        response = hs.receive_data(await reader.read(4096))
        if response is not None:
            return reader, writer, hs.leftover


async def read_frames_until_close(reader, leftover=b""):
    parser = FrameParser("client")
    frames = parser.feed(leftover)
    while not any(f.opcode == Opcode.CLOSE for f in frames):
        data = await asyncio.wait_for(reader.read(65536), 10)
        assert data, "connection closed without a close frame"
        frames += parser.feed(data)
    return frames


@aio
async def test_peer_that_ignores_pings_is_closed_with_1011():
    async with serve(echo, "127.0.0.1", 0, ping_interval=0.1, ping_timeout=0.2,
                     close_timeout=0.5) as server:
        reader, writer, leftover = await raw_client(server)
        frames = await read_frames_until_close(reader, leftover)
        assert any(f.opcode == Opcode.PING for f in frames)
        close = [f for f in frames if f.opcode == Opcode.CLOSE][0]
        assert parse_close(close.payload)[0] == 1011
        writer.close()


@aio
async def test_unmasked_client_frame_is_1002():
    async with serve(echo, "127.0.0.1", 0) as server:
        reader, writer, leftover = await raw_client(server)
        writer.write(build_frame(Opcode.TEXT, b"not masked"))
        frames = await read_frames_until_close(reader, leftover)
        assert parse_close(frames[-1].payload)[0] == 1002
        writer.close()


@aio
async def test_slow_reader_bounds_server_memory():
    """The server's sends wait while the client does not read."""
    sent = []
    blocked = asyncio.Event()

    async def flood(ws):
        chunk = os.urandom(65536)  # incompressible: deflate cannot shrink it
        for i in range(2000):  # 128 MiB if nothing pushed back
            send = asyncio.ensure_future(ws.send(chunk))
            done, _ = await asyncio.wait([send], timeout=0.5)
            if not done:
                blocked.set()
                send.cancel()
                return
            sent.append(i)

    async with serve(flood, "127.0.0.1", 0, close_timeout=0.5) as server:
        ws = await connect(url(server), max_queue=2, close_timeout=0.5)
        await asyncio.wait_for(blocked.wait(), 20)
        # Client queue (2 x 64 KiB) + socket buffers + transport high-water:
        # far below what the handler tried to send.
        assert len(sent) < 500
        ws.transport.abort()


@aio
async def test_fast_writer_pauses_reading_at_full_queue():
    got_first = asyncio.Event()
    release = asyncio.Event()
    server_side = []

    async def lazy(ws):
        server_side.append(ws)
        await ws.recv()
        got_first.set()
        await release.wait()

    async with serve(lazy, "127.0.0.1", 0, max_queue=4, close_timeout=0.5) as server:
        ws = await connect(url(server), close_timeout=0.5)
        await ws.send(b"first")
        await got_first.wait()
        sends = 0
        chunk = os.urandom(65536)
        for _ in range(5000):
            send = asyncio.ensure_future(ws.send(chunk))
            done, _ = await asyncio.wait([send], timeout=0.5)
            if not done:
                send.cancel()
                break
            sends += 1
        assert sends < 5000, "the client was never pushed back"
        assert len(server_side[0]._messages) <= 4
        release.set()
        ws.transport.abort()


@aio
async def test_connect_refused_is_oserror():
    with refusing_port() as port:
        with pytest.raises(OSError):
            await connect(f"ws://127.0.0.1:{port}/")


def test_bad_url_is_value_error():
    with pytest.raises(ValueError):
        connect("http://example.com/")


@aio
async def test_on_message_callback_in_order_with_queued_messages():
    got = []
    done = asyncio.Event()

    async def handler(ws):
        await ws.recv()  # the first message through recv()
        while len(ws._messages) < 3:  # let a few queue up
            await asyncio.sleep(0.01)

        def on_message(message):
            got.append(message)
            ws.send_nowait(message)
            if message == "last":
                done.set()

        ws.on_message = on_message
        await done.wait()

    async with serve(handler, "127.0.0.1", 0) as server:
        async with connect(url(server)) as ws:
            messages = ["first"] + [f"m{i}" for i in range(20)] + ["last"]
            for m in messages:
                await ws.send(m)
            echoes = [await ws.recv() for _ in messages[1:]]
    assert got == messages[1:]
    assert echoes == messages[1:]


@aio
async def test_on_message_error_closes_with_1011():
    async def handler(ws):
        def on_message(message):
            raise ValueError("bad message")

        ws.on_message = on_message
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, close_timeout=1) as server:
        ws = await connect(url(server))
        await ws.send("anything")
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
        assert info.value.code == 1011
