/* AVX-512 UTF-8 to PyUnicode units (needs VBMI2 for the byte and word
 * compress, VBMI for byte permutes).
 *
 * The count and the kind come from the AVX-512 validator, which finds them
 * on its way (wsf_utf8_measure_avx512, utf8_avx512.c).
 *
 * Transcoding, 64 input bytes a block: for every position the unit that a
 * sequence starting there would decode to is computed from the bytes at
 * that position and the ones after it (loaded again a little further on, so
 * a sequence straddling the block needs no carry); compressing by the mask
 * of non-continuation bytes keeps the units in order, and a masked store
 * writes exactly as many as there are. Blocks of ASCII are copied or
 * widened. The last block and the look-ahead past it are masked loads, so
 * nothing past src + len is read, and the stores are masked to the units
 * the block yields, so nothing past the count is written. */
#include "utf8_transcode.h"
#ifdef WSF_X86
#include <immintrin.h>

/* 32-bit x86 has neither 64-bit BZHI nor 64-bit POPCNT. */
#if defined(__x86_64__) || defined(_M_X64)
WSF_TARGET(WSF_AVX512_TARGET)
static inline __mmask64 first_n(size_t n) {   /* the low n bits, n <= 64 */
    return _bzhi_u64(~(unsigned long long)0, (unsigned)n);
}

WSF_TARGET(WSF_AVX512_TARGET)
static inline unsigned popcount64(uint64_t m) {
    return (unsigned)_mm_popcnt_u64(m);
}
#else
static inline __mmask64 first_n(size_t n) {
    return n >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
}

WSF_TARGET(WSF_AVX512_TARGET)
static inline unsigned popcount64(uint64_t m) {
    return (unsigned)(_mm_popcnt_u32((unsigned)m) + _mm_popcnt_u32((unsigned)(m >> 32)));
}
#endif

/* Masked load of up to 64 bytes: all of them when n >= 64. */
WSF_TARGET(WSF_AVX512_TARGET)
static inline __m512i load_upto(const uint8_t *p, size_t n) {
    return _mm512_maskz_loadu_epi8(first_n(n < 64 ? n : 64), p);
}

/* Non-continuation bytes: 10xxxxxx is -128..-65 signed, everything else
 * compares >= -64 (0xC0). */
WSF_TARGET(WSF_AVX512_TARGET)
static inline __mmask64 leads(__m512i x) {
    return _mm512_cmpge_epi8_mask(x, _mm512_set1_epi8((char)0xC0));
}

/* ---- 1-byte units ------------------------------------------------------ */

/* x: 64 input bytes, next: the 64 from one byte on. A 2-byte sequence here
 * is C2 or C3 then 10xxxxxx: the unit is the continuation byte with bits 6
 * and 7 replaced by bits 0 and 1 of the lead. A 16-bit shift by 6 puts bits
 * 0 and 1 of every byte at bits 6 and 7 of the same byte (the other bits
 * of the byte take its neighbour's, and are not kept). */
WSF_TARGET(WSF_AVX512_TARGET)
static inline uint8_t *ucs1_block(uint8_t *dst, __m512i x, __m512i next, __mmask64 keep) {
    __m512i hi2 = _mm512_slli_epi16(x, 6);
    __m512i two = _mm512_ternarylogic_epi32(_mm512_set1_epi8((char)0xC0), hi2, next, 0xCA);
    __m512i units = _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), x, two);
    unsigned n = popcount64(keep);
    _mm512_mask_storeu_epi8(dst, first_n(n), _mm512_maskz_compress_epi8(keep, units));
    return dst + n;
}

