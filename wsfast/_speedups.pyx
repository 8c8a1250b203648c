# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True, binding=False, embedsignature=True
# cython: embedsignature.format=python
"""C implementation of wsfast's kernels: a binding of csrc/, and the
parser's permessage-deflate streams (zlib, through CPython's zlib module, so
that both twins give the same bytes).

Buffers come in through the buffer protocol with a fast path for bytes (no
Py_buffer for the common small case); the GIL is released for large inputs.

Free-threaded CPython (3.13t and later): the kernel choice is made once at
import and only read afterwards; every object whose state can change
(Utf8Validator, Frame.payload, FrameParser, the masking-key batch) is only
touched inside a critical section on its owner. A critical section is
suspended wherever the thread could have dropped the GIL (Python code, a
`with nogil` block), so state is left consistent before each such point.
"""
import os

from cpython.buffer cimport (PyBUF_SIMPLE, PyBuffer_Release, PyObject_CheckBuffer,
                             PyObject_GetBuffer)
from cpython.bytearray cimport (PyByteArray_AS_STRING, PyByteArray_CheckExact,
                                PyByteArray_GET_SIZE)
from cpython.bytes cimport (PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize,
                            PyBytes_GET_SIZE)
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, realloc
from libc.string cimport memcpy

cimport cython
from cpython.long cimport PyLong_Check
from cpython.unicode cimport PyUnicode_DecodeUTF8

cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void *PyUnicode_DATA(object o)
    int PyUnicode_KIND(object o)

cdef extern from *:
    """
    #ifdef Py_GIL_DISABLED
    #define WSF_FREE_THREADED 1
    #else
    #define WSF_FREE_THREADED 0
    #endif
    """
    const bint WSF_FREE_THREADED

from wsfast._kernels cimport *

# From this size on the GIL is dropped around a kernel call: the call then
# takes several microseconds, enough for another thread to use them. Below
# it, dropping and retaking the GIL (about 50 ns) would only slow the call
# (measured: 4% of masking 64 KiB into a new buffer).
cdef Py_ssize_t NOGIL_MIN = 256 * 1024
_NOGIL_MIN = NOGIL_MIN  # for the tests of both paths


def _select_kernel():
    name = os.environ.get("WSFAST_KERNEL", "")
    rc = wsf_init(name.encode("ascii", "replace"))
    if rc == -1:
        raise ValueError(
            f"WSFAST_KERNEL={name!r} is not a kernel of this build; choose one of "
            f"{', '.join(available_kernels())} (or leave it unset)")
    if rc == -2:
        raise RuntimeError(
            f"WSFAST_KERNEL={name!r}: this CPU or build cannot run it; "
            f"available here: {', '.join(available_kernels())}")
    return wsf_kernel_name().decode("ascii")


def _kernel_table():
    """Every kernel variant of this build (csrc/dispatch.c's table), slowest first."""
    return [wsf_kernel_label(k).decode("ascii") for k in range(wsf_kernel_count())]


def available_kernels():
    """Kernel variants this CPU and build can run, slowest first."""
    return [wsf_kernel_label(k).decode("ascii")
            for k in range(wsf_kernel_count()) if wsf_kernel_supported(k)]


KERNEL = _select_kernel()


def _mask_stream_threshold(threshold=None):
    """Bytes above which masking out of place uses non-temporal stores.

    Only ``apply_mask`` streams: the frame parser and encoder read or send
    what they mask at once. Set at import from the CPU's last-level cache
    (csrc/dispatch.c); with an argument, set to that (0: always, SIZE_MAX,
    2**64 - 1 on 64-bit builds: never) and the previous value returned. For
    tests and benchmarks: not while other threads mask.
    """
    cdef size_t previous = wsf_mask_stream_threshold()
    if threshold is not None:
        wsf_set_mask_stream_threshold(threshold)
    return previous


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
                           const uint8_t *k, size_t phase, bint fresh=False) noexcept:
    """``fresh``: dst is a new buffer nobody reads next, which large inputs
    may fill with non-temporal stores (wsf_mask_nt)."""
    cdef size_t r
    if n < NOGIL_MIN:
        return wsf_mask_nt(dst, src, n, k, phase) if fresh else wsf_mask(dst, src, n, k, phase)
    with nogil:
        r = wsf_mask_nt(dst, src, n, k, phase) if fresh else wsf_mask(dst, src, n, k, phase)
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


