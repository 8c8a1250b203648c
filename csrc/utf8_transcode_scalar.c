/* Portable UTF-8 to PyUnicode units: the count and the kind eight bytes at a
 * time (SWAR), the transcoding with an ASCII fast path over 8-byte words and
 * one sequence at a time otherwise. */
#include "utf8_transcode.h"

#define HIGH_BITS 0x8080808080808080u
#define LOW_BYTES 0x00FF00FF00FF00FFu

/* The sum of the eight byte lanes of acc (each at most 255). */
static size_t byte_sum(uint64_t acc) {
    uint64_t pairs = (acc & LOW_BYTES) + ((acc >> 8) & LOW_BYTES);
    return (size_t)((pairs * 0x0001000100010001u) >> 48);
}

size_t wsf_utf8_count_scalar(const uint8_t *src, size_t len, uint32_t *maxchar) {
    /* Bit 7 of a byte lane of these is set when some byte in that lane was
     * >= 0x80, >= 0xC4 (a lead above U+00FF) or >= 0xF0 (a 4-byte lead):
     * shifting the word left by k puts bit 7-k of each byte at bit 7 of
     * the same byte. */
    uint64_t any80 = 0, anyC4 = 0, anyF0 = 0;
    size_t cont = 0, i = 0;
    while (len - i >= 8) {
        /* Continuation bytes (10xxxxxx), one per lane, in runs short
         * enough that no lane of acc overflows. */
        uint64_t acc = 0;
        size_t end = len - i >= 8 * 255 ? i + 8 * 255 : len - ((len - i) & 7);
        for (; i < end; i += 8) {
            uint64_t w;
            memcpy(&w, src + i, 8);
            any80 |= w;
            acc += (w & ~(w << 1) & HIGH_BITS) >> 7;
            anyC4 |= w & (w << 1) & ((w << 2) | (w << 3) | (w << 4) | (w << 5));
            anyF0 |= w & (w << 1) & (w << 2) & (w << 3);
        }
        cont += byte_sum(acc);
    }
    for (; i < len; i++) {
        uint64_t b = src[i];
        any80 |= b;
        cont += (b & 0xC0) == 0x80;
        anyC4 |= b >= 0xC4 ? 0x80 : 0;
        anyF0 |= b >= 0xF0 ? 0x80 : 0;
    }
    *maxchar = anyF0 & HIGH_BITS ? 0x10FFFF
             : anyC4 & HIGH_BITS ? 0xFFFF
             : any80 & HIGH_BITS ? 0xFF : 0x7F;
    return len - cont;
}

/* One body per width, so each inlines its own stores. A stray continuation
 * byte (only in invalid input) writes nothing, and a sequence cut off by
 * the end reads no further: at most one unit per byte that the count
 * counts, never a read past the end. */
#define TRANSCODE(T)                                                               \
    T *out = (T *)dst;                                                             \
    size_t i = 0;                                                                  \
    while (i < len) {                                                              \
        uint32_t b = src[i];                                                       \
        if (b < 0x80) {                                                            \
            uint64_t w;                                                            \
            /* Eight ASCII bytes in a row: eight units. */                        \
            while (len - i >= 8 && (memcpy(&w, src + i, 8), (w & HIGH_BITS) == 0)) { \
                for (int k = 0; k < 8; k++)                                        \
                    out[k] = (T)src[i + k];                                        \
                out += 8;                                                          \
                i += 8;                                                            \
            }                                                                      \
            if (i == len)                                                          \
                break;                                                             \
            b = src[i];                                                            \
            if (b < 0x80) {                                                        \
                *out++ = (T)b;                                                     \
                i++;                                                               \
                continue;                                                          \
            }                                                                      \
        }                                                                          \
        if (b >= 0xC0 && b < 0xE0 && len - i >= 2) {                               \
            *out++ = (T)((b & 0x1Fu) << 6 | (src[i + 1] & 0x3Fu));                 \
            i += 2;                                                                \
        } else if (b >= 0xE0 && b < 0xF0 && len - i >= 3) {                        \
            *out++ = (T)((b & 0x0Fu) << 12 | (src[i + 1] & 0x3Fu) << 6 |           \
                         (src[i + 2] & 0x3Fu));                                    \
            i += 3;                                                                \
        } else if (b >= 0xF0 && len - i >= 4) {                                    \
            *out++ = (T)((b & 0x07u) << 18 | (src[i + 1] & 0x3Fu) << 12 |          \
                         (src[i + 2] & 0x3Fu) << 6 | (src[i + 3] & 0x3Fu));        \
            i += 4;                                                                \
        } else {                                                                   \
            if (b >= 0xC0)                                                         \
                *out++ = (T)0xFFFD;                                                \
            i++;                                                                   \
        }                                                                          \
    }

static void to_ucs1(void *dst, const uint8_t *src, size_t len) {
    TRANSCODE(uint8_t)
}

static void to_ucs2(void *dst, const uint8_t *src, size_t len) {
    TRANSCODE(uint16_t)
}

static void to_ucs4(void *dst, const uint8_t *src, size_t len) {
    TRANSCODE(uint32_t)
}

void wsf_utf8_transcode_scalar(void *dst, unsigned width, const uint8_t *src, size_t len) {
    if (width == 1)
        to_ucs1(dst, src, len);
    else if (width == 2)
        to_ucs2(dst, src, len);
    else
        to_ucs4(dst, src, len);
}
