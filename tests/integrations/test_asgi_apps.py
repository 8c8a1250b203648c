"""Real ASGI applications under uvicorn with wsfast's protocol: a FastAPI
app (path parameter, dependency injection, JSON, a close with code and
reason, HTTP routes beside the WebSocket one) and a Starlette app (its
router and WebSocketEndpoint), driven by websockets' and aiohttp's clients,
Node's ws and headless Chromium (on a page the app serves), over TCP and
TLS, with and without permessage-deflate."""
from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import pytest

fastapi = pytest.importorskip("fastapi")
starlette = pytest.importorskip("starlette")
aiohttp = pytest.importorskip("aiohttp")
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402

from fastapi import Depends, FastAPI, WebSocket, WebSocketDisconnect  # noqa: E402
from fastapi import Request, WebSocketException  # noqa: E402
from fastapi.responses import HTMLResponse  # noqa: E402

from helpers.aio import aio, within  # noqa: E402
from helpers.peers import headless_chromium, node_report  # noqa: E402
from helpers.uvicorn_server import running  # noqa: E402

# The exchange every client makes with the FastAPI app's room: three rounds
# of a JSON request (echoed with the room's name) and a text (upper-cased),
# then "bye", which the app answers with a close (4000, "bye from <room>").
REQUESTS = [{"n": i, "text": "é" * 3000} for i in range(3)]
MESSAGES = [m for r in REQUESTS for m in (json.dumps(r), "hello")] + ['{"op": "bye"}']

# The page the FastAPI app serves at /page: it makes the exchange with
# /rooms/browser on its own origin, then posts what it saw to /report.
PAGE = """<!doctype html>
<meta charset="utf-8">
<title>wsfast under uvicorn</title>
<script>
const messages = MESSAGES;
const report = { extensions: null, replies: [], close: null };
const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/rooms/browser?token=secret');
const next = () => { if (messages.length) ws.send(messages.shift()); };
ws.onopen = () => { report.extensions = ws.extensions; next(); };
ws.onmessage = (event) => { report.replies.push(event.data); next(); };
ws.onclose = (event) => {
  report.close = [event.code, event.reason];
  report.clean = event.wasClean;
  fetch('/report', { method: 'POST', headers: { 'content-type': 'application/json' },
                     body: JSON.stringify(report) });
};
</script>
""".replace("MESSAGES", json.dumps(MESSAGES))


def check_exchange(report: dict[str, Any], room: str, deflate: bool) -> None:
    """What a client saw of MESSAGES in ``room``: every reply, the app's
    close, and permessage-deflate negotiated exactly when it was on."""
    assert "error" not in report, report
    replies = [json.loads(r) if r.startswith("{") else r for r in report["replies"]]
    assert replies == [reply for request in REQUESTS
                       for reply in ({"room": room, "echo": request}, "HELLO")]
    assert report["close"] == [4000, f"bye from {room}"]
    assert ("permessage-deflate" in (report["extensions"] or "")) == deflate, report["extensions"]


async def websockets_exchange(url: str, **options: Any) -> dict[str, Any]:
    """MESSAGES through websockets' client, reported as check_exchange wants."""
    async with connect(url, **options) as ws:
        replies = []
        for message in MESSAGES[:-1]:
            await ws.send(message)
            replies.append(await ws.recv())
        await ws.send(MESSAGES[-1])
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert ws.response is not None
    return {"extensions": ws.response.headers.get("Sec-WebSocket-Extensions"),
            "replies": replies, "close": [ws.close_code, ws.close_reason]}


