#!/usr/bin/env python3
"""Load, soak and leak checks for wsfast on loopback; every run is bounded
in time and count and stops by itself.

    python scripts/load.py load [--connections 2000] [--duration 20] [--size 64]
    python scripts/load.py soak [--messages 1000000] [--size 64]
    python scripts/load.py leaks [--operations 1000000]

``load``: one wsfast server in its own process (so its memory is its own),
N concurrent client connections in this one, each sending messages (and a
ping every few) and checking that every echo is, byte for byte, what it
sent; it reports connections held, messages/s, the server's RSS per
connection (VmRSS before and with the connections open) and what was lost.
``soak``: a million messages through one connection, server RSS sampled as
they go: after warm-up it must stay flat. ``leaks``: the C parser, masking
and UTF-8 validator run a million times in this process; reference counts of
the objects they touch and tracemalloc's count of live memory must not grow.
Results are printed as ``key: value`` lines (and returned by the functions,
which tests/asyncio/test_load.py runs in a short version).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import struct
import subprocess
import sys
import time
from typing import Any

try:
    import tracemalloc
except ImportError:  # PyPy has none: run_leaks cannot run there
    tracemalloc = None  # type: ignore[assignment]

try:
    import resource
except ImportError:  # Windows: no RLIMIT_NOFILE to raise
    resource = None  # type: ignore[assignment]

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # run from a checkout without installing

import wsfast  # noqa: E402
from wsfast.asyncio import connect, serve  # noqa: E402
from wsfast.errors import ConnectionClosed  # noqa: E402


def raise_fd_limit(need: int) -> int | None:
    """Lift the soft RLIMIT_NOFILE towards ``need`` (as far as the hard
    limit allows): every connection is a file descriptor."""
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = want
    return soft


def rss_kib(pid: int | str = "self") -> int | None:
    """Resident set size of a process in KiB (VmRSS in /proc/<pid>/status);
    None where there is no /proc (macOS, Windows)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# --- the server, in its own process -----------------------------------------


async def echo(ws: Any) -> None:
    async for message in ws:
        await ws.send(message)


async def serve_until_stdin_closes(compression: str | None) -> None:
    """Serve on a free port of 127.0.0.1, print it, stop when the parent
    closes our stdin (or after an hour, whatever happens to the parent)."""
    raise_fd_limit(65536)
    loop = asyncio.get_running_loop()
    async with serve(echo, "127.0.0.1", 0, compression=compression, ping_interval=None,
                     backlog=4096) as server:
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        eof = loop.run_in_executor(None, sys.stdin.read)
        await asyncio.wait_for(eof, 3600)


class ServerProcess:
    """``with ServerProcess() as server:`` a wsfast echo server in a child
    process; ``server.port``, ``server.rss()``. Ends it (by its PID) on exit."""

    def __init__(self, compression: str | None = None) -> None:
        args = [sys.executable, os.path.abspath(__file__), "serve"]
        if compression:
            args += ["--compression", compression]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r}")
        self.port = int(line.split()[1])

    def rss(self) -> int:
        return rss_kib(self.proc.pid)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- load: many connections --------------------------------------------------


class Tally:
    """What the clients did and saw."""

    def __init__(self) -> None:
        self.sent = self.echoed = self.wrong = self.pings = self.pongs = 0
        self.errors: list[str] = []


async def client(url: str, cid: int, ready: asyncio.Event, start: asyncio.Event,
                 deadline: list[float], size: int, ping_every: int, tally: Tally,
                 held: list[Any]) -> None:
    """One connection: open, wait for every other to be open, then send and
    check round trips until the deadline, then close."""
    filler = bytes((cid + i) & 0xFF for i in range(max(size - 8, 0)))
    try:
        ws = await connect(url, compression=None, ping_interval=None, open_timeout=60)
    except (OSError, asyncio.TimeoutError) as exc:
        tally.errors.append(f"connect: {exc!r}")
        ready.set()
        return
    held.append(ws)
    ready.set()
    await start.wait()
    seq = 0
    try:
        while time.monotonic() < deadline[0]:
            # Content unique to this connection and round trip: an echo
            # from another connection or an old one cannot match.
            payload = struct.pack("!II", cid, seq) + filler
            await ws.send(payload)
            tally.sent += 1
            if await ws.recv() == payload:
                tally.echoed += 1
            else:
                tally.wrong += 1
            seq += 1
            if ping_every and seq % ping_every == 0:
                tally.pings += 1
                await (await ws.ping())
                tally.pongs += 1
        await ws.close()
    except ConnectionClosed as exc:
        tally.errors.append(f"closed: {exc}")


