"""Masking at one size, wsfast against each peer, round by round.

    python bench/mask_ab.py [--size 1048576] [--kind new|"in place"] [--rounds 40]

Where two implementations are within a few percent (both at the cache's
bandwidth), a pytest-benchmark table that times one after the other can
show either ahead, depending on what else the machine did meanwhile. Here
every round times each implementation once (a timeit batch of about 20 MB),
in an order that alternates, and the table gives each one's median and, for
each peer, the median and quartiles of its time over wsfast's in the same
round: above 1, wsfast is faster.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wsfast.bench import impls as bench_impls  # noqa: E402

PEERS = {"new": ["websockets", "tornado", bench_impls.COPY], "in place": ["aiohttp", bench_impls.COPY]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=bench_impls.parse_size, default=1 << 20)
    parser.add_argument("--kind", choices=list(PEERS), default="new")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    bench_impls.warm_heap()
    key, data = os.urandom(4), os.urandom(args.size)
    impls = [i for i in bench_impls.mask_impls(args.kind, bench_impls.kernel_order()[:1])
             if i.make is not None and (i.label.startswith("wsfast C") or i.label in PEERS[args.kind])]
    runs = {i.label: i.make(bytearray(data) if args.kind == "in place" else data, key)
            for i in impls}
    number = max(1, 20_000_000 // args.size)
    times: dict[str, list[float]] = {label: [] for label in runs}
    for r in range(args.rounds):
        order = impls if r % 2 else impls[::-1]
        for impl in order:
            with bench_impls.using(impl):
                times[impl.label].append(timeit.timeit(runs[impl.label], number=number) / number)
    ours = impls[0].label
    print(f"{args.kind} {bench_impls.size_label(args.size)}, {args.rounds} rounds of {number} calls")
    print(f"| implementation | median | its time / {ours}'s: median (quartiles) | {ours} faster in |")
    print("| --- | ---: | --- | ---: |")
    for label, samples in times.items():
        line = f"| {label} | {statistics.median(samples) * 1e6:.3f} us |"
        if label == ours:
            print(line + " | |")
            continue
        ratios = sorted(t / o for t, o in zip(samples, times[ours]))
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        wins = sum(x > 1 for x in ratios)
        print(line + f" {statistics.median(ratios):.3f}x ({q1:.3f}-{q3:.3f}) | {wins} of {len(ratios)} |")


if __name__ == "__main__":
    main()
