#!/usr/bin/env bash
# The end-to-end table of docs/integrations.md: each library's echo server
# unpatched and under wsfast.patch(), in one run, 64 connections, one message
# in flight each, 32 B to 1 MiB. JSON to build/bench/ (BENCH_OUT to change);
# extra arguments go to run.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${BENCH_OUT:-build/bench}
mkdir -p "$out"
.venv/bin/python bench/e2e/run.py --connections 64 --sizes 32 1024 65536 1048576 \
    --rounds 6 --servers websockets websockets+patched aiohttp aiohttp+patched \
    uvicorn-sansio uvicorn-sansio+patched uvicorn-wsproto uvicorn-wsproto+patched \
    --baseline websockets --json "$out/patch-e2e.json" "$@"
