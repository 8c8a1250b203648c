"""The common load generator for the end-to-end benchmarks.

    python bench/e2e/loadgen.py PORT --connections N --size BYTES
        [--depth D] [--seconds S] [--cpu C] [--raw]

Opens N WebSocket connections (wsfast's handshake), then keeps D messages in
flight on each: every echo that arrives triggers the next message. Frames are
built once (masked, as a client must) and parsed with wsfast's C parser, so
the generator spends little per message; run it against the raw TCP echo
(--raw) to see its own ceiling. Prints one JSON line: messages/s and bytes/s.
"""
import argparse
import asyncio
import json
import os
import time

from wsfast import FrameParser, Opcode, build_frame
from wsfast.handshake import ClientHandshake


class Load(asyncio.Protocol):
    def __init__(self, frame, depth, raw, size, counter, opened):
        self.frame, self.depth, self.raw, self.size = frame, depth, raw, size
        self.counter, self.opened = counter, opened
        self.parser = FrameParser("client", max_frame_size=None)
        self.handshake = None if raw else ClientHandshake("ws://127.0.0.1/", compression=None)
        self.pending = 0
        self.running = False

    def connection_made(self, transport):
        self.transport = transport
        if self.raw:
            self.opened.set_result(None) if not self.opened.done() else None
        else:
            transport.write(self.handshake.request_bytes())

    def start(self):
        self.running = True
        self.transport.write(self.frame * self.depth)

    def data_received(self, data):
        if self.handshake is not None:
            if self.handshake.receive_data(data) is None:
                return
            data, self.handshake = self.handshake.leftover, None
            if not self.opened.done():
                self.opened.set_result(None)
            if not data:
                return
        if self.raw:
            self.pending += len(data)
            n, self.pending = divmod(self.pending, len(self.frame))
        else:
            n = len(self.parser.feed(data))
        if n:
            self.counter[0] += n
            if self.running:
                self.transport.write(self.frame * n)


async def run(port, connections, size, depth, seconds, raw):
    loop = asyncio.get_running_loop()
    payload = os.urandom(size)
    frame = payload if raw else build_frame(Opcode.BINARY, payload, mask=True)
    counter = [0]
    protocols = []
    for _ in range(connections):
        opened = loop.create_future()
        _, proto = await loop.create_connection(
            lambda: Load(frame, depth, raw, size, counter, opened), "127.0.0.1", port)
        await asyncio.wait_for(opened, 10)
        protocols.append(proto)
    for proto in protocols:
        proto.start()
    await asyncio.sleep(min(1.0, seconds / 4))  # warm up
    start_count, start = counter[0], time.perf_counter()
    await asyncio.sleep(seconds)
    count, elapsed = counter[0] - start_count, time.perf_counter() - start
    for proto in protocols:
        proto.running = False
        proto.transport.abort()
    return {"messages_per_s": count / elapsed, "bytes_per_s": count * size / elapsed,
            "messages": count, "seconds": elapsed}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--depth", type=int, default=1)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--cpu", type=int, default=None)
    p.add_argument("--raw", action="store_true")
    args = p.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    coro = run(args.port, args.connections, args.size, args.depth, args.seconds, args.raw)
    try:
        import uvloop
        result = uvloop.run(coro)
    except ImportError:
        result = asyncio.run(coro)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
