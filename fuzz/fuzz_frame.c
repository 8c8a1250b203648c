/* libFuzzer harness over the frame header codec (csrc/frame.c).
 *
 * Input: byte 0 picks the parser's options, byte 1 a prefix length, the rest
 * is the byte stream. Every frame goes through wsf_frame_next, then either
 * wsf_frame_take into an exactly sized buffer (or, cut in two as by reads,
 * wsf_frame_partial on its first part and wsf_frame_take_split) or, for the
 * incomplete last frame, wsf_frame_partial on an exactly sized copy, so AddressSanitizer
 * sees any read or write past a payload. Invariants checked (abort on
 * failure):
 *   - a prefix of a frame never says more than the whole frame: errors and
 *     header fields seen early are the same later (fail-fast is consistent);
 *   - a header the parser accepts re-encodes (wsf_header_encode) to a header
 *     that parses to the same fields;
 *   - lengths stay inside the input.
 * Build: see scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsfast.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                             \
        }                                                                        \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *kernel = getenv("WSFAST_KERNEL");
    (void)argc;
    (void)argv;
    CHECK(wsf_init(kernel ? kernel : "") == 0);
    return 0;
}

static const uint64_t LIMITS[4] = {UINT64_MAX, 0, 125, 1u << 16};

static int same_header(const wsf_frame *a, const wsf_frame *b) {
    return a->opcode == b->opcode && a->fin == b->fin && a->rsv1 == b->rsv1 &&
           a->masked == b->masked && a->payload_len == b->payload_len &&
           a->header_len == b->header_len && memcmp(a->key, b->key, 4) == 0;
}

/* Every shorter prefix of the frame at buf agrees with what the whole says. */
static void check_prefixes(const wsf_parser *p, const uint8_t *buf, size_t len, int whole,
                           const wsf_frame *full) {
    size_t limit = len < 16 ? len : 16;
    for (size_t n = 0; n < limit; n++) {
        wsf_frame f;
        int r = wsf_frame_next(p, buf, n, &f);
        if (r < 0) {
            CHECK(r == whole);  /* an error seen early is the error */
        } else if (r != WSF_FRAME_NEED_HEADER) {
            CHECK(whole >= 0 && same_header(&f, full));
        }
    }
}

/* An accepted header encodes back to itself. */
static void check_encode(const wsf_parser *p, const wsf_frame *f) {
    uint8_t out[WSF_MAX_HEADER];
    wsf_frame again;
    int n = wsf_header_encode(out, f->opcode, f->fin, f->rsv1, f->payload_len,
                              f->masked ? f->key : NULL);
    CHECK(n >= 2 && n <= WSF_MAX_HEADER);
    CHECK(wsf_frame_next(p, out, (size_t)n, &again) >= 0);
    /* The parser accepts longer length encodings than the minimal one the
     * encoder writes, so compare everything but the header's length. */
    CHECK(again.opcode == f->opcode && again.fin == f->fin && again.rsv1 == f->rsv1 &&
          again.masked == f->masked && again.payload_len == f->payload_len &&
          memcmp(again.key, f->key, 4) == 0);
    CHECK((size_t)n <= f->header_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wsf_parser p;
    size_t pos = 0;
    if (size < 2)
        return 0;
    wsf_parser_init(&p, data[0] & 1, (data[0] >> 1) & 1, (data[0] >> 2) & 1,
                    LIMITS[(data[0] >> 3) & 3], LIMITS[(data[0] >> 5) & 3]);
    data += 2;
    size -= 2;
    for (int frames = 0; frames < 1000; frames++) {
        wsf_frame f;
        const uint8_t *buf = data + pos;
        size_t len = size - pos;
        int r = wsf_frame_next(&p, buf, len, &f);
        check_prefixes(&p, buf, len, r, &f);
        if (r < 0) {
            CHECK(-r > 0 && -r < WSF_ERR_COUNT);
            return 0;
        }
        if (r == WSF_FRAME_NEED_HEADER) {
            CHECK(f.header_len > len && f.header_len <= WSF_MAX_HEADER);
            return 0;
        }
        CHECK(f.header_len <= len);
        check_encode(&p, &f);
        if (r == WSF_FRAME_PARTIAL) {
            size_t avail = len - f.header_len;
            uint8_t *copy = malloc(avail ? avail : 1);
            CHECK(f.payload_len > avail && copy != NULL);
            memcpy(copy, buf + f.header_len, avail);
            wsf_frame_partial(&p, &f, copy, avail);
            free(copy);
            return 0;
        }
        CHECK(f.payload_len <= len - f.header_len);
        {
            size_t n = (size_t)f.payload_len;
            /* Where the payload is cut in two, as by a read that ends inside
             * the frame (0: not cut): from the input, so the fuzzer explores it. */
            size_t cut = n ? buf[f.header_len + n - 1] % (n + 1) : 0;
            uint8_t *payload = malloc(n ? n : 1);
            CHECK(payload != NULL);
            if (cut) {
                /* The first part arrived earlier: unmasked in a buffer of
                 * its own, exactly sized, then the rest taken from the input. */
                uint8_t *head = malloc(cut);
                CHECK(head != NULL);
                memcpy(head, buf + f.header_len, cut);
                r = wsf_frame_partial(&p, &f, head, cut);
                if (r == 0)
                    r = wsf_frame_take_split(&p, &f, payload, head, buf + f.header_len + cut);
                free(head);
                if (r < 0) {
                    free(payload);
                    CHECK(r == -WSF_ERR_INVALID_UTF8 && f.validate);
                    return 0;
                }
            } else {
                r = wsf_frame_take(&p, &f, payload, buf + f.header_len);
            }
            /* Unmasking is an XOR with the key: check it byte by byte. */
            for (size_t i = 0; i < n; i++)
                CHECK(payload[i] == (buf[f.header_len + i] ^ (f.masked ? f.key[i & 3] : 0)));
            free(payload);
            if (r < 0) {
                CHECK(r == -WSF_ERR_INVALID_UTF8 && f.validate);
                return 0;
            }
            pos += f.header_len + n;
        }
    }
    return 0;
}
