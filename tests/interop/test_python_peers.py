"""Interop with Python peers nobody here wrote: websockets, aiohttp, and a
socket driven by wsproto -- both directions, with and without compression."""
import asyncio
import os

import pytest

from helpers.aio import aio
from wsfast.asyncio import connect, serve

MESSAGES = ["hello", "κόσμε — 🎉", b"\x00\x01\xff", os.urandom(1024 * 1024), "t" * 200_000]


closes = []


async def echo(ws):
    async for message in ws:
        await ws.send(message)
    closes.append((ws.close_code, ws.close_reason))


async def exchange(ws):
    for message in MESSAGES:
        await ws.send(message)
        assert await ws.recv() == message
    assert await (await ws.ping(b"rtt")) >= 0


@pytest.mark.parametrize("compression", ["deflate", None])
@aio
async def test_websockets_client(compression):
    websockets = pytest.importorskip("websockets.asyncio.client")
    async with serve(echo, "127.0.0.1", 0, compression=compression) as server:
        port = server.sockets[0].getsockname()[1]
        async with websockets.connect(f"ws://127.0.0.1:{port}/", max_size=None,
                                      compression="deflate" if compression else None) as ws:
            ext = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
            assert ("permessage-deflate" in ext) == bool(compression)
            for message in MESSAGES:
                await ws.send(message)
                assert await ws.recv() == message
            # A fragmented message from the peer.
            await ws.send(["frag", "mented", " text"])
            assert await ws.recv() == "fragmented text"
            await (await ws.ping(b"x"))
            await ws.close(1000, "bye")
        assert ws.close_code == 1000


@pytest.mark.parametrize("compression", ["deflate", None])
@aio
async def test_websockets_server(compression):
    websockets = pytest.importorskip("websockets.asyncio.server")
    closes = []

    async def handler(ws):
        async for message in ws:
            await ws.send(message)
        closes.append((ws.close_code, ws.close_reason))

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None,
                                compression="deflate" if compression else None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/", compression=compression,
                           max_message_size=None) as ws:
            await exchange(ws)
            await ws.close(1000, "client done")
    assert closes == [(1000, "client done")]


@aio
async def test_aiohttp_client():
    aiohttp = pytest.importorskip("aiohttp")
    async with serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"ws://127.0.0.1:{port}/", compress=15,
                                          max_msg_size=0) as ws:
                for message in MESSAGES:
                    if isinstance(message, str):
                        await ws.send_str(message)
                    else:
                        await ws.send_bytes(message)
                    reply = await ws.receive()
                    assert reply.data == message
                await ws.close(code=1000, message=b"bye")
            assert ws.close_code == 1000


@aio
async def test_aiohttp_server():
    web = pytest.importorskip("aiohttp.web")

    async def handler(request):
        ws = web.WebSocketResponse(max_msg_size=0, compress=True)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == web.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/ws", max_message_size=None) as ws:
            await exchange(ws)
        assert ws.close_code == 1000
    finally:
        await runner.cleanup()


@aio
async def test_wsproto_driven_socket_client():
    closes.clear()  # an earlier test's close must not stand in for this one's
    wsproto = pytest.importorskip("wsproto")
    from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Request,
                                TextMessage)

    async with serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        writer.write(ws.send(Request(host=f"127.0.0.1:{port}", target="/")))
        pending = {"text": "", "bytes": b""}
        got = []

        async def pump():
            data = await asyncio.wait_for(reader.read(65536), 10)
            ws.receive_data(data or None)
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    got.append("accepted")
                elif isinstance(event, TextMessage):
                    pending["text"] += event.data
                    if event.message_finished:
                        got.append(pending["text"])
                        pending["text"] = ""
                elif isinstance(event, BytesMessage):
                    pending["bytes"] += event.data
                    if event.message_finished:
                        got.append(pending["bytes"])
                        pending["bytes"] = b""
                elif isinstance(event, CloseConnection):
                    got.append(("close", event.code, event.reason))
                    if ws.state is wsproto.connection.ConnectionState.REMOTE_CLOSING:
                        writer.write(ws.send(event.response()))

        while "accepted" not in got:
            await pump()
        for message in MESSAGES:
            payload = TextMessage(data=message) if isinstance(message, str) else BytesMessage(data=message)
            writer.write(ws.send(payload))
            while got[-1] != message:
                await pump()
        writer.write(ws.send(CloseConnection(code=1000, reason="wsproto done")))
        while not (isinstance(got[-1], tuple)):
            await pump()
        assert got[-1][:2] == ("close", 1000)
        writer.close()
        await asyncio.sleep(0)
    assert closes == [(1000, "wsproto done")]