cdef int read_key(object key, uint8_t *out) except -1:
    """Copy a 4-byte key from any buffer (the slow path; bytes are read in place)."""
    cdef Py_buffer view
    cdef Py_ssize_t n
    get_buffer(key, &view, "key")
    n = view.len
    if n == 4:
        memcpy(out, view.buf, 4)
    PyBuffer_Release(&view)
    if n != 4:
        raise ValueError(f"key must be exactly 4 bytes, got {n}")
    return 0


cdef inline const uint8_t *key_bytes(object key, uint8_t *scratch) except NULL:
    if PyBytes_CheckExact(key) and PyBytes_GET_SIZE(key) == 4:
        return <const uint8_t *>PyBytes_AS_STRING(key)
    read_key(key, scratch)
    return scratch


cdef int bad_phase(Py_ssize_t phase) except -1:
    raise ValueError(f"phase must be 0, 1, 2 or 3, got {phase}")


def apply_mask(data, key, Py_ssize_t phase=0):
    """Return data XOR-ed with the 4-byte masking key (RFC 6455 section 5.3).

    ``phase`` is the position in the key of data's first byte, so a payload
    masked in several pieces gives the same bytes as one call.
    """
    cdef uint8_t scratch[4]
    cdef const uint8_t *k = key_bytes(key, scratch)
    cdef Input inp
    cdef bytes out
    if <size_t>phase > 3:
        bad_phase(phase)
    open_input(data, &inp, "data")
    try:
        out = PyBytes_FromStringAndSize(NULL, inp.len)
        do_mask(<uint8_t *>PyBytes_AS_STRING(out), inp.buf, inp.len, k, phase, True)
    finally:
        close_input(&inp)
    return out


def mask_into(buffer, key, Py_ssize_t phase=0):
    """XOR a writable buffer with the masking key in place.

    Returns the phase for the next piece of the same payload.
    """
    cdef uint8_t scratch[4]
    cdef const uint8_t *k = key_bytes(key, scratch)
    cdef Py_buffer view
    cdef Py_ssize_t n
    cdef uint8_t *p
    if <size_t>phase > 3:
        bad_phase(phase)
    if (not WSF_FREE_THREADED and PyByteArray_CheckExact(buffer)
            and PyByteArray_GET_SIZE(buffer) < NOGIL_MIN):
        # Small bytearray, GIL held throughout: nothing can resize it meanwhile,
        # so its storage is used without a Py_buffer export. Without a GIL
        # another thread could, so there the export (which pins the size) is taken.
        p = <uint8_t *>PyByteArray_AS_STRING(buffer)
        return wsf_mask(p, p, PyByteArray_GET_SIZE(buffer), k, phase)
    get_buffer(buffer, &view, "buffer")
    try:
        if view.readonly:
            raise TypeError(
                f"mask_into needs a writable buffer such as a bytearray, "
                f"not a read-only {type(buffer).__name__}")
        return do_mask(<uint8_t *>view.buf, <const uint8_t *>view.buf, view.len, k, phase)
    finally:
        PyBuffer_Release(&view)


def validate_utf8(data):
    """True when data is complete, valid UTF-8 (RFC 3629)."""
    cdef Input inp
    cdef int ok
    open_input(data, &inp, "data")
    ok = do_valid(inp.buf, inp.len)
    close_input(&inp)
    return ok != 0


