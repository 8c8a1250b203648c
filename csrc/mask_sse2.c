/* SSE2 masking: 64 bytes per iteration, stores aligned to 16 bytes. */
#include "internal.h"
#ifdef WSF_X86
#include <emmintrin.h>

WSF_TARGET("sse2")
void wsf_mask_sse2(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]) {
    size_t head = (size_t)(-(uintptr_t)dst & 15u);
    uint8_t k[4];
    int32_t k32;
    __m128i vk;
    size_t i = 0;
    if (head > len)
        head = len;
    for (; i < head; i++)
        dst[i] = src[i] ^ key[i & 3];
    wsf_rotate_key(k, key, head);
    memcpy(&k32, k, 4);
    vk = _mm_set1_epi32(k32);
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
    wsf_mask_scalar(dst + i, src + i, len - i, k);
}
#endif
