/* The streaming UTF-8 validator: the DFA across the edges of a chunk, the
 * whole-buffer validator of the variant in use for what lies between. */
#include "internal.h"

int wsf_utf8_feed(uint32_t *state, const uint8_t *buf, size_t len) {
    uint32_t s = *state;
    size_t i = 0, cut = len;
    /* Finish a character left open by the previous chunk. */
    while (s != WSF_UTF8_ACCEPT && s != WSF_DFA_REJECT && i < len)
        s = wsf_utf8_step(s, buf[i++]);
    if (s != WSF_UTF8_ACCEPT) {
        *state = s;
        return s != WSF_DFA_REJECT;
    }
    /* Leave a character cut off by the end of the chunk to the DFA, which
     * judges a prefix exactly: "F4 90" or "ED A0" fail here, not later. */
    for (size_t back = 1; back <= 3 && back <= len - i; back++) {
        uint8_t b = buf[len - back];
        if ((b & 0xC0) != 0x80) {
            size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            if (need > back)
                cut = len - back;
            break;
        }
    }
    if (!wsf_utf8_valid(buf + i, cut - i))
        s = WSF_DFA_REJECT;
    else
        s = wsf_utf8_run(WSF_UTF8_ACCEPT, buf + cut, len - cut);
    *state = s;
    return s != WSF_DFA_REJECT;
}
