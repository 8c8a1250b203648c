"""The ``wsfast`` command: the seed's echo server and client, a demo, bench.

    wsfast echo-server [--host 127.0.0.1] [--port 8080] [--path /echo]
                       [--max-message-size BYTES] [--origin ORIGIN ...] [--no-compression]
                       [--subprotocol NAME ...] [--tls-cert FILE [--tls-key FILE]]
    wsfast client [URL] [--interval 1] [--count N] [--origin ORIGIN] [--no-compression]
                  [--cafile FILE | --insecure]
    wsfast demo
    wsfast bench [--suite mask|utf8|parse|text|all] [--sizes 16 1KiB ...] [--quick]
                 [--json FILE] [--plot FILE.png]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import logging
import os
import signal
import ssl
import sys
from typing import Any, Awaitable, Callable

import wsfast
from wsfast.bench import impls as bench_impls, report as bench_report
from wsfast.asyncio import WebSocket, connect, serve
from wsfast.errors import ConnectionClosed, HandshakeError
from wsfast.handshake import OriginPolicy

log = logging.getLogger("wsfast.cli")


def preview(message: str | bytes, limit: int = 60) -> str:
    if isinstance(message, bytes):
        return f"<{len(message)} bytes of binary>"
    return message if len(message) <= limit else f"{message[:limit]}... ({len(message)} chars)"


def code_of(ws: WebSocket) -> int | None:
    """The close code as a plain number: a CloseCode prints as its name
    before Python 3.11, and the output should read the same on all."""
    return None if ws.close_code is None else int(ws.close_code)


async def echo(ws: WebSocket) -> None:
    """Echo every message back, as the seed's server does."""
    log.info("Client connected from %s", ws.remote_address)
    try:
        async for message in ws:
            log.info("Received message: %s", preview(message))
            await ws.send(message)
    except ConnectionClosed as exc:
        log.info("Read error: %s", exc)
    log.info("Client disconnected (close code %s%s)", code_of(ws),
             f", {ws.close_reason!r}" if ws.close_reason else "")


def run(main: Callable[[asyncio.Event], Awaitable[int]]) -> int:
    """Run main(stop) where stop is set on Ctrl-C (SIGINT) or SIGTERM;
    uvloop when it is installed."""

    async def runner() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, AttributeError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        return await main(stop)

    try:
        import uvloop  # type: ignore[import-not-found]
    except ImportError:
        return asyncio.run(runner())
    return uvloop.run(runner())  # type: ignore[no-any-return]


