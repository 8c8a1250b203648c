"""wsfast.patch() before/after, interleaved: robust numbers on a noisy machine.

    python bench/patch_ab.py [--pairs 15]
    python bench/patch_ab.py --functions    # each library's masking call alone

bench/test_bench_patch.py times all unpatched rounds, then all patched ones;
on a shared machine the load drifts between the two. Here every sample of
one kind is immediately followed by one of the other (both servers run at
once; wsproto is patched and unpatched in turn), and the table gives each
kind's median time and the median of the per-pair ratios.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import wsfast  # noqa: E402
from test_bench_patch import EchoClient, echo_server, wsproto_echo  # noqa: E402


def timed(func, *args) -> float:
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start


def pairs(before, after, count):
    """(before, after) timings, alternating which goes first."""
    out = []
    for i in range(count):
        if i % 2:
            b = after()
            a = before()
            out.append((a, b))
        else:
            out.append((before(), after()))
    return out


def wsproto_pairs(count):
    echo = wsproto_echo(os.urandom(1 << 20))

    def run(patched):
        def sample():
            wsfast.unpatch()
            if patched:
                wsfast.patch("wsproto")
            return min(timed(echo) for _ in range(3))
        return sample

    try:
        return pairs(run(False), run(True), count)
    finally:
        wsfast.unpatch()


def server_pairs(library, size, messages, count):
    frame = wsfast.build_frame(2, os.urandom(size), mask=True)
    with echo_server(library, False) as port_before, echo_server(library, True) as port_after:
        before, after = EchoClient(port_before), EchoClient(port_after)
        try:
            before.echo(frame, messages)  # warm-up
            after.echo(frame, messages)
            return pairs(lambda: timed(before.echo, frame, messages),
                         lambda: timed(after.echo, frame, messages), count)
        finally:
            before.close()
            after.close()


def function_rows():
    """Each library's own masking call against wsfast's replacement, alone:
    (name, size, original seconds, replacement seconds), best of 5."""
    import timeit
    key = os.urandom(4)
    cases = []
    try:
        import websockets.frames as wsf
        cases.append(("websockets apply_mask", lambda: wsf.apply_mask,
                      lambda f, d: f(d, key)))
    except ImportError:
        pass
    try:
        import tornado.websocket as tw
        cases.append(("tornado _websocket_mask", lambda: tw._websocket_mask,
                      lambda f, d: f(key, d)))
    except ImportError:
        pass
    try:
        import aiohttp._websocket.writer as aw
        cases.append(("aiohttp websocket_mask", lambda: aw.websocket_mask,
                      lambda f, d: f(key, bytearray(d))))
    except ImportError:
        pass
    try:
        import wsproto.frame_protocol as wp
        cases.append(("wsproto XorMaskerSimple", lambda: wp.XorMaskerSimple,
                      lambda f, d: f(key).process(d)))
    except ImportError:
        pass
    try:
        import autobahn.websocket.protocol as ap
        cases.append(("autobahn xor masker", lambda: ap.create_xor_masker,
                      lambda f, d: f(key, len(d)).process(d)))
    except ImportError:
        pass
    rows = []
    for name, lookup, call in cases:
        for size in (32, 1 << 20):
            data = os.urandom(size)
            number = 20000 if size < 100 else 20
            times = []
            for patched in (False, True):
                wsfast.unpatch()
                if patched:
                    wsfast.patch(name.split()[0])
                func = lookup()
                times.append(min(timeit.repeat(lambda: call(func, data), number=number,
                                               repeat=5)) / number)
            wsfast.unpatch()
            rows.append((name, size, *times))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--functions", action="store_true",
                        help="time only each library's masking call, original and patched")
    args = parser.parse_args()
    print(f"wsfast {wsfast.__version__}, {wsfast.IMPLEMENTATION} ({wsfast.KERNEL}), "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    if args.functions:
        print("| function | size | original | wsfast | speedup |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, size, before, after in function_rows():
            print(f"| {name} | {'32 B' if size == 32 else '1 MiB'} | {before * 1e6:,.2f} µs "
                  f"| {after * 1e6:,.2f} µs | {before / after:.1f}x |")
        return
    rows = [("wsproto echo, 1 MiB, in memory", 1, lambda: wsproto_pairs(args.pairs))]
    for library in ("websockets", "aiohttp"):
        rows.append((f"{library} server, 32 B", 1000,
                     lambda library=library: server_pairs(library, 32, 1000, args.pairs)))
        rows.append((f"{library} server, 1 MiB", 10,
                     lambda library=library: server_pairs(library, 1 << 20, 10, args.pairs)))
    print(f"| {'case':<32} | unpatched, per message | patched, per message | speedup |")
    print("| --- | ---: | ---: | ---: |")
    for name, messages, run in rows:
        samples = run()
        before = statistics.median(b for b, _ in samples) / messages
        after = statistics.median(a for _, a in samples) / messages
        ratio = statistics.median(b / a for b, a in samples)
        print(f"| {name:<32} | {before * 1e6:,.1f} µs | {after * 1e6:,.1f} µs | {ratio:.2f}x |",
              flush=True)


if __name__ == "__main__":
    main()
