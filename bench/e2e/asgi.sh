#!/usr/bin/env bash
# The ASGI table of docs/benchmarks.md: uvicorn with each WebSocket protocol
# (its own two, each also under wsfast.patch(), and wsfast's) on one minimal
# ASGI echo app, a FastAPI endpoint on two of them, and wsfast's own server,
# 64 connections, text, 32 B and 1 KiB, 1 and 16 in flight, with and without
# permessage-deflate; then the first connections of fresh processes.
# JSON goes to build/bench/ (BENCH_OUT to change); extra arguments to run.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${BENCH_OUT:-build/bench}
mkdir -p "$out"
servers=(uvicorn-sansio uvicorn-sansio+patched uvicorn-wsproto uvicorn-wsproto+patched
         uvicorn-wsfast fastapi-sansio fastapi-wsfast wsfast)
run() { .venv/bin/python bench/e2e/run.py --connections 64 --sizes 32 1024 --text --rounds 4 \
    --servers "${servers[@]}" --baseline uvicorn-sansio "$@"; }
for deflate in "" --deflate; do
    for depth in 1 16; do
        run --depth "$depth" $deflate --json "$out/asgi-depth$depth${deflate:+-deflate}.json" \
            "${@}"
    done
done
run --depth 1 --heap fresh --json "$out/asgi-fresh.json" "$@"
