/* Portable UTF-8 validation (RFC 3629): an ASCII fast path over 8-byte
 * words, and a DFA for everything else. The DFA also carries the state of
 * the streaming validator (utf8_stream.c) across chunks, in every variant. */
#include "internal.h"

/* Byte classes. Continuation bytes split three ways because the second byte
 * after E0, ED, F0 and F4 has a narrower range (RFC 3629 section 4). */
enum { C_ASCII, C_CONT_80, C_CONT_90, C_CONT_A0, C_BAD, C_LEAD2, C_E0, C_E1, C_ED,
       C_F0, C_F1, C_F4, N_CLASSES };

/* States: waiting for a lead byte, rejected, then "n continuation bytes to
 * go", with the narrower first-continuation states after E0/ED/F0/F4. */
enum { S_ACCEPT, S_REJECT, S_1, S_2, S_2_E0, S_2_ED, S_3, S_3_F0, S_3_F4, N_STATES };

static uint8_t byte_class(unsigned b) {
    if (b < 0x80) return C_ASCII;
    if (b < 0x90) return C_CONT_80;
    if (b < 0xA0) return C_CONT_90;
    if (b < 0xC0) return C_CONT_A0;
    if (b < 0xC2) return C_BAD;           /* C0, C1: overlong 2-byte forms */
    if (b < 0xE0) return C_LEAD2;
    if (b == 0xE0) return C_E0;
    if (b == 0xED) return C_ED;
    if (b < 0xF0) return C_E1;
    if (b == 0xF0) return C_F0;
    if (b < 0xF4) return C_F1;
    if (b == 0xF4) return C_F4;
    return C_BAD;                         /* F5..FF: beyond U+10FFFF */
}

static uint8_t next_state(unsigned s, unsigned c) {
    int cont = c == C_CONT_80 || c == C_CONT_90 || c == C_CONT_A0;
    switch (s) {
    case S_ACCEPT:
        switch (c) {
        case C_ASCII: return S_ACCEPT;
        case C_LEAD2: return S_1;
        case C_E0: return S_2_E0;          /* E0 A0..BF: no overlongs */
        case C_E1: return S_2;
        case C_ED: return S_2_ED;          /* ED 80..9F: no surrogates */
        case C_F0: return S_3_F0;          /* F0 90..BF: no overlongs */
        case C_F1: return S_3;
        case C_F4: return S_3_F4;          /* F4 80..8F: <= U+10FFFF */
        default: return S_REJECT;
        }
    case S_1: return cont ? S_ACCEPT : S_REJECT;
    case S_2: return cont ? S_1 : S_REJECT;
    case S_2_E0: return c == C_CONT_A0 ? S_1 : S_REJECT;
    case S_2_ED: return c == C_CONT_80 || c == C_CONT_90 ? S_1 : S_REJECT;
    case S_3: return cont ? S_2 : S_REJECT;
    case S_3_F0: return c == C_CONT_90 || c == C_CONT_A0 ? S_2 : S_REJECT;
    case S_3_F4: return c == C_CONT_80 ? S_2 : S_REJECT;
    default: return S_REJECT;
    }
}

uint64_t wsf_utf8_dfa[256];

/* State s lives at bit offset 6*s of each row: ACCEPT is 0 and REJECT is 6,
 * matching WSF_UTF8_ACCEPT and WSF_DFA_REJECT. Idempotent; run by wsf_init. */
void wsf_utf8_dfa_init(void) {
    for (unsigned b = 0; b < 256; b++) {
        uint64_t row = 0;
        for (unsigned s = 0; s < N_STATES; s++)
            row |= (uint64_t)(6u * next_state(s, byte_class(b))) << (6u * s);
        wsf_utf8_dfa[b] = row;
    }
}

int wsf_utf8_valid_scalar(const uint8_t *buf, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint64_t a, b;
        uint32_t state;
        while (i + 16 <= len) {
            memcpy(&a, buf + i, 8);
            memcpy(&b, buf + i + 8, 8);
            if ((a | b) & UINT64_C(0x8080808080808080))
                break;
            i += 16;
        }
        while (i < len && buf[i] < 0x80)
            i++;
        /* Run the DFA until it is between characters again. */
        state = WSF_UTF8_ACCEPT;
        do {
            if (i == len)
                return state == WSF_UTF8_ACCEPT;
            state = wsf_utf8_step(state, buf[i++]);
        } while (state != WSF_UTF8_ACCEPT && state != WSF_DFA_REJECT);
        if (state == WSF_DFA_REJECT)
            return 0;
    }
    return 1;
}
