# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True, binding=False, embedsignature=True
# cython: embedsignature.format=python
"""C implementation of the per-read loop of wsfast's aiohttp reader
(wsfast/integrations/_aiohttp_feed_py.py is its twin): parse one read, hand
each whole message to aiohttp's queue as aiohttp's own reader would, and
keep the rest back while the queue is over its high-water mark."""
import weakref
from collections import deque

from cpython.unicode cimport PyUnicode_GET_LENGTH

from wsfast._speedups cimport FrameParser
from wsfast.errors import ProtocolError

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object)
    int PyUnicode_KIND(object)
    void *PyUnicode_DATA(object)
    int PyUnicode_1BYTE_KIND, PyUnicode_2BYTE_KIND
    ctypedef unsigned char Py_UCS1
    ctypedef unsigned short Py_UCS2
    ctypedef unsigned int Py_UCS4

cdef tuple NO_ERROR = (False, b"")
cdef tuple ERROR = (True, b"")
cdef object TUPLE_NEW = tuple.__new__


cdef Py_ssize_t utf8_length(str text) noexcept:
    """The UTF-8 length of text, which aiohttp counts against its queue."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), size = n, i
    cdef int kind
    cdef const Py_UCS1 *one
    cdef const Py_UCS2 *two
    cdef const Py_UCS4 *four
    if PyUnicode_IS_ASCII(text):
        return n
    kind = PyUnicode_KIND(text)
    if kind == PyUnicode_1BYTE_KIND:
        one = <const Py_UCS1 *>PyUnicode_DATA(text)
        for i in range(n):
            size += one[i] >= 0x80
    elif kind == PyUnicode_2BYTE_KIND:
        two = <const Py_UCS2 *>PyUnicode_DATA(text)
        for i in range(n):
            size += (two[i] >= 0x80) + (two[i] >= 0x800)
    else:
        four = <const Py_UCS4 *>PyUnicode_DATA(text)
        for i in range(n):
            size += (four[i] >= 0x80) + (four[i] >= 0x800) + (four[i] >= 0x10000)
    return size


cdef class ResumeGate:
    """Stands in for a WebSocketDataQueue's protocol. The queue pauses reading
    above its high-water mark and resumes it once drained; the gate first
    hands the queue what the reader kept back (a stall, see ReaderLoop), and
    resumes only once nothing is kept back."""

    cdef public object protocol
    cdef public object reader  # a weak reference to the ReaderLoop

    def __init__(self, protocol, reader):
        self.protocol = protocol
        self.reader = reader

    @property
    def _reading_paused(self):
        # The queue asks on every read: a C property, no Python frame. The
        # reader stalls only above the mark, where the queue has paused.
        return self.protocol._reading_paused

    def pause_reading(self):
        self.protocol.pause_reading()

    def resume_reading(self):
        cdef ReaderLoop reader = self.reader()
        if reader is not None and reader._pending:
            reader.feed_data(b"")
            if reader._pending:
                return  # over the mark again: stay paused
        self.protocol.resume_reading()


cdef class ReaderLoop:
    """aiohttp's ``feed_data(data) -> (error, tail)`` on wsfast's parser.

    ``parser.feed_messages`` (with ``messages``) hands one-frame messages
    over as their payload (str or bytes): those become aiohttp's WSMessage
    tuples here. Every other frame goes to the subclass's
    ``_handle_frame(frame)``; a ProtocolError to its
    ``_protocol_error(exc)``, which returns what the queue is failed with
    once the messages before it are in.
    """

    cdef public object queue
    cdef public object _pending  # parsed, not yet queued (a stall)
    cdef public object _pending_error
    cdef public object _exc
    cdef public ResumeGate gate
    cdef object __weakref__
    cdef FrameParser parser
    cdef bint messages
    cdef object message, text, binary, set_exception

    def __init__(self, queue, FrameParser parser, bint messages, message, text, binary,
                 set_exception):
        self.queue = queue
        self.parser = parser
        self.messages = messages
        self.message, self.text, self.binary = message, text, binary
        self.set_exception = set_exception
        self._pending = deque()
        self._pending_error = None
        self._exc = None
        self.gate = ResumeGate(queue._protocol, weakref.ref(self))
        queue._protocol = self.gate

    def feed_eof(self):
        """The connection ended: no more messages (but those kept back: the
        queue reads on past its EOF while its buffer holds messages, and
        resumes the reader before that runs dry)."""
        self.queue.feed_eof()

    def feed_data(self, data):
        """Parse data; queue every message it completes. ``(True, ...)`` on error."""
        if self._exc is not None:
            return True, bytes(data)
        try:
            self.feed(data)
        except Exception as exc:
            self._exc = exc
            self.set_exception(self.queue, exc)
            return ERROR
        return NO_ERROR

    cdef int feed(self, data) except -1:
        cdef list items = []
        cdef object queue = self.queue, pending = self._pending, feed
        cdef object limit = queue._limit
        cdef Py_ssize_t i, n
        if data:
            try:
                self.parser.run(data, items, self.messages)
            except ProtocolError as exc:
                # items holds what came before the bad frame: delivered first.
                self._pending_error = self._protocol_error(exc)
            if pending:
                pending.extend(items)
                items = []
        feed = queue.feed_data
        while pending:
            if queue._size > limit:
                return 0  # stalled: the gate in front of the queue resumes
            self.handle(pending.popleft(), feed)
        n = len(items)
        for i in range(n):
            if queue._size > limit:
                # Over the queue's high-water mark (it has paused reading):
                # keep the rest until it drains, as aiohttp's own reader
                # does, so that memory stays bounded by the queue.
                pending.extend(items[i:])
                return 0
            self.handle(items[i], feed)
        if self._pending_error is not None:
            raise self._pending_error
        return 0

    cdef int handle(self, item, feed) except -1:
        """Queue one parsed item through feed (the queue's feed_data): a
        whole message's payload as aiohttp's WSMessage, or a Frame."""
        if type(item) is bytes:
            feed(TUPLE_NEW(self.message, (self.binary, item, "")), len(<bytes>item))
        elif type(item) is str:
            feed(TUPLE_NEW(self.message, (self.text, item, "")), utf8_length(<str>item))
        else:
            self._handle_frame(item)
        return 0
