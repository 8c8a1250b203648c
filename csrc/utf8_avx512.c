/* AVX-512 UTF-8 validation: the lookup algorithm of utf8_lookup.h on
 * 64-byte vectors, 256 bytes per iteration. Blocks of pure ASCII skip the
 * lookups; the tail is one masked load (the bytes past the end read as
 * ASCII zeros, which end any open character with TOO_SHORT), so no block is
 * copied and nothing past the buffer is read. */
#include "internal.h"
#ifdef WSF_X86
#include <immintrin.h>
#include "utf8_lookup.h"

WSF_TARGET(WSF_AVX512_TARGET)
static inline __m512i table(const uint8_t t[16]) {
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)t));
}

/* prev1..3: the bytes 1, 2 and 3 positions back, across the vector
 * boundary. alignr works within 128-bit lanes, so it pairs each lane of
 * input with the lane below it: lanes 0-2 of input moved up one lane, with
 * prev's lane 3 below (one cross-lane permute for all three). */
#define WSF_BLOCK_ERRORS(input, prev_input, out)                                           \
    do {                                                                                   \
        __m512i below = _mm512_permutex2var_epi64(prev_input, lanes_down, input);          \
        __m512i prev1 = _mm512_alignr_epi8(input, below, 15);                              \
        __m512i sc = _mm512_and_si512(                                                     \
            _mm512_and_si512(                                                              \
                _mm512_shuffle_epi8(t1h, _mm512_and_si512(_mm512_srli_epi16(prev1, 4), nib)), \
                _mm512_shuffle_epi8(t1l, _mm512_and_si512(prev1, nib))),                   \
            _mm512_shuffle_epi8(t2h, _mm512_and_si512(_mm512_srli_epi16(input, 4), nib))); \
        __m512i third = _mm512_subs_epu8(_mm512_alignr_epi8(input, below, 14), third_min); \
        __m512i fourth = _mm512_subs_epu8(_mm512_alignr_epi8(input, below, 13), fourth_min); \
        /* (third | fourth) & 0x80, then ^ sc: one ternary-logic op. */                    \
        out = _mm512_ternarylogic_epi32(_mm512_or_si512(third, fourth), top_bit, sc, 0x6A); \
    } while (0)

/* Continuation bytes (0x80-0xBF: below -64 as signed bytes) in v. */
#define WSF_CONTINUATIONS(v) \
    _mm_popcnt_u64(_cvtmask64_u64(_mm512_cmplt_epi8_mask(v, _mm512_set1_epi8(-64))))

/* The validator, and with `counting` (a constant in each caller) also the
 * continuation bytes and the largest byte of the non-ASCII blocks, for
 * wsf_utf8_measure: a few instructions more per non-ASCII block, none per
 * ASCII one. */