WSF_TARGET(WSF_AVX512_TARGET)
static void to_ucs1(uint8_t *dst, const uint8_t *src, size_t len) {
    size_t i = 0;
    while (len - i > 64) {   /* > 64: next reads byte i + 64 */
        __m512i x = _mm512_loadu_si512((const void *)(src + i));
        if (!_mm512_movepi8_mask(x)) {
            /* ASCII: a copy. Stores that straddle cache lines halve the
             * copy's speed, so the next block starts where dst meets a
             * 64-byte boundary, and a run of ASCII goes on from there 256
             * bytes (four aligned stores, one test) a step. */
            size_t step = 64 - ((uintptr_t)dst & 63);
            _mm512_storeu_si512((void *)dst, x);
            dst += step;
            i += step;
            while (len - i >= 256) {
                const uint8_t *p = src + i;
                __m512i a = _mm512_loadu_si512((const void *)p);
                __m512i b = _mm512_loadu_si512((const void *)(p + 64));
                __m512i c = _mm512_loadu_si512((const void *)(p + 128));
                __m512i d = _mm512_loadu_si512((const void *)(p + 192));
                if (_mm512_movepi8_mask(_mm512_or_si512(_mm512_or_si512(a, b),
                                                        _mm512_or_si512(c, d))))
                    break;
                _mm512_store_si512((void *)dst, a);
                _mm512_store_si512((void *)(dst + 64), b);
                _mm512_store_si512((void *)(dst + 128), c);
                _mm512_store_si512((void *)(dst + 192), d);
                dst += 256;
                i += 256;
            }
            continue;
        }
        dst = ucs1_block(dst, x, _mm512_loadu_si512((const void *)(src + i + 1)), leads(x));
        i += 64;
    }
    if (i < len) {
        __m512i x = load_upto(src + i, len - i);
        __m512i next = load_upto(src + i + 1, len - i - 1);
        ucs1_block(dst, x, next, leads(x) & first_n(len - i));
    }
}

/* ---- 2-byte units ------------------------------------------------------ */

/* For 32 positions j of x, 16-bit lanes holding x[j] << 8 | x[j + 1]
 * (PAIR0) and x[j + 1] << 8 | x[j + 2] (PAIR1). */
static const uint8_t PAIR0[64] = {
    1, 0, 2, 1, 3, 2, 4, 3, 5, 4, 6, 5, 7, 6, 8, 7, 9, 8, 10, 9, 11, 10, 12, 11,
    13, 12, 14, 13, 15, 14, 16, 15, 17, 16, 18, 17, 19, 18, 20, 19, 21, 20, 22, 21,
    23, 22, 24, 23, 25, 24, 26, 25, 27, 26, 28, 27, 29, 28, 30, 29, 31, 30, 32, 31};
static const uint8_t PAIR1[64] = {
    2, 1, 3, 2, 4, 3, 5, 4, 6, 5, 7, 6, 8, 7, 9, 8, 10, 9, 11, 10, 12, 11, 13, 12,
    14, 13, 15, 14, 16, 15, 17, 16, 18, 17, 19, 18, 20, 19, 21, 20, 22, 21, 23, 22,
    24, 23, 25, 24, 26, 25, 27, 26, 28, 27, 29, 28, 30, 29, 31, 30, 32, 31, 33, 32};

/* The units of the 32 positions from the start of x (x holds at least 34
 * bytes of input from there), compressed to the positions in keep.
 *
 * With b0, b1, b2 the bytes at a position, pmaddubsw by (1, 64) makes
 * 64*b0 + b1 of PAIR0 and 64*b1 + b2 of PAIR1 (no overflow: b0 <= 0xEF).
 * For 110xxxxx 10yyyyyy the unit is 64*b0 + b1 less the marker bits,
 * 0xC0 << 6 | 0x80; for 1110xxxx 10yyyyyy 10zzzzzz it is b0 << 12 (mod
 * 2^16 that drops the marker) + 64*b1 + b2 - (0x80 << 6 | 0x80). */
WSF_TARGET(WSF_AVX512_TARGET)
static inline uint16_t *ucs2_half(uint16_t *dst, __m512i x, __m512i pair0, __m512i pair1,
                                  __mmask32 keep, __mmask32 multi, __mmask32 three) {
    const __m512i weights = _mm512_set1_epi16(0x4001);
    __m512i p0 = _mm512_permutexvar_epi8(pair0, x);
    __m512i b0 = _mm512_srli_epi16(p0, 8);
    __m512i units = _mm512_mask_sub_epi16(b0, multi, _mm512_maddubs_epi16(p0, weights),
                                          _mm512_set1_epi16(0x3080));
    if (three) {
        __m512i p1 = _mm512_permutexvar_epi8(pair1, x);
        __m512i sum = _mm512_add_epi16(_mm512_slli_epi16(b0, 12), _mm512_maddubs_epi16(p1, weights));
        units = _mm512_mask_sub_epi16(units, three, sum, _mm512_set1_epi16(0x2080));
    }
    {
        unsigned n = (unsigned)_mm_popcnt_u32(keep);
        _mm512_mask_storeu_epi16(dst, _bzhi_u32(~0u, n), _mm512_maskz_compress_epi16(keep, units));
        return dst + n;
    }
}

