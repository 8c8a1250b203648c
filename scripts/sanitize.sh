#!/usr/bin/env bash
# The whole test suite against an extension built with AddressSanitizer and
# UndefinedBehaviorSanitizer (WSFAST_SANITIZE=1), once per kernel variant this
# CPU runs. The sanitized build goes to a temporary folder, never into the
# tree; CPython itself is not sanitized, so libasan is preloaded. Needs gcc
# (its libasan); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The test dependencies (the editable install of wsfast itself is shadowed
# below by the sanitized copy), and what setup.py needs to build.
WSFAST_REQUIRE_EXTENSIONS=1 .venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/python -m pip install -q --upgrade 'setuptools>=77' 'Cython>=3.1'

libasan=$(gcc -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
    echo "sanitize: SKIPPED: gcc has no libasan.so (install gcc with libasan)"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fresh build-temp, so no object from a normal build is reused.
CC=gcc WSFAST_SANITIZE=1 WSFAST_REQUIRE_EXTENSIONS=1 .venv/bin/python setup.py -q build_ext \
    --force --build-lib "$work/lib" --build-temp "$work/tmp" >"$work/build.log" 2>&1 \
    || { cat "$work/build.log"; exit 1; }
# Every extension module: the kernel binding, the Inbox, the asyncio pump,
# the aiohttp reader's loop.
modules=(wsfast/_speedups wsfast/_inbox wsfast/asyncio/_pump wsfast/integrations/_aiohttp_feed)
for m in "${modules[@]}"; do
    if command -v nm >/dev/null && ! nm -D "$work"/lib/$m.*.so | grep __asan_init >/dev/null; then
        echo "sanitize: $m was built without AddressSanitizer"
        exit 1
    fi
done
mkdir -p "$work/run"
cp -r wsfast "$work/run/"
find "$work/run/wsfast" \( -name '*.so' -o -name '*.pyd' \) -delete
for m in "${modules[@]}"; do
    cp "$work"/lib/$m.*.so "$work/run/$(dirname "$m")/"
done

# Run from the copy, so it (not the tree's own build) is what gets imported.
cd "$work/run"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export WSFAST_REQUIRE_EXTENSIONS=1
export WSFAST_HYPOTHESIS_EXAMPLES=${WSFAST_HYPOTHESIS_EXAMPLES:-100}
sanitized() { LD_PRELOAD=$libasan "$repo/.venv/bin/python" "$@"; }
sanitized -c 'import sys, wsfast._speedups as s, wsfast._inbox as i, wsfast.asyncio._pump as p
import wsfast.integrations._aiohttp_feed as a
for m in (s, i, p, a): assert m.__file__.startswith(sys.argv[1]), m.__file__' "$work/run"
# Chromium and Node do not start with libasan preloaded (it is inherited by
# every child process); their wsfast side is the same code the Python-peer
# interop tests run here.
skip=()
for f in "$repo"/tests/interop/test_browser.py "$repo"/tests/interop/test_node.py; do
    [ -e "$f" ] && skip+=(--ignore "$f")
done
# The whole suite on the kernel variant this CPU picks by default; the other
# variants under the tests that drive the C code directly (kernels, frames,
# Connection). scripts/check-c.sh runs every variant under the sanitizers too.
# WSFAST_SANITIZE_ALL=1: the whole suite for every variant.
default=$(sanitized -c 'import wsfast; print(wsfast.KERNEL)')
status=0
for kernel in $(sanitized -c 'import wsfast; print(" ".join(wsfast.available_kernels()))'); do
    if [ "$kernel" = "$default" ] || [ -n "${WSFAST_SANITIZE_ALL:-}" ]; then
        targets=("$repo/tests")
    else
        targets=("$repo"/tests/test_mask.py "$repo"/tests/test_utf8.py "$repo"/tests/test_decode.py
                 "$repo"/tests/test_frames*.py
                 "$repo"/tests/test_close.py "$repo"/tests/test_connection*.py)
    fi
    echo "=== ASan+UBSan, WSFAST_KERNEL=$kernel"
    WSFAST_KERNEL=$kernel sanitized -m pytest -q -p no:cacheprovider --rootdir "$repo" \
        "${skip[@]}" "${targets[@]}" "$@" || status=1
done
exit $status
