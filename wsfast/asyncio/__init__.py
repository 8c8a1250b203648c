"""asyncio WebSocket server and client on wsfast's sans-IO Connection."""
from wsfast.asyncio.broadcast import broadcast
from wsfast.asyncio.client import connect
from wsfast.asyncio.connection import Data, WebSocket
from wsfast.asyncio.server import Server, serve

__all__ = ["Data", "Server", "WebSocket", "broadcast", "connect", "serve"]
