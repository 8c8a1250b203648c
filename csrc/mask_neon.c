/* NEON masking (aarch64): 64 bytes per iteration. */
#include "internal.h"
#ifdef WSF_NEON
#include <arm_neon.h>

void wsf_mask_neon(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]) {
    uint8_t k16[16];
    uint8x16_t vk;
    size_t i = 0;
    for (int j = 0; j < 16; j++)
        k16[j] = key[j & 3];
    vk = vld1q_u8(k16);
    for (; i + 64 <= len; i += 64) {
        uint8x16_t a = vld1q_u8(src + i);
        uint8x16_t b = vld1q_u8(src + i + 16);
        uint8x16_t c = vld1q_u8(src + i + 32);
        uint8x16_t d = vld1q_u8(src + i + 48);
        vst1q_u8(dst + i, veorq_u8(a, vk));
        vst1q_u8(dst + i + 16, veorq_u8(b, vk));
        vst1q_u8(dst + i + 32, veorq_u8(c, vk));
        vst1q_u8(dst + i + 48, veorq_u8(d, vk));
    }
    for (; i + 16 <= len; i += 16)
        vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), vk));
    wsf_mask_scalar(dst + i, src + i, len - i, key);
}
#endif
