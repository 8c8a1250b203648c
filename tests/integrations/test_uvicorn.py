"""wsfast.uvicorn.WebSocketProtocol under a real uvicorn server on loopback,
for what uvicorn's own tests (scripts/uvicorn-tests.py) leave to each
protocol: echo through both HTTP parsers, with and without compression,
against websockets' client; 1011 when the app fails after accepting, 500
before, 403 for a close before accepting; keepalive; and a close that
resumes reading paused on a full queue."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

uvicorn = pytest.importorskip("uvicorn")
websockets_client = pytest.importorskip("websockets.asyncio.client")
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402

from helpers.aio import aio  # noqa: E402
from helpers.hostile_peer import close_code, handshake  # noqa: E402
from helpers.uvicorn_server import running  # noqa: E402

PARSERS = ["h11"] + (["httptools"] if __import__("importlib").util.find_spec("httptools")
                     else [])


async def echo(scope: Any, receive: Any, send: Any) -> None:
    assert scope["type"] == "websocket"
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            await send({"type": "websocket.send", **{k: v for k, v in message.items()
                                                      if k in ("text", "bytes")}})
        else:
            return


@pytest.mark.parametrize("http", PARSERS)
@pytest.mark.parametrize("deflate", [False, True])
@aio
async def test_echo_through_uvicorn(http: str, deflate: bool) -> None:
    messages = ["hello", "κόσμε" * 1000, b"\x00\xff" * 70000, b"", ""]
    async with running(echo, http=http, ws_per_message_deflate=deflate) as srv:
        async with websockets_client.connect(
                srv.url, compression="deflate" if deflate else None, max_size=None) as ws:
            assert ("permessage-deflate" in
                    (ws.response.headers.get("Sec-WebSocket-Extensions") or "")) is deflate
            for message in messages:
                await ws.send(message)
            assert [await ws.recv() for _ in messages] == messages


@aio
async def test_app_failing_after_accept_closes_with_1011() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        raise RuntimeError("the app fails on purpose")

    async with running(app) as srv:
        async with websockets_client.connect(srv.url) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert ws.close_code == 1011


@pytest.mark.parametrize("how, status", [("raise", 500), ("close", 403), ("return", 500)])
@aio
async def test_answers_before_accept(how: str, status: int) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if how == "raise":
            raise RuntimeError("the app fails on purpose")
        if how == "close":
            await send({"type": "websocket.close"})

    async with running(app) as srv:
        with pytest.raises(InvalidStatus) as info:
            async with websockets_client.connect(srv.url):
                pass
        assert info.value.response.status_code == status


@aio
async def test_keepalive_keeps_a_pong_answering_peer_and_drops_a_silent_one() -> None:
    async with running(echo, ws_ping_interval=0.1, ws_ping_timeout=0.3) as srv:
        async with websockets_client.connect(srv.url, ping_interval=None) as ws:
            await asyncio.sleep(0.8)  # several pings, each answered by the client
            await ws.send("still here")
            assert await ws.recv() == "still here"
        # A peer that never reads, so never answers a ping: 1011 after ping_timeout.
        reader, writer, leftover, _ = await handshake(srv)
        code, frames = await close_code(reader, leftover)
        assert code == 1011 and any(f.opcode == 9 for f in frames)
        writer.close()


@aio
async def test_app_close_resumes_reading_paused_on_a_full_queue() -> None:
    queue_full = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await queue_full.wait()  # never reads a message
        await send({"type": "websocket.close", "code": 4000, "reason": "done"})

    async with running(app, ws_max_queue=2) as srv:
        async with websockets_client.connect(srv.url) as ws:
            for i in range(50):  # far more than the queue holds: reading pauses
                await ws.send(b"x" * 1000)
            await asyncio.sleep(0.2)
            (protocol,) = srv.server.server_state.connections
            assert protocol._inbox.paused
            queue_full.set()
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            await ws.wait_closed()
        assert (ws.close_code, ws.close_reason) == (4000, "done")
        # The server read the client's Close reply (reading resumed), rather
        # than dropping the connection after close_timeout (1006).
        assert protocol.close_code == 4000
