"""Markdown tables from bench/e2e/run.py's JSON, for docs/.

    python bench/e2e/table.py FILE.json [FILE.json ...] [--baseline SERVER]

One table per file and load (connections, depth, text/binary, compression,
heap): a row per server, per size its median msg/s, the spread of its runs
and the server CPU per message; then the ratio to the baseline's median, and
for IMPL+patched rows the median of the per-round ratios to IMPL.
"""
import argparse
import json
from pathlib import Path


def size_label(size):
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB" if size >= 1024 \
        else f"{size} B"


def tables(rows, baseline):
    loads = sorted({(r["connections"], r["depth"], r.get("text", False), r.get("deflate", False),
                     r.get("heap", "warm"), r.get("loop", "uvloop")) for r in rows})
    for load in loads:
        conns, depth, text, deflate, heap, loop = load
        cell = [r for r in rows if (r["connections"], r["depth"], r.get("text", False),
                                    r.get("deflate", False), r.get("heap", "warm"),
                                    r.get("loop", "uvloop")) == load]
        sizes = sorted({r["size"] for r in cell})
        servers = list(dict.fromkeys(r["server"] for r in cell))
        print(f"\n{conns} connections, {depth} in flight each, {'text' if text else 'binary'}"
              f"{', permessage-deflate' if deflate else ''}, {heap} heap, {loop}:\n")
        print("| server | " + " | ".join(f"{size_label(s)}: msg/s (spread), CPU µs/msg, "
                                          f"x {baseline}" for s in sizes) + " |")
        print("| --- |" + " ---: |" * len(sizes))
        for server in servers:
            out = []
            for size in sizes:
                r = next(x for x in cell if x["server"] == server and x["size"] == size)
                base = next((x for x in cell if x["server"] == baseline and x["size"] == size), None)
                ratio = f"{r['messages_per_s'] / base['messages_per_s']:.2f}x" if base else "-"
                text = (f"{r['messages_per_s']:,.0f} ({min(r['runs']) / 1e3:.0f}-"
                        f"{max(r['runs']) / 1e3:.0f}k), {r['cpu_us_per_message']:.1f}, {ratio}")
                if r.get("patched_ratio"):
                    text += (f"; patched/unpatched {r['patched_ratio']:.2f} "
                             f"({min(r['patched_ratios']):.2f}-{max(r['patched_ratios']):.2f})")
                if deflate:
                    text += f"; {r['compressed_share']:.0%} compressed"
                out.append(text)
            print(f"| {server} | " + " | ".join(out) + " |")
        gen = max(r["loadgen_cpu"] for r in cell)
        print(f"\nThe generator used at most {gen:.0%} of its core; each server "
              f"{min(r['server_cpu'] for r in cell):.0%} or more of its own.")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--baseline", default="websockets")
    args = p.parse_args()
    for path in args.files:
        tables(json.loads(path.read_text()), args.baseline)


if __name__ == "__main__":
    main()