class OriginHint(logging.Filter):
    """Adds to a refused Origin's log line the option that allows it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if any(isinstance(a, HandshakeError) and a.status == 403 and "Origin" in a.reason
               for a in args):
            record.msg = f"{record.msg} (--origin ORIGIN allows it, --origin '*' any)"
        return True


def origin_policy(origins: list[str] | None) -> OriginPolicy:
    """--origin values as serve() takes them: '*' alone allows any."""
    if not origins:
        return None
    return "*" if "*" in origins else origins


def server_tls(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if cert is None:
        if key is not None:
            raise ValueError("--tls-key needs --tls-cert")
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def client_tls(url: str, cafile: str | None, insecure: bool) -> ssl.SSLContext | None:
    if not url.startswith("wss:"):
        if cafile or insecure:
            raise ValueError("--cafile and --insecure are for wss:// URLs")
        return None
    context = ssl.create_default_context(cafile=cafile)
    if insecure:  # the user asked: no certificate check at all
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def echo_server(args: argparse.Namespace, stop: asyncio.Event) -> int:
    path = args.path or None
    tls = server_tls(args.tls_cert, args.tls_key)
    logging.getLogger("wsfast").addFilter(OriginHint())
    async with serve(echo, args.host, args.port, path=path,
                     max_message_size=args.max_message_size or None,
                     origins=origin_policy(args.origin),
                     compression=None if args.no_compression else "deflate",
                     subprotocols=args.subprotocol, ssl=tls) as server:
        bound = server.sockets[0].getsockname()
        log.info("Server starting on %s://%s:%s%s", "wss" if tls else "ws", bound[0], bound[1],
                 path or "/")
        await stop.wait()
        log.info("Shutting down")
    return 0


async def client(args: argparse.Namespace, stop: asyncio.Event) -> int:
    url, interval, count = args.url, args.interval, args.count
    log.info("Connecting to %s", url)
    try:
        ws = await connect(url, close_timeout=1, origin=args.origin,
                           compression=None if args.no_compression else "deflate",
                           ssl=client_tls(url, args.cafile, args.insecure))
    except HandshakeError as exc:
        log.error("Handshake failed: HTTP %s %s", exc.status, exc.reason)
        return 1
    except (OSError, asyncio.TimeoutError) as exc:
        log.error("Dial error: cannot connect to %s: %s", url, exc)
        return 1

    async def read() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                log.info("Received from server: %s", preview(message))

    reader = asyncio.ensure_future(read())
    stopper = asyncio.ensure_future(stop.wait())
    sent = 0
    try:
        while count is None or sent < count:
            await ws.send(datetime.datetime.now().astimezone().isoformat(" "))
            sent += 1
            if count is not None and sent >= count:
                break
            await asyncio.wait([reader, stopper], timeout=interval,
                               return_when=asyncio.FIRST_COMPLETED)
            if reader.done():
                log.error("Read error: server closed the connection (%s %s)",
                          code_of(ws), ws.close_reason)
                return 1
            if stop.is_set():
                log.info("Interrupt received, closing connection.")
                break
        if count is not None:
            # Let the last echo arrive before closing.
            await asyncio.wait([reader, stopper], timeout=min(interval, 1.0),
                               return_when=asyncio.FIRST_COMPLETED)
    except ConnectionClosed as exc:
        log.error("Write error: %s", exc)
        return 1
    finally:
        stopper.cancel()
        await ws.close(1000)  # waits at most close_timeout (1 s) for the server
        reader.cancel()
    log.info("Closed: %s %s", code_of(ws), ws.close_reason)
    return 0


async def demo(stop: asyncio.Event) -> int:
    """Server and client in one process on a free loopback port."""
    print(f"wsfast {wsfast.__version__}: implementation={wsfast.IMPLEMENTATION}, "
          f"kernel={wsfast.KERNEL}")
    async with serve(echo, "127.0.0.1", 0, path="/echo") as server:
        port = server.sockets[0].getsockname()[1]
        url = f"ws://127.0.0.1:{port}/echo"
        async with connect(url) as ws:
            print(f"connected to {url} (compression: "
                  f"{ws.response.headers.get('sec-websocket-extensions') or 'none'})")
            for message in ("Hello, WebSocket!", "κόσμε — 日本語 — 🎉",
                            bytes(range(256)) * 4, os.urandom(1024 * 1024)):
                await ws.send(message)
                echoed = await ws.recv()
                assert echoed == message, "echo mismatch"
                print(f"  sent and got back {preview(message)}")
            rtt = await (await ws.ping())
            print(f"  ping/pong round trip {rtt * 1e6:.0f} µs")
        print(f"closed: code {code_of(ws)} {ws.close_reason!r}")
    print()
    line = bench_report.summary_line()
    print(line)
    return 0


def bench(args: argparse.Namespace) -> int:
    """``wsfast bench``: run, print the tables, then write JSON and the plot."""
    if args.plot:
        try:
            bench_report.require_matplotlib()  # before minutes of measuring, not after
        except RuntimeError as exc:
            log.error("%s", exc)
            return 2
    report = bench_report.run(args.suite, sizes=args.sizes, quick=args.quick,
                                 warm_heap=not args.cold_heap)
    if args.json:
        bench_report.write_json(args.json, report, args.suite, args.quick)
        print(f"wrote {args.json}")
    if args.plot:
        bench_report.plot(args.plot, report)
        print(f"wrote {args.plot}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wsfast", description="wsfast: fast RFC 6455 WebSockets")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("echo-server", help="echo every message back (the seed's server)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--path", default="/echo", help="only this path upgrades ('' for any)")
    p.add_argument("--max-message-size", type=int, default=1 << 20, metavar="BYTES",
                   help="larger messages fail with 1009 (default 1 MiB; 0: no limit)")
    p.add_argument("--origin", action="append", metavar="ORIGIN",
                   help="allow this Origin (repeat for more; '*' for any). By default "
                        "same-origin requests and those without Origin only")
    p.add_argument("--no-compression", action="store_true", help="refuse permessage-deflate")
    p.add_argument("--subprotocol", action="append", metavar="NAME",
                   help="a subprotocol to agree to, in order of preference (repeat for more)")
    p.add_argument("--tls-cert", metavar="FILE", help="serve wss:// with this certificate chain")
    p.add_argument("--tls-key", metavar="FILE", help="its private key (if not in --tls-cert)")
    p = sub.add_parser("client", help="send the time every interval, print the echoes")
    p.add_argument("url", nargs="?", default="ws://localhost:8080/echo")
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--count", type=int, default=None, help="stop after N messages")
    p.add_argument("--origin", metavar="ORIGIN", help="send this Origin header")
    p.add_argument("--no-compression", action="store_true", help="do not offer permessage-deflate")
    tls = p.add_mutually_exclusive_group()
    tls.add_argument("--cafile", metavar="FILE", help="trust the CAs in FILE for wss://")
    tls.add_argument("--insecure", action="store_true",
                     help="wss:// without checking the server's certificate")
    sub.add_parser("demo", help="echo server and client in one process, then a masking benchmark")
    p = sub.add_parser("bench", help="measure masking, UTF-8 and parsing throughput on this "
                       "machine, against a memory copy and every peer installed")
    p.add_argument("--suite", choices=[*bench_report.SUITES, "all"], default="mask",
                   help="masking (default), UTF-8 validation, frame parsing, text delivery "
                        "(a masked text frame to str), or all four")
    p.add_argument("--sizes", nargs="+", type=bench_impls.parse_size, metavar="SIZE",
                   help="input sizes (parse: payload sizes), e.g. 16 1KiB 16MiB "
                        "(default 16 B to 16 MiB)")
    p.add_argument("--quick", action="store_true",
                   help="fewer sizes and shorter batches: seconds, not a minute")
    p.add_argument("--cold-heap", action="store_true",
                   help="leave the allocator as it is (by default freed memory stays in the "
                        "process, as in a long-running server)")
    p.add_argument("--json", metavar="FILE", help="write the results, machine and versions")
    p.add_argument("--plot", metavar="FILE.png",
                   help="draw throughput against size (needs matplotlib: wsfast[bench])")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%Y/%m/%d %H:%M:%S")
    try:
        if args.command == "echo-server":
            return run(lambda stop: echo_server(args, stop))
        if args.command == "client":
            return run(lambda stop: client(args, stop))
        if args.command == "demo":
            return run(demo)
        return bench(args)
    except ValueError as exc:  # a bad URL, a bad option
        log.error("%s", exc)
        return 2
    except OSError as exc:
        log.error("%s", exc)
        return 1
