#!/usr/bin/env bash
# Fuzz every parser of untrusted bytes. libFuzzer (ASan + UBSan): the frame
# codec (fuzz_frame.c) and the masking and UTF-8 kernels, every variant
# (fuzz_kernels.c). atheris: FrameParser (fuzz_parser.py) and the sans-IO
# Connection (fuzz_connection.py, with the asyncio MessagePump against the
# WebSocket's general path), each checking C against pure Python, and the
# server handshake parser (fuzz_handshake.py).
# Usage: scripts/fuzz.sh [seconds]  -- total time, split between the
# harnesses (default 1800). Seeds: fuzz/corpus*/ (kept as is; new inputs go
# to a temp dir). Crashes are saved in build/fuzz/. A harness whose tool is
# missing (clang with libFuzzer, or atheris) is skipped with a note. Each
# input must finish in 10 s and stay under 1 GiB (a hang or unbounded
# buffering is a failure too).
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-1800}
each=$(( total / 5 > 0 ? total / 5 : 1 ))
out=build/fuzz
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x .venv/bin/python ]; then PY=.venv/bin/python
else PY=python3; fi
status=0

fuzz() {  # name log command...: run a harness, then say executions and coverage
    local name=$1 log=$2 line
    shift 2
    if ! "$@" -max_total_time="$each" -print_final_stats=1 -artifact_prefix="$out/" \
            -timeout=10 -rss_limit_mb=1024 \
            >"$log" 2>&1; then
        status=1
        tail -n 40 "$log"
    fi
    line=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    echo "$name: $(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}')" \
         "executions; final: ${line:-no status line}"
}

flags="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
if command -v clang >/dev/null &&
   echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' |
       clang $flags -x c - -o "$work/probe" 2>/dev/null; then
    mkdir "$work/c"
    # shellcheck disable=SC2086
    clang -g -O1 -Wall -Wextra -Werror $flags -Icsrc fuzz/fuzz_frame.c csrc/*.c \
        -o "$out/fuzz_frame"
    fuzz "libFuzzer fuzz_frame.c" "$out/fuzz_frame.log" \
        "$out/fuzz_frame" "$work/c" fuzz/corpus
    mkdir "$work/kernels"
    # shellcheck disable=SC2086
    clang -g -O1 -Wall -Wextra -Werror $flags -Icsrc fuzz/fuzz_kernels.c csrc/*.c \
        -o "$out/fuzz_kernels"
    fuzz "libFuzzer fuzz_kernels.c (mask, UTF-8, every variant)" "$out/fuzz_kernels.log" \
        "$out/fuzz_kernels" "$work/kernels" fuzz/corpus-kernels
else
    echo "libFuzzer fuzz_frame.c, fuzz_kernels.c: skipped (needs clang and libclang-rt with -fsanitize=fuzzer)"
fi

if "$PY" -c 'import atheris, wsfast._speedups' 2>/dev/null; then
    mkdir "$work/py"
    PYTHONPATH=. fuzz "atheris fuzz_parser.py (C vs pure)" "$out/fuzz_parser.log" \
        "$PY" fuzz/fuzz_parser.py "$work/py" fuzz/corpus
    for name in connection handshake; do
        mkdir "$work/$name"
        PYTHONPATH=. fuzz "atheris fuzz_$name.py" "$out/fuzz_$name.log" \
            "$PY" "fuzz/fuzz_$name.py" "$work/$name" "fuzz/corpus-$name"
    done
else
    echo "atheris fuzz_parser.py, fuzz_connection.py, fuzz_handshake.py: skipped" \
         "(needs atheris and the built C extension)"
fi
exit $status
