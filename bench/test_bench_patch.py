"""wsfast.patch(): each library before and after, side by side in one run.

    python -m pytest bench/test_bench_patch.py --benchmark-group-by=group

- wsproto: a client and a server Connection echo 1 MiB messages in memory.
- websockets and aiohttp: their echo servers (bench/e2e/servers.py, started
  unpatched or with WSFAST_PATCH) on loopback, driven by one common client
  (blocking socket, wsfast's framing) that sends a bounded number of 32 B or
  1 MiB messages, one in flight at a time. The client is the same for every
  server, patched or not, so a difference is the server's.
"""
from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import wsfast

HERE = Path(__file__).resolve().parent
MODES = ["unpatched", "patched"]


@pytest.fixture(params=MODES)
def mode(request):
    """Runs the benchmark once unpatched and once with wsfast.patch()."""
    wsfast.unpatch()
    if request.param == "patched":
        wsfast.patch()
    yield request.param
    wsfast.unpatch()


# --- wsproto, in memory ---------------------------------------------------------

@pytest.mark.benchmark(group="wsproto echo, 1 MiB, in memory")
def test_wsproto_echo_1mib(benchmark, mode):
    pytest.importorskip("wsproto")
    payload = os.urandom(1 << 20)
    assert benchmark(wsproto_echo(payload)) == payload


def wsproto_echo(payload: bytes):
    """A function that echoes payload between two wsproto Connections."""
    from wsproto import ConnectionType
    from wsproto.connection import Connection
    from wsproto.events import BytesMessage

    client, server = Connection(ConnectionType.CLIENT), Connection(ConnectionType.SERVER)

    def echo():
        server.receive_data(client.send(BytesMessage(payload)))
        reply = b""
        for event in server.events():
            reply += server.send(BytesMessage(event.data, event.frame_finished,
                                              event.message_finished))
        client.receive_data(reply)
        return b"".join(e.data for e in client.events())

    return echo


# --- websockets and aiohttp servers on loopback -----------------------------------

class EchoClient:
    """The common load generator: one connection, blocking, bounded."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                          b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("server closed during the handshake")
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.decode(errors="replace"))
        self.parser = wsfast.FrameParser("client", max_frame_size=None)
        self.parser.feed(rest)

    def echo(self, frame: bytes, count: int) -> int:
        """Send a prebuilt masked frame count times, each after the previous echo."""
        received = 0
        for _ in range(count):
            self.sock.sendall(frame)
            frames = []
            while not frames:
                data = self.sock.recv(1 << 20)
                if not data:
                    raise ConnectionError("server closed the connection")
                frames = self.parser.feed(data)
            received += sum(len(f.payload) for f in frames)
        return received

    def close(self) -> None:
        """Say goodbye with a close frame (1000), then close the socket."""
        try:
            self.sock.sendall(wsfast.build_frame(8, b"\x03\xe8", mask=True))
        except OSError:
            pass
        self.sock.close()


@contextlib.contextmanager
def echo_server(library: str, patched: bool):
    """An echo server (bench/e2e/servers.py) in its own process, patched or
    not; yields its port and ends it by its PID."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    env.pop("WSFAST_PATCH", None)
    if patched:
        env["WSFAST_PATCH"] = library
    proc = subprocess.Popen([sys.executable, str(HERE / "e2e" / "servers.py"), library, "0"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"{library} server did not start: {line!r}")
        yield int(line.split()[1])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module", params=[(lib, m) for lib in ("websockets", "aiohttp")
                                        for m in MODES], ids=lambda p: f"{p[0]}-{p[1]}")
def server(request):
    library, mode = request.param
    pytest.importorskip(library)
    with echo_server(library, mode == "patched") as port:
        yield library, mode, port


@pytest.mark.parametrize("size,count", [(32, 2000), (1 << 20, 20)], ids=["32B", "1MiB"])
def test_server_echo(benchmark, server, size, count):
    library, mode, port = server
    benchmark.group = f"{library} echo server, {size} B x {count}, loopback"
    benchmark.extra_info["mode"] = mode
    frame = wsfast.build_frame(2, os.urandom(size), mask=True)
    client = EchoClient(port)
    try:
        received = benchmark.pedantic(client.echo, args=(frame, count), rounds=15,
                                      warmup_rounds=1)
    finally:
        client.close()
    assert received == size * count
