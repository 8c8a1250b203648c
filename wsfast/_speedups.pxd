# The C side of the seam: what other Cython modules of wsfast (the asyncio
# MessagePump) call in the kernel binding without a Python call. Everything
# else of _speedups is reached through its Python API (see wsfast/seam.py).
from libc.stdint cimport uint8_t, uint64_t

from wsfast._kernels cimport wsf_frame, wsf_parser


cdef class DeflateStreams:
    cdef readonly bint local_no_context_takeover, remote_no_context_takeover
    cdef readonly int local_max_window_bits, remote_max_window_bits
    cdef readonly int compress_level, mem_level
    cdef readonly Py_ssize_t threshold
    cdef object compressor, decompressor
    cdef Py_ssize_t size  # bytes decompressed so far in the current message

    # compress() and decompress() without a Python call; max_size is a
    # limit as _contract.limit gives it.
    cdef bytes deflate(self, data)
    cdef bytes inflate(self, data, bint fin, uint64_t max_size)


cdef class FrameParser:
    cdef wsf_parser p
    cdef readonly DeflateStreams deflate
    cdef uint64_t inflated_limit  # max_message_size as given, with deflate
    # A data frame of this feed was handed out as a Frame: a compressed
    # message after it is too, not inflated before it (one zlib stream).
    cdef bint deferred
    # At most one incomplete frame, between feeds: complete frames are
    # unmasked straight from the caller's data into their payload objects.
    cdef uint8_t *buf
    cdef size_t buf_len, buf_cap
    cdef object error

    # feed (messages=False) and feed_messages (True) into ``frames``;
    # returns how many Frames (not bare messages) were appended.
    cdef Py_ssize_t run(self, data, list frames, bint messages) except -1
    cdef object item(self, const wsf_frame *f, bytes payload, bint messages)
    cdef size_t parse(self, const uint8_t *src, size_t n, list frames,
                      bint messages) except? 0
    cdef size_t fill(self, const uint8_t *src, size_t n, list frames,
                     bint messages) except? 0
    cdef int take(self, const wsf_frame *f, const uint8_t *rest, list frames,
                  bint messages) except -1
    cdef int append(self, const uint8_t *src, size_t n) except -1
    cdef int fail(self, int err, const wsf_frame *f) except -1


# build_frame once the opcode is known to fit in 4 bits.
cdef bytes encode_frame(long op, object payload, bint fin, bint rsv1, bint mask)
# The header alone of an unmasked, final, uncompressed frame of ``length``
# bytes (for a payload written after it as it is).
cdef bytes frame_header(long op, Py_ssize_t length)