cdef object utf8_str(const uint8_t *p, Py_ssize_t n):
    """The str of UTF-8 p[0..n), or None when it is not valid. Where the
    kernel variant transcodes with SIMD (AVX-512), one pass validates and
    counts, a second writes the str's units; elsewhere CPython's decoder,
    which beats the portable transcoder."""
    cdef size_t count
    cdef uint32_t maxchar
    cdef int ok
    cdef object text
    cdef void *data
    cdef unsigned width
    if not wsf_utf8_transcodes():
        try:
            return PyUnicode_DecodeUTF8(<const char *>p, n, NULL)
        except UnicodeDecodeError:
            return None
    if n < NOGIL_MIN:
        ok = wsf_utf8_measure(p, <size_t>n, &count, &maxchar)
    else:
        with nogil:
            ok = wsf_utf8_measure(p, <size_t>n, &count, &maxchar)
    if not ok:
        return None
    text = PyUnicode_New(<Py_ssize_t>count, maxchar)
    data = PyUnicode_DATA(text)
    width = <unsigned>PyUnicode_KIND(text)
    # The str is not shared yet: it may be written without the GIL.
    if maxchar < 0x80:
        memcpy(data, p, <size_t>n)   # ASCII: count == n
    elif n < NOGIL_MIN:
        wsf_utf8_transcode(data, width, p, <size_t>n)
    else:
        with nogil:
            wsf_utf8_transcode(data, width, p, <size_t>n)
    return text


def decode_utf8(data):
    """``bytes(data).decode("utf-8")``, with the kernels: the same str, and
    the same UnicodeDecodeError for invalid input."""
    cdef Input inp
    cdef object text
    open_input(data, &inp, "data")
    try:
        text = utf8_str(inp.buf, inp.len)
        if text is None:   # CPython's decoder says where and why
            return PyUnicode_DecodeUTF8(<const char *>inp.buf, inp.len, NULL)
        return text
    finally:
        close_input(&inp)


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
        cdef uint32_t state
        open_input(chunk, &inp, "chunk")
        # The kernel works on a copy: a large chunk drops the GIL, which also
        # suspends the critical section, and no other thread may then be
        # writing to memory the kernel holds a pointer to.
        with cython.critical_section(self):
            state = self.state
            ok = do_feed(&state, inp.buf, inp.len)
            self.state = state
        close_input(&inp)
        return ok != 0

    @cython.critical_section
    def finish(self):
        return self.state == WSF_UTF8_ACCEPT

    @cython.critical_section
    def reset(self):
        self.state = WSF_UTF8_ACCEPT



# ---- Frames (RFC 6455 section 5): csrc/frame.c, and Frame objects ----------

from wsfast import _contract as _fr
from wsfast.errors import MessageTooBig, ProtocolError

zlib = _fr.zlib_module()  # zlib-ng's binding where installed

# Above this, a finished frame's buffer is freed rather than kept for the next.
cdef size_t KEEP_BUFFER_MAX = 64 * 1024


# Frames hold ints and bytes only, so they cannot be part of a reference
# cycle: leaving them out of the cyclic GC keeps a feed that returns
# thousands of frames from triggering collections (measured: 2.5x faster
# for 10,000 frames of 1 KiB).
@cython.freelist(256)
@cython.no_gc
cdef class Frame:
    """One frame: opcode (an int equal to an Opcode), FIN and RSV flags, payload."""

    cdef public int opcode
    cdef public bint fin, rsv1, rsv2, rsv3
    cdef bytes _payload

    def __init__(self, int opcode, payload=b"", bint fin=True, bint rsv1=False,
                 bint rsv2=False, bint rsv3=False):
        cdef bytes data = payload if PyBytes_CheckExact(payload) else bytes(memoryview(payload))
        with cython.critical_section(self):
            self.opcode = opcode
            self._payload = data
            self.fin = fin
            self.rsv1 = rsv1
            self.rsv2 = rsv2
            self.rsv3 = rsv3

    # An object field, so read and replaced under the frame's critical
    # section: a reader must take its reference before a writer can drop the
    # old one (Cython 3.1.0, which pyproject.toml allows, does not do this for
    # `cdef public` fields).
    @property
    def payload(self):
        with cython.critical_section(self):
            return self._payload

    @payload.setter
    def payload(self, bytes value):
        with cython.critical_section(self):
            self._payload = value

    def __repr__(self):
        return _fr.frame_repr(self)

    __hash__ = None

    def __eq__(self, other):
        theirs = _fr.frame_fields(other)
        return NotImplemented if theirs is None else _fr.frame_fields(self) == theirs


