"""Turn a pytest-benchmark JSON file from bench/ into the Markdown tables of
docs/benchmarks.md.

    python bench/report.py results.json [--ref "wsfast C avx2"]

For each operation (mask new, mask in place, UTF-8 per text kind) it prints
the median time per call (a round of small inputs makes several calls, see
bench/conftest.py) and throughput of every implementation at every size, then
the ratios: throughput of ``--ref`` relative to each other implementation
(above 1: ``--ref`` is faster).
"""
from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def load(path: str):
    """{operation: {size label: {implementation: (median s, bytes)}}}"""
    with open(path) as f:
        report = json.load(f)
    table: dict = defaultdict(lambda: defaultdict(dict))
    for b in report["benchmarks"]:
        if "bytes" not in b["extra_info"]:
            continue  # not a kernel benchmark (parser, connection): other tables
        case = b["param"]                   # e.g. "new 64KiB", "utf8 mixed 1MiB"
        op, size = case.rsplit(" ", 1)
        impl = b["extra_info"]["implementation"]
        calls = b["extra_info"].get("calls", 1)
        table[op][size][impl] = (b["stats"]["median"] / calls, b["extra_info"]["bytes"])
    return report, table


def size_key(label: str) -> int:
    n, unit = re.match(r"(\d+)(\D*)", label).groups()
    return int(n) * {"B": 1, "KiB": 1024, "MiB": 1024 ** 2}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json")
    parser.add_argument("--ref", default="wsfast C avx2")
    args = parser.parse_args()
    report, table = load(args.json)
    info = report["machine_info"]
    print(f"<!-- {info.get('cpu', {}).get('brand_raw', '?')}, "
          f"Python {info.get('python_version')}, {report['datetime']} -->")
    for op in sorted(table):
        sizes = sorted(table[op], key=size_key)
        impls = sorted({i for s in sizes for i in table[op][s]},
                       key=lambda i: (not i.startswith("wsfast C"), i))
        print(f"\n#### {op}\n")
        print("| implementation | " + " | ".join(sizes) + " |")
        print("| --- |" + " ---: |" * len(sizes))
        for impl in impls:
            cells = []
            for s in sizes:
                if impl in table[op][s]:
                    t, n = table[op][s][impl]
                    cells.append(f"{fmt_time(t)} ({n / t / 1e9:.2f} GB/s)")
                else:
                    cells.append("—")
            print(f"| {impl} | " + " | ".join(cells) + " |")
        print(f"\n{args.ref}: throughput relative to each (above 1: {args.ref} is faster)\n")
        print("| relative to | " + " | ".join(sizes) + " |")
        print("| --- |" + " ---: |" * len(sizes))
        for impl in impls:
            if impl == args.ref:
                continue
            cells = []
            for s in sizes:
                row = table[op][s]
                cells.append(f"{row[impl][0] / row[args.ref][0]:.2f}x"
                             if impl in row and args.ref in row else "—")
            print(f"| {impl} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
