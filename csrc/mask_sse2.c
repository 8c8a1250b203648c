/* SSE2 masking, for len >= 16: 64 bytes per iteration with stores aligned to
 * 16 bytes; the unaligned first and last 16 bytes are handled as in
 * mask_avx2.c (loaded first, stored last). Shorter inputs go to scalar. */
#include "internal.h"
#ifdef WSF_X86
#include <emmintrin.h>

WSF_TARGET("sse2")
static __m128i key_at(const uint8_t key[4], size_t offset) {
    uint8_t k[4];
    int32_t k32;
    wsf_rotate_key(k, key, offset);
    memcpy(&k32, k, 4);
    return _mm_set1_epi32(k32);
}

WSF_TARGET("sse2")
void wsf_mask_sse2(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]) {
    __m128i first, last, vk;
    size_t i;
    if (len < 16) {
        wsf_mask_scalar(dst, src, len, key);
        return;
    }
    first = _mm_loadu_si128((const __m128i *)src);
    last = _mm_loadu_si128((const __m128i *)(src + len - 16));
    i = 16 - ((uintptr_t)dst & 15u);   /* 1..16: first aligned store after byte 0 */
    vk = key_at(key, i);
    for (; i + 64 <= len; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
        _mm_store_si128((__m128i *)(dst + i), _mm_xor_si128(a, vk));
        _mm_store_si128((__m128i *)(dst + i + 16), _mm_xor_si128(b, vk));
        _mm_store_si128((__m128i *)(dst + i + 32), _mm_xor_si128(c, vk));
        _mm_store_si128((__m128i *)(dst + i + 48), _mm_xor_si128(d, vk));
    }
    for (; i + 16 <= len; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        _mm_store_si128((__m128i *)(dst + i), _mm_xor_si128(a, vk));
    }
    _mm_storeu_si128((__m128i *)dst, _mm_xor_si128(first, key_at(key, 0)));
    _mm_storeu_si128((__m128i *)(dst + len - 16), _mm_xor_si128(last, key_at(key, len - 16)));
}
#endif
