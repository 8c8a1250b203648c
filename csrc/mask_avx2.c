/* AVX2 masking, for len >= 32: 128 bytes per iteration with stores aligned
 * to 32 bytes, so none splits a cache line. The unaligned first and last 32
 * bytes are loaded before anything is stored and written last, overlapping
 * the aligned middle with the same values: correct in place too, and no
 * byte-by-byte head or tail loop. Shorter inputs go to the scalar kernel. */
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
void wsf_mask_avx2(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]) {
    __m256i first, last, vk;
    size_t i;
    if (len < 32) {
        wsf_mask_scalar(dst, src, len, key);
        return;
    }
    first = _mm256_loadu_si256((const __m256i *)src);
    last = _mm256_loadu_si256((const __m256i *)(src + len - 32));
    i = 32 - ((uintptr_t)dst & 31u);   /* 1..32: first aligned store after byte 0 */
    vk = key_at(key, i);
    for (; i + 128 <= len; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
        _mm256_store_si256((__m256i *)(dst + i), _mm256_xor_si256(a, vk));
        _mm256_store_si256((__m256i *)(dst + i + 32), _mm256_xor_si256(b, vk));
        _mm256_store_si256((__m256i *)(dst + i + 64), _mm256_xor_si256(c, vk));
        _mm256_store_si256((__m256i *)(dst + i + 96), _mm256_xor_si256(d, vk));
    }
    for (; i + 32 <= len; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        _mm256_store_si256((__m256i *)(dst + i), _mm256_xor_si256(a, vk));
    }
    _mm256_storeu_si256((__m256i *)dst, _mm256_xor_si256(first, key_at(key, 0)));
    _mm256_storeu_si256((__m256i *)(dst + len - 32), _mm256_xor_si256(last, key_at(key, len - 32)));
}
#endif
