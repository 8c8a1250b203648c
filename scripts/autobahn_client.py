"""Autobahn TestSuite client driver: wsfast's asyncio client against
``wstest -m fuzzingserver``.

Asks the fuzzing server for its case count, runs every case as an echo
client (each message received is sent back), then asks it to write its
reports. Each case is bounded by --case-timeout; the exit code is 0 unless
the fuzzing server could not be reached or its reports not updated (the
verdicts are read from reports/clients/index.json by scripts/autobahn.sh).

    python scripts/autobahn_client.py --url ws://127.0.0.1:9001 --agent wsfast
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time

from wsfast.asyncio import connect
from wsfast.errors import ConnectionClosed


async def case_count(base: str) -> int:
    async with connect(base + "/getCaseCount") as ws:
        return int(await ws.recv())


async def run_case(base: str, case: int, agent: str) -> None:
    url = f"{base}/runCase?case={case}&agent={agent}"
    async with connect(url, max_message_size=None) as ws:
        async for message in ws:
            await ws.send(message)


async def update_reports(base: str, agent: str) -> None:
    async with connect(f"{base}/updateReports?agent={agent}") as ws:
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:9001",
                        help="the fuzzing server's base URL")
    parser.add_argument("--agent", default="wsfast")
    parser.add_argument("--case-timeout", type=float, default=60.0,
                        help="seconds one case may take before it is abandoned")
    args = parser.parse_args()
    base = args.url.rstrip("/")

    count = await asyncio.wait_for(case_count(base), 30)
    print(f"{count} cases", flush=True)
    started = time.monotonic()
    for case in range(1, count + 1):
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(run_case(base, case, args.agent), args.case_timeout)
            outcome = "done"
        except ConnectionClosed as exc:
            # A close other than 1000/1001 ends `async for` with this: the
            # fuzzing server judges whether it was right.
            outcome = f"closed {exc.code}"
        except asyncio.TimeoutError:
            outcome = f"TIMEOUT after {args.case_timeout:g}s"
        except Exception as exc:  # the verdict is the fuzzing server's
            outcome = f"{type(exc).__name__}: {exc}"
        print(f"case {case}/{count}: {outcome} ({time.monotonic() - t0:.2f}s)", flush=True)
    await asyncio.wait_for(update_reports(base, args.agent), 60)
    print(f"ran {count} cases in {time.monotonic() - started:.1f}s; reports updated",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
