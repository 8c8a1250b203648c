"""Interop with Node's ws, both directions, with and without compression."""
import asyncio
import os
import subprocess

import pytest

from helpers.aio import aio
from helpers.peers import NODE_DIR, node_report, stop
from wsfast.asyncio import connect, serve


closes = []


async def echo(ws):
    async for message in ws:
        await ws.send(message)
    closes.append((ws.close_code, ws.close_reason))


@pytest.mark.parametrize("compression", ["deflate", None])
@aio
async def test_node_client_to_wsfast_server(node, compression):
    closes.clear()  # an earlier test's close must not stand in for this one's
    async with serve(echo, "127.0.0.1", 0, compression=compression) as server:
        port = server.sockets[0].getsockname()[1]
        report = await node_report(node, "client.js", f"ws://127.0.0.1:{port}/",
                                   "deflate" if compression else "plain")
    assert "error" not in report, report
    assert [e["ok"] for e in report["echoes"]] == [True] * 4
    assert report["echoes"][2]["length"] == 1024 * 1024
    assert report["pong"] == "ping!"
    assert report["close"][0] == 1000  # our echo of its close code
    assert closes == [(1000, "bye")]  # what the server got from Node
    assert ("permessage-deflate" in report["extensions"]) == bool(compression)


@pytest.mark.parametrize("compression", ["deflate", None])
@aio
async def test_wsfast_client_to_node_server(node, compression):
    proc = subprocess.Popen([node, str(NODE_DIR / "echo_server.js")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 20)
        port = int(line.split()[1])
        async with connect(f"ws://127.0.0.1:{port}/", compression=compression) as ws:
            ext = ws.response.headers.get("sec-websocket-extensions") or ""
            assert ("permessage-deflate" in ext) == bool(compression)
            for message in ("κόσμε 🎉", b"\x00\xff", os.urandom(1024 * 1024), "x" * 100_000):
                await ws.send(message)
                assert await ws.recv() == message
            assert await (await ws.ping(b"node?")) >= 0
        assert ws.close_code == 1000
        close_line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 10)
        assert close_line.split()[:2] == ["CLOSE", "1000"]
    finally:
        stop(proc)
