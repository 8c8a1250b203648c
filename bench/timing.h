/* What the C benchmarks here share: a monotonic clock, a comparison for
 * qsort (medians) and the masking kernels' signature. Include it first:
 * it asks for the POSIX clock before any system header is read. */
#ifndef WSFAST_BENCH_TIMING_H
#define WSFAST_BENCH_TIMING_H
#define _POSIX_C_SOURCE 199309L
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef void (*mask_fn)(uint8_t *, const uint8_t *, size_t, const uint8_t *);

static inline double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
#endif