def fastapi_app() -> Any:
    # FastAPI reads the endpoint's annotations (strings here, see the
    # __future__ import) in this module's globals: WebSocket is imported above.
    app = FastAPI()
    # What the app saw: each room's scope (scheme, the extensions offered),
    # and the reports the page posts.
    app.state.seen = []
    app.state.reports = asyncio.Queue()

    def token(token: str = "") -> str:  # a query parameter, injected
        if token != "secret":
            raise WebSocketException(code=4003, reason="bad token")
        return token

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.post("/report")
    async def report(request: Request) -> dict[str, str]:
        await app.state.reports.put(await request.json())
        return {}

    @app.websocket("/rooms/{room}")
    async def room(websocket: WebSocket, room: str, _: str = Depends(token)) -> None:
        app.state.seen.append({"scheme": websocket.scope["scheme"],
                               "offer": websocket.headers.get("sec-websocket-extensions")})
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

    class Shout(WebSocketEndpoint):
        encoding = "text"

        async def on_receive(self, websocket: Any, data: str) -> None:
            if data == "bye":
                await websocket.close(code=4000, reason="bye")
            else:
                await websocket.send_text(data.upper())

    return Starlette(routes=[WebSocketRoute("/echo", Echo), WebSocketRoute("/shout", Shout)])


@pytest.mark.parametrize("deflate", [False, True])
@aio
async def test_fastapi_with_the_websockets_client(deflate: bool) -> None:
    app = fastapi_app()
    async with running(app, ws_per_message_deflate=deflate) as srv:
        compression = "deflate" if deflate else None
        report = await websockets_exchange(srv.url + "rooms/lobby?token=secret",
                                           compression=compression)
        check_exchange(report, "lobby", deflate)
        assert app.state.seen[0]["scheme"] == "ws"
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


@pytest.mark.parametrize("deflate", [False, True])
@aio
async def test_fastapi_with_the_node_ws_client(node: str, deflate: bool) -> None:
    async with running(fastapi_app(), ws_per_message_deflate=deflate) as srv:
        mode = "deflate" if deflate else "plain"
        report = await node_report(node, "exchange.js", srv.url + "rooms/node?token=secret",
                                   mode, json.dumps(MESSAGES))
        check_exchange(report, "node", deflate)
        refused = await node_report(node, "exchange.js", srv.url + "rooms/node?token=wrong",
                                    mode, "[]")
        assert refused == {"error": "status", "status": 403}


@pytest.mark.parametrize("deflate", [False, True])
@aio
async def test_starlette_endpoint_with_the_node_ws_client(node: str, deflate: bool) -> None:
    texts = ["hello", "ünïcode €", "x" * 70_000, "bye"]
    async with running(starlette_app(), ws_per_message_deflate=deflate) as srv:
        report = await node_report(node, "exchange.js", srv.url + "shout",
                                   "deflate" if deflate else "plain", json.dumps(texts))
    assert "error" not in report, report
    assert report["replies"] == [text.upper() for text in texts[:-1]]
    assert report["close"] == [4000, "bye"]
    assert ("permessage-deflate" in (report["extensions"] or "")) == deflate


# Chromium offers permessage-deflate on its own: it is negotiated exactly
# when the server takes it. A cold start of Chromium can take a while: the
# page is given 45 s of the test's 60.
@pytest.mark.parametrize("deflate", [False, True])
@within(60)
async def test_fastapi_page_in_headless_chromium(chromium: str, deflate: bool) -> None:
    app = fastapi_app()
    async with running(app, ws_per_message_deflate=deflate) as srv:
        page = srv.url.replace("ws://", "http://") + "page"
        with headless_chromium(chromium, page):
            report = await asyncio.wait_for(app.state.reports.get(), 45)
    check_exchange(report, "browser", deflate)
    assert report["clean"] is True
    assert [seen["scheme"] for seen in app.state.seen] == ["ws"]
    assert "permessage-deflate" in app.state.seen[0]["offer"]


@pytest.mark.parametrize("deflate", [False, True])
@aio
async def test_fastapi_over_tls(deflate: bool) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    app = fastapi_app()
    with ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.tempfile() as pem:
        async with running(app, ws_per_message_deflate=deflate,
                           ssl_certfile=pem, ssl_keyfile=pem) as srv:
            assert srv.url.startswith("wss://")
            report = await websockets_exchange(srv.url + "rooms/tls?token=secret", ssl=client_ctx,
                                               compression="deflate" if deflate else None)
            check_exchange(report, "tls", deflate)
            # The TLS is real: a client that does not trust the CA fails the handshake.
            with pytest.raises(ssl.SSLCertVerificationError):
                async with connect(srv.url + "rooms/tls?token=secret"):
                    pass
    assert [seen["scheme"] for seen in app.state.seen] == ["wss"]
