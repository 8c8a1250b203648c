# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""C implementation of wsfast's kernels: a binding of csrc/, nothing more.

Buffers come in through the buffer protocol with a fast path for bytes (no
Py_buffer for the common small case); the GIL is released for large inputs.
"""
import os

from cpython.buffer cimport (PyBUF_SIMPLE, PyBuffer_Release, PyObject_CheckBuffer,
                             PyObject_GetBuffer)
from cpython.bytes cimport (PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize,
                            PyBytes_GET_SIZE)
from libc.stdint cimport uint8_t, uint32_t
from libc.string cimport memcpy

from wsfast._kernels cimport *

# Above this size the work outweighs dropping and retaking the GIL.
cdef Py_ssize_t NOGIL_MIN = 64 * 1024


def _select_kernel():
    name = os.environ.get("WSFAST_KERNEL", "")
    rc = wsf_init(name.encode("ascii", "replace"))
    if rc == -1:
        raise ValueError(
            f"WSFAST_KERNEL={name!r} is not a kernel; choose one of "
            f"{', '.join(available_kernels())} (or leave it unset)")
    if rc == -2:
        raise RuntimeError(
            f"WSFAST_KERNEL={name!r}: this CPU or build cannot run it; "
            f"available here: {', '.join(available_kernels())}")
    return wsf_kernel_name().decode("ascii")


def available_kernels():
    """Kernel variants this CPU and build can run, slowest first."""
    return [wsf_kernel_label(k).decode("ascii")
            for k in range(WSF_KERNEL_COUNT) if wsf_kernel_supported(k)]


KERNEL = _select_kernel()


cdef inline int get_buffer(object obj, Py_buffer *view, str what) except -1:
    if not PyObject_CheckBuffer(obj):
        raise TypeError(f"{what} must be a bytes-like object, not {type(obj).__name__}")
    try:
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
    except BufferError as exc:
        raise TypeError(f"{what} must be a contiguous buffer: {exc}") from None
    return 0


cdef struct Input:
    const uint8_t *buf
    Py_ssize_t len
    bint has_view
    Py_buffer view


cdef inline int open_input(object obj, Input *inp, str what) except -1:
    """Point inp at obj's bytes: directly for bytes, else through a Py_buffer."""
    if PyBytes_CheckExact(obj):
        inp.buf = <const uint8_t *>PyBytes_AS_STRING(obj)
        inp.len = PyBytes_GET_SIZE(obj)
        inp.has_view = False
    else:
        get_buffer(obj, &inp.view, what)
        inp.buf = <const uint8_t *>inp.view.buf
        inp.len = inp.view.len
        inp.has_view = True
    return 0


cdef inline void close_input(Input *inp) noexcept:
    if inp.has_view:
        PyBuffer_Release(&inp.view)
        inp.has_view = False


# The kernels, with the GIL dropped when the input is large enough to pay.

cdef inline size_t do_mask(uint8_t *dst, const uint8_t *src, Py_ssize_t n,
                           const uint8_t *k, size_t phase) noexcept:
    cdef size_t r
    if n < NOGIL_MIN:
        return wsf_mask(dst, src, n, k, phase)
    with nogil:
        r = wsf_mask(dst, src, n, k, phase)
    return r


cdef inline int do_valid(const uint8_t *buf, Py_ssize_t n) noexcept:
    cdef int r
    if n < NOGIL_MIN:
        return wsf_utf8_valid(buf, n)
    with nogil:
        r = wsf_utf8_valid(buf, n)
    return r


cdef inline int do_feed(uint32_t *state, const uint8_t *buf, Py_ssize_t n) noexcept:
    cdef int r
    if n < NOGIL_MIN:
        return wsf_utf8_feed(state, buf, n)
    with nogil:
        r = wsf_utf8_feed(state, buf, n)
    return r


cdef inline int read_key(object key, uint8_t *out) except -1:
    cdef Py_buffer view
    cdef Py_ssize_t n
    if PyBytes_CheckExact(key) and PyBytes_GET_SIZE(key) == 4:
        memcpy(out, PyBytes_AS_STRING(key), 4)
        return 0
    get_buffer(key, &view, "key")
    n = view.len
    if n == 4:
        memcpy(out, view.buf, 4)
    PyBuffer_Release(&view)
    if n != 4:
        raise ValueError(f"key must be exactly 4 bytes, got {n}")
    return 0


cdef inline int check_phase(Py_ssize_t phase) except -1:
    if phase < 0 or phase > 3:
        raise ValueError(f"phase must be 0, 1, 2 or 3, got {phase}")
    return 0


def apply_mask(data, key, Py_ssize_t phase=0):
    """Return data XOR-ed with the 4-byte masking key (RFC 6455 section 5.3).

    ``phase`` is the position in the key of data's first byte, so a payload
    masked in several pieces gives the same bytes as one call.
    """
    cdef uint8_t k[4]
    cdef Input inp
    cdef bytes out
    read_key(key, k)
    check_phase(phase)
    open_input(data, &inp, "data")
    try:
        out = PyBytes_FromStringAndSize(NULL, inp.len)
        do_mask(<uint8_t *>PyBytes_AS_STRING(out), inp.buf, inp.len, k, phase)
    finally:
        close_input(&inp)
    return out


def mask_into(buffer, key, Py_ssize_t phase=0):
    """XOR a writable buffer with the masking key in place.

    Returns the phase for the next piece of the same payload.
    """
    cdef uint8_t k[4]
    cdef Py_buffer view
    cdef size_t result
    read_key(key, k)
    check_phase(phase)
    get_buffer(buffer, &view, "buffer")
    try:
        if view.readonly:
            raise TypeError(
                f"mask_into needs a writable buffer such as a bytearray, "
                f"not a read-only {type(buffer).__name__}")
        result = do_mask(<uint8_t *>view.buf, <const uint8_t *>view.buf, view.len, k, phase)
    finally:
        PyBuffer_Release(&view)
    return result


def validate_utf8(data):
    """True when data is complete, valid UTF-8 (RFC 3629)."""
    cdef Input inp
    cdef int ok
    open_input(data, &inp, "data")
    ok = do_valid(inp.buf, inp.len)
    close_input(&inp)
    return ok != 0


cdef class Utf8Validator:
    """Streaming UTF-8 validation for a message that arrives in pieces.

    ``feed`` is False as soon as the bytes seen can no longer be valid, even
    in the middle of a character; ``finish`` is False if the input ended
    inside a character. One validator belongs to one message at a time.
    """
    cdef uint32_t state

    def __cinit__(self):
        self.state = WSF_UTF8_ACCEPT

    def feed(self, chunk):
        cdef Input inp
        cdef int ok
        open_input(chunk, &inp, "chunk")
        ok = do_feed(&self.state, inp.buf, inp.len)
        close_input(&inp)
        return ok != 0

    def finish(self):
        return self.state == WSF_UTF8_ACCEPT

    def reset(self):
        self.state = WSF_UTF8_ACCEPT
