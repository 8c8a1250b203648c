# Declarations of the C kernels in csrc/wsfast.h, for Cython code.
from libc.stdint cimport uint8_t, uint32_t

cdef extern from "wsfast.h" nogil:
    int wsf_init(const char *name)
    const char *wsf_kernel_name()
    int wsf_kernel_supported(int kernel)
    const char *wsf_kernel_label(int kernel)
    int WSF_KERNEL_COUNT
    size_t wsf_mask(uint8_t *dst, const uint8_t *src, size_t length,
                    const uint8_t *key, size_t phase)
    uint32_t WSF_UTF8_ACCEPT
    int wsf_utf8_valid(const uint8_t *buf, size_t length)
    int wsf_utf8_feed(uint32_t *state, const uint8_t *buf, size_t length)
