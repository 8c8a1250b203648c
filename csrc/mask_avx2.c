/* AVX2 masking: 128 bytes per iteration, stores aligned to 32 bytes so none
 * splits a cache line. */
#include "internal.h"
#ifdef WSF_X86
#include <immintrin.h>

WSF_TARGET("avx2")
void wsf_mask_avx2(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]) {
    size_t head = (size_t)(-(uintptr_t)dst & 31u);
    uint8_t k[4];
    int32_t k32;
    __m256i vk;
    size_t i = 0;
    if (head > len)
        head = len;
    for (; i < head; i++)
        dst[i] = src[i] ^ key[i & 3];
    wsf_rotate_key(k, key, head);
    memcpy(&k32, k, 4);
    vk = _mm256_set1_epi32(k32);
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
    wsf_mask_scalar(dst + i, src + i, len - i, k);
}
#endif