cdef object message_text(const uint8_t *p, Py_ssize_t n):
    """A whole text message's str; InvalidUTF8 (1007) if it is not UTF-8."""
    cdef object text = utf8_str(p, n)
    if text is None:
        raise _fr.frame_error(_fr.E_INVALID_UTF8, 1)
    return text


cdef inline Frame new_frame(const wsf_frame *f, bytes payload):
    cdef Frame frame = Frame.__new__(Frame)
    frame.opcode = f.opcode
    frame.fin = f.fin
    frame.rsv1 = f.rsv1
    frame.rsv2 = f.rsv2
    frame.rsv3 = f.rsv3
    frame._payload = payload  # not shared with any thread yet
    return frame


# RFC 7692 section 7.2.1: a sync flush ends with this empty stored block,
# which the sender removes and the receiver appends back.
cdef bytes DEFLATE_TAIL = b"\x00\x00\xff\xff"


cdef class DeflateStreams:
    """One connection's permessage-deflate streams (RFC 7692): compresses
    what it sends, decompresses what it receives. ``local_*`` govern the
    compressor, ``remote_*`` the peer's (the decompressor). Used by one
    connection, one thread at a time.

    Without context takeover on a side its zlib object is dropped after each
    message (an idle connection then holds nothing for it). Decompression
    never produces more than ``max_size + 1`` bytes per call (zlib's
    ``max_length``), so a decompression bomb costs one message limit of
    memory and ends in MessageTooBig (1009).
    """

    # Its fields are in _speedups.pxd: the pump reads them too.

    def __init__(self, *, bint local_no_context_takeover=False,
                 bint remote_no_context_takeover=False, int local_max_window_bits=15,
                 int remote_max_window_bits=15, int compress_level=6, int mem_level=8,
                 Py_ssize_t threshold=64):
        self.local_no_context_takeover = local_no_context_takeover
        self.remote_no_context_takeover = remote_no_context_takeover
        self.local_max_window_bits = local_max_window_bits
        self.remote_max_window_bits = remote_max_window_bits
        self.compress_level = compress_level
        self.mem_level = mem_level
        self.threshold = threshold

    def compress(self, data):
        """One whole message's payload, compressed (send it with RSV1 set)."""
        return self.deflate(data)

    def decompress(self, data, bint fin, max_size):
        """Decompress one frame of a compressed message (``fin`` on its last
        frame). MessageTooBig once the message passes ``max_size`` bytes,
        ProtocolError (1002) for data that is not deflate."""
        return self.inflate(data, fin, _fr.limit(max_size, "max_size"))

    cdef bytes deflate(self, data):
        cdef object c = self.compressor
        cdef bytes out
        if c is None:
            if self.local_max_window_bits == 8:
                # zlib's raw deflate has no 8-bit window: Huffman-only
                # output has no back-references, so fits any window.
                c = zlib.compressobj(self.compress_level, zlib.DEFLATED, -9, self.mem_level,
                                     zlib.Z_HUFFMAN_ONLY)
            else:
                c = zlib.compressobj(self.compress_level, zlib.DEFLATED,
                                     -self.local_max_window_bits, self.mem_level)
            if not self.local_no_context_takeover:
                self.compressor = c
        out = c.compress(data)
        out = c.flush(zlib.Z_SYNC_FLUSH) if not PyBytes_GET_SIZE(out) else out + c.flush(
            zlib.Z_SYNC_FLUSH)
        return out[:PyBytes_GET_SIZE(out) - 4]  # drop the 00 00 ff ff (see DEFLATE_TAIL)

    cdef bytes inflate(self, data, bint fin, uint64_t max_size):
        cdef object d = self.decompressor
        cdef bytes out
        cdef Py_ssize_t budget
        if d is None:
            d = self.decompressor = zlib.decompressobj(-self.remote_max_window_bits)
        try:
            if max_size >= <uint64_t>PY_SSIZE_T_MAX:
                out = d.decompress(data)
                if fin:
                    out += d.decompress(DEFLATE_TAIL)
            else:
                # max_length caps what zlib produces: memory stays bounded by
                # the limit whatever the compression ratio.
                budget = <Py_ssize_t>max_size - self.size
                out = d.decompress(data, budget + 1)
                if fin and PyBytes_GET_SIZE(out) <= budget:
                    out += d.decompress(DEFLATE_TAIL, budget + 1 - PyBytes_GET_SIZE(out))
                if PyBytes_GET_SIZE(out) > budget:
                    self.size = 0
                    self.decompressor = None
                    raise MessageTooBig(
                        reason=f"decompressed message is over {max_size} bytes")
        except zlib.error as exc:
            self.decompressor = None
            raise ProtocolError(reason=f"invalid compressed data: {exc}") from None
        if fin:
            self.size = 0
            # Without context takeover the peer starts afresh each message;
            # a final deflate block (BFINAL) ends the stream for good.
            if self.remote_no_context_takeover or d.eof:
                self.decompressor = None
        else:
            self.size += PyBytes_GET_SIZE(out)
        return out


