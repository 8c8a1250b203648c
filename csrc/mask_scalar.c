/* Portable masking: 8 bytes per XOR through memcpy loads and stores, which
 * compilers turn into plain unaligned moves without aliasing or alignment UB. */
#include "internal.h"

void wsf_mask_scalar(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]) {
    uint8_t k8[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
    uint64_t k, a, b, c, d;
    size_t i = 0;
    memcpy(&k, k8, 8);
    for (; i + 32 <= len; i += 32) {
        memcpy(&a, src + i, 8);
        memcpy(&b, src + i + 8, 8);
        memcpy(&c, src + i + 16, 8);
        memcpy(&d, src + i + 24, 8);
        a ^= k; b ^= k; c ^= k; d ^= k;
        memcpy(dst + i, &a, 8);
        memcpy(dst + i + 8, &b, 8);
        memcpy(dst + i + 16, &c, 8);
        memcpy(dst + i + 24, &d, 8);
    }
    /* i is a multiple of 8 here, so the key still starts at k8[0]. */
    wsf_mask_words(dst + i, src + i, len - i, k8);
}
