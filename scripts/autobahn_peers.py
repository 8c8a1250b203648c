"""Autobahn TestSuite peers: websockets and aiohttp, run beside wsfast.

Each library gets an echo server and an echo client written with its own
public API, configured as wsfast's runs are: a message limit far above the
suite's largest message (64 MiB; the largest, in 9.*, is 16 MiB) and
permessage-deflate as the library offers it. scripts/autobahn.sh --peer LIB
runs them; their verdicts are reported for comparison, never as failures.

    python scripts/autobahn_peers.py server websockets --port 0
    python scripts/autobahn_peers.py client aiohttp --url ws://127.0.0.1:9001

The server prints "LIB VERSION echo server on ws://HOST:PORT" once it listens
and runs until it is stopped. The client asks the fuzzing server for its case
count, runs every case (each message received is sent back), then asks it to
write its reports; it exits 0 unless the fuzzing server could not be reached
or its reports not updated.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from importlib.metadata import version
from typing import Awaitable, Callable, List, Optional, Tuple

LIMIT = 64 * 1024 * 1024

# One session: connect to a URL, echo (or, if not echoing, collect) every
# message until the peer closes; return the messages kept and the close code.
Session = Callable[[str, bool], Awaitable[Tuple[List[object], Optional[int]]]]


# --- websockets (the asyncio implementation, websockets >= 13) -------------

async def websockets_server(host: str, port: int) -> None:
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    async def echo(ws) -> None:
        try:
            async for message in ws:
                await ws.send(message)
        except ConnectionClosed:
            pass

    async with serve(echo, host, port, max_size=LIMIT, compression="deflate") as server:
        bound = next(iter(server.sockets)).getsockname()
        announce("websockets", bound)
        await server.serve_forever()


async def websockets_session(url: str, echo: bool) -> Tuple[List[object], Optional[int]]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    kept: List[object] = []
    async with connect(url, max_size=LIMIT, compression="deflate", proxy=None) as ws:
        try:
            async for message in ws:
                if echo:
                    await ws.send(message)
                else:
                    kept.append(message)
        except ConnectionClosed:
            pass
    return kept, ws.close_code


# --- aiohttp ----------------------------------------------------------------

async def aiohttp_server(host: str, port: int) -> None:
    from aiohttp import WSMsgType, web

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=LIMIT, compress=True)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
            else:  # ERROR: aiohttp has failed the connection
                break
        return ws

    app = web.Application()
    app.router.add_get("/{path:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        announce("aiohttp", runner.addresses[0])
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def aiohttp_session(url: str, echo: bool) -> Tuple[List[object], Optional[int]]:
    import aiohttp

    kept: List[object] = []
    async with aiohttp.ClientSession() as session:
        # compress=15: offer permessage-deflate (0, the default, offers none).
        async with session.ws_connect(url, max_msg_size=LIMIT, compress=15) as ws:
            async for msg in ws:
                if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break  # ERROR
                if not echo:
                    kept.append(msg.data)
                elif msg.type == aiohttp.WSMsgType.TEXT:
                    await ws.send_str(msg.data)
                else:
                    await ws.send_bytes(msg.data)
            return kept, ws.close_code


SERVERS = {"websockets": websockets_server, "aiohttp": aiohttp_server}
SESSIONS: "dict[str, Session]" = {"websockets": websockets_session, "aiohttp": aiohttp_session}


def announce(lib: str, sockname) -> None:
    print(f"{lib} {version(lib)} echo server on ws://{sockname[0]}:{sockname[1]}", flush=True)


async def drive(session: Session, base: str, agent: str, case_timeout: float) -> int:
    kept, _ = await asyncio.wait_for(session(base + "/getCaseCount", False), 30)
    count = int(kept[0])  # type: ignore[call-overload]
    print(f"{count} cases", flush=True)
    started = time.monotonic()
    for case in range(1, count + 1):
        t0 = time.monotonic()
        try:
            _, code = await asyncio.wait_for(
                session(f"{base}/runCase?case={case}&agent={agent}", True), case_timeout)
            outcome = f"done, close code {code}"
        except asyncio.TimeoutError:
            outcome = f"TIMEOUT after {case_timeout:g}s"
        except Exception as exc:  # the verdict is the fuzzing server's
            outcome = f"{type(exc).__name__}: {exc}"
        print(f"case {case}/{count}: {outcome} ({time.monotonic() - t0:.2f}s)", flush=True)
    await asyncio.wait_for(session(f"{base}/updateReports?agent={agent}", False), 60)
    print(f"ran {count} cases in {time.monotonic() - started:.1f}s; reports updated",
          flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="role", required=True)
    server = sub.add_parser("server", help="an echo server for wstest -m fuzzingclient")
    server.add_argument("lib", choices=sorted(SERVERS))
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=0, help="0: any free port")
    client = sub.add_parser("client", help="an echo client for wstest -m fuzzingserver")
    client.add_argument("lib", choices=sorted(SESSIONS))
    client.add_argument("--url", default="ws://127.0.0.1:9001",
                        help="the fuzzing server's base URL")
    client.add_argument("--agent", help="the name the reports give it (default: LIB)")
    client.add_argument("--case-timeout", type=float, default=60.0,
                        help="seconds one case may take before it is abandoned")
    args = parser.parse_args()
    if args.role == "server":
        try:
            asyncio.run(SERVERS[args.lib](args.host, args.port))
        except KeyboardInterrupt:
            pass
        return 0
    return asyncio.run(drive(SESSIONS[args.lib], args.url.rstrip("/"),
                             args.agent or args.lib, args.case_timeout))


if __name__ == "__main__":
    sys.exit(main())