cdef class FrameParser:
    """Bytes from the network in, complete frames out (RFC 6455 section 5).

    ``role`` is "server" (frames arrive masked from clients) or "client".
    Every rule of section 5 is checked; a violation raises ProtocolError (or
    MessageTooBig, InvalidUTF8) whose ``frames`` are the complete frames that
    came before it in the same feed. The parser then stays failed.

    ``validate_utf8="incomplete"`` checks only text that arrives in pieces
    (a frame over several feeds, a fragmented message), where it fails as
    soon as the bad bytes are in: ``feed_messages`` decodes a whole message
    that came at once, which checks it anyway.

    With ``deflate`` (DeflateStreams; RSV1 is then allowed) ``feed_messages``
    inflates a compressed message in one frame itself, and
    ``max_message_size`` is the size of a message inflated: frames on the
    wire may pass it by deflate's overhead, and a fragmented message is the
    caller's to check.
    """

    def __cinit__(self):
        self.buf = NULL
        self.buf_len = self.buf_cap = 0

    def __dealloc__(self):
        free(self.buf)

    def __init__(self, role, *, max_frame_size=_fr.DEFAULT_MAX_FRAME_SIZE,
                 max_message_size=None, rsv1_allowed=False, validate_utf8=True,
                 DeflateStreams deflate=None):
        cdef wsf_parser fresh
        server = _fr.server_role(role)
        message_limit = _fr.limit(max_message_size, "max_message_size")
        frame_limit = _fr.limit(max_frame_size, "max_frame_size")
        if deflate is not None:
            rsv1_allowed = True
            frame_limit, wire_limit = _fr.deflate_bound(frame_limit), _fr.deflate_bound(
                message_limit)
        else:
            wire_limit = message_limit
        wsf_parser_init(&fresh, server, bool(rsv1_allowed), _fr.validate_mode(validate_utf8),
                        frame_limit, wire_limit)
        with cython.critical_section(self):
            self.p = fresh
            self.deflate = deflate
            self.inflated_limit = message_limit

    @property
    def buffered(self):
        """Bytes held for a frame that is not complete yet."""
        with cython.critical_section(self):
            return self.buf_len

    def feed(self, data):
        """Append data; return every frame now complete, in order.

        Several threads may feed one parser: each feed is applied whole, one
        after another (on free-threaded CPython under a critical section).
        """
        cdef list frames = []
        self.run(data, frames, False)
        return frames

    def feed_messages(self, data, list out):
        """Like ``feed``, but append to ``out``, and a whole message in one
        frame (FIN, text or binary, no RSV1) as its payload alone: str for
        text (decoded; InvalidUTF8 if it is not UTF-8), bytes for binary.
        Every other frame is appended as a Frame; returns how many were.
        On a ProtocolError ``out`` holds all that came before the bad frame.
        ``out`` must not be used by another thread during the call.
        """
        return self.run(data, out, True)

    cdef Py_ssize_t run(self, data, list frames, bint messages) except -1:
        cdef Input inp
        cdef size_t used, n
        cdef Py_ssize_t start = len(frames), count = 0, i
        open_input(data, &inp, "data")
        try:
            # All of it in the critical section: the error check, the parse
            # and, on failure, freeing the buffer, so that no other feed can
            # come between a failure and the state that records it. The only
            # Python code run inside (building an error, decoding text)
            # runs while the buffer is still consistent. ``frames`` is the
            # caller's list for feed_messages: appending to it must not
            # contend with another thread (see there).
            with cython.critical_section(self):
                if self.error is not None:
                    raise type(self.error)(self.error.close_code, self.error.reason)
                self.deferred = False
                try:
                    n = <size_t>inp.len
                    used = self.fill(inp.buf, n, frames, messages) if self.buf_len else 0
                    if self.buf_len == 0 and used < n:
                        used += self.parse(inp.buf + used, n - used, frames, messages)
                        if used < n:
                            self.append(inp.buf + used, n - used)
                            self.fill(NULL, 0, frames, messages)
                    for i in range(start, len(frames)):
                        if type(frames[i]) is Frame:
                            count += 1
                except ProtocolError as exc:
                    exc.frames = frames[start:]  # a copy, whatever out becomes
                    self.error = exc
                    free(self.buf)  # a failed parser holds no memory
                    self.buf = NULL
                    self.buf_len = self.buf_cap = 0
                    raise
        finally:
            close_input(&inp)
        return count

    cdef object item(self, const wsf_frame *f, bytes payload, bint messages):
        """What a complete frame is appended as (see feed_messages)."""
        if (messages and f.fin and (f.opcode == 1 or f.opcode == 2)
                and not (f.rsv1 and (self.deflate is None or self.deferred))):
            if f.rsv1:
                payload = self.deflate.inflate(payload, True, self.inflated_limit)
            elif (self.deflate is not None
                    and <uint64_t>PyBytes_GET_SIZE(payload) > self.inflated_limit):
                raise _fr.frame_error(_fr.E_MESSAGE_TOO_BIG, f.opcode,
                                      PyBytes_GET_SIZE(payload), self.inflated_limit)
            if f.opcode == 2:
                return payload
            return message_text(<const uint8_t *>PyBytes_AS_STRING(payload),
                                PyBytes_GET_SIZE(payload))
        if f.opcode <= 2:
            # Inflated later, by the caller: a compressed message after it
            # in this feed must wait its turn on the same stream.
            self.deferred = True
        return new_frame(f, payload)

    cdef size_t parse(self, const uint8_t *src, size_t n, list frames,
                      bint messages) except? 0:
        """Take the complete frames at the front of src; return the bytes used."""
        cdef wsf_frame f
        cdef size_t pos = 0
        cdef int r
        cdef bytes payload
        cdef uint8_t small[4096]
        while True:
            r = wsf_frame_next(&self.p, src + pos, n - pos, &f)
            if r != WSF_FRAME_COMPLETE:
                if r < 0:
                    self.fail(-r, &f)
                return pos
            if (messages and f.fin and f.opcode == 1 and not f.rsv1
                    and f.payload_len <= sizeof(small)
                    and (self.deflate is None or f.payload_len <= self.inflated_limit)):
                # A small text message: unmasked on the stack, straight to its
                # str, with no bytes object between.
                r = wsf_frame_take(&self.p, &f, small, src + pos + f.header_len)
                if r < 0:
                    self.fail(-r, &f)
                frames.append(message_text(small, <Py_ssize_t>f.payload_len))
                pos += f.header_len + <size_t>f.payload_len
                continue
            payload = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>f.payload_len)
            r = wsf_frame_take(&self.p, &f, <uint8_t *>PyBytes_AS_STRING(payload),
                               src + pos + f.header_len)
            if r < 0:
                self.fail(-r, &f)
            frames.append(self.item(&f, payload, messages))
            pos += f.header_len + <size_t>f.payload_len

    cdef size_t fill(self, const uint8_t *src, size_t n, list frames,
                     bint messages) except? 0:
        """Complete the buffered frame with as few bytes of src as it needs.

        Each round either finishes or grows the header or payload, so the
        loop ends within four rounds; returns the bytes of src used.
        """
        cdef wsf_frame f
        cdef size_t used = 0, take
        cdef uint64_t want
        cdef int r
        for _ in range(4):
            r = wsf_frame_next(&self.p, self.buf, self.buf_len, &f)
            if r < 0:
                self.fail(-r, &f)
            if r == WSF_FRAME_COMPLETE:
                self.take(&f, self.buf + f.header_len + self.p.done, frames, messages)
                return used
            if r == WSF_FRAME_PARTIAL:
                r = wsf_frame_partial(&self.p, &f, self.buf + f.header_len,
                                      self.buf_len - f.header_len)
                if r < 0:
                    self.fail(-r, &f)
                want = f.header_len + f.payload_len - self.buf_len
                if want <= n - used:
                    # The rest of the payload is all in src: it goes from
                    # there into the payload, not through the buffer.
                    self.take(&f, src + used, frames, messages)
                    return used + <size_t>want
            else:
                want = f.header_len - self.buf_len
            if used == n:
                return used
            take = <size_t>want if want < n - used else n - used
            self.append(src + used, take)
            used += take
        # Unreachable (see above); never drop the caller's bytes silently.
        raise RuntimeError("wsfast: frame buffer did not settle in four rounds")

    cdef int take(self, const wsf_frame *f, const uint8_t *rest, list frames,
                  bint messages) except -1:
        """Take the buffered frame, whose payload is the buffer's part after
        the header (unmasked so far) followed by ``rest``; empty the buffer."""
        cdef bytes payload = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>f.payload_len)
        cdef int r = wsf_frame_take_split(&self.p, f, <uint8_t *>PyBytes_AS_STRING(payload),
                                          self.buf + f.header_len, rest)
        if r < 0:
            self.fail(-r, f)
        # The frame is taken: empty the buffer before item() runs any Python code.
        self.buf_len = 0
        if self.buf_cap > KEEP_BUFFER_MAX:
            free(self.buf)
            self.buf = NULL
            self.buf_cap = 0
        frames.append(self.item(f, payload, messages))
        return 0

    cdef int append(self, const uint8_t *src, size_t n) except -1:
        cdef size_t cap
        cdef uint8_t *grown
        if n > self.buf_cap - self.buf_len:
            if n > <size_t>PY_SSIZE_T_MAX - self.buf_len:
                raise MemoryError("frame buffer would overflow")
            cap = self.buf_cap * 2 if self.buf_cap else 256
            if cap < self.buf_len + n:
                cap = self.buf_len + n
            grown = <uint8_t *>realloc(self.buf, cap)
            if grown == NULL:
                raise MemoryError()
            self.buf = grown
            self.buf_cap = cap
        memcpy(self.buf + self.buf_len, src, n)
        self.buf_len += n
        return 0

    cdef int fail(self, int err, const wsf_frame *f) except -1:
        cdef object length = f.payload_len
        cdef object limit = self.p.max_frame_size
        if err == WSF_ERR_MESSAGE_TOO_BIG:
            limit = self.p.max_message_size
            if f.opcode == 0:
                length += self.p.message_size
        raise _fr.frame_error(err, f.opcode, length, limit)


