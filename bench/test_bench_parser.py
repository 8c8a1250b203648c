"""Frame parsing throughput, side by side with the parsers of other projects.

One buffer of 10,000 masked client frames (binary, 16-byte or 1 KiB
payloads) is parsed by a server-side parser of each project in the same run.
Every driver does the same work: it gets each payload as bytes and keeps all
of them until the buffer is done (as wsfast's feed() and aiohttp's queue do
by design), so allocator costs weigh on each alike. Run::

    python -m pytest bench/test_bench_parser.py --benchmark-group-by=param:size

Projects that are not installed are skipped. aiohttp and picows need an
event loop to exist; they are fed without any socket.
"""
from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket

import pytest

from wsfast import _pure, build_frame

FRAMES = 10_000
SIZES = {"16B": 16, "1KiB": 1024}


def stream(size: int) -> bytes:
    return b"".join(build_frame(2, os.urandom(size), mask=True) for _ in range(FRAMES))


# Each driver takes the stream and returns a function that parses all of it
# once and returns the number of frames it saw.

def wsfast_c(data):
    from wsfast import _speedups
    return lambda: len(_speedups.FrameParser("server").feed(data))


def wsfast_pure(data):
    return lambda: len(_pure.FrameParser("server").feed(data))


def wsproto(data):
    from wsproto.frame_protocol import FrameProtocol

    def run():
        proto = FrameProtocol(client=False, extensions=[])
        proto.receive_bytes(data)
        return len([frame.payload for frame in proto.received_frames()])
    return run


def websockets(data):
    # What websockets' Protocol does: Frame.parse driven by its StreamReader.
    from websockets.frames import Frame
    from websockets.streams import StreamReader

    def run():
        reader = StreamReader()
        reader.feed_data(data)
        payloads = []
        while reader.buffer:
            parse = Frame.parse(reader.read_exact, mask=True, max_size=1 << 20)
            try:
                next(parse)
            except StopIteration as done:
                payloads.append(done.value.data)
        return len(payloads)
    return run


class _Protocol:
    """What aiohttp's data queue calls on flow control; nothing to do here."""
    _reading_paused = False

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


def aiohttp(data, loop):
    from aiohttp._websocket import reader

    def run():
        queue = reader.WebSocketDataQueue(_Protocol(), 1 << 30, loop=loop)
        reader.WebSocketReader(queue, 1 << 20, False, False).feed_data(data)
        return FRAMES  # checked once, in check_aiohttp
    return run


def picows(data, loop):
    import picows as pw
    from picows.picows import WSProtocol

    class Listener(pw.WSListener):
        payloads: list = []

        def on_ws_frame(self, transport, frame):
            self.payloads.append(frame.get_payload_as_bytes())

    class Transport:
        """Just enough of an asyncio transport for the opening handshake."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # never connected

        def get_extra_info(self, name, default=None):
            return self.sock if name == "socket" else default

        def write(self, data):
            pass

        def is_closing(self):
            return False

        def get_write_buffer_size(self):
            return 0

    listener = Listener()

    async def connect():
        proto = WSProtocol("127.0.0.1:1", "/", False, lambda request: listener,
                           logging.getLogger("bench"), True, None, False, 10, 10,
                           pw.WSAutoPingStrategy.PING_WHEN_IDLE, False, 1 << 20, None, 1 << 20)
        proto.connection_made(Transport())
        return proto

    proto = loop.run_until_complete(connect())

    def feed(chunk):
        view = memoryview(chunk)
        while view:  # picows reads into its own buffer, as much as it offers
            target = proto.get_buffer(-1)
            n = min(len(target), len(view))
            target[:n] = view[:n]
            proto.buffer_updated(n)
            view = view[n:]

    feed(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
         b"Connection: Upgrade\r\nSec-WebSocket-Key: " + base64.b64encode(os.urandom(16)) +
         b"\r\nSec-WebSocket-Version: 13\r\n\r\n")

    def run():
        listener.payloads = []
        feed(data)
        return len(listener.payloads)
    return run


DRIVERS = {"wsfast-c": wsfast_c, "wsfast-pure": wsfast_pure, "wsproto": wsproto,
           "websockets": websockets, "aiohttp": aiohttp, "picows": picows}
NEEDS = {"wsfast-c": "wsfast._speedups", "wsproto": "wsproto", "websockets": "websockets",
         "aiohttp": "aiohttp", "picows": "picows"}


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module", params=list(SIZES))
def size(request):
    return request.param


@pytest.fixture(scope="module")
def data(size):
    return stream(SIZES[size])


@pytest.mark.parametrize("parser", list(DRIVERS))
def test_parse(benchmark, parser, size, data, loop):
    if parser in NEEDS:
        pytest.importorskip(NEEDS[parser])
    driver = DRIVERS[parser]
    run = driver(data, loop) if parser in ("aiohttp", "picows") else driver(data)
    assert run() == FRAMES
    benchmark.group = f"parse {FRAMES} masked frames of {size}"
    benchmark.extra_info["frames"] = FRAMES
    benchmark(run)


def test_check_aiohttp(loop):
    """The aiohttp driver does parse every frame (counted once, untimed)."""
    aio = pytest.importorskip("aiohttp._websocket.reader")
    queue = aio.WebSocketDataQueue(_Protocol(), 1 << 30, loop=loop)
    aio.WebSocketReader(queue, 1 << 20, False, False).feed_data(stream(16))

    async def drain():
        return [await queue.read() for _ in range(FRAMES)]
    assert len(loop.run_until_complete(drain())) == FRAMES


# ---- Frame objects and building frames ---------------------------------------

FRAME_IMPLS = {"wsfast-c": "wsfast._speedups", "wsfast-pure": "wsfast._pure"}


@pytest.mark.parametrize("impl", list(FRAME_IMPLS))
def test_frame_creation(benchmark, impl):
    """10,000 Frame objects through the public constructor."""
    module = pytest.importorskip(FRAME_IMPLS[impl])
    frame, payload = module.Frame, b"x" * 16
    benchmark.group = f"create {FRAMES} Frame objects"
    benchmark(lambda: [frame(2, payload, True) for _ in range(FRAMES)])


def _websockets_build(payload):
    from websockets.frames import Frame, Opcode
    return lambda: [Frame(Opcode.BINARY, payload).serialize(mask=True) for _ in range(FRAMES)]


@pytest.mark.parametrize("impl", list(FRAME_IMPLS) + ["websockets"])
def test_build_masked(benchmark, impl):
    """10,000 masked 16-byte frames, as a client sends them (a key each)."""
    payload = os.urandom(16)
    if impl == "websockets":
        pytest.importorskip("websockets")
        run = _websockets_build(payload)
    else:
        build = pytest.importorskip(FRAME_IMPLS[impl]).build_frame
        run = lambda: [build(2, payload, mask=True) for _ in range(FRAMES)]  # noqa: E731
    benchmark.group = f"build {FRAMES} masked frames of 16B"
    benchmark(run)
