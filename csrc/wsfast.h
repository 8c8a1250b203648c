/* wsfast kernels: RFC 6455 masking, RFC 3629 UTF-8 validation and the
 * RFC 6455 frame header codec.
 *
 * Plain C99 with no Python dependency, so the kernels can be fuzzed, tested
 * under sanitizers and benchmarked on their own. Each operation has one
 * portable scalar variant and SIMD variants (one file per instruction set);
 * wsf_init() picks the best one the CPU supports, or the one named.
 */
#ifndef WSFAST_H
#define WSFAST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kernel variants are listed in one table, in csrc/dispatch.c, slowest
 * first; which are there depends on the build target: "scalar" always,
 * "sse2", "ssse3" (SSE2 masking, SSSE3 UTF-8 lookup), "avx2" and "avx512"
 * (F, BW, VL, VBMI, VBMI2: Ice Lake, Zen 4 and later) on x86,
 * "neon" on aarch64. */

/* Select a kernel variant by name, or NULL/"" for the best this CPU
 * supports. Returns 0 on success, -1 for a name not in this build's table,
 * -2 for a variant this CPU cannot run. Call once, before the kernels are
 * used from several threads. */
int wsf_init(const char *name);

/* Name of the variant in use. */
const char *wsf_kernel_name(void);

/* Number of variants in the table; they are numbered 0 to count - 1. */
int wsf_kernel_count(void);

/* Nonzero when this CPU runs variant k (0 for k out of range). */
int wsf_kernel_supported(int k);

/* Name of variant k, "unknown" for k out of range. */
const char *wsf_kernel_label(int k);

/* dst[i] = src[i] ^ key[(i + phase) % 4] for i in [0, len). dst may equal
 * src (in place); otherwise the ranges must not overlap. Returns the phase
 * to continue with: (phase + len) % 4. */
size_t wsf_mask(uint8_t *dst, const uint8_t *src, size_t len,
                const uint8_t key[4], size_t phase);

/* wsf_mask for a destination its caller does not read next (apply_mask's
 * new buffer): out of place (dst != src), above wsf_mask_stream_threshold()
 * bytes, it stores with non-temporal stores where the kernel has them
 * (AVX2), which bypass the cache. wsf_mask never does: the frame parser and
 * encoder read or send what they unmask at once, from the cache. */
size_t wsf_mask_nt(uint8_t *dst, const uint8_t *src, size_t len,
                   const uint8_t key[4], size_t phase);

/* wsf_mask_nt's threshold. wsf_init() sets it from the CPU's last-level
 * cache (5/16 of it; SIZE_MAX, never, when CPUID does not tell the size). */
size_t wsf_mask_stream_threshold(void);

/* For tests and benchmarks: 0 streams every buffer the SIMD kernel gets,
 * SIZE_MAX none. Like wsf_init(), not to be called while other threads mask. */
void wsf_set_mask_stream_threshold(size_t bytes);

/* Streaming UTF-8 validator state: starts at WSF_UTF8_ACCEPT, is
 * WSF_UTF8_ACCEPT again between complete characters, and stays at another
 * value (sticky) once the input can no longer be valid. */
#define WSF_UTF8_ACCEPT 0u

/* 1 when buf is complete, valid UTF-8 (RFC 3629), else 0. */
int wsf_utf8_valid(const uint8_t *buf, size_t len);

/* wsf_utf8_valid, and for valid input also the number of code points
 * (*count) and the bound of the smallest CPython str kind that holds them
 * (*maxchar): 0x7F (ASCII), 0xFF, 0xFFFF or 0x10FFFF. 0 for invalid input,
 * leaving *count and *maxchar as they were. */
int wsf_utf8_measure(const uint8_t *buf, size_t len, size_t *count, uint32_t *maxchar);

/* Write the code points of valid UTF-8 buf[0..len) as `width`-byte units
 * (1 for *maxchar 0x7F or 0xFF, 2 for 0xFFFF, 4 for 0x10FFFF; native byte
 * order) to dst, which holds exactly wsf_utf8_measure's count of them: a
 * str's data. Nothing outside buf and dst is touched, whatever the input. */
void wsf_utf8_transcode(void *dst, unsigned width, const uint8_t *buf, size_t len);

/* 1 when the variant in use has a SIMD wsf_utf8_transcode (AVX-512); 0 when
 * it is the portable one, slower than CPython's own decoder, which a binding
 * should then use instead. */
int wsf_utf8_transcodes(void);

/* Continue validation from *state over buf; returns 0 as soon as the bytes
 * seen so far cannot start valid UTF-8 (even mid-character), else 1. The
 * input is complete and valid when *state == WSF_UTF8_ACCEPT at the end. */
int wsf_utf8_feed(uint32_t *state, const uint8_t *buf, size_t len);

/* ---- Frames (RFC 6455 section 5) ------------------------------------ */

/* A header is 2 bytes, 2 or 8 more for the extended length, 4 for the key. */
#define WSF_MAX_HEADER 14

/* Why a frame is refused. The numbers are part of the binding's contract
 * (wsfast/_contract.py turns them into errors with a close code and a reason
 * a person understands); keep them stable. */
