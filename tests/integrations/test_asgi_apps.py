"""Real ASGI applications under uvicorn with wsfast's protocol: a FastAPI
app (path parameter, dependency injection, JSON, a close with code and
reason, an HTTP route beside the WebSocket one) and a Starlette app (its
router and WebSocketEndpoint), driven by websockets' and aiohttp's clients,
with and without permessage-deflate."""
from __future__ import annotations

from typing import Any

import pytest

fastapi = pytest.importorskip("fastapi")
starlette = pytest.importorskip("starlette")
aiohttp = pytest.importorskip("aiohttp")
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402

from fastapi import Depends, FastAPI, WebSocket, WebSocketDisconnect  # noqa: E402
from fastapi import WebSocketException  # noqa: E402

from helpers.aio import aio  # noqa: E402
from helpers.uvicorn_server import running  # noqa: E402


def fastapi_app() -> Any:
    # FastAPI reads the endpoint's annotations (strings here, see the
    # __future__ import) in this module's globals: WebSocket is imported above.
    app = FastAPI()

    def token(token: str = "") -> str:  # a query parameter, injected
        if token != "secret":
            raise WebSocketException(code=4003, reason="bad token")
        return token

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.websocket("/rooms/{room}")
    async def room(websocket: WebSocket, room: str, _: str = Depends(token)) -> None:
        await websocket.accept()
        try:
            while True:
                request = await websocket.receive_json()
                if request.get("op") == "bye":
                    await websocket.close(code=4000, reason=f"bye from {room}")
                    return
                await websocket.send_json({"room": room, "echo": request})
                text = await websocket.receive_text()
                await websocket.send_text(text.upper())
        except WebSocketDisconnect:
            pass

    return app


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.endpoints import WebSocketEndpoint
    from starlette.routing import WebSocketRoute

    class Echo(WebSocketEndpoint):
        encoding = "bytes"

        async def on_receive(self, websocket: Any, data: bytes) -> None:
            await websocket.send_bytes(data[::-1])

    return Starlette(routes=[WebSocketRoute("/echo", Echo)])


@pytest.mark.parametrize("deflate", [False, True])
@aio
async def test_fastapi_with_the_websockets_client(deflate: bool) -> None:
    async with running(fastapi_app(), ws_per_message_deflate=deflate) as srv:
        compression = "deflate" if deflate else None
        async with connect(srv.url + "rooms/lobby?token=secret", compression=compression) as ws:
            for i in range(3):
                await ws.send('{"n": %d, "text": "%s"}' % (i, "é" * 3000))
                assert __import__("json").loads(await ws.recv()) == {
                    "room": "lobby", "echo": {"n": i, "text": "é" * 3000}}
                await ws.send("hello")
                assert await ws.recv() == "HELLO"
            await ws.send('{"op": "bye"}')
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert (ws.close_code, ws.close_reason) == (4000, "bye from lobby")
        # The dependency refuses a bad token before accepting: an HTTP 403.
        with pytest.raises(InvalidStatus) as info:
            async with connect(srv.url + "rooms/lobby?token=wrong"):
                pass
        assert info.value.response.status_code == 403


@aio
async def test_fastapi_http_route_and_aiohttp_client() -> None:
    async with running(fastapi_app()) as srv:
        http = srv.url.replace("ws://", "http://")
        async with aiohttp.ClientSession() as session:
            async with session.get(http + "health") as response:
                assert response.status == 200 and await response.json() == {"status": "ok"}
            async with session.ws_connect(http + "rooms/a?token=secret", compress=15) as ws:
                await ws.send_json({"k": [1, 2, 3]})
                assert await ws.receive_json() == {"room": "a", "echo": {"k": [1, 2, 3]}}
                await ws.send_str("abc")
                assert (await ws.receive()).data == "ABC"
                await ws.send_json({"op": "bye"})
                message = await ws.receive()
                assert message.type == aiohttp.WSMsgType.CLOSE
                assert (message.data, message.extra) == (4000, "bye from a")


@aio
async def test_starlette_endpoint_with_both_clients() -> None:
    async with running(starlette_app()) as srv:
        payloads = [b"", b"abc", bytes(range(256)) * 300]
        async with connect(srv.url + "echo", max_size=None) as ws:
            for data in payloads:
                await ws.send(data)
                assert await ws.recv() == data[::-1]
        http = srv.url.replace("ws://", "http://")
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(http + "echo") as ws:
                for data in payloads:
                    await ws.send_bytes(data)
                    assert (await ws.receive()).data == data[::-1]
