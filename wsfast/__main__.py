"""Command line: ``python -m wsfast bench``."""
from __future__ import annotations

import argparse
import sys

from wsfast import _bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wsfast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="measure masking and UTF-8 throughput on this machine")
    bench.add_argument("--suite", choices=["mask", "utf8", "all"], default="mask")
    bench.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    args = parser.parse_args(argv)
    if args.command == "bench":
        _bench.run(args.suite, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
