#!/usr/bin/env bash
# The main job: install wsfast into .venv and run the demo: an echo server
# and client over loopback, ending with a masking throughput line (wsfast bench).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/python -m wsfast demo