# Masking keys from the OS CSPRNG (RFC 6455 section 5.3 wants them
# unpredictable), drawn 4 KiB at a time; see _pure.KeyPool, the twin.
cdef enum:
    KEY_BATCH = 4096
cdef uint8_t key_pool[KEY_BATCH]
cdef size_t key_pos = KEY_BATCH
cdef object key_guard = object()


def _reset_keys():
    """A forked child draws its own keys, never its parent's."""
    global key_pos
    with cython.critical_section(key_guard):
        key_pos = KEY_BATCH


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_keys)


cdef int take_key(uint8_t *out) except -1:
    global key_pos
    cdef bytes fresh = None
    with cython.critical_section(key_guard):
        if key_pos + 4 <= KEY_BATCH:
            memcpy(out, key_pool + key_pos, 4)
            key_pos += 4
            return 0
    # Read the OS outside the critical section, which a blocking call would
    # suspend; whichever thread installs a batch, every key is used once.
    fresh = os.urandom(KEY_BATCH)
    with cython.critical_section(key_guard):
        if key_pos + 4 > KEY_BATCH:
            memcpy(key_pool, PyBytes_AS_STRING(fresh), KEY_BATCH)
            key_pos = 0
        memcpy(out, key_pool + key_pos, 4)
        key_pos += 4
    return 0


