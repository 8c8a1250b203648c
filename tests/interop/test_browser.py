"""Interop with a real browser: headless Chromium loads a page that connects
to a wsfast server and echoes what it is sent."""
import asyncio
import functools
import http.server
import os
import threading
from pathlib import Path

from helpers.aio import within
from helpers.peers import headless_chromium
from wsfast.asyncio import serve

HERE = Path(__file__).parent


# A cold start of Chromium on a busy machine can take a while: the whole
# test gets longer than the page is given (45 s).
@within(60)
async def test_chromium_echoes_through_wsfast(chromium):
    results = {}
    finished = asyncio.Event()

    async def handler(ws):
        results["first"] = await ws.recv()
        for message in ("κόσμε — 日本語 — 🎉", os.urandom(1024 * 1024), b"\x00" * 10, "x" * 70_000):
            await ws.send(message)
            results.setdefault("echoes", []).append(await ws.recv() == message)
        await ws.send("done")
        await ws.wait_closed()
        results["close"] = (ws.close_code, ws.close_reason)
        finished.set()

    page_server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler,
                                            directory=str(HERE)))
    page_server.RequestHandlerClass.log_message = lambda *args: None
    threading.Thread(target=page_server.serve_forever, daemon=True).start()
    page_origin = f"http://127.0.0.1:{page_server.server_address[1]}"
    try:
        async with serve(handler, "127.0.0.1", 0, origins=[page_origin]) as server:
            ws_url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
            with headless_chromium(chromium, f"{page_origin}/browser_page.html?ws={ws_url}"):
                await asyncio.wait_for(finished.wait(), 45)
    finally:
        page_server.shutdown()
        page_server.server_close()
    assert results["first"] == "hello from the browser: κόσμε 🎉"
    assert results["echoes"] == [True] * 4
    assert results["close"] == (1000, "browser done")