/* x: 64 input bytes, y: the 64 from 32 bytes on. */
WSF_TARGET(WSF_AVX512_TARGET)
static inline uint16_t *ucs2_block(uint16_t *dst, __m512i x, __m512i y, __mmask64 keep) {
    const __m512i pair0 = _mm512_loadu_si512((const void *)PAIR0);
    const __m512i pair1 = _mm512_loadu_si512((const void *)PAIR1);
    __mmask64 multi = _mm512_movepi8_mask(x) & keep;
    __mmask64 three = _mm512_cmpge_epu8_mask(x, _mm512_set1_epi8((char)0xE0));
    dst = ucs2_half(dst, x, pair0, pair1, (__mmask32)keep, (__mmask32)multi, (__mmask32)three);
    return ucs2_half(dst, y, pair0, pair1, (__mmask32)(keep >> 32), (__mmask32)(multi >> 32),
                     (__mmask32)(three >> 32));
}

WSF_TARGET(WSF_AVX512_TARGET)
static void to_ucs2(uint16_t *dst, const uint8_t *src, size_t len) {
    size_t i = 0;
    for (; len - i >= 96; i += 64) {   /* y reads up to byte i + 95 */
        __m512i x = _mm512_loadu_si512((const void *)(src + i));
        if (!_mm512_movepi8_mask(x)) {
            _mm512_storeu_si512((void *)dst, _mm512_cvtepu8_epi16(_mm512_castsi512_si256(x)));
            _mm512_storeu_si512((void *)(dst + 32),
                                _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(x, 1)));
            dst += 64;
            continue;
        }
        dst = ucs2_block(dst, x, _mm512_loadu_si512((const void *)(src + i + 32)), leads(x));
    }
    for (; i < len; i += 64) {
        size_t left = len - i;
        __m512i x = load_upto(src + i, left);
        __m512i y = load_upto(src + i + 32, left > 32 ? left - 32 : 0);
        dst = ucs2_block(dst, x, y, leads(x) & first_n(left < 64 ? left : 64));
    }
}

/* ---- 4-byte units ------------------------------------------------------ */

/* For 16 positions j of x, 32-bit lanes holding x[j] << 24 | x[j + 1] << 16
 * | x[j + 2] << 8 | x[j + 3]; QUAD0 from position 0, QUAD1 from 16. */
static const uint8_t QUAD0[64] = {
    3, 2, 1, 0, 4, 3, 2, 1, 5, 4, 3, 2, 6, 5, 4, 3, 7, 6, 5, 4, 8, 7, 6, 5,
    9, 8, 7, 6, 10, 9, 8, 7, 11, 10, 9, 8, 12, 11, 10, 9, 13, 12, 11, 10, 14, 13, 12, 11,
    15, 14, 13, 12, 16, 15, 14, 13, 17, 16, 15, 14, 18, 17, 16, 15};
static const uint8_t QUAD1[64] = {
    19, 18, 17, 16, 20, 19, 18, 17, 21, 20, 19, 18, 22, 21, 20, 19, 23, 22, 21, 20,
    24, 23, 22, 21, 25, 24, 23, 22, 26, 25, 24, 23, 27, 26, 25, 24, 28, 27, 26, 25,
    29, 28, 27, 26, 30, 29, 28, 27, 31, 30, 29, 28, 32, 31, 30, 29, 33, 32, 31, 30,
    34, 33, 32, 31};

/* By the high nibble of the lead: how far right the lane shifts so that a
 * sequence ends at bit 0, and the marker bits to subtract afterwards (see
 * ucs4_quarter); 8-B are continuations, whose units are dropped. */
static const int32_t QUAD_SHIFT[16] = {24, 24, 24, 24, 24, 24, 24, 24,
                                       24, 24, 24, 24, 16, 16, 8, 0};
static const int32_t QUAD_MARKER[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0x3080, 0x3080, 0xE2080, 0x3C82080};