def build_frame(opcode, payload, *, bint fin=True, bint rsv1=False, bint mask=False):
    """One frame's bytes: minimal length encoding (RFC 6455 section 5.2), and
    with ``mask`` a fresh key from the OS CSPRNG (section 5.3)."""
    cdef long op
    if not PyLong_Check(opcode):
        opcode = _fr.check_opcode(opcode)  # operator.index() rules, as the twin
    try:
        op = opcode
    except OverflowError:
        op = -1
    if op < 0 or op > 0xF:
        _fr.check_opcode(opcode)  # raises the twin's error
    return encode_frame(op, payload, fin, rsv1, mask)


cdef bytes encode_frame(long op, object payload, bint fin, bint rsv1, bint mask):
    """build_frame once the opcode is known to fit in 4 bits."""
    cdef uint8_t header[14]
    cdef uint8_t key[4]
    cdef Input inp
    cdef int size
    cdef bytes out
    cdef uint8_t *dst
    if isinstance(payload, str):
        payload = (<str>payload).encode("utf-8")
    open_input(payload, &inp, "payload")
    try:
        if mask:
            take_key(key)
        size = wsf_header_encode(header, <unsigned>op, fin, rsv1, <uint64_t>inp.len, key if mask else NULL)
        if size < 0:
            raise _fr.build_error(-size, op)
        out = PyBytes_FromStringAndSize(NULL, size + inp.len)
        dst = <uint8_t *>PyBytes_AS_STRING(out)
        memcpy(dst, header, size)
        if mask:
            do_mask(dst + size, inp.buf, inp.len, key, 0)
        else:
            memcpy(dst + size, inp.buf, inp.len)
    finally:
        close_input(&inp)
    return out


cdef bytes frame_header(long op, Py_ssize_t length):
    cdef uint8_t header[14]
    cdef int size = wsf_header_encode(header, <unsigned>op, True, False, <uint64_t>length, NULL)
    if size < 0:
        raise _fr.build_error(-size, op)
    return PyBytes_FromStringAndSize(<char *>header, size)
