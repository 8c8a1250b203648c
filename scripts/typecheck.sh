#!/usr/bin/env bash
# Types of the public API, three ways:
#   1. mypy --strict on the package and on tests/typing/use_api.py, which
#      uses the public API as a user would. Type checkers see the C
#      extensions' stubs (wsfast/_speedups.pyi, _inbox.pyi, asyncio/_pump.pyi,
#      integrations/_aiohttp_feed.pyi)
#      for the kernels, the frame codec, the Inbox and the pump (wsfast/_impl.py
#      says so), so a wrong stub fails here;
#   2. mypy.stubtest: the stub against the built extension (names, arguments,
#      defaults); tests/typing/stubtest-allowlist.txt lists the meant gaps;
#   3. use_api.py run, with the extension and pure Python, so the code that
#      type-checks is code that works.
# mypy is pinned so that a new release cannot turn a green run red unseen; it
# checks against Python 3.10 at the oldest (wsfast also runs on 3.9: the
# test suite covers that). The tools and an editable install of wsfast live
# in their own virtual environment, .venv-typecheck.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv-typecheck/bin/python ] || "$PY" -m venv .venv-typecheck
.venv-typecheck/bin/python -m pip install -q --upgrade pip
.venv-typecheck/bin/python -m pip install -q 'mypy==2.4.1'
WSFAST_REQUIRE_EXTENSIONS=1 .venv-typecheck/bin/python -m pip install -q -e .
echo "=== mypy --strict wsfast tests/typing"
.venv-typecheck/bin/mypy --strict --python-version 3.10 wsfast tests/typing
echo "=== stubtest wsfast._speedups wsfast._inbox wsfast.asyncio._pump wsfast.integrations._aiohttp_feed"
.venv-typecheck/bin/python -m mypy.stubtest --allowlist tests/typing/stubtest-allowlist.txt \
    wsfast._speedups wsfast._inbox wsfast.asyncio._pump wsfast.integrations._aiohttp_feed
echo "=== tests/typing/use_api.py, compiled and pure Python"
.venv-typecheck/bin/python tests/typing/use_api.py
WSFAST_NO_EXTENSIONS=1 .venv-typecheck/bin/python tests/typing/use_api.py
echo "typecheck: passed"
