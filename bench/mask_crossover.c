/* Where SIMD masking starts to beat the scalar kernel: times each variant this
 * CPU runs on every size from 1 to 256 bytes (out of place, buffers in L1,
 * misaligned by rotating offsets) and prints nanoseconds per call. WSF_MASK_SIMD_MIN in
 * csrc/internal.h is set from its output (docs/benchmarks.md). Build and run:
 *   cc -O3 -std=c99 -Icsrc bench/mask_crossover.c csrc/[a-z]*.c -o crossover
 *   ./crossover
 */
#include "timing.h"
#include <stdio.h>
#include "internal.h"

/* Best of 7 runs of `calls` calls, in nanoseconds per call. */
static double time_fn(mask_fn fn, uint8_t *dst, const uint8_t *src, size_t len, long calls) {
    static const uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
    double best = 1e30;
    for (int run = 0; run < 7; run++) {
        double t0 = now(), dt;
        for (long c = 0; c < calls; c++) {
            size_t off = (size_t)c & 15;
            fn(dst + off, src + (off * 7 & 15), len, key);
        }
        dt = (now() - t0) / (double)calls * 1e9;
        if (dt < best)
            best = dt;
    }
    return best;
}

/* The table's rows this CPU runs, each mask kernel once (ssse3 masks with
 * sse2's). */
static int timed(int k) {
    if (!wsf_kernel_supported(k))
        return 0;
    for (int j = 0; j < k; j++)
        if (wsf_variant_at(j)->mask == wsf_variant_at(k)->mask)
            return 0;
    return 1;
}

int main(void) {
    static uint8_t src[512], dst[512];
    int n = wsf_kernel_count();
    printf("%6s", "bytes");
    for (int k = 0; k < n; k++)
        if (timed(k))
            printf(" %8s", wsf_kernel_label(k));
    printf("   (ns per call)\n");
    for (size_t len = 1; len <= 256; len += len < 64 ? 1 : 16) {
        printf("%6zu", len);
        for (int k = 0; k < n; k++)
            if (timed(k))
                printf(" %8.2f", time_fn(wsf_variant_at(k)->mask, dst, src, len, 200000));
        printf("\n");
    }
    return 0;
}
