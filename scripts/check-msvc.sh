#!/usr/bin/env bash
# A smoke test of csrc/ as MSVC would see it, with no MSVC at hand: clang
# in MSVC mode (--target=<arch>-pc-windows-msvc -fms-compatibility), for
# x86-64 and ARM64, with __clang__ undefined so the code takes its MSVC
# branches (_MSC_VER: <intrin.h>, __cpuidex, _xgetbv; no __attribute__ or
# __builtin_expect), against clang's own intrinsic headers and a three-line
# <string.h> (memcpy, memset, strcmp: all csrc/ takes from the C library).
#   1. -fsyntax-only -Werror -Werror=vla: every file parses, no VLAs, no
#      implicit declarations (ssize_t and other POSIX names included);
#   2. csrc/ preprocessed the MSVC way, with every system header empty (so
#      no intrinsic macro is expanded into it), holds no __attribute__,
#      __builtin_*, __asm__ or __typeof__: the GCC extensions are all in
#      branches MSVC does not take.
# What this does not prove: that MSVC's own headers and its C front end
# accept the code (clang is more lenient, e.g. with C99/C11 features), that
# it links, or that it runs. clang in MSVC mode only declares the AVX2
# intrinsics with -mavx2, so the *_avx2.c files get it, and the *_avx512.c
# files the AVX-512 flags (MSVC needs no flag).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null; then
    echo "check-msvc: SKIPPED, clang is not installed"
    exit 0
fi
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
cat > "$stub/string.h" <<'EOF'
#include <stddef.h>
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int strcmp(const char *a, const char *b);
EOF
# For the second check: every header csrc/ includes, empty.
mkdir "$stub/empty"
for h in $(grep -ho '#include <[a-z_0-9]*\.h>' csrc/*.c csrc/*.h | sed 's/.*<\(.*\)>/\1/' | sort -u); do
    : > "$stub/empty/$h"
done
status=0
for arch in x86_64 aarch64; do
    flags=(--target="$arch-pc-windows-msvc" -fms-compatibility -fms-compatibility-version=19.40
           -ffreestanding -std=c99 -U__clang__ -Wno-builtin-macro-redefined
           -Wall -Wextra -Werror -Werror=vla -isystem "$stub" -Icsrc)
    for src in csrc/*.c; do
        extra=()
        if [ "$arch" = x86_64 ] && [[ $src == *avx2* ]]; then extra=(-mavx2); fi
        if [ "$arch" = x86_64 ] && [[ $src == *avx512* ]]; then
            extra=(-mavx512f -mavx512bw -mavx512vl -mavx512vbmi -mavx512vbmi2 -mbmi -mbmi2 -mpopcnt)
        fi
        if ! clang "${flags[@]}" "${extra[@]}" -fsyntax-only "$src"; then
            echo "FAILED: $arch $src (syntax)"
            status=1
            continue
        fi
        # Keep only the lines that come from csrc/ after preprocessing.
        found=$(clang "${flags[@]}" "${extra[@]}" -nostdinc -isystem "$stub/empty" -E "$src" | awk '
            /^# [0-9]+ "/ { ours = ($3 ~ /^"csrc\//); next }
            ours && /__attribute__|__builtin_|__asm__|__asm[ (]|__typeof__/ { print }')
        if [ -n "$found" ]; then
            echo "FAILED: $arch $src keeps GCC extensions in the MSVC branches:"
            echo "$found"
            status=1
        fi
    done
    echo "=== $arch-pc-windows-msvc: $(ls csrc/*.c | wc -l) files checked"
done
if [ "$status" -eq 0 ]; then
    echo "check-msvc: passed (a smoke test: see the top of this script for what it does not prove)"
else
    echo "check-msvc: FAILED"
fi
exit $status
