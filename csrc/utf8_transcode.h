/* UTF-8 to the code units of a CPython str: count the code points of
 * validated UTF-8 and find the smallest PyUnicode kind that holds them
 * (1, 2 or 4 bytes per unit), then write them as units of that width. The
 * caller validates first (wsf_utf8_valid), allocates the str from the count
 * and transcodes into it, so neither step checks or allocates.
 *
 * Every variant reads only [src, src + len) and writes at most as many units
 * as the count function returned, whatever the input; on input that is not
 * valid UTF-8, or at a width narrower than *maxchar asks for, the values of
 * the units are unspecified. */
#ifndef WSFAST_UTF8_TRANSCODE_H
#define WSFAST_UTF8_TRANSCODE_H

#include "internal.h"

/* For len bytes of VALID UTF-8 (already validated by the caller): returns
 * the number of code points, and sets *maxchar to the bound of the smallest
 * PyUnicode kind that holds them all: 0x7F (all ASCII), 0xFF (every code
 * point < 256, i.e. no lead byte above 0xC3), 0xFFFF (no 4-byte sequence,
 * no lead byte >= 0xF0), else 0x10FFFF. */
typedef size_t (*wsf_utf8_count_fn)(const uint8_t *src, size_t len, uint32_t *maxchar);

/* Writes the code points of len bytes of VALID UTF-8 to dst as `width`-byte
 * units (1, 2 or 4; native endian), exactly as many as the count function
 * returned; width is the kind that *maxchar chose (1 for 0x7F and 0xFF, 2
 * for 0xFFFF, 4 for 0x10FFFF). dst has room for exactly that many units:
 * nothing past it is written, nothing past src + len is read. */


/* The unit width for a maxchar from a count function. */
static inline unsigned wsf_utf8_width(uint32_t maxchar) {
    return maxchar <= 0xFF ? 1u : maxchar <= 0xFFFF ? 2u : 4u;
}

size_t wsf_utf8_count_scalar(const uint8_t *src, size_t len, uint32_t *maxchar);
void wsf_utf8_transcode_scalar(void *dst, unsigned width, const uint8_t *src, size_t len);

#ifdef WSF_X86
/* WSF_AVX512_TARGET (internal.h): byte and word compress (VBMI2), byte
 * permutes (VBMI), masked loads and stores (BW, VL). */
void wsf_utf8_transcode_avx512(void *dst, unsigned width, const uint8_t *src, size_t len);
#endif

#endif