async def run_load(port: int, connections: int, duration: float, size: int = 64,
                   ping_every: int = 10, server_rss: Any = None) -> dict[str, Any]:
    """Open ``connections`` to 127.0.0.1:port (in batches, as a backlog
    allows), exchange round trips for ``duration`` seconds, close them."""
    raise_fd_limit(connections + 256)
    url = f"ws://127.0.0.1:{port}/"
    tally, held = Tally(), []
    start, deadline = asyncio.Event(), [0.0]
    rss_before = server_rss() if server_rss else None
    tasks = []
    opened_at = time.monotonic()
    for first in range(0, connections, 200):
        readies = []
        for cid in range(first, min(first + 200, connections)):
            ready = asyncio.Event()
            readies.append(ready.wait())
            tasks.append(asyncio.ensure_future(client(url, cid, ready, start, deadline, size,
                                                      ping_every, tally, held)))
        await asyncio.wait_for(asyncio.gather(*readies), 120)
    open_seconds = time.monotonic() - opened_at
    rss_held = server_rss() if server_rss else None
    t0 = time.monotonic()
    deadline[0] = t0 + duration
    start.set()
    await asyncio.wait_for(asyncio.gather(*tasks), duration + 120)
    elapsed = time.monotonic() - t0
    result = dict(connections=connections, held=len(held), open_seconds=round(open_seconds, 2),
                  duration=round(elapsed, 2), size=size, sent=tally.sent,
                  echoed_ok=tally.echoed, wrong=tally.wrong, lost=tally.sent - tally.echoed - tally.wrong,
                  pings=tally.pings, pongs=tally.pongs,
                  messages_per_second=round(tally.echoed / elapsed),
                  closed_cleanly=sum(1 for ws in held if ws.close_code == 1000),
                  errors=len(tally.errors), first_error=tally.errors[0] if tally.errors else "")
    if rss_before is not None and rss_held is not None:
        result.update(server_rss_before_kib=rss_before, server_rss_held_kib=rss_held,
                      server_rss_per_connection_kib=round((rss_held - rss_before) / max(len(held), 1), 1))
    return result


# --- soak: many messages through one connection ------------------------------


