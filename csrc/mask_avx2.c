/* AVX2 masking, for len >= 32: 128 bytes per iteration with stores aligned
 * to 32 bytes, so none splits a cache line. The unaligned first and last 32
 * bytes are loaded before anything is stored and written last, overlapping
 * the aligned middle with the same values: correct in place too, and no
 * byte-by-byte head or tail loop. Shorter inputs go to the scalar kernel.
 *
 * wsf_mask_avx2_stream is the same with non-temporal stores for the aligned
 * middle: they send whole lines to memory without reading them into the
 * cache first, so a destination larger than the cache costs no read of each
 * line and does not evict the source. wsf_mask_nt() uses it only out of
 * place and only for buffers large against the last-level cache
 * (dispatch.c); wsf_mask() never does. */
#include "internal.h"
#ifdef WSF_X86
#include <immintrin.h>

WSF_TARGET("avx2")
static __m256i key_at(const uint8_t key[4], size_t offset) {
    uint8_t k[4];
    int32_t k32;
    wsf_rotate_key(k, key, offset);
    memcpy(&k32, k, 4);
    return _mm256_set1_epi32(k32);
}

WSF_TARGET("avx2")
static inline __m256i load_whole(const uint8_t *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

/* Out of place, with src and dst a multiple of 16 bytes apart, from 32 KiB
 * on (beyond L1), two 16-byte loads per 32 bytes beat one 32-byte load.
 * Measured on Zen 4, AVX2 alone: when src is 16 off the stores' 32-byte
 * alignment every other whole load splits a cache line and costs 10-27%
 * more (halves never split); when it is 32-aligned, halves still win by
 * 1.5-3%. Whole loads win below 32 KiB, at other distances and in place (by
 * 10-20%). Two bytes objects from malloc are 0 or 16 apart mod 32. */
#define WSF_MASK_HALF_LOADS_MIN (32 * 1024)

WSF_TARGET("avx2")
static inline __m256i load_halves(const uint8_t *p) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p)),
                                   _mm_loadu_si128((const __m128i *)(p + 16)), 1);
}

/* The aligned middle: 128 bytes per iteration, then 32. */
#define WSF_MASK_AVX2_MIDDLE(LOAD, STORE)                                                  \
    for (; i + 128 <= len; i += 128) {                                                     \
        __m256i a = LOAD(src + i);                                                         \
        __m256i b = LOAD(src + i + 32);                                                    \
        __m256i c = LOAD(src + i + 64);                                                    \
        __m256i d = LOAD(src + i + 96);                                                    \
        STORE((__m256i *)(dst + i), _mm256_xor_si256(a, vk));                              \
        STORE((__m256i *)(dst + i + 32), _mm256_xor_si256(b, vk));                         \
        STORE((__m256i *)(dst + i + 64), _mm256_xor_si256(c, vk));                         \
        STORE((__m256i *)(dst + i + 96), _mm256_xor_si256(d, vk));                         \
    }                                                                                      \
    for (; i + 32 <= len; i += 32)                                                         \
        STORE((__m256i *)(dst + i), _mm256_xor_si256(LOAD(src + i), vk));

/* One body, two variants: STORE is the aligned store of the middle, FENCE
 * what follows it. A macro rather than a flag or a function pointer so that
 * every compiler emits the intended store: clang 14 merges
 * `if (flag) _mm256_stream_si256(p, v); else _mm256_store_si256(p, v);` into
 * one plain store, dropping the hint, and MSVC need not inline a call
 * through a pointer. */
#define WSF_MASK_AVX2(name, STORE, FENCE)                                                  \
    WSF_TARGET("avx2")                                                                     \
    void name(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]) {        \
        __m256i first, last, vk;                                                           \
        size_t i;                                                                          \
        if (len < 32) {                                                                    \
            wsf_mask_scalar(dst, src, len, key);                                           \
            return;                                                                        \
        }                                                                                  \
        first = _mm256_loadu_si256((const __m256i *)src);                                  \
        last = _mm256_loadu_si256((const __m256i *)(src + len - 32));                      \
        i = 32 - ((uintptr_t)dst & 31u); /* 1..32: first aligned store after byte 0 */     \
        vk = key_at(key, i);                                                               \
        if (len >= WSF_MASK_HALF_LOADS_MIN && src != dst &&                                \
            (((uintptr_t)src - (uintptr_t)dst) & 15u) == 0) {                              \
            WSF_MASK_AVX2_MIDDLE(load_halves, STORE)                                       \
        } else {                                                                           \
            WSF_MASK_AVX2_MIDDLE(load_whole, STORE)                                        \
        }                                                                                  \
        FENCE;                                                                             \
        _mm256_storeu_si256((__m256i *)dst, _mm256_xor_si256(first, key_at(key, 0)));      \
        _mm256_storeu_si256((__m256i *)(dst + len - 32),                                   \
                            _mm256_xor_si256(last, key_at(key, len - 32)));                \
    }

WSF_MASK_AVX2(wsf_mask_avx2, _mm256_store_si256, (void)0)

/* Non-temporal stores may reach other cores after this thread's later
 * ordinary stores (Intel SDM vol. 3A, "Memory Ordering"): SFENCE orders them
 * before whatever the caller does next, such as handing dst to a thread. */
WSF_MASK_AVX2(wsf_mask_avx2_stream, _mm256_stream_si256, _mm_sfence())
#endif
