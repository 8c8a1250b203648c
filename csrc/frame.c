/* Frame header codec and the receiving rules of RFC 6455 section 5.
 *
 * wsf_frame_next() reads one header and checks it against every rule of
 * section 5 and the parser's state (an open fragmented message, limits)
 * without changing that state, so the caller can ask again when more bytes
 * arrive. Checks run in a fixed order, each as soon as the bytes it needs are
 * there: the first byte alone can show a reserved opcode or a stray
 * continuation, the second a missing mask, the extended length a frame over
 * its limit. The payload is never needed to refuse a header, so a peer that
 * claims a 2^63-byte frame is refused after at most 10 bytes.
 *
 * The payload is unmasked and validated in one pass, block by block, so a
 * block checked as UTF-8 is still in L1 from being unmasked.
 */
#include "internal.h"

#define OP_CONTINUATION 0x0
#define OP_TEXT 0x1
#define OP_BINARY 0x2
#define OP_CLOSE 0x8

/* Unmask-and-validate block: small enough to stay in L1 between the two. */
#define BLOCK 4096

void wsf_parser_init(wsf_parser *p, int server, int rsv1_allowed, int validate_utf8,
                     uint64_t max_frame_size, uint64_t max_message_size) {
    memset(p, 0, sizeof(*p));
    p->server = server != 0;
    p->rsv1_allowed = rsv1_allowed != 0;
    p->validate_utf8 = validate_utf8 == WSF_VALIDATE_INCOMPLETE ? WSF_VALIDATE_INCOMPLETE
                                                                : validate_utf8 != 0;
    p->max_frame_size = max_frame_size;
    p->max_message_size = max_message_size;
    p->utf8_state = WSF_UTF8_ACCEPT;
}

/* Opcodes 0-2 and 8-10 are defined; 3-7 and 0xB-0xF are reserved (5.2). */
static int reserved_opcode(unsigned opcode) {
    return (opcode > OP_BINARY && opcode < OP_CLOSE) || opcode > 0xA;
}

int wsf_frame_next(const wsf_parser *p, const uint8_t *buf, size_t len, wsf_frame *f) {
    uint8_t b0, b1;
    unsigned len7;
    size_t ext;

    f->header_len = 2;
    if (len < 1)
        return WSF_FRAME_NEED_HEADER;
    b0 = buf[0];
    f->fin = b0 >> 7;
    f->rsv1 = (b0 >> 6) & 1;
    f->rsv2 = (b0 >> 5) & 1;
    f->rsv3 = (b0 >> 4) & 1;
    f->opcode = b0 & 0x0F;

    /* First byte: opcode, FIN and RSV bits, fragmentation (5.2, 5.4, 5.5). */
    if (reserved_opcode(f->opcode))
        return -WSF_ERR_RESERVED_OPCODE;
    if (f->opcode >= OP_CLOSE && !f->fin)
        return -WSF_ERR_CONTROL_FRAGMENTED;
    if (f->rsv2)
        return -WSF_ERR_RSV2;
    if (f->rsv3)
        return -WSF_ERR_RSV3;
    if (f->rsv1) {
        /* RFC 7692 section 6: only the first frame of a data message. */
        if (f->opcode >= OP_CLOSE)
            return -WSF_ERR_RSV1_CONTROL;
        if (f->opcode == OP_CONTINUATION)
            return -WSF_ERR_RSV1_CONTINUATION;
        if (!p->rsv1_allowed)
            return -WSF_ERR_RSV1;
    }
    f->starts_message = f->opcode == OP_TEXT || f->opcode == OP_BINARY;
    if (f->opcode == OP_CONTINUATION && !p->in_message)
        return -WSF_ERR_CONTINUATION_WITHOUT_START;
    if (f->starts_message && p->in_message)
        return -WSF_ERR_MESSAGE_INTERLEAVED;
    f->validate = p->validate_utf8 &&
                  ((f->opcode == OP_TEXT && !f->rsv1) ||
                   (f->opcode == OP_CONTINUATION && p->message_validate));

    if (len < 2)
        return WSF_FRAME_NEED_HEADER;
    /* Second byte: mask bit (5.1, 5.3) and the 7-bit length (5.5). */
    b1 = buf[1];
    f->masked = b1 >> 7;
    if (p->server && !f->masked)
        return -WSF_ERR_UNMASKED;
    if (!p->server && f->masked)
        return -WSF_ERR_MASKED;
    len7 = b1 & 0x7F;
    if (f->opcode >= OP_CLOSE && len7 > 125)
        return -WSF_ERR_CONTROL_TOO_LONG;
    ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    f->header_len = 2 + ext + (f->masked ? 4 : 0);
    if (len < f->header_len)
        return WSF_FRAME_NEED_HEADER;

    /* Extended length, network byte order (5.2). Lengths encoded in more
     * bytes than needed are accepted: the "minimal number of bytes" rule
     * binds the sender and the value is the same either way. */
    if (ext == 0) {
        f->payload_len = len7;
    } else {
        uint64_t n = 0;
        for (size_t i = 0; i < ext; i++)
            n = (n << 8) | buf[2 + i];
        if (n >> 63)
            return -WSF_ERR_LENGTH_MSB;
        f->payload_len = n;
    }
    if (f->masked)
        memcpy(f->key, buf + 2 + ext, 4);
    else
        memset(f->key, 0, 4);

    /* Limits, from the header alone. */
    if (f->payload_len > p->max_frame_size)
        return -WSF_ERR_FRAME_TOO_BIG;
    if (f->opcode < OP_CLOSE) {
        /* message_size <= max_message_size here, and both terms < 2^64. */
        uint64_t before = f->opcode == OP_CONTINUATION ? p->message_size : 0;
        if (f->payload_len > p->max_message_size - before)
            return -WSF_ERR_MESSAGE_TOO_BIG;
    }
    /* len >= header_len here, so the subtraction cannot wrap. */
    if (f->payload_len > (uint64_t)(len - f->header_len))
        return WSF_FRAME_PARTIAL;
    return WSF_FRAME_COMPLETE;
}

