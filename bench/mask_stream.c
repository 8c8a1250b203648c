/* Where non-temporal stores start to pay for AVX2 masking: times the
 * ordinary kernel (wsf_mask_avx2) against the streaming one
 * (wsf_mask_avx2_stream) on buffers of 256 KiB to 64 MiB, out of place into
 * a destination that is allocated and written once beforehand (warm pages,
 * as in a long-running process whose allocator reuses a block) and in place.
 * Prints GB/s, the median of 9 timings with their range, and marks the
 * sizes above the threshold wsf_init() derived from the last-level cache
 * (csrc/dispatch.c; docs/benchmarks.md, section 2). Build and run:
 *   cc -O3 -std=c99 -Icsrc bench/mask_stream.c csrc/[a-z]*.c -o mask-stream
 *   ./mask-stream [size in KiB ...]
 */
#include "timing.h"
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

#define RUNS 9

/* Seconds per call of fn over about 64 MiB of calls, one sample a run; the
 * kernels take turns run by run so that a burst of load elsewhere on the
 * machine hits both alike. */
static void sample(mask_fn fns[2], uint8_t *dst, const uint8_t *src, size_t len,
                   double out[2][RUNS]) {
    static const uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
    long calls = len >= ((size_t)32 << 20) ? 2 : (long)(((size_t)64 << 20) / len);
    for (int run = 0; run < RUNS; run++) {
        for (int f = 0; f < 2; f++) {
            double t0;
            fns[f](dst, src, len, key);   /* the caches as the timed calls leave them */
            t0 = now();
            for (long c = 0; c < calls; c++)
                fns[f](dst, src, len, key);
            out[f][run] = (now() - t0) / (double)calls;
        }
    }
    for (int f = 0; f < 2; f++)
        qsort(out[f], RUNS, sizeof out[f][0], by_value);
}

int main(int argc, char **argv) {
    static const size_t kib[] = {256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
    mask_fn fns[2];
    size_t threshold;
    int n = argc > 1 ? argc - 1 : (int)(sizeof kib / sizeof kib[0]);
#ifdef WSF_X86
    fns[0] = wsf_mask_avx2;
    fns[1] = wsf_mask_avx2_stream;
#endif
    if (wsf_init("avx2") != 0) {
        printf("no AVX2 on this CPU or build: no streaming kernel to time\n");
        return 0;
    }
    threshold = wsf_mask_stream_threshold();
    if (threshold == SIZE_MAX)
        printf("threshold: none (cache size unknown): wsf_mask_nt() never streams\n");
    else
        printf("threshold: wsf_mask_nt() (apply_mask) streams out of place above %zu KiB (sizes marked *)\n",
               threshold >> 10);
    printf("%9s  %-28s %-28s %6s   %-28s %-28s %6s\n", "KiB", "new: avx2 GB/s [range]",
           "new: stream", "gain", "in place: avx2", "in place: stream", "gain");
    for (int s = 0; s < n; s++) {
        size_t len = (argc > 1 ? (size_t)strtoul(argv[s + 1], NULL, 10) : kib[s]) << 10;
        /* 48 bytes into the block, as a large bytes object's payload is. */
        uint8_t *src = (uint8_t *)malloc(len + 64), *dst = (uint8_t *)malloc(len + 64);
        double t[2][2][RUNS];
        if (!src || !dst || len < 32) {
            fprintf(stderr, "size %zu bytes: too small, or out of memory\n", len);
            return 2;
        }
        for (size_t i = 0; i < len + 64; i++)
            src[i] = (uint8_t)(i * 131 + 7);
        memset(dst, 0, len + 64);
        sample(fns, dst + 48, src + 48, len, t[0]);
        sample(fns, src + 48, src + 48, len, t[1]);
        printf("%8zu%c ", len >> 10, len > threshold ? '*' : ' ');
        for (int mode = 0; mode < 2; mode++) {
            for (int f = 0; f < 2; f++) {
                char cell[64];
                snprintf(cell, sizeof cell, "%.1f [%.1f-%.1f]", (double)len / t[mode][f][RUNS / 2] / 1e9,
                         (double)len / t[mode][f][RUNS - 1] / 1e9, (double)len / t[mode][f][0] / 1e9);
                printf(" %-28s", cell);
            }
            printf(" %5.2fx  ", t[mode][0][RUNS / 2] / t[mode][1][RUNS / 2]);
        }
        printf("\n");
        fflush(stdout);
        free(src);
        free(dst);
    }
    return 0;
}