/* The units of 16 positions. After the shift a lane holds the sequence's
 * bytes b0..b3 (the first ones zero when it is shorter than 4);
 * pmaddubsw by (1, 64) then pmaddwd by (1, 4096) make b0 << 18 | b1 << 12
 * | b2 << 6 | b3 with each byte's marker bits in the sum too, which
 * QUAD_MARKER takes off again. */
WSF_TARGET(WSF_AVX512_TARGET)
static inline uint32_t *ucs4_quarter(uint32_t *dst, __m512i x, __m512i quad, __m512i shifts,
                                     __m512i markers, __mmask16 keep) {
    __m512i q = _mm512_permutexvar_epi8(quad, x);
    __m512i nib = _mm512_srli_epi32(q, 28);
    __m512i seq = _mm512_srlv_epi32(q, _mm512_permutexvar_epi32(nib, shifts));
    __m512i sum = _mm512_madd_epi16(_mm512_maddubs_epi16(seq, _mm512_set1_epi16(0x4001)),
                                    _mm512_set1_epi32(0x10000001));
    __m512i units = _mm512_sub_epi32(sum, _mm512_permutexvar_epi32(nib, markers));
    unsigned n = (unsigned)_mm_popcnt_u32(keep);
    _mm512_mask_storeu_epi32(dst, (__mmask16)_bzhi_u32(~0u, n),
                             _mm512_maskz_compress_epi32(keep, units));
    return dst + n;
}

/* x: 64 input bytes, y: the 64 from 32 bytes on. */
WSF_TARGET(WSF_AVX512_TARGET)
static inline uint32_t *ucs4_block(uint32_t *dst, __m512i x, __m512i y, __mmask64 keep) {
    const __m512i quad0 = _mm512_loadu_si512((const void *)QUAD0);
    const __m512i quad1 = _mm512_loadu_si512((const void *)QUAD1);
    const __m512i shifts = _mm512_loadu_si512((const void *)QUAD_SHIFT);
    const __m512i markers = _mm512_loadu_si512((const void *)QUAD_MARKER);
    dst = ucs4_quarter(dst, x, quad0, shifts, markers, (__mmask16)keep);
    dst = ucs4_quarter(dst, x, quad1, shifts, markers, (__mmask16)(keep >> 16));
    dst = ucs4_quarter(dst, y, quad0, shifts, markers, (__mmask16)(keep >> 32));
    return ucs4_quarter(dst, y, quad1, shifts, markers, (__mmask16)(keep >> 48));
}

WSF_TARGET(WSF_AVX512_TARGET)
static void to_ucs4(uint32_t *dst, const uint8_t *src, size_t len) {
    size_t i = 0;
    for (; len - i >= 96; i += 64) {   /* y reads up to byte i + 95 */
        __m512i x = _mm512_loadu_si512((const void *)(src + i));
        if (!_mm512_movepi8_mask(x)) {
            _mm512_storeu_si512((void *)dst, _mm512_cvtepu8_epi32(_mm512_castsi512_si128(x)));
            _mm512_storeu_si512((void *)(dst + 16),
                                _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(x, 1)));
            _mm512_storeu_si512((void *)(dst + 32),
                                _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(x, 2)));
            _mm512_storeu_si512((void *)(dst + 48),
                                _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(x, 3)));
            dst += 64;
            continue;
        }
        dst = ucs4_block(dst, x, _mm512_loadu_si512((const void *)(src + i + 32)), leads(x));
    }
    for (; i < len; i += 64) {
        size_t left = len - i;
        __m512i x = load_upto(src + i, left);
        __m512i y = load_upto(src + i + 32, left > 32 ? left - 32 : 0);
        dst = ucs4_block(dst, x, y, leads(x) & first_n(left < 64 ? left : 64));
    }
}

WSF_TARGET(WSF_AVX512_TARGET)
void wsf_utf8_transcode_avx512(void *dst, unsigned width, const uint8_t *src, size_t len) {
    if (width == 1)
        to_ucs1((uint8_t *)dst, src, len);
    else if (width == 2)
        to_ucs2((uint16_t *)dst, src, len);
    else
        to_ucs4((uint32_t *)dst, src, len);
}
#endif
