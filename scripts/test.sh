#!/usr/bin/env bash
# The whole test suite, both ways: compiled (once per kernel variant this CPU
# runs, each forced with WSFAST_KERNEL) and pure Python (WSFAST_NO_EXTENSIONS=1).
# Sets up its own virtual environment in .venv; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Editable, so the tests import this tree with the extension built into it.
WSFAST_REQUIRE_EXTENSIONS=1 .venv/bin/python -m pip install -q -e '.[test,test-integrations]'
export WSFAST_REQUIRE_EXTENSIONS=1
# The peers are the pinned versions: patch() and bench drivers must take them all.
export WSFAST_PINNED_PEERS=1
kernels=$(.venv/bin/python -c 'import wsfast; print(" ".join(wsfast.available_kernels()))')
missing=$(.venv/bin/python -c 'import wsfast, wsfast._speedups as s
print(" ".join(k for k in s._kernel_table() if k not in wsfast.available_kernels()))')
for kernel in $missing; do
    echo "=== compiled, WSFAST_KERNEL=$kernel: SKIPPED, this CPU cannot run it"
done
status=0
# The standard zlib, as a plain install has it; zlib-ng (the zlib-ng extra)
# for the compressed paths after.
export WSFAST_ZLIB=zlib
for kernel in $kernels; do
    echo "=== compiled, WSFAST_KERNEL=$kernel"
    WSFAST_KERNEL=$kernel .venv/bin/python -m pytest -q -p no:cacheprovider "$@" || status=1
done
echo "=== pure Python, WSFAST_NO_EXTENSIONS=1"
WSFAST_NO_EXTENSIONS=1 .venv/bin/python -m pytest -q -p no:cacheprovider "$@" || status=1
deflate_tests="tests/test_deflate.py tests/test_connection_diff.py tests/asyncio/test_pump.py"
for mode in 0 1; do
    echo "=== permessage-deflate through zlib-ng, WSFAST_NO_EXTENSIONS=$mode"
    WSFAST_ZLIB=zlib-ng WSFAST_NO_EXTENSIONS=$mode .venv/bin/python -m pytest -q \
        -p no:cacheprovider $deflate_tests || status=1
done
exit $status
