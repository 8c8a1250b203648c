/* AVX-512 masking. Up to 64 bytes take one masked load and one masked
 * store, whatever the length: no scalar loop and no read or write outside
 * the buffer (masked-off bytes are never touched, so they cannot fault).
 * Longer inputs are the AVX2 kernel's shape with 64-byte vectors: the
 * unaligned first and last 64 bytes are loaded before anything is stored
 * and written last, around an aligned middle of 256 bytes per iteration
 * whose stores each fill exactly one cache line; correct in place too.
 *
 * In place up to 256 bytes it is the AVX2 kernel too (scalar below 32): what is unmasked in
 * place is read next (validated, or unmasked again), and a load of bytes
 * that a masked or a wider overlapping store just wrote waits for the store
 * to retire instead of taking its data from the store buffer: 0.6x AVX2 at
 * 64 bytes, 0.9x at 256 (bench/kernels.c).
 *
 * Out of place from 32 KiB on (beyond L1) it is the AVX2 kernel: there both
 * are bound by the caches' bandwidth, and AVX2's loads in halves, which
 * never split a line, measured 3-5% faster than 64-byte loads from a source
 * 16 bytes off the line (bench/kernels.c, 64 KiB-1 MiB); in L1 AVX-512 is
 * 1.2-1.3x AVX2.
 *
 * wsf_mask_avx512_stream is the same with non-temporal stores for the
 * middle, for wsf_mask_nt() (see mask_avx2.c and dispatch.c). */
#include "internal.h"
#ifdef WSF_X86
#include <immintrin.h>

WSF_TARGET(WSF_AVX512_TARGET)
static inline __m512i key_at(const uint8_t key[4], size_t offset) {
    uint8_t k[4];
    int32_t k32;
    wsf_rotate_key(k, key, offset);
    memcpy(&k32, k, 4);
    return _mm512_set1_epi32(k32);
}

/* The first n (<= 64) bytes: a mask with n low bits set. */
WSF_TARGET(WSF_AVX512_TARGET)
static inline __mmask64 first_bytes(size_t n) {
    return _cvtu64_mask64(n >= 64 ? ~0ull : (1ull << n) - 1);
}

#define WSF_MASK_AVX512(name, STORE, FENCE, AVX2)                                                \
    WSF_TARGET(WSF_AVX512_TARGET)                                                          \
    void name(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]) {        \
        __m512i first, last, vk;                                                           \
        size_t i;                                                                          \
        if (src == dst && len <= 256) {                                                    \
            (len < 32 ? wsf_mask_scalar : wsf_mask_avx2)(dst, src, len, key);              \
            return;                                                                        \
        }                                                                                  \
        if (len <= 64) {                                                                   \
            __mmask64 m = first_bytes(len);                                                \
            _mm512_mask_storeu_epi8(dst, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src), \
                                                             key_at(key, 0)));             \
            return;                                                                        \
        }                                                                                  \
        if (len >= 32 * 1024 && src != dst) {                                              \
            AVX2(dst, src, len, key);                                                      \
            return;                                                                        \
        }                                                                                  \
        first = _mm512_loadu_si512(src);                                                   \
        last = _mm512_loadu_si512(src + len - 64);                                         \
        i = 64 - ((uintptr_t)dst & 63u); /* 1..64: first aligned store after byte 0 */     \
        vk = key_at(key, i);                                                               \
        for (; i + 256 <= len; i += 256) {                                                 \
            __m512i a = _mm512_loadu_si512(src + i);                                       \
            __m512i b = _mm512_loadu_si512(src + i + 64);                                  \
            __m512i c = _mm512_loadu_si512(src + i + 128);                                 \
            __m512i d = _mm512_loadu_si512(src + i + 192);                                 \
            STORE((__m512i *)(dst + i), _mm512_xor_si512(a, vk));                                       \
            STORE((__m512i *)(dst + i + 64), _mm512_xor_si512(b, vk));                                  \
            STORE((__m512i *)(dst + i + 128), _mm512_xor_si512(c, vk));                                 \
            STORE((__m512i *)(dst + i + 192), _mm512_xor_si512(d, vk));                                 \
        }                                                                                  \
        for (; i + 64 <= len; i += 64)                                                     \
            STORE((__m512i *)(dst + i), _mm512_xor_si512(_mm512_loadu_si512(src + i), vk));             \
        FENCE;                                                                             \
        _mm512_storeu_si512(dst, _mm512_xor_si512(first, key_at(key, 0)));                 \
        _mm512_storeu_si512(dst + len - 64, _mm512_xor_si512(last, key_at(key, len - 64))); \
    }

WSF_MASK_AVX512(wsf_mask_avx512, _mm512_store_si512, (void)0, wsf_mask_avx2)

/* SFENCE: see wsf_mask_avx2_stream. */
WSF_MASK_AVX512(wsf_mask_avx512_stream, _mm512_stream_si512, _mm_sfence(), wsf_mask_avx2_stream)
#endif
