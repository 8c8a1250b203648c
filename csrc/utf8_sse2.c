/* SSE2 UTF-8 validation: SSE2 has no byte shuffle for the lookup algorithm,
 * so this variant skips ASCII 64 bytes at a time and runs the DFA on the rest. */
#include "internal.h"
#ifdef WSF_X86
#include <emmintrin.h>

WSF_TARGET("sse2")
int wsf_utf8_valid_sse2(const uint8_t *buf, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint32_t state;
        while (i + 64 <= len) {
            __m128i a = _mm_loadu_si128((const __m128i *)(buf + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(buf + i + 16));
            __m128i c = _mm_loadu_si128((const __m128i *)(buf + i + 32));
            __m128i d = _mm_loadu_si128((const __m128i *)(buf + i + 48));
            __m128i any = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
            if (_mm_movemask_epi8(any))
                break;
            i += 64;
        }
        while (i < len && buf[i] < 0x80)
            i++;
        /* Non-ASCII text: DFA over at least one full 64-byte stretch, so
         * mixed text does not bounce between the two loops every byte. */
        {
            size_t stop = i + 64 < len ? i + 64 : len;
            state = wsf_utf8_run(WSF_UTF8_ACCEPT, buf + i, stop - i);
            i = stop;
            while (state != WSF_UTF8_ACCEPT && state != WSF_DFA_REJECT && i < len)
                state = wsf_utf8_step(state, buf[i++]);
        }
        if (state != WSF_UTF8_ACCEPT)
            return 0;
    }
    return 1;
}
#endif
