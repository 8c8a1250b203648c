"""End-to-end echo throughput: every server against the same load generator.

    python bench/e2e/run.py [--connections 1 64] [--sizes 32 1024 65536]
                            [--depth 1] [--seconds 3] [--rounds 3]
                            [--text] [--deflate] [--heap warm|fresh]
                            [--loop uvloop|asyncio] [--servers ...]
                            [--baseline SERVER] [--json FILE]

A server named IMPL+patched is IMPL with ``wsfast.patch()`` applied to the
library it runs on (servers.py); TREE:IMPL (with --tree TREE=PATH) is IMPL
on the wsfast of another checkout (built in place), for a before/after
comparison in one run. --text sends text messages, --deflate
negotiates permessage-deflate (the generator compresses each message on its
own and counts the server's compressed replies); --heap warm moves glibc's
mmap threshold in each server before it serves, as a server that has run a
while has it, --heap fresh leaves it where a new process has it.

Each server runs pinned to CPU 0, the generator (loadgen.c, compiled on
first use) to CPU 1. Rounds go
round-robin over the servers so that noise from a shared machine spreads
evenly; the table shows the median messages/s per cell, the server's CPU use
(near 100% means the server is the bottleneck, not the generator), the
generator's own CPU use (well below 100%: it is not the bottleneck),
"others": the share of the whole machine that other processes used meanwhile
(on a shared machine both sides are starved and neither shows 100%), the
server's CPU time per message (steadier than msg/s when the machine is
shared) and ratios. The raw TCP echo row is the ceiling of the loopback path
itself. Linux only (taskset, /proc).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
ENV = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
SERVERS = ["tcp", "wsfast", "wsfast-callback", "picows", "aiohttp", "websockets"]
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def machine_busy_seconds():
    """CPU seconds all cores have spent busy since boot (/proc/stat)."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLK


def loadgen_binary():
    """Compile loadgen.c once (into build/), or reuse it."""
    exe = HERE.parent.parent / "build" / "loadgen"
    src = HERE / "loadgen.c"
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        exe.parent.mkdir(exist_ok=True)
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", str(exe), str(src), "-lz"], check=True)
    return exe


def load_env(args):
    """The servers' side of the load options (read by servers.py)."""
    return {"WSFAST_BENCH_DEFLATE": "1" if args.deflate else "0",
            "WSFAST_BENCH_HEAP": args.heap, "WSFAST_BENCH_LOOP": args.loop}


TREES = {}  # --tree NAME=PATH


