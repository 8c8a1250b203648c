"""Print the "Connection round trip" table of docs/benchmarks.md from a
pytest-benchmark JSON file:

    python -m pytest bench/test_bench_connection.py --benchmark-json=out.json
    python bench/connection_table.py out.json
"""
from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    with open(path) as f:
        runs = json.load(f)["benchmarks"]
    medians: dict[tuple[str, str], dict[str, float]] = {}
    texts: dict[str, dict[str, float]] = {}
    for run in runs:
        if "test_bench_connection" not in run["fullname"]:
            continue  # the JSON of all of bench/ holds the other suites too
        params = run["params"]
        if "way" in params:
            # Nanosecond timings on a shared machine: the minimum is the
            # steadiest estimate of what the code itself costs.
            texts.setdefault(params["text"], {})[params["way"]] = run["stats"]["min"]
            continue
        key = (params["size"], params["kind"])
        medians.setdefault(key, {})[params["library"]] = run["stats"]["median"]
    print("| message | wsfast | websockets | wsproto | vs websockets | vs wsproto |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for (size, kind), by_lib in sorted(medians.items()):
        ours = by_lib["wsfast"]
        cells = [f"{1 / by_lib[lib]:,.0f}/s ({by_lib[lib] * 1e6:.1f} µs)"
                 for lib in ("wsfast", "websockets", "wsproto")]
        ratios = [f"{by_lib[lib] / ours:.1f}x" for lib in ("websockets", "wsproto")]
        print(f"| {size} {kind} | " + " | ".join(cells + ratios) + " |")
    if texts:
        print()
        print("| whole text frame (min) | decode | validate + decode |")
        print("| --- | ---: | ---: |")
        for text, ways in sorted(texts.items()):
            print(f"| {text} | {ways['decode'] * 1e9:,.0f} ns "
                  f"| {ways['validate+decode'] * 1e9:,.0f} ns |")


if __name__ == "__main__":
    main(sys.argv[1])
