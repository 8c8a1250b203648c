"""What each way of consuming messages costs per message, in one process,
without sockets: an open server WebSocket on a transport that discards
writes is fed one 32-byte message per turn of the event loop, and echoes it.

    python bench/consume.py [--messages 200000] [--runs 5]

"on_message": ``ws.on_message = ws.send_nowait``; "async for": ``async for
m in ws: await ws.send(m)``; "recv": ``await ws.recv()`` in a loop;
"wake only": the reading task awaits a bare future per message, which the
read completes (asyncio's part of "async for", with none of wsfast's
Python). Each figure is the best of ``--runs`` runs, in ns per message,
feeding and parsing included. Uses uvloop when installed.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any, Callable

from wsfast import build_frame
from wsfast.asyncio.connection import WebSocket
from wsfast.connection import Connection


class NullTransport(asyncio.Transport):
    """Discards what is written; flow control never pauses."""

    def write(self, data: Any) -> None:
        pass

    writelines = write

    def set_protocol(self, protocol: Any) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    resume_reading = pause_reading


def handler_for(mode: str, ws: WebSocket, loop: asyncio.AbstractEventLoop) -> Callable[[], Any]:
    async def async_for() -> None:
        async for message in ws:
            await ws.send(message)

    async def recv() -> None:
        while True:
            await ws.send(await ws.recv())

    async def wake_only() -> None:
        while True:
            waiter = loop.create_future()
            ws._inbox.wait(waiter)
            await waiter
            ws._messages.clear()

    return {"async for": async_for, "recv": recv, "wake only": wake_only}[mode]


async def per_message(mode: str, messages: int) -> float:
    loop = asyncio.get_running_loop()
    ws = WebSocket("server", max_message_size=1 << 20, max_queue=16, ping_interval=None,
                   ping_timeout=None, close_timeout=5, open_timeout=None)
    transport = NullTransport()
    ws.connection_made(transport)
    ws._opened_with(Connection("server"), b"")
    pump = ws._pump
    frame = build_frame(2, os.urandom(32), mask=True)
    task = None
    if mode == "on_message":
        ws.on_message = ws.send_nowait
    else:
        task = loop.create_task(handler_for(mode, ws, loop)())
    done = loop.create_future()
    left = [messages]

    def feed() -> None:
        left[0] -= 1
        if left[0] < 0:
            done.set_result(None)
            return
        pump.data_received(frame)
        loop.call_soon(feed)

    start = time.perf_counter()
    loop.call_soon(feed)
    await done
    elapsed = time.perf_counter() - start
    if task is not None:
        task.cancel()
    return elapsed / messages * 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    try:
        import uvloop
        new_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    except ImportError:
        new_loop = asyncio.new_event_loop
    modes = ["on_message", "async for", "recv", "wake only"]
    best = {mode: float("inf") for mode in modes}
    for _ in range(args.runs):  # modes take turns, so that noise hits all alike
        for mode in modes:
            loop = new_loop()
            try:
                best[mode] = min(best[mode], loop.run_until_complete(
                    per_message(mode, args.messages)))
            finally:
                loop.close()
    for mode in modes:
        print(f"{mode:<12} {best[mode]:7.0f} ns per message")


if __name__ == "__main__":
    main()
