"""Client side of the end-to-end benchmarks: each client implementation runs
the same echo loop against one common server.

    python bench/e2e/clients.py [--connections 1 64] [--sizes 32 1024 65536]
                                [--depth 1] [--seconds 3] [--rounds 3]
                                [--server picows]

The server (bench/e2e/servers.py, picows by default: the fastest available,
and written by nobody here) runs pinned to CPU 0; each client runs pinned to
CPU 1 with N connections, each keeping DEPTH messages in flight (with 1:
sending a message and awaiting its echo in a loop). The table shows median
messages/s and the client's CPU use. With DEPTH above 1 the picows server
is the bottleneck (one write per echo); use ``--server wsfast-callback``.
"""
import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import add_load_arguments

HERE = Path(__file__).parent
ENV = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
CLIENTS = ["wsfast", "wsfast-callback", "picows", "aiohttp", "websockets"]


async def send_recv(send, recv, payload, stop, counter, depth):
    """depth messages in flight: one send ahead per echo received, through
    a client's own send and receive coroutines."""
    for _ in range(depth - 1):
        await send(payload)
    while not stop.is_set():
        await send(payload)
        await recv()
        counter[0] += 1


async def loop_wsfast(url, payload, stop, counter, depth):
    from wsfast.asyncio import connect
    async with connect(url, compression=None, max_message_size=None, ping_interval=None) as ws:
        await send_recv(ws.send, ws.recv, payload, stop, counter, depth)


async def loop_wsfast_callback(url, payload, stop, counter, depth):
    from wsfast.asyncio import connect
    async with connect(url, compression=None, max_message_size=None, ping_interval=None) as ws:
        def on_message(message):
            counter[0] += 1
            if not stop.is_set():
                ws.send_nowait(payload)
        ws.on_message = on_message
        for _ in range(depth):
            ws.send_nowait(payload)
        await stop.wait()


async def loop_websockets(url, payload, stop, counter, depth):
    from websockets.asyncio.client import connect
    async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        await send_recv(ws.send, ws.recv, payload, stop, counter, depth)


async def loop_aiohttp(url, payload, stop, counter, depth):
    import aiohttp
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, max_msg_size=0, autoping=True) as ws:
            await send_recv(ws.send_bytes, ws.receive, payload, stop, counter, depth)


async def loop_picows(url, payload, stop, counter, depth):
    import picows

    class Client(picows.WSListener):
        def on_ws_connected(self, transport):
            for _ in range(depth):
                transport.send(picows.WSMsgType.BINARY, payload)

        def on_ws_frame(self, transport, frame):
            counter[0] += 1
            if not stop.is_set():
                transport.send(picows.WSMsgType.BINARY, payload)

    transport, _ = await picows.ws_connect(Client, url, max_frame_size=1 << 30)
    await stop.wait()
    transport.disconnect()


LOOPS = {"wsfast": loop_wsfast, "wsfast-callback": loop_wsfast_callback,
         "websockets": loop_websockets, "aiohttp": loop_aiohttp, "picows": loop_picows}


async def client_main(impl, url, connections, size, seconds, depth):
    payload = os.urandom(size)
    stop, counter = asyncio.Event(), [0]
    tasks = [asyncio.ensure_future(LOOPS[impl](url, payload, stop, counter, depth))
             for _ in range(connections)]
    await asyncio.sleep(min(1.0, seconds / 4))
    count0, start, cpu0 = counter[0], time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    count, elapsed = counter[0] - count0, time.perf_counter() - start
    cpu = (time.process_time() - cpu0) / elapsed
    stop.set()
    await asyncio.wait(tasks, timeout=5)
    return {"messages_per_s": count / elapsed, "client_cpu": cpu}


def one_run(impl, server, connections, size, seconds, depth=1):
    proc = subprocess.Popen([sys.executable, str(HERE / "servers.py"), server, "0", "0"],
                            stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        port = int(proc.stdout.readline().split()[1])
        out = subprocess.run(
            ["taskset", "-c", "1", sys.executable, __file__, "--run", impl,
             f"ws://127.0.0.1:{port}/", str(connections), str(size), str(seconds),
             str(depth)],
            capture_output=True, text=True, env=ENV, timeout=seconds + 60)
        if out.returncode != 0:
            raise RuntimeError(f"{impl} client failed: {out.stderr[-800:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def main():
    if sys.argv[1:2] == ["--run"]:
        impl, url, connections, size, seconds, depth = sys.argv[2:8]
        coro = client_main(impl, url, int(connections), int(size), float(seconds), int(depth))
        try:
            import uvloop
            result = uvloop.run(coro)
        except ImportError:
            result = asyncio.run(coro)
        print(json.dumps(result))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_load_arguments(p)
    p.add_argument("--server", default="picows")
    p.add_argument("--clients", nargs="+", default=CLIENTS)
    args = p.parse_args()
    results = []
    for connections in args.connections:
        for size in args.sizes:
            runs = {impl: [] for impl in args.clients}
            for _ in range(args.rounds):
                for impl in args.clients:
                    runs[impl].append(one_run(impl, args.server, connections, size, args.seconds,
                                             args.depth))
            cell = {impl: statistics.median(r["messages_per_s"] for r in rs)
                    for impl, rs in runs.items()}
            print(f"\nclients, {connections} connection(s), {size} B messages, "
                  f"{args.depth} in flight each, "
                  f"{args.server} server (median of {args.rounds} x {args.seconds:g} s)")
            print(f"  {'client':<16} {'msg/s':>10} {'cli CPU':>8} {'x websockets':>13} {'x picows':>9}")
            for impl in args.clients:
                cpu = statistics.median(r["client_cpu"] for r in runs[impl])
                rate = cell[impl]
                results.append({"connections": connections, "size": size,
                                "depth": args.depth, "client": impl,
                                "messages_per_s": rate, "client_cpu": cpu})
                ws = rate / cell["websockets"] if cell.get("websockets") else float("nan")
                pw = rate / cell["picows"] if cell.get("picows") else float("nan")
                print(f"  {impl:<16} {rate:10.0f} {cpu:7.0%} {ws:13.2f} {pw:9.2f}")
            sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
