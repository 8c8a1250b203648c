/* SSSE3 UTF-8 validation: the lookup algorithm of utf8_lookup.h on 16-byte
 * vectors (the byte shuffle it needs, pshufb, is SSSE3), 64 bytes per
 * iteration; blocks of pure ASCII skip the lookups. For x86-64 CPUs that
 * have no AVX2 (low-power cores, older servers, some virtual machines). */
#include "internal.h"
#ifdef WSF_X86
#include <tmmintrin.h>
#include "utf8_lookup.h"

/* The byte n positions back, across the vector boundary. */
#define PREV(input, prev, n) _mm_alignr_epi8(input, prev, 16 - (n))

WSF_TARGET("ssse3")
static inline __m128i block_errors(__m128i input, __m128i prev_input) {
    const __m128i nib = _mm_set1_epi8(0x0F);
    __m128i prev1 = PREV(input, prev_input, 1);
    __m128i sc = _mm_and_si128(
        _mm_and_si128(
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)WSF_BYTE_1_HIGH),
                             _mm_and_si128(_mm_srli_epi16(prev1, 4), nib)),
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)WSF_BYTE_1_LOW),
                             _mm_and_si128(prev1, nib))),
        _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)WSF_BYTE_2_HIGH),
                         _mm_and_si128(_mm_srli_epi16(input, 4), nib)));
    __m128i third = _mm_subs_epu8(PREV(input, prev_input, 2),
                                  _mm_set1_epi8((char)WSF_THIRD_BYTE_MIN));
    __m128i fourth = _mm_subs_epu8(PREV(input, prev_input, 3),
                                   _mm_set1_epi8((char)WSF_FOURTH_BYTE_MIN));
    __m128i must23 = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8((char)0x80));
    return _mm_xor_si128(must23, sc);
}

/* SSSE3 has no ptest: a vector is all zero when every byte compares equal. */
WSF_TARGET("ssse3")
static inline int is_zero(__m128i v) {
    return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) == 0xFFFF;
}

WSF_TARGET("ssse3")
int wsf_utf8_valid_ssse3(const uint8_t *buf, size_t len) {
    const __m128i incomplete_max = _mm_loadu_si128((const __m128i *)WSF_INCOMPLETE_MAX);
    __m128i prev = _mm_setzero_si128();
    __m128i incomplete = _mm_setzero_si128();
    __m128i error = _mm_setzero_si128();
    uint8_t pad[64];
    size_t i = 0;
    const uint8_t *p;

    while ((p = wsf_utf8_block(buf, len, &i, pad)) != NULL) {
        __m128i a = _mm_loadu_si128((const __m128i *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(p + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(p + 48));
        if (WSF_LIKELY(!_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b),
                                                        _mm_or_si128(c, d))))) {
            error = _mm_or_si128(error, incomplete);
            incomplete = _mm_setzero_si128();
        } else {
            error = _mm_or_si128(error, block_errors(a, prev));
            error = _mm_or_si128(error, block_errors(b, a));
            error = _mm_or_si128(error, block_errors(c, b));
            error = _mm_or_si128(error, block_errors(d, c));
            incomplete = _mm_subs_epu8(d, incomplete_max);
            if (!is_zero(error))
                return 0;
        }
        prev = d;
    }
    return is_zero(_mm_or_si128(error, incomplete));
}
#endif
