"""A real uvicorn server with wsfast's WebSocket protocol, on a free
loopback port, for the tests in tests/integrations/."""
from __future__ import annotations

import asyncio
import contextlib
import socket
from types import SimpleNamespace
from typing import Any, AsyncIterator

PROTOCOL = "wsfast.uvicorn:WebSocketProtocol"


@contextlib.asynccontextmanager
async def running(app: Any, **options: Any) -> AsyncIterator[Any]:
    """uvicorn serving ``app`` with wsfast's protocol on a free loopback port;
    its url is wss:// when the options give it TLS (ssl_certfile, ssl_keyfile)."""
    import uvicorn  # the tests that use this skip without it
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, ws=PROTOCOL, lifespan="off", log_level="warning", **options)
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), task.exception()
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()
        scheme = "wss" if config.is_ssl else "ws"
        yield SimpleNamespace(url=f"{scheme}://{host}:{port}/", sockets=[sock], server=server)
    finally:
        server.should_exit = True
        await task
        sock.close()
