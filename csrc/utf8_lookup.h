/* Tables of the Keiser-Lemire lookup algorithm ("Validating UTF-8 In Less
 * Than One Instruction Per Byte", 2021), shared by the SIMD validators.
 *
 * Every error in a 2-byte window (the previous byte and this one) sets a bit
 * in all three of: a table indexed by the high nibble of the previous byte,
 * one by its low nibble, one by the high nibble of this byte; three byte
 * shuffles and two ANDs check a whole vector of windows. The one error a
 * 2-byte window cannot see -- a missing or extra third/fourth byte -- is
 * caught by comparing "2 or 3 bytes back was a 3- or 4-byte lead" with the
 * TWO_CONTS bit set for a continuation after a continuation. */
#ifndef WSFAST_UTF8_LOOKUP_H
#define WSFAST_UTF8_LOOKUP_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TOO_SHORT      (1 << 0)  /* lead byte not followed by a continuation */
#define TOO_LONG       (1 << 1)  /* ASCII followed by a continuation */
#define OVERLONG_3     (1 << 2)  /* E0 80..9F */
#define TOO_LARGE      (1 << 3)  /* F4 90..BF, or F5..FF */
#define SURROGATE      (1 << 4)  /* ED A0..BF */
#define OVERLONG_2     (1 << 5)  /* C0, C1 */
#define TOO_LARGE_1000 (1 << 6)  /* F5..FF 80..8F */
#define OVERLONG_4     (1 << 6)  /* F0 80..8F */
#define TWO_CONTS      (1 << 7)  /* continuation after continuation */
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)
#define LARGE (CARRY | TOO_LARGE | TOO_LARGE_1000)

static const uint8_t WSF_BYTE_1_HIGH[16] = {
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
    TOO_SHORT | OVERLONG_2,
    TOO_SHORT,
    TOO_SHORT | OVERLONG_3 | SURROGATE,
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4};

static const uint8_t WSF_BYTE_1_LOW[16] = {
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
    CARRY | TOO_LARGE, LARGE, LARGE, LARGE,
    LARGE, LARGE, LARGE, LARGE,
    LARGE, LARGE | SURROGATE, LARGE, LARGE};

static const uint8_t WSF_BYTE_2_HIGH[16] = {
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT};

/* Saturating-subtracting this from the last 16 bytes of a block leaves a
 * nonzero byte where a lead byte needs more bytes than the block has left. */
static const uint8_t WSF_INCOMPLETE_MAX[16] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    0xF0 - 1, 0xE0 - 1, 0xC0 - 1};

/* Saturating-subtracting these leaves bit 7 set exactly where a byte 2 back
 * is a 3- or 4-byte lead (>= E0), or 3 back a 4-byte lead (>= F0). */
#define WSF_THIRD_BYTE_MIN (0xE0 - 0x80)
#define WSF_FOURTH_BYTE_MIN (0xF0 - 0x80)

/* The next 64 bytes to check, at buf + *i, advancing *i; NULL at the end.
 * The tail is copied into pad and padded with ASCII zeros, which end any
 * open character with TOO_SHORT, so no separate end check is needed. */
static inline const uint8_t *wsf_utf8_block(const uint8_t *buf, size_t len, size_t *i,
                                            uint8_t pad[64]) {
    const uint8_t *p = buf + *i;
    if (*i >= len)
        return NULL;
    if (len - *i < 64) {
        memset(pad, 0, 64);
        memcpy(pad, p, len - *i);
        p = pad;
    }
    *i += 64;
    return p;
}

#endif
