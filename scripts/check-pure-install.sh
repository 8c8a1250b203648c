#!/usr/bin/env bash
# An install without a working C compiler (CC=false) must succeed, say so
# while building, and give a working pure-Python package that warns once at
# import. Installs into a throwaway virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The tracked files only, as a clean checkout has them: no build/ left over
# from an earlier build, whose extension would end up in the wheel.
mkdir "$work/src"
git ls-files -z | xargs -0 cp --parents -t "$work/src"
"$PY" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
# -v: pip hides a build's output otherwise, the warning included.
env -u WSFAST_REQUIRE_EXTENSIONS -u WSFAST_NO_EXTENSIONS CC=false \
    "$work/venv/bin/python" -m pip install -v --no-cache-dir "$work/src" >"$work/install.log" 2>&1 \
    || { tail -40 "$work/install.log"; echo "check-pure-install: FAILED: pip install"; exit 1; }
if ! grep -q "WARNING: wsfast's C extension could not be built" "$work/install.log"; then
    tail -40 "$work/install.log"
    echo "check-pure-install: FAILED: no build warning in pip's output"
    exit 1
fi
grep -A2 "WARNING: wsfast's C extension could not be built" "$work/install.log"
cd "$work"   # away from the source tree, so the installed package is imported
if ! env -u WSFAST_NO_EXTENSIONS "$work/venv/bin/python" - <<'PYEOF' 2>"$work/import.err"; then
import os, wsfast
assert "site-packages" in wsfast.__file__, wsfast.__file__
assert wsfast.IMPLEMENTATION == "python" and wsfast.KERNEL == "python"
assert not any(n.endswith((".so", ".pyd"))
               for n in os.listdir(os.path.dirname(wsfast.__file__)))
key = os.urandom(4)
data = os.urandom(1000)
assert wsfast.apply_mask(data, key) == bytes(b ^ key[i % 4] for i, b in enumerate(data))
assert wsfast.validate_utf8("κόσμε".encode()) and not wsfast.validate_utf8(b"\xed\xa0\x80")
print("installed pure-Python wsfast works:", wsfast.__version__)
PYEOF
    cat "$work/import.err"
    echo "check-pure-install: FAILED: the installed package does not work"
    exit 1
fi
cat "$work/import.err"
grep -q "RuntimeWarning: wsfast's C extension is not available" "$work/import.err" \
    || { echo "check-pure-install: FAILED: no warning at import"; exit 1; }
echo "check-pure-install: passed"
