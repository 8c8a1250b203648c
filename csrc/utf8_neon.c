/* NEON UTF-8 validation (aarch64): the lookup algorithm of utf8_lookup.h,
 * TBL for the nibble lookups and EXT for the bytes one to three back. */
#include "internal.h"
#ifdef WSF_NEON
#include <arm_neon.h>
#include "utf8_lookup.h"


static inline uint8x16_t block_errors(uint8x16_t input, uint8x16_t prev_input) {
    uint8x16_t prev1 = vextq_u8(prev_input, input, 15);
    uint8x16_t sc = vandq_u8(
        vandq_u8(vqtbl1q_u8(vld1q_u8(WSF_BYTE_1_HIGH), vshrq_n_u8(prev1, 4)),
                 vqtbl1q_u8(vld1q_u8(WSF_BYTE_1_LOW), vandq_u8(prev1, vdupq_n_u8(0x0F)))),
        vqtbl1q_u8(vld1q_u8(WSF_BYTE_2_HIGH), vshrq_n_u8(input, 4)));
    uint8x16_t third = vqsubq_u8(vextq_u8(prev_input, input, 14), vdupq_n_u8(WSF_THIRD_BYTE_MIN));
    uint8x16_t fourth = vqsubq_u8(vextq_u8(prev_input, input, 13), vdupq_n_u8(WSF_FOURTH_BYTE_MIN));
    uint8x16_t must23 = vandq_u8(vorrq_u8(third, fourth), vdupq_n_u8(0x80));
    return veorq_u8(must23, sc);
}

int wsf_utf8_valid_neon(const uint8_t *buf, size_t len) {
    uint8x16_t prev = vdupq_n_u8(0), incomplete = vdupq_n_u8(0), error = vdupq_n_u8(0);
    uint8_t pad[64];
    size_t i = 0;
    const uint8_t *p;
    while ((p = wsf_utf8_block(buf, len, &i, pad)) != NULL) {
        uint8x16_t v0 = vld1q_u8(p), v1 = vld1q_u8(p + 16), v2 = vld1q_u8(p + 32),
                   v3 = vld1q_u8(p + 48);
        if (vmaxvq_u8(vorrq_u8(vorrq_u8(v0, v1), vorrq_u8(v2, v3))) < 0x80) {
            error = vorrq_u8(error, incomplete);
            incomplete = vdupq_n_u8(0);
        } else {
            error = vorrq_u8(error, block_errors(v0, prev));
            error = vorrq_u8(error, block_errors(v1, v0));
            error = vorrq_u8(error, block_errors(v2, v1));
            error = vorrq_u8(error, block_errors(v3, v2));
            incomplete = vqsubq_u8(v3, vld1q_u8(WSF_INCOMPLETE_MAX));
            if (vmaxvq_u8(error))
                return 0;
        }
        prev = v3;
    }
    return vmaxvq_u8(vorrq_u8(error, incomplete)) == 0;
}
#endif
