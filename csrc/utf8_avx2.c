/* AVX2 UTF-8 validation: the lookup algorithm of utf8_lookup.h, 64 bytes
 * per iteration; blocks of pure ASCII skip the lookups. */
#include "internal.h"
#ifdef WSF_X86
#include <immintrin.h>
#include "utf8_lookup.h"

/* The byte n positions back, across the 128-bit lane and vector boundary. */
#define PREV(input, prev, n) \
    _mm256_alignr_epi8(input, _mm256_permute2x128_si256(prev, input, 0x21), 16 - (n))

WSF_TARGET("avx2")
static inline __m256i table(const uint8_t t[16]) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t));
}

WSF_TARGET("avx2")
static inline __m256i block_errors(__m256i input, __m256i prev_input) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    __m256i prev1 = PREV(input, prev_input, 1);
    __m256i sc = _mm256_and_si256(
        _mm256_and_si256(
            _mm256_shuffle_epi8(table(WSF_BYTE_1_HIGH),
                                _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nib)),
            _mm256_shuffle_epi8(table(WSF_BYTE_1_LOW), _mm256_and_si256(prev1, nib))),
        _mm256_shuffle_epi8(table(WSF_BYTE_2_HIGH),
                            _mm256_and_si256(_mm256_srli_epi16(input, 4), nib)));
    __m256i third = _mm256_subs_epu8(PREV(input, prev_input, 2),
                                     _mm256_set1_epi8((char)WSF_THIRD_BYTE_MIN));
    __m256i fourth = _mm256_subs_epu8(PREV(input, prev_input, 3),
                                      _mm256_set1_epi8((char)WSF_FOURTH_BYTE_MIN));
    __m256i must23 = _mm256_and_si256(_mm256_or_si256(third, fourth),
                                      _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must23, sc);
}

WSF_TARGET("avx2")
int wsf_utf8_valid_avx2(const uint8_t *buf, size_t len) {
    /* Only the upper lane's last bytes can be incomplete; the lower lane of
     * the limit is all 0xFF (subtracting it gives zero). */
    const __m256i incomplete_max = _mm256_inserti128_si256(
        _mm256_set1_epi8((char)0xFF), _mm_loadu_si128((const __m128i *)WSF_INCOMPLETE_MAX), 1);
    __m256i prev = _mm256_setzero_si256();
    __m256i incomplete = _mm256_setzero_si256();
    __m256i error = _mm256_setzero_si256();
    uint8_t pad[64];
    size_t i = 0;
    const uint8_t *p;

    while ((p = wsf_utf8_block(buf, len, &i, pad)) != NULL) {
        __m256i a = _mm256_loadu_si256((const __m256i *)p);
        __m256i b = _mm256_loadu_si256((const __m256i *)(p + 32));
        if (WSF_LIKELY(!_mm256_movemask_epi8(_mm256_or_si256(a, b)))) {
            error = _mm256_or_si256(error, incomplete);
            incomplete = _mm256_setzero_si256();
        } else {
            error = _mm256_or_si256(error, block_errors(a, prev));
            error = _mm256_or_si256(error, block_errors(b, a));
            incomplete = _mm256_subs_epu8(b, incomplete_max);
            if (!_mm256_testz_si256(error, error))
                return 0;
        }
        prev = b;
    }
    error = _mm256_or_si256(error, incomplete);
    return _mm256_testz_si256(error, error);
}
#endif
