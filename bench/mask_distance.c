/* How the distance between source and destination (mod 32) moves the AVX2
 * and SSE2 masking kernels, out of place and in place, at sizes around the
 * point where wsf_mask_avx2 starts loading in 16-byte halves
 * (WSF_MASK_HALF_LOADS_MIN in csrc/mask_avx2.c; docs/benchmarks.md,
 * section 2). Buffers are fixed and warm; prints the median of 9 timings in
 * ns per call, the kernels taking turns run by run. Build and run:
 *   cc -O3 -std=c99 -Icsrc bench/mask_distance.c csrc/[a-z]*.c -o mask-distance
 *   ./mask-distance [size in KiB ...]
 */
#include "timing.h"
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

#define RUNS 9

int main(int argc, char **argv) {
#ifdef WSF_X86
    static const size_t kib[] = {16, 32, 64, 256, 1024};
    static const uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
    static const int distances[] = {0, 8, 16, -1};   /* -1: in place */
    mask_fn fns[2] = {wsf_mask_avx2, wsf_mask_sse2};
    int n = argc > 1 ? argc - 1 : (int)(sizeof kib / sizeof kib[0]);
    if (wsf_init("avx2") != 0) {
        printf("no AVX2 on this CPU or build\n");
        return 0;
    }
    printf("%7s  %-10s %12s %12s\n", "KiB", "distance", "avx2 ns", "sse2 ns");
    for (int s = 0; s < n; s++) {
        size_t len = (argc > 1 ? (size_t)strtoul(argv[s + 1], NULL, 10) : kib[s]) << 10;
        uint8_t *a = (uint8_t *)malloc(len + 128), *b = (uint8_t *)malloc(len + 128);
        long calls = (long)(((size_t)64 << 20) / (len ? len : 1));
        if (!a || !b || len < 32)
            return 2;
        for (size_t i = 0; i < len + 128; i++)
            a[i] = (uint8_t)i, b[i] = 0;
        for (size_t d = 0; d < sizeof distances / sizeof distances[0]; d++) {
            /* src 48 bytes into its block, as a large bytes object's payload */
            uint8_t *src = a + 48;
            uint8_t *dst = distances[d] < 0 ? src
                : b + 64 + ((((uintptr_t)src - (uintptr_t)distances[d]) - (uintptr_t)(b + 64)) & 31u);
            double t[2][RUNS];
            for (int run = 0; run < RUNS; run++)
                for (int f = 0; f < 2; f++) {
                    double t0;
                    fns[f](dst, src, len, key);
                    t0 = now();
                    for (long c = 0; c < calls; c++)
                        fns[f](dst, src, len, key);
                    t[f][run] = (now() - t0) / (double)calls;
                }
            qsort(t[0], RUNS, sizeof t[0][0], by_value);
            qsort(t[1], RUNS, sizeof t[1][0], by_value);
            if (distances[d] < 0)
                printf("%7zu  %-10s %12.1f %12.1f\n", len >> 10, "in place", t[0][RUNS / 2] * 1e9,
                       t[1][RUNS / 2] * 1e9);
            else
                printf("%7zu  %-10d %12.1f %12.1f\n", len >> 10, distances[d], t[0][RUNS / 2] * 1e9,
                       t[1][RUNS / 2] * 1e9);
        }
        free(a);
        free(b);
    }
#else
    (void)argc;
    (void)argv;
    printf("x86-64 only: the AVX2 and SSE2 kernels\n");
#endif
    return 0;
}
