#!/usr/bin/env bash
# Every benchmark in one command (see bench/README.md and docs/benchmarks.md):
#   1. python -m wsfast bench --suite all   (masking, UTF-8, parsing: table, JSON, plot)
#   2. the pytest-benchmark suites in bench/ (kernels, parser, sans-IO round trip)
#   3. with --e2e: the end-to-end echo servers against the C load generator
# Installs wsfast with its bench extra and every peer into .venv; results go
# to build/bench/ (BENCH_OUT to change). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
e2e=0
if [ "${1:-}" = "--e2e" ]; then e2e=1; shift; fi
PY=${PYTHON:-python3}
out=${BENCH_OUT:-build/bench}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
WSFAST_REQUIRE_EXTENSIONS=1 .venv/bin/python -m pip install -q -e '.[bench]' \
    tornado wsaccel autobahn numpy uvloop
mkdir -p "$out"
echo "=== python -m wsfast bench --suite all"
.venv/bin/python -m wsfast bench --suite all --json "$out/wsfast-bench.json" \
    --plot "$out/wsfast-bench.png"
echo "=== pytest-benchmark suites in bench/"
.venv/bin/python -m pytest bench/ -p no:cacheprovider --benchmark-group-by=group \
    --benchmark-columns=min,median,rounds --benchmark-json="$out/pytest-bench.json" "$@"
.venv/bin/python bench/report.py "$out/pytest-bench.json" \
    --ref "wsfast C $(.venv/bin/python -c 'import wsfast; print(wsfast.KERNEL)')" \
    > "$out/kernels.md"
.venv/bin/python bench/connection_table.py "$out/pytest-bench.json" > "$out/connection.md"
echo "Markdown tables: $out/kernels.md, $out/connection.md"
if [ "$e2e" = 1 ]; then
    echo "=== end to end: servers (bench/e2e/run.py), then clients (bench/e2e/clients.py)"
    .venv/bin/python bench/e2e/run.py --json "$out/e2e-servers.json"
    .venv/bin/python bench/e2e/run.py --depth 16 --json "$out/e2e-servers-depth16.json"
    .venv/bin/python bench/e2e/clients.py --json "$out/e2e-clients.json"
    .venv/bin/python bench/e2e/clients.py --depth 16 --server wsfast-callback \
        --json "$out/e2e-clients-depth16.json"
fi
