"""Echo servers for the end-to-end benchmarks, one per implementation.

    python bench/e2e/servers.py IMPL PORT [CPU]

Prints READY when listening; runs until killed. Every server echoes each
message with the same type, runs on uvloop when it is installed, and pins
itself to CPU when given, so the load generator gets the other core.
With WSFAST_PATCH set to library names (comma-separated) it calls
``wsfast.patch()`` on them first (bench/test_bench_patch.py's "after");
IMPL+patched patches the library that IMPL runs on.

The environment sets the rest of the load (bench/e2e/run.py sets it):
WSFAST_BENCH_DEFLATE=1 enables permessage-deflate where the server has it;
WSFAST_BENCH_HEAP=warm frees a large block first, so that glibc's mmap
threshold has moved as in a server that has run a while (fresh: left alone);
WSFAST_BENCH_LOOP=asyncio runs on asyncio's own loop instead of uvloop.
"""
import asyncio
import contextlib
import os
import sys

DEFLATE = os.environ.get("WSFAST_BENCH_DEFLATE") == "1"


async def wsfast_server(port):
    from wsfast.asyncio import serve

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    server = await serve(echo, "127.0.0.1", port, compression="deflate" if DEFLATE else None,
                         max_message_size=None, ping_interval=None, max_queue=64)
    return server


async def wsfast_callback_server(port):
    """wsfast with ``on_message``: no task switch per message."""
    from wsfast.asyncio import serve

    async def echo(ws):
        ws.on_message = ws.send_nowait
        await ws.wait_closed()

    return await serve(echo, "127.0.0.1", port, compression="deflate" if DEFLATE else None,
                       max_message_size=None, ping_interval=None)


async def websockets_server(port):
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosedError

    async def echo(ws):
        # The load generator drops its connections without a closing
        # handshake when its time is up: not worth a traceback per connection.
        with contextlib.suppress(ConnectionClosedError):
            async for message in ws:
                await ws.send(message)

    return await serve(echo, "127.0.0.1", port, compression="deflate" if DEFLATE else None,
                       max_size=None, ping_interval=None)


async def aiohttp_server(port):
    from aiohttp import WSMsgType, web

    async def handler(request):
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True, compress=DEFLATE)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner


async def picows_server(port):
    import picows
    if DEFLATE:
        sys.exit("picows has no permessage-deflate")

    class Echo(picows.WSListener):
        def on_ws_frame(self, transport, frame):
            if frame.msg_type == picows.WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code(), frame.get_close_message())
                transport.disconnect()
            elif frame.msg_type in (picows.WSMsgType.TEXT, picows.WSMsgType.BINARY):
                # Messages in the benchmark are single frames.
                transport.send(frame.msg_type, frame.get_payload_as_bytes())

    return await picows.ws_create_server(lambda request: Echo(), "127.0.0.1", port,
                                         max_frame_size=1 << 30)


async def tcp_server(port):
    """Not WebSocket: a raw TCP echo, the ceiling of the loopback path."""

    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport

        def data_received(self, data):
            self.transport.write(data)

    return await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", port)


async def asgi_echo(scope, receive, send):
    """The minimal ASGI echo every uvicorn row runs."""
    if scope["type"] != "websocket":
        return
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.receive":
            await send({"type": "websocket.send", "bytes": message.get("bytes"),
                        "text": message.get("text")})
        elif kind == "websocket.connect":
            await send({"type": "websocket.accept"})
        else:
            return


def fastapi_echo():
    """A FastAPI endpoint as its users write one: text in, text out."""
    from fastapi import FastAPI, WebSocket, WebSocketDisconnect

    app = FastAPI()

    @app.websocket("/")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.send_text(await websocket.receive_text())

    return app


def uvicorn_server(ws, app=None):
    """uvicorn with WebSocket protocol ``ws`` (its own, or wsfast's) and its
    default HTTP parser, serving ``app()`` (asgi_echo by default); uvicorn's
    defaults otherwise, except no keepalive pings, as the other rows."""
    async def start(port):
        import socket
        from types import SimpleNamespace

        import uvicorn
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        config = uvicorn.Config(app() if app else asgi_echo, ws=ws, lifespan="off",
                                log_level="error", ws_per_message_deflate=DEFLATE,
                                ws_ping_interval=None, loop="none")
        server = uvicorn.Server(config)
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        return SimpleNamespace(sockets=[sock], serving=task)  # uvicorn exits on SIGTERM
    return start


def bound_port(server):
    """The port the OS chose for a server started on port 0."""
    for attr in ("sockets",):
        if getattr(server, attr, None):
            return server.sockets[0].getsockname()[1]
    if hasattr(server, "addresses"):  # aiohttp AppRunner
        return server.addresses[0][1]
    raise RuntimeError(f"cannot find the port of {server!r}")


SERVERS = {"wsfast": wsfast_server, "wsfast-callback": wsfast_callback_server, "websockets": websockets_server,
           "aiohttp": aiohttp_server, "picows": picows_server, "tcp": tcp_server,
           "uvicorn-wsfast": uvicorn_server("wsfast.uvicorn:WebSocketProtocol"),
           "uvicorn-sansio": uvicorn_server("websockets-sansio"),
           "uvicorn-wsproto": uvicorn_server("wsproto"),
           "fastapi-wsfast": uvicorn_server("wsfast.uvicorn:WebSocketProtocol", fastapi_echo),
           "fastapi-sansio": uvicorn_server("websockets-sansio", fastapi_echo)}
# The library each server runs on, for IMPL+patched.
LIBRARY = {"websockets": "websockets", "aiohttp": "aiohttp", "uvicorn-sansio": "websockets",
           "uvicorn-wsproto": "wsproto", "fastapi-sansio": "websockets"}


def warm_heap():
    """Free one block above glibc's mmap threshold: the threshold then rises
    to its size (and the trim threshold to twice it), as it does in a server
    once some large read buffer or message has been freed."""
    block = bytearray(16 << 20)
    del block


async def main(impl, port):
    server = await SERVERS[impl](port)
    if port == 0:
        port = bound_port(server)
    print(f"READY {port}", flush=True)
    try:
        await (getattr(server, "serving", None) or asyncio.Event().wait())
    finally:
        del server


if __name__ == "__main__":
    impl, port = sys.argv[1], int(sys.argv[2])
    if impl.endswith("+patched"):
        impl = impl[:-len("+patched")]
        os.environ["WSFAST_PATCH"] = LIBRARY[impl]
    if os.environ.get("WSFAST_BENCH_HEAP") == "warm":
        warm_heap()
    if os.environ.get("WSFAST_PATCH"):
        import wsfast
        names = os.environ["WSFAST_PATCH"].split(",")
        if not set(names) <= set(wsfast.patch(*names)):
            sys.exit(f"wsfast.patch({names}) did not apply: {wsfast.patched()}")
    if len(sys.argv) > 3:
        os.sched_setaffinity(0, {int(sys.argv[3])})
    try:
        if os.environ.get("WSFAST_BENCH_LOOP") == "asyncio":
            raise ImportError
        import uvloop
    except ImportError:
        asyncio.run(main(impl, port))
    else:
        uvloop.run(main(impl, port))