typedef enum {
    WSF_ERR_RESERVED_OPCODE = 1,          /* opcodes 3-7 and 0xB-0xF */
    WSF_ERR_CONTROL_FRAGMENTED = 2,       /* control frame with FIN clear */
    WSF_ERR_RSV2 = 3,                     /* RSV2 without an extension */
    WSF_ERR_RSV3 = 4,                     /* RSV3 without an extension */
    WSF_ERR_RSV1_CONTROL = 5,             /* RSV1 on a control frame */
    WSF_ERR_RSV1_CONTINUATION = 6,        /* RSV1 on a continuation frame */
    WSF_ERR_RSV1 = 7,                     /* RSV1 without an extension */
    WSF_ERR_CONTINUATION_WITHOUT_START = 8,
    WSF_ERR_MESSAGE_INTERLEAVED = 9,      /* new data frame inside a message */
    WSF_ERR_UNMASKED = 10,                /* client frame without a mask */
    WSF_ERR_MASKED = 11,                  /* server frame with a mask */
    WSF_ERR_CONTROL_TOO_LONG = 12,        /* control payload over 125 bytes */
    WSF_ERR_LENGTH_MSB = 13,              /* 64-bit length with its top bit set */
    WSF_ERR_FRAME_TOO_BIG = 14,           /* over max_frame_size */
    WSF_ERR_MESSAGE_TOO_BIG = 15,         /* over max_message_size */
    WSF_ERR_INVALID_UTF8 = 16,            /* text payload is not UTF-8 */
    WSF_ERR_COUNT = 17
} wsf_frame_error;

/* What wsf_frame_next() returns when the frame is not refused. */
#define WSF_FRAME_NEED_HEADER 0   /* header incomplete */
#define WSF_FRAME_PARTIAL 1       /* header complete, payload incomplete */
#define WSF_FRAME_COMPLETE 2      /* header and payload all in the buffer */

/* One frame's header, as parsed. */
typedef struct {
    uint64_t payload_len;
    size_t header_len;      /* when the header is incomplete: the bytes it
                               needs at least, as far as is known yet */
    uint8_t opcode, fin, rsv1, rsv2, rsv3, masked;
    uint8_t key[4];
    uint8_t validate;       /* payload must be checked as UTF-8 */
    uint8_t starts_message; /* a TEXT or BINARY frame */
} wsf_frame;

/* Receiving side of one connection: the rules it applies and what it must
 * remember between frames (an open fragmented message, the UTF-8 state).
 * Plain data: copy-free to embed, no allocation. */
typedef struct {
    uint64_t max_frame_size;    /* UINT64_MAX for none */
    uint64_t max_message_size;  /* UINT64_MAX for none */
    uint64_t message_size;      /* bytes of the open data message so far */
    uint64_t done;              /* payload bytes of the frame at the front of
                                   the buffer already unmasked and validated
                                   in place by wsf_frame_partial() */
    uint32_t utf8_state;
    uint8_t server;             /* peers are clients: frames must be masked */
    uint8_t rsv1_allowed;       /* an extension (permessage-deflate) uses RSV1 */
    uint8_t validate_utf8;
    uint8_t in_message;         /* a fragmented data message is open */
    uint8_t message_validate;   /* ... and it is text to validate */
} wsf_parser;

/* validate_utf8: 0 (no), 1 (every text payload), or WSF_VALIDATE_INCOMPLETE:
 * only text that arrives in pieces (a frame over several reads, a fragmented
 * message), for a caller that decodes a whole message taken at once itself. */
#define WSF_VALIDATE_INCOMPLETE 2
void wsf_parser_init(wsf_parser *p, int server, int rsv1_allowed, int validate_utf8,
                     uint64_t max_frame_size, uint64_t max_message_size);

/* Parse and check the frame at buf[0..len) against p, without changing p.
 * Returns WSF_FRAME_NEED_HEADER, WSF_FRAME_PARTIAL or WSF_FRAME_COMPLETE
 * (f filled as far as the header goes), or -wsf_frame_error. A violation is
 * reported as soon as the bytes that show it are there, and a frame over a
 * limit before any of its payload. */
int wsf_frame_next(const wsf_parser *p, const uint8_t *buf, size_t len, wsf_frame *f);

/* For a PARTIAL frame: unmask in place and validate payload[p->done, avail),
 * the bytes of its payload that have arrived, so invalid UTF-8 fails fast.
 * Returns 0 or -WSF_ERR_INVALID_UTF8. */
int wsf_frame_partial(wsf_parser *p, const wsf_frame *f, uint8_t *payload, size_t avail);

/* For a COMPLETE frame: write the unmasked payload to dst (which may be
 * payload itself), validating what wsf_frame_partial() has not, and move p
 * past the frame. Returns 0 or -WSF_ERR_INVALID_UTF8. */
int wsf_frame_take(wsf_parser *p, const wsf_frame *f, uint8_t *dst, const uint8_t *payload);

/* wsf_frame_take for a payload in two pieces: head, its first p->done bytes
 * (unmasked by wsf_frame_partial), and rest, the others as received. For the
 * end of a frame that arrives in a new read: it goes from there straight
 * into dst, not through a buffer. dst may be head, not rest. */
int wsf_frame_take_split(wsf_parser *p, const wsf_frame *f, uint8_t *dst, const uint8_t *head,
                         const uint8_t *rest);

/* Encode a header with the minimal length encoding (RFC 6455 section 5.2)
 * and, when key is not NULL, the mask bit and key. Returns the header's
 * length (2 to WSF_MAX_HEADER) or -wsf_frame_error for a frame that may not
 * be sent: reserved opcode, fragmented or long control frame, RSV1 on a
 * control or continuation frame, length of 2^63 or more. */
int wsf_header_encode(uint8_t out[WSF_MAX_HEADER], unsigned opcode, int fin, int rsv1,
                      uint64_t payload_len, const uint8_t *key);

#ifdef __cplusplus
}
#endif
#endif
