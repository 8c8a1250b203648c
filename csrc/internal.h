/* Shared by the kernel variants: compiler portability, per-ISA entry points,
 * the row type of the variant table (dispatch.c) and the scalar UTF-8 DFA
 * the SIMD validators fall back on. */
#ifndef WSFAST_INTERNAL_H
#define WSFAST_INTERNAL_H

#include <string.h>
#include "wsfast.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define WSF_X86 1
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define WSF_NEON 1
#endif

/* GCC and Clang compile intrinsics of an instruction set only inside
 * functions that target it; that keeps one baseline build for every CPU.
 * MSVC accepts the intrinsics anywhere. */
#if defined(__GNUC__) || defined(__clang__)
#define WSF_TARGET(isa) __attribute__((target(isa)))
#else
#define WSF_TARGET(isa)
#endif

/* The one AVX-512 variant: Ice Lake's set (F, BW, VL, VBMI, VBMI2), which
 * every AVX-512 CPU since 2019 has (Intel Ice Lake on, AMD Zen 4 on). */
#define WSF_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi,bmi2,popcnt"

#if defined(__GNUC__) || defined(__clang__)
#define WSF_LIKELY(x) __builtin_expect(!!(x), 1)
#define WSF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define WSF_LIKELY(x) (x)
#define WSF_UNLIKELY(x) (x)
#endif

/* Below this many bytes the scalar kernel is at least as fast as SIMD
 * (out of place, in L1: AVX2 ties scalar at 32-40 bytes and wins above;
 * measured with bench/mask_crossover.c, see docs/benchmarks.md). For
 * AVX-512, whose one masked load and store beats it at every size, only in
 * place (see mask_avx512.c). */
#define WSF_MASK_SIMD_MIN 32

/* The 4 key bytes as they apply from byte `offset` of a payload. */
static inline void wsf_rotate_key(uint8_t out[4], const uint8_t key[4], size_t offset) {
    out[0] = key[offset & 3];
    out[1] = key[(offset + 1) & 3];
    out[2] = key[(offset + 2) & 3];
    out[3] = key[(offset + 3) & 3];
}

/* dst = src ^ key 8 bytes at a time, then byte by byte; k8 is the key
 * rotated to byte 0 of src, twice. The scalar kernel's tail, and the whole
 * job for inputs below WSF_MASK_SIMD_MIN. */
static inline void wsf_mask_words(uint8_t *dst, const uint8_t *src, size_t len,
                                  const uint8_t k8[8]) {
    uint64_t k, w;
    size_t i = 0;
    memcpy(&k, k8, 8);
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, src + i, 8);
        w ^= k;
        memcpy(dst + i, &w, 8);
    }
    for (; i < len; i++)
        dst[i] = src[i] ^ k8[i & 3];
}

/* Variants: key is already rotated to byte 0 of src. */
typedef void (*wsf_mask_fn)(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]);
typedef int (*wsf_utf8_fn)(const uint8_t *buf, size_t len);
typedef int (*wsf_utf8_measure_fn)(const uint8_t *buf, size_t len, size_t *count,
                                   uint32_t *maxchar);
typedef void (*wsf_utf8_transcode_fn)(void *dst, unsigned width, const uint8_t *src, size_t len);

void wsf_mask_scalar(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]);
int wsf_utf8_valid_scalar(const uint8_t *buf, size_t len);
#ifdef WSF_X86
void wsf_mask_sse2(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]);
void wsf_mask_avx2(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]);
void wsf_mask_avx2_stream(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]);
int wsf_utf8_valid_sse2(const uint8_t *buf, size_t len);
int wsf_utf8_valid_ssse3(const uint8_t *buf, size_t len);
int wsf_utf8_valid_avx2(const uint8_t *buf, size_t len);
void wsf_mask_avx512(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]);
void wsf_mask_avx512_stream(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]);
int wsf_utf8_valid_avx512(const uint8_t *buf, size_t len);
int wsf_utf8_measure_avx512(const uint8_t *buf, size_t len, size_t *count, uint32_t *maxchar);
#endif
#ifdef WSF_NEON
void wsf_mask_neon(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]);
int wsf_utf8_valid_neon(const uint8_t *buf, size_t len);
#endif

/* A row of the variant table in dispatch.c; wsf_kernel_count() rows, in
 * the order of wsf_kernel_label(). */
typedef struct {
    const char *name;
    int (*supported)(void);   /* nonzero when this CPU runs the kernels */
    wsf_mask_fn mask;
    wsf_mask_fn mask_stream;  /* non-temporal stores, for wsf_mask_nt; or NULL */
    size_t mask_min;          /* shorter inputs take the inline word loop */
    wsf_utf8_fn utf8;
    wsf_utf8_measure_fn measure;      /* wsf_utf8_measure in one pass, or NULL */
    wsf_utf8_transcode_fn transcode;  /* NULL: CPython's decoder is faster */
} wsf_variant;

/* Row k, or NULL when k is out of range. */
const wsf_variant *wsf_variant_at(int k);

/* UTF-8 DFA (utf8_scalar.c). A state is a bit offset into a 64-bit row per
 * input byte; the row holds every state's successor, so one step is a load
 * and a shift. ACCEPT is 0; REJECT is sticky. */
#define WSF_DFA_REJECT 6u
extern uint64_t wsf_utf8_dfa[256];
void wsf_utf8_dfa_init(void);

static inline uint32_t wsf_utf8_step(uint32_t state, uint8_t byte) {
    return (uint32_t)(wsf_utf8_dfa[byte] >> state) & 63u;
}

/* Runs the DFA over buf until it rejects or the input ends. */
static inline uint32_t wsf_utf8_run(uint32_t state, const uint8_t *buf, size_t len) {
    for (size_t i = 0; i < len && state != WSF_DFA_REJECT; i++)
        state = wsf_utf8_step(state, buf[i]);
    return state;
}

#endif