/* dst[0..n) = unmasked src[0..n), where src starts at byte `offset` of the
 * payload; UTF-8 validated into *state when state is not NULL. dst may equal
 * src. Returns 0 when the bytes cannot be valid UTF-8. */
static int unmask_validate(uint8_t *dst, const uint8_t *src, size_t n, const wsf_frame *f,
                           uint64_t offset, uint32_t *state) {
    size_t i = 0, step = state ? BLOCK : n;
    while (i < n) {
        size_t k = n - i < step ? n - i : step;
        if (f->masked)
            wsf_mask(dst + i, src + i, k, f->key, (size_t)((offset + i) & 3));
        else if (dst != src)
            memcpy(dst + i, src + i, k);
        if (state && !wsf_utf8_feed(state, dst + i, k))
            return 0;
        i += k;
    }
    return 1;
}

/* The UTF-8 state to carry on with, or NULL when the frame is not text. */
static uint32_t *utf8_state_for(wsf_parser *p, const wsf_frame *f) {
    if (!f->validate)
        return NULL;
    if (p->done == 0 && f->starts_message)
        p->utf8_state = WSF_UTF8_ACCEPT;
    return &p->utf8_state;
}

int wsf_frame_partial(wsf_parser *p, const wsf_frame *f, uint8_t *payload, size_t avail) {
    uint32_t *state;
    size_t from;
    if (avail <= p->done)
        return 0;
    state = utf8_state_for(p, f);
    from = (size_t)p->done;   /* done < avail, a size_t */
    if (!unmask_validate(payload + from, payload + from, avail - from, f, from, state))
        return -WSF_ERR_INVALID_UTF8;
    p->done = avail;
    return 0;
}

int wsf_frame_take(wsf_parser *p, const wsf_frame *f, uint8_t *dst, const uint8_t *payload) {
    return wsf_frame_take_split(p, f, dst, payload, payload + p->done);
}

int wsf_frame_take_split(wsf_parser *p, const wsf_frame *f, uint8_t *dst, const uint8_t *head,
                         const uint8_t *rest) {
    /* A COMPLETE frame's payload is in memory, so its length fits a size_t. */
    size_t n = (size_t)f->payload_len, from = (size_t)p->done;
    /* WSF_VALIDATE_INCOMPLETE: a whole message taken in one piece is the
     * caller's to decode (and so to check); only what came in pieces is
     * checked here, so that it fails as soon as the bad bytes arrive. */
    uint32_t *state = p->validate_utf8 == WSF_VALIDATE_INCOMPLETE && from == 0 &&
                      f->starts_message && f->fin ? NULL : utf8_state_for(p, f);
    if (from && dst != head)
        memcpy(dst, head, from);
    p->done = 0;
    if (!unmask_validate(dst + from, rest, n - from, f, from, state))
        return -WSF_ERR_INVALID_UTF8;
    if (f->opcode == OP_CONTINUATION) {
        /* message_size + n <= max_message_size was checked; saturate for
         * the unlimited case all the same. */
        p->message_size = p->message_size > UINT64_MAX - n ? UINT64_MAX
                                                           : p->message_size + n;
        p->in_message = !f->fin;
    } else if (f->starts_message) {
        p->message_size = n;
        p->in_message = !f->fin;
        p->message_validate = f->validate;
    }
    /* A text message must not end inside a character (5.6, 8.1). */
    if (state && f->fin && *state != WSF_UTF8_ACCEPT)
        return -WSF_ERR_INVALID_UTF8;
    return 0;
}

int wsf_header_encode(uint8_t out[WSF_MAX_HEADER], unsigned opcode, int fin, int rsv1,
                      uint64_t payload_len, const uint8_t *key) {
    size_t n = 2;
    if (opcode > 0xF || reserved_opcode(opcode))
        return -WSF_ERR_RESERVED_OPCODE;
    if (opcode >= OP_CLOSE) {
        if (!fin)
            return -WSF_ERR_CONTROL_FRAGMENTED;
        if (rsv1)
            return -WSF_ERR_RSV1_CONTROL;
        if (payload_len > 125)
            return -WSF_ERR_CONTROL_TOO_LONG;
    }
    if (opcode == OP_CONTINUATION && rsv1)
        return -WSF_ERR_RSV1_CONTINUATION;
    if (payload_len >> 63)
        return -WSF_ERR_LENGTH_MSB;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
    if (payload_len <= 125) {
        out[1] = (uint8_t)payload_len;
    } else if (payload_len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(payload_len >> 8);
        out[3] = (uint8_t)payload_len;
        n = 4;
    } else {
        out[1] = 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
        n = 10;
    }
    if (key) {
        out[1] |= 0x80;
        memcpy(out + n, key, 4);
        n += 4;
    }
    return (int)n;
}
