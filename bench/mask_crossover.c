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

int main(void) {
    static uint8_t src[512], dst[512];
    mask_fn fns[WSF_KERNEL_COUNT] = {wsf_mask_scalar, NULL, NULL, NULL};
#ifdef WSF_X86
    fns[WSF_KERNEL_SSE2] = wsf_mask_sse2;
    fns[WSF_KERNEL_AVX2] = wsf_mask_avx2;
#endif
#ifdef WSF_NEON
    fns[WSF_KERNEL_NEON] = wsf_mask_neon;
#endif
    printf("%6s", "bytes");
    for (int k = 0; k < WSF_KERNEL_COUNT; k++)
        if (fns[k] && wsf_kernel_supported((wsf_kernel)k))
            printf(" %8s", wsf_kernel_label((wsf_kernel)k));
    printf("   (ns per call)\n");
    for (size_t len = 1; len <= 256; len += len < 64 ? 1 : 16) {
        printf("%6zu", len);
        for (int k = 0; k < WSF_KERNEL_COUNT; k++)
            if (fns[k] && wsf_kernel_supported((wsf_kernel)k))
                printf(" %8.2f", time_fn(fns[k], dst, src, len, 200000));
        printf("\n");
    }
    return 0;
}
