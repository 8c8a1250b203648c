# Declarations of the C kernels in csrc/wsfast.h, for Cython code.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef extern from "wsfast.h" nogil:
    int wsf_init(const char *name)
    const char *wsf_kernel_name()
    int wsf_kernel_supported(int kernel)
    const char *wsf_kernel_label(int kernel)
    int wsf_kernel_count()
    size_t wsf_mask(uint8_t *dst, const uint8_t *src, size_t length,
                    const uint8_t *key, size_t phase)
    size_t wsf_mask_nt(uint8_t *dst, const uint8_t *src, size_t length,
                       const uint8_t *key, size_t phase)
    size_t wsf_mask_stream_threshold()
    void wsf_set_mask_stream_threshold(size_t threshold)
    uint32_t WSF_UTF8_ACCEPT
    int wsf_utf8_valid(const uint8_t *buf, size_t length)
    int wsf_utf8_feed(uint32_t *state, const uint8_t *buf, size_t length)
    int wsf_utf8_measure(const uint8_t *buf, size_t length, size_t *count, uint32_t *maxchar)
    void wsf_utf8_transcode(void *dst, unsigned width, const uint8_t *buf, size_t length)
    int wsf_utf8_transcodes()

    # Frames (RFC 6455 section 5): csrc/frame.c
    int WSF_MAX_HEADER
    int WSF_FRAME_NEED_HEADER
    int WSF_FRAME_PARTIAL
    int WSF_FRAME_COMPLETE
    int WSF_ERR_FRAME_TOO_BIG
    int WSF_ERR_MESSAGE_TOO_BIG

    ctypedef struct wsf_frame:
        uint64_t payload_len
        size_t header_len
        uint8_t opcode, fin, rsv1, rsv2, rsv3, masked
        uint8_t key[4]
        uint8_t validate
        uint8_t starts_message

    ctypedef struct wsf_parser:
        uint64_t max_frame_size
        uint64_t max_message_size
        uint64_t message_size
        uint64_t done
        uint32_t utf8_state
        uint8_t server, rsv1_allowed, validate_utf8, in_message, message_validate

    void wsf_parser_init(wsf_parser *p, int server, int rsv1_allowed, int validate_utf8,
                         uint64_t max_frame_size, uint64_t max_message_size)
    int wsf_frame_next(const wsf_parser *p, const uint8_t *buf, size_t length, wsf_frame *f)
    int wsf_frame_partial(wsf_parser *p, const wsf_frame *f, uint8_t *payload, size_t avail)
    int wsf_frame_take(wsf_parser *p, const wsf_frame *f, uint8_t *dst, const uint8_t *payload)
    int wsf_frame_take_split(wsf_parser *p, const wsf_frame *f, uint8_t *dst,
                             const uint8_t *head, const uint8_t *rest)
    int wsf_header_encode(uint8_t *out, unsigned opcode, int fin, int rsv1,
                          uint64_t payload_len, const uint8_t *key)
