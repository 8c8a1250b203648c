"""Two checkouts of wsfast, A against B, pair by pair: one message round
trip through two in-memory sans-IO Connections (as test_bench_connection.py),
each checkout in a process of its own, the two asked in turn (ABBA) so that
a machine whose speed drifts moves both alike.

    python bench/tree_ab.py OLD_TREE NEW_TREE [--pairs 25]

Each tree must have its extension built in place (``python setup.py
build_ext --inplace``). Prints, per case, each side's median time and the
median of the pairs' ratios (new/old) with its interquartile range.
"""
import argparse
import statistics
import subprocess
import sys

# Each worker imports asyncio first, as every server does: what a fresh
# process has freed decides where glibc's malloc puts (and trims) 64 KiB
# payloads, which alone moves the 64 KiB rows 3x (docs/benchmarks.md,
# section 5). Both sides start from the same heap history this way.
WORKER = r'''
import asyncio.selector_events
import os, sys, time
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # both sides on one core
from wsfast import Connection
client, server = Connection("client"), Connection("server")

def make(kind, size):
    message = "x" * size if kind == "text" else b"y" * size
    client_send = client.send_text if kind == "text" else client.send_binary
    server_send = server.send_text if kind == "text" else server.send_binary
    def round_trip():
        server.receive_data(client_send(message))
        for event in server.events():
            client.receive_data(server_send(event.data))
        return client.events()
    return round_trip

cases = {f"{size} B {kind}": make(kind, size) for kind in ("text", "binary")
         for size in (32, 65536)}
for line in sys.stdin:
    name, n = line.rsplit(" ", 1)
    f, n = cases[name], int(n)
    start = time.perf_counter()
    for _ in range(n):
        f()
    print((time.perf_counter() - start) / n, flush=True)
'''

CASES = (("32 B text", 20000), ("32 B binary", 20000), ("65536 B text", 500),
         ("65536 B binary", 1000))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--pairs", type=int, default=25)
    args = p.parse_args()
    trees = {"old": args.old, "new": args.new}
    workers = {side: subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True,
                                      env={"PYTHONPATH": tree}, cwd=tree)
               for side, tree in trees.items()}

    def ask(side: str, name: str, n: int) -> float:
        workers[side].stdin.write(f"{name} {n}\n")
        workers[side].stdin.flush()
        return float(workers[side].stdout.readline())

    print("| round trip | old, us (median) | new, us (median) | new/old: median of pair ratios (IQR) |")
    print("|---|---|---|---|")
    try:
        for name, n in CASES:
            for side in trees:
                ask(side, name, n)  # warm up
            old, new, ratios = [], [], []
            for i in range(args.pairs):
                order = ("old", "new") if i % 2 == 0 else ("new", "old")
                got = {side: ask(side, name, n) for side in order}
                old.append(got["old"])
                new.append(got["new"])
                ratios.append(got["new"] / got["old"])
            q1, _, q3 = statistics.quantiles(ratios, n=4)
            print(f"| {name} | {statistics.median(old) * 1e6:.2f} | "
                  f"{statistics.median(new) * 1e6:.2f} | "
                  f"{statistics.median(ratios):.3f} ({q1:.3f}-{q3:.3f}) |")
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait(10)


if __name__ == "__main__":
    main()
