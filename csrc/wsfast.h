/* wsfast kernels: RFC 6455 masking and RFC 3629 UTF-8 validation.
 *
 * Plain C99 with no Python dependency, so the kernels can be fuzzed, tested
 * under sanitizers and benchmarked on their own. Each operation has one
 * portable scalar variant and SIMD variants (one file per instruction set);
 * wsf_init() picks the best one the CPU supports, or the one named.
 */
#ifndef WSFAST_H
#define WSFAST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    WSF_KERNEL_SCALAR = 0,
    WSF_KERNEL_SSE2 = 1,
    WSF_KERNEL_AVX2 = 2,
    WSF_KERNEL_NEON = 3,
    WSF_KERNEL_COUNT = 4
} wsf_kernel;

/* Select a kernel variant: name is "scalar", "sse2", "avx2", "neon", or
 * NULL/"" for the best this CPU supports. Returns 0 on success, -1 for an
 * unknown name, -2 for a variant this CPU (or this build) cannot run.
 * Call once, before the kernels are used from several threads. */
int wsf_init(const char *name);

/* Name of the variant in use ("scalar", "sse2", "avx2", "neon"). */
const char *wsf_kernel_name(void);

/* Nonzero when this CPU and build can run the variant. */
int wsf_kernel_supported(wsf_kernel k);

const char *wsf_kernel_label(wsf_kernel k);

/* dst[i] = src[i] ^ key[(i + phase) % 4] for i in [0, len). dst may equal
 * src (in place); otherwise the ranges must not overlap. Returns the phase
 * to continue with: (phase + len) % 4. */
size_t wsf_mask(uint8_t *dst, const uint8_t *src, size_t len,
                const uint8_t key[4], size_t phase);

/* Streaming UTF-8 validator state: starts at WSF_UTF8_ACCEPT, is
 * WSF_UTF8_ACCEPT again between complete characters, and stays at another
 * value (sticky) once the input can no longer be valid. */
#define WSF_UTF8_ACCEPT 0u

/* 1 when buf is complete, valid UTF-8 (RFC 3629), else 0. */
int wsf_utf8_valid(const uint8_t *buf, size_t len);

/* Continue validation from *state over buf; returns 0 as soon as the bytes
 * seen so far cannot start valid UTF-8 (even mid-character), else 1. The
 * input is complete and valid when *state == WSF_UTF8_ACCEPT at the end. */
int wsf_utf8_feed(uint32_t *state, const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