async def run_soak(port: int, messages: int, size: int = 64, window: int = 100,
                   samples: int = 10, server_rss: Any = None) -> dict[str, Any]:
    """``messages`` round trips through one connection, ``window`` in
    flight at a time, every echo compared with what was sent; RSS of this
    process (and of the server, when given) sampled ``samples`` times."""
    filler = os.urandom(max(size - 8, 0))
    every = max(messages // samples, window)
    rss_self: list[int] = []  # stay empty without /proc
    rss_server: list[int] = []
    wrong = done = 0
    t0 = time.monotonic()
    async with connect(f"ws://127.0.0.1:{port}/", compression=None, ping_interval=None,
                       max_message_size=max(size, 1024)) as ws:
        seq = 0
        while seq < messages:
            batch = [struct.pack("!Q", seq + i) + filler for i in range(min(window, messages - seq))]
            for payload in batch:
                await ws.send(payload)
            for payload in batch:
                if await ws.recv() != payload:
                    wrong += 1
                done += 1
            seq += len(batch)
            if seq % every < window:
                for samples_of, measure in ((rss_self, rss_kib), (rss_server, server_rss)):
                    value = measure() if measure else None
                    if value is not None:
                        samples_of.append(value)
    elapsed = time.monotonic() - t0
    result: dict[str, Any] = dict(messages=messages, size=size, echoed=done, wrong=wrong,
                                  lost=messages - done, seconds=round(elapsed, 2),
                                  messages_per_second=round(done / elapsed),
                                  client_rss_kib=rss_self)
    # Flat: from the second sample (after warm-up) to the last.
    result["client_rss_growth_kib"] = rss_self[-1] - rss_self[1] if len(rss_self) > 1 else 0
    if len(rss_server) > 1:
        result["server_rss_kib"] = rss_server
        result["server_rss_growth_kib"] = rss_server[-1] - rss_server[1]
    return result


# --- leaks: the C entry points in a loop -------------------------------------


def run_leaks(operations: int) -> dict[str, Any]:
    """Run the parser, masking and UTF-8 validation ``operations`` times
    each on shared inputs; compare reference counts of those inputs and
    tracemalloc's live memory before and after (after a warm-up round, so
    caches and free lists are already filled)."""
    from wsfast import FrameParser, Utf8Validator, apply_mask, build_frame, validate_utf8
    key = b"\x01\x02\x03\x04"
    text = "wsfast κόσμε 🎉".encode() * 4
    bad = text[:-1] + b"\xff"
    frame = build_frame(1, text, mask=True) + build_frame(9, b"ping", mask=True)
    broken = b"\x83\x80" + key  # reserved opcode: an error on every feed
    shared = (key, text, bad, frame, broken)

    def round_of(n: int) -> None:
        parser = FrameParser("server")
        validator = Utf8Validator()
        for _ in range(n):
            for f in parser.feed(frame):
                f.payload
            apply_mask(text, key, 1)
            validate_utf8(text)
            validate_utf8(bad)
            validator.feed(text)
            try:
                FrameParser("server").feed(broken)
            except wsfast.ProtocolError:
                pass
        validator.reset()

    round_of(1000)
    gc.collect()
    rss_before = rss_kib()
    refs_before = [sys.getrefcount(obj) for obj in shared]
    tracemalloc.start()
    gc.collect()
    mem_before = tracemalloc.get_traced_memory()[0]
    t0 = time.monotonic()
    round_of(operations)
    elapsed = time.monotonic() - t0
    gc.collect()
    mem_after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    refs_after = [sys.getrefcount(obj) for obj in shared]
    return dict(implementation=wsfast.IMPLEMENTATION, kernel=wsfast.KERNEL,
                operations=operations, seconds=round(elapsed, 2),
                rss_before_kib=rss_before, rss_after_kib=rss_kib(),
                refcounts_before=refs_before, refcounts_after=refs_after,
                traced_bytes_growth=mem_after - mem_before)


# --- command line -----------------------------------------------------------


def report(result: dict[str, Any]) -> None:
    for key, value in result.items():
        print(f"{key}: {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="(internal) the echo server process")
    p.add_argument("--compression", default=None)
    p = sub.add_parser("load", help="many concurrent connections")
    p.add_argument("--connections", type=int, default=2000, help="up to 10000")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of traffic")
    p.add_argument("--size", type=int, default=64, help="message size in bytes (>= 8)")
    p.add_argument("--ping-every", type=int, default=10, help="a ping every N messages")
    p = sub.add_parser("soak", help="many messages through one connection")
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--size", type=int, default=64)
    p = sub.add_parser("leaks", help="reference and memory leaks in the C entry points")
    p.add_argument("--operations", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(serve_until_stdin_closes(args.compression))
        return 0
    if args.command == "leaks":
        result = run_leaks(args.operations)
        report(result)
        return 0 if (result["refcounts_before"] == result["refcounts_after"]
                     and result["traced_bytes_growth"] < 64 * 1024) else 1
    print(f"implementation: {wsfast.IMPLEMENTATION} ({wsfast.KERNEL})")
    with ServerProcess() as server:
        if args.command == "load":
            if not 1 <= args.connections <= 10000:
                parser.error("--connections must be from 1 to 10000")
            result = asyncio.run(run_load(server.port, args.connections, args.duration,
                                          max(args.size, 8), args.ping_every, server.rss))
            ok = result["held"] == args.connections and not result["lost"] and not result["wrong"]
        else:
            result = asyncio.run(run_soak(server.port, args.messages, max(args.size, 8),
                                          server_rss=server.rss))
            ok = not result["lost"] and not result["wrong"]
    report(result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