WSF_TARGET(WSF_AVX512_TARGET)
static inline int check(const uint8_t *buf, size_t len, int counting, size_t *conts,
                        __m512i *top) {
    const __m512i nib = _mm512_set1_epi8(0x0F);
    const __m512i top_bit = _mm512_set1_epi8((char)0x80);
    const __m512i third_min = _mm512_set1_epi8((char)WSF_THIRD_BYTE_MIN);
    const __m512i fourth_min = _mm512_set1_epi8((char)WSF_FOURTH_BYTE_MIN);
    const __m512i t1h = table(WSF_BYTE_1_HIGH), t1l = table(WSF_BYTE_1_LOW);
    const __m512i t2h = table(WSF_BYTE_2_HIGH);
    /* qword indices: prev's lane 3 (6, 7), then input's lanes 0-2 (8-13). */
    const __m512i lanes_down = _mm512_set_epi64(13, 12, 11, 10, 9, 8, 7, 6);
    /* Only the top lane's last bytes can be incomplete; the other lanes of
     * the limit are all 0xFF (subtracting it gives zero). */
    const __m512i incomplete_max = _mm512_inserti32x4(
        _mm512_set1_epi8((char)0xFF), _mm_loadu_si128((const __m128i *)WSF_INCOMPLETE_MAX), 3);
    __m512i prev = _mm512_setzero_si512();
    __m512i incomplete = _mm512_setzero_si512();
    __m512i error = _mm512_setzero_si512();
    size_t i = 0;

/* One 64-byte block a, outside the main loop; whole: it is not the end. */
#define WSF_ONE_BLOCK(a, whole)                                                             \
    do {                                                                                    \
        if (!_mm512_movepi8_mask(a)) {                                                      \
            error = _mm512_or_si512(error, incomplete);                                     \
            incomplete = _mm512_setzero_si512();                                            \
        } else {                                                                            \
            __m512i ea;                                                                     \
            WSF_BLOCK_ERRORS(a, prev, ea);                                                  \
            error = _mm512_or_si512(error, ea);                                             \
            incomplete = (whole) ? _mm512_subs_epu8(a, incomplete_max) : _mm512_setzero_si512(); \
            if (counting) {                                                                 \
                *conts += WSF_CONTINUATIONS(a);                                             \
                *top = _mm512_max_epu8(*top, a);                                            \
            }                                                                               \
        }                                                                                   \
        prev = a;                                                                           \
    } while (0)

    /* A long input starts with the rest of its first cache line, loaded
     * from the line's start with the bytes before buf masked off (never
     * read; zeros, as if ASCII came first): every load after it is then
     * aligned and none splits a line, which from L2 costs a quarter of the
     * speed (ASCII, 64 KiB). */
    if (len >= 4096 && ((uintptr_t)buf & 63) != 0) {
        size_t head = (uintptr_t)buf & 63;
        const uint8_t *line = (const uint8_t *)((uintptr_t)buf - head);
        __m512i a = _mm512_maskz_loadu_epi8(_cvtu64_mask64(~0ull << head), line);
        WSF_ONE_BLOCK(a, 1);
        buf = line + 64;
        len -= 64 - head;
    }

    /* 256 bytes per iteration: four loads in flight are what reaches L1's
     * and L2's read bandwidth on ASCII (two gave 1.4x AVX2 at 1 KiB). */
    for (; i + 256 <= len; i += 256) {
        __m512i a = _mm512_loadu_si512(buf + i);
        __m512i b = _mm512_loadu_si512(buf + i + 64);
        __m512i c = _mm512_loadu_si512(buf + i + 128);
        __m512i d = _mm512_loadu_si512(buf + i + 192);
        __m512i any = _mm512_ternarylogic_epi32(a, b, _mm512_or_si512(c, d), 0xFE);
        if (WSF_LIKELY(!_mm512_movepi8_mask(any))) {
            error = _mm512_or_si512(error, incomplete);
            incomplete = _mm512_setzero_si512();
        } else {
            __m512i ea, eb, ec, ed;
            WSF_BLOCK_ERRORS(a, prev, ea);
            WSF_BLOCK_ERRORS(b, a, eb);
            WSF_BLOCK_ERRORS(c, b, ec);
            WSF_BLOCK_ERRORS(d, c, ed);
            error = _mm512_ternarylogic_epi32(error, ea, eb, 0xFE);   /* a | b | c */
            error = _mm512_ternarylogic_epi32(error, ec, ed, 0xFE);
            incomplete = _mm512_subs_epu8(d, incomplete_max);
            if (_mm512_test_epi8_mask(error, error))
                return 0;
            if (counting) {
                *conts += WSF_CONTINUATIONS(a) + WSF_CONTINUATIONS(b) + WSF_CONTINUATIONS(c) +
                          WSF_CONTINUATIONS(d);
                *top = _mm512_max_epu8(*top, _mm512_max_epu8(_mm512_max_epu8(a, b),
                                                             _mm512_max_epu8(c, d)));
            }
        }
        prev = d;
    }
    /* The rest, 0-255 bytes, 64 at a time, the last load masked: the zeros
     * after the end end any open character (TOO_SHORT), so `incomplete`
     * matters only after a whole block. */
    while (i < len) {
        size_t n = len - i < 64 ? len - i : 64;
        __mmask64 m = _cvtu64_mask64(n == 64 ? ~0ull : (1ull << n) - 1);
        __m512i a = _mm512_maskz_loadu_epi8(m, buf + i);
        WSF_ONE_BLOCK(a, n == 64);
        i += n;
    }
    error = _mm512_or_si512(error, incomplete);
    return !_mm512_test_epi8_mask(error, error);
}

/* How many of the first bytes, up to 256 in steps of 64, are ASCII; all of
 * them (len) when the input is ASCII to its end within that. A short
 * message is most often ASCII, and this way it costs no set-up of check()'s
 * vector constants, which below 256 bytes took longer than the check
 * (0.6x AVX2 on 128 bytes of ASCII). */
WSF_TARGET(WSF_AVX512_TARGET)
static inline size_t ascii_start(const uint8_t *buf, size_t len) {
    size_t i = 0;
    for (; i < 256 && len - i >= 64; i += 64)
        if (_mm512_movepi8_mask(_mm512_loadu_si512(buf + i)))
            return i;
    if (len - i < 64) {
        __mmask64 m = _cvtu64_mask64((1ull << (len - i)) - 1);
        if (!_mm512_movepi8_mask(_mm512_maskz_loadu_epi8(m, buf + i)))
            return len;
    }
    return i;
}

WSF_TARGET(WSF_AVX512_TARGET)
int wsf_utf8_valid_avx512(const uint8_t *buf, size_t len) {
    size_t i = ascii_start(buf, len);
    return i == len || check(buf + i, len - i, 0, NULL, NULL);
}

WSF_TARGET(WSF_AVX512_TARGET)
int wsf_utf8_measure_avx512(const uint8_t *buf, size_t len, size_t *count, uint32_t *maxchar) {
    size_t conts = 0, i = ascii_start(buf, len);
    __m512i top = _mm512_setzero_si512();
    if (i == len) {
        *count = len;
        *maxchar = 0x7Fu;
        return 1;
    }
    if (!check(buf + i, len - i, 1, &conts, &top))
        return 0;
    *count = len - conts;
    *maxchar = _mm512_cmpge_epu8_mask(top, _mm512_set1_epi8((char)0xF0)) ? 0x10FFFFu
             : _mm512_cmpge_epu8_mask(top, _mm512_set1_epi8((char)0xC4)) ? 0xFFFFu
             : _mm512_cmpge_epu8_mask(top, _mm512_set1_epi8((char)0x80)) ? 0xFFu
             : 0x7Fu;
    return 1;
}
#endif