def one_run(impl, connections, size, seconds, depth=1, flags=(), env=None):
    # The server's stderr goes to a file, shown only if it fails to start:
    # some servers log every write to a connection the generator has just
    # closed at the end of a run.
    log = tempfile.TemporaryFile(mode="w+")
    tree, _, name = impl.rpartition(":")
    server_env = {**ENV, **(env or {})}
    if tree:
        server_env["PYTHONPATH"] = TREES[tree]
    server = subprocess.Popen([sys.executable, str(HERE / "servers.py"), name, "0", "0"],
                              stdout=subprocess.PIPE, stderr=log, text=True, env=server_env)
    try:
        port = None
        line = server.stdout.readline()
        if line.startswith("READY"):
            port = int(line.split()[1])
        if port is None:
            log.seek(0)
            raise RuntimeError(f"{impl} server did not start: {line!r}\n{log.read()[-2000:]}")
        cmd = ["taskset", "-c", "1", str(loadgen_binary()), str(port), str(connections),
               str(size), str(depth), str(seconds)] + (["raw"] if name == "tcp" else list(flags))
        start_cpu, start_busy = cpu_seconds(server.pid), machine_busy_seconds()
        start = time.monotonic()
        out = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=seconds + 60)
        elapsed = time.monotonic() - start
        server_seconds = cpu_seconds(server.pid) - start_cpu
        machine_seconds = machine_busy_seconds() - start_busy
        if out.returncode != 0:
            raise RuntimeError(f"load generator failed against {impl}: {out.stderr[-500:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        # A server may leave small messages uncompressed (RFC 7692 6: RSV1
        # is per message); the table shows the share it compressed.
        result["compressed_share"] = result["compressed_echoes"] / max(1, result["echoes"])
        result["server_cpu"] = server_seconds / elapsed
        # What the rest of the machine used meanwhile, as a share of all its
        # cores: on a shared machine the server and the generator get only
        # what is left, and neither shows 100% although both are starved.
        gen_seconds = result["loadgen_cpu"] * elapsed
        result["other_cpu"] = max(0.0, machine_seconds - server_seconds - gen_seconds) / (
            (os.cpu_count() or 1) * elapsed)
        return result
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()
        log.close()


def add_load_arguments(p):
    """The load both tables share (this script's servers, clients.py's clients)."""
    p.add_argument("--connections", type=int, nargs="+", default=[1, 64])
    p.add_argument("--sizes", type=int, nargs="+", default=[32, 1024, 65536])
    p.add_argument("--depth", type=int, default=1,
                   help="messages in flight per connection (1: each waits for its echo)")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--text", action="store_true", help="text messages (default: binary)")
    p.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate")
    p.add_argument("--heap", choices=["warm", "fresh"], default="warm")
    p.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    p.add_argument("--json", type=Path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_load_arguments(p)
    p.add_argument("--servers", nargs="+", default=SERVERS)
    p.add_argument("--baseline", default="websockets", help="the server of the ratio column")
    p.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                   help="another checkout, for servers named NAME:IMPL")
    args = p.parse_args()
    TREES.update(t.split("=", 1) for t in args.tree)
    flags = [f for f in ("text", "deflate") if getattr(args, f)]
    if not args.text and any(s.startswith("fastapi") for s in args.servers):
        p.error("the fastapi rows echo with receive_text/send_text: add --text")
    env = load_env(args)
    results = []
    for connections in args.connections:
        for size in args.sizes:
            runs = {impl: [] for impl in args.servers}
            for round_ in range(args.rounds):
                # Every other round in reverse (ABBA): a drift in the machine's
                # speed falls on both sides of each pair.
                for impl in args.servers[::-1] if round_ % 2 else args.servers:
                    runs[impl].append(one_run(impl, connections, size, args.seconds, args.depth,
                                              flags, env))
            cell = {}
            for impl, rs in runs.items():
                rate = statistics.median(r["messages_per_s"] for r in rs)
                cpu = statistics.median(r["server_cpu"] for r in rs)
                gen = statistics.median(r["loadgen_cpu"] for r in rs)
                other = statistics.median(r["other_cpu"] for r in rs)
                # Server CPU time per echoed message: steadier than msg/s on a
                # shared machine, where waiting for a CPU inflates latency.
                per_msg = statistics.median(r["server_cpu"] / r["messages_per_s"] * 1e6
                                            for r in rs)
                deflated = statistics.median(r.get("compressed_share", 0.0) for r in rs)
                # IMPL+patched against IMPL: the median of the ratios within
                # each round, steadier than the ratio of the medians.
                plain = runs.get(impl.removesuffix("+patched")) if impl.endswith("+patched") else None
                ratios = [a["messages_per_s"] / b["messages_per_s"]
                          for a, b in zip(rs, plain)] if plain else []
                paired = statistics.median(ratios) if ratios else None
                cell[impl] = rate
                results.append({"connections": connections, "size": size, "depth": args.depth,
                                "server": impl, "text": args.text, "deflate": args.deflate,
                                "heap": args.heap, "loop": args.loop,
                                "messages_per_s": rate, "server_cpu": cpu, "loadgen_cpu": gen,
                                "cpu_us_per_message": per_msg, "other_cpu": other,
                                "compressed_share": deflated, "patched_ratio": paired,
                                "patched_ratios": ratios,
                                "runs": [r["messages_per_s"] for r in rs]})
            kind = " ".join(flags + [f"{args.heap} heap", args.loop])
            print(f"\n{connections} connection(s), {size} B messages, {args.depth} in flight each, "
                  f"{kind} (median of {args.rounds} x {args.seconds:g} s; spread min-max)")
            base = f"x {args.baseline}"
            print(f"  {'server':<22} {'msg/s':>10} {'spread':>15} {'MB/s':>8} {'srv CPU':>8} "
                  f"{'gen CPU':>8} {'others':>7} {'CPU us/msg':>10} {base:>{len(base)}}"
                  + ("  deflated" if args.deflate else "") + "  x unpatched (paired)")
            for impl in args.servers:
                rate = cell[impl]
                row = next(r for r in results[::-1] if r["server"] == impl
                           and r["size"] == size and r["connections"] == connections)
                ratio = rate / cell[args.baseline] if cell.get(args.baseline) else float("nan")
                spread = f"{min(row['runs']) / 1e3:.1f}-{max(row['runs']) / 1e3:.1f}k"
                print(f"  {impl:<22} {rate:10.0f} {spread:>15} {rate * size / 1e6:8.1f} "
                      f"{row['server_cpu']:7.0%} {row['loadgen_cpu']:7.0%} "
                      f"{row['other_cpu']:7.0%} {row['cpu_us_per_message']:10.1f} "
                      f"{ratio:{len(base)}.2f}"
                      + (f"  {row['compressed_share']:8.0%}" if args.deflate else "")
                      + (f"  {row['patched_ratio']:.3f} ({min(row['patched_ratios']):.2f}-"
                         f"{max(row['patched_ratios']):.2f})" if row["patched_ratio"] else ""))
            if max(r["other_cpu"] for r in results[-len(args.servers):]) > 0.1:
                print("  (other processes used over 10% of the machine meanwhile: the absolute "
                      "rates are low, compare the rows)")
            busy = [r["server"] for r in results[-len(args.servers):] if r["loadgen_cpu"] >= 0.9]
            if busy:
                print(f"  (the generator used 90% of its core or more against {', '.join(busy)}: "
                      "their msg/s may be the generator's limit; CPU us/msg is not)")
            sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
