# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True, binding=False, embedsignature=True
# cython: embedsignature.format=python
"""C implementation of the MessagePump (wsfast/asyncio/_pump_py.py is its
twin): an open WebSocket's asyncio protocol, through the seam of
wsfast/seam.py only -- the Connection's parser and public state, the Inbox,
and the callables the WebSocket hands it once."""
import asyncio
import asyncio.selector_events
import threading

from cpython.bytes cimport PyBytes_CheckExact, PyBytes_GET_SIZE

cimport cython

from wsfast._inbox cimport Inbox
from wsfast._speedups cimport DeflateStreams, FrameParser, encode_frame, frame_header
from wsfast.errors import ProtocolError

# Bytes held back while corked before they are written anyway: a burst of
# sends stays bounded, and the transport's flow control (pause_writing above
# its high-water mark) still sees it.
CORK_LIMIT = 64 * 1024
cdef Py_ssize_t cork_limit = CORK_LIMIT
# From this size an unmasked message's payload is handed to the transport as
# it is, after a header of its own (one writev), instead of being copied
# into a frame; below it one copy costs less than one more buffer to write.
cdef Py_ssize_t BY_REFERENCE_MIN = 8 * 1024
# Not with the writelines of asyncio's own selector transport: the one
# CPython 3.12 gave it skipped flow control (it never paused the protocol)
# until the fix for CPython gh-127655 (December 2024), and before 3.12 it
# joins the parts anyway.
cdef object SELECTOR_WRITELINES = getattr(
    getattr(asyncio.selector_events, "_SelectorSocketTransport", None), "writelines", None)

# What a transport reads into (BufferedMessagePump): one buffer per thread, shared by every pump of the event loop running there. A read is
# parsed whole before the loop takes the next one, and the parser copies
# what it keeps (at most one incomplete frame), so nothing outlives the read
# that filled it. No allocation per read: a Python server's first
# connections run at full speed whatever glibc's mmap threshold is (the
# 256 KiB bytes object asyncio's own reads allocate each time sits above it
# until some large block is freed).
READ_SIZE = 256 * 1024
cdef object read_buffers = threading.local()


cdef object thread_read_buffer():
    view = getattr(read_buffers, "view", None)
    if view is None:
        view = read_buffers.view = memoryview(bytearray(READ_SIZE))
    return view


cdef class MessagePump:
    """An open WebSocket's transport protocol (see wsfast/seam.py); as the
    BufferedMessagePump below, an asyncio.BufferedProtocol too.

    A read that holds only whole messages (no control frame, fragment or
    violation) goes from the parser to the Inbox without a Python frame;
    every other read goes to the I/O layer's general path (``received``,
    ``receive``) with what was parsed. ``send_nowait`` builds and writes a
    frame the same way, else calls ``send``. The other protocol callbacks
    are forwarded. Used by the event loop's thread only, as any asyncio
    protocol.

    Every write of the open WebSocket goes through ``write``: while corked
    (for the whole of a read, and from ``cork()`` to the event loop's next
    turn) writes are joined and reach the transport as one, so the replies
    to a read of many messages cost one system call, not one each. A large
    unmasked payload (a bytes or str message) is written without copying.
    """

    cdef object conn, transport_write, transport_writelines, loop, read_view
    cdef object general_receive, general_received, general_send
    cdef object forward_eof, forward_lost, forward_pause, forward_resume
    cdef Inbox inbox
    cdef FrameParser parser
    cdef DeflateStreams deflate  # None without compression
    cdef list items  # reused read after read, unless a read re-enters (see below)
    cdef list out  # writes held while corked, in order
    cdef Py_ssize_t out_bytes
    cdef bint mask, busy, corked, flush_scheduled, lost
    cdef bint by_reference  # out holds a payload that is not to be copied by a join

    def __init__(self, conn, Inbox inbox, transport, loop, *, receive, received, send,
                 eof_received, connection_lost, pause_writing, resume_writing):
        parser, mask = conn.parser, conn.role == "client"
        write, writelines = transport.write, getattr(transport, "writelines", None)
        if getattr(type(transport), "writelines", None) is SELECTOR_WRITELINES:
            writelines = None  # payloads are copied into their frames instead
        with cython.critical_section(self):
            self.conn = conn
            self.inbox = inbox
            self.parser = parser
            self.deflate = parser.deflate
            self.transport_write = write
            self.transport_writelines = writelines
            self.loop = loop
            self.general_receive = receive
            self.general_received = received
            self.general_send = send
            self.forward_eof = eof_received
            self.forward_lost = connection_lost
            self.forward_pause = pause_writing
            self.forward_resume = resume_writing
            self.mask = mask
            self.items = []
            self.out = []
            self.read_view = thread_read_buffer()

    def get_buffer(self, Py_ssize_t sizehint):
        """Where the transport reads to (asyncio.BufferedProtocol)."""
        return self.read_view

    def buffer_updated(self, Py_ssize_t nbytes):
        """The transport read nbytes into get_buffer()'s buffer."""
        self.data_received(self.read_view[:nbytes])

    def data_received(self, data):
        cdef bint was_corked = self.corked
        self.corked = True
        try:
            self.receive(data)
        finally:
            if not was_corked:
                self.corked = False
                self.flush_held()

    cdef int receive(self, data) except -1:
        cdef list items
        cdef Py_ssize_t count
        if not data or not self.conn.reading:
            # The general path may keep what it is given: bytes of its own.
            self.general_receive(data if PyBytes_CheckExact(data) else bytes(data))
            return 0
        # A transport that calls back from inside on_message (an in-memory
        # pair, say) gets a list of its own for the nested read.
        if self.busy:
            items = []
        else:
            items = self.items
            self.busy = True
        try:
            try:
                count = self.parser.run(data, items, True)
            except ProtocolError as exc:
                self.general_received(items, exc)
                return 0
            # Frames to resolve, or replies still owed: a read nested in a
            # callback of another read (a synchronous transport; its own
            # list of items) comes before that read has written what it
            # owes, which the general path writes now, before whatever the
            # outer read's later callbacks send. The Inbox writes nothing.
            if count or (items is not self.items and self.conn.has_bytes_to_send):
                self.general_received(items, None)
            elif items:
                self.inbox.deliver_messages(items)
        finally:
            del items[:]
            if items is self.items:
                self.busy = False
        return 0

    def send_nowait(self, message):
        """WebSocket.send_nowait: one message, text for a str."""
        cdef long op
        if not self.conn.writing or self.lost:
            self.general_send(message)  # closing, closed: the general way
            return
        op = 2
        if isinstance(message, str):
            op = 1
            message = (<str>message).encode("utf-8")
        if self.deflate is not None and len(message) >= self.deflate.threshold:
            self.put(encode_frame(op, self.deflate.deflate(message), True, True, self.mask))
            return
        if (self.mask or not PyBytes_CheckExact(message)
                or PyBytes_GET_SIZE(message) < BY_REFERENCE_MIN
                or self.transport_writelines is None):
            self.put(encode_frame(op, message, True, False, self.mask))
            return
        # Immutable and ours to share: the payload goes out as it is.
        self.put_large(frame_header(op, PyBytes_GET_SIZE(message)), message)

    cdef int put_large(self, bytes header, bytes payload) except -1:
        if not self.corked:  # then nothing is held
            self.transport_writelines([header, payload])
            return 0
        self.out.append(header)
        self.out.append(payload)
        self.by_reference = True
        self.out_bytes += len(header) + len(payload)
        if self.out_bytes >= cork_limit:
            self.flush_held()
        return 0

    def write(self, data):
        """Write bytes to the transport after everything written before."""
        self.put(data)

    cdef int put(self, data) except -1:
        cdef Py_ssize_t n
        if not self.corked:
            self.transport_write(data)
            return 0
        n = len(data)
        if n >= cork_limit:  # large: what is held, then it as it is (a join would copy it)
            self.flush_held()
            if not self.lost:
                self.transport_write(data)
            return 0
        self.out.append(data)
        self.out_bytes += n
        if self.out_bytes >= cork_limit:
            self.flush_held()
        return 0

    def cork(self):
        """Hold writes until the event loop's next turn (a reader with more
        messages queued is about to answer them one by one)."""
        if not self.corked:
            self.corked = True
            if not self.flush_scheduled:
                self.flush_scheduled = True
                self.loop.call_soon(self.uncork)

    def uncork(self):
        self.flush_scheduled = False
        self.corked = False
        self.flush_held()

    def flush(self):
        """Write what is held now, as one write."""
        self.flush_held()

    cdef int flush_held(self) except -1:
        # The list is replaced, never emptied: a held item is only ever read
        # from a list that nothing shrinks.
        cdef list out = self.out
        cdef Py_ssize_t n = len(out)
        cdef bint by_reference = self.by_reference
        if n == 0:
            return 0
        self.out = []
        self.out_bytes = 0
        self.by_reference = False
        if self.lost:  # the connection is gone: so is what it owed
            return 0
        if by_reference:
            self.transport_writelines(out)
        else:
            self.transport_write(out[0] if n == 1 else b"".join(out))
        return 0

    def eof_received(self):
        # The transport closes itself after this: nothing may stay held.
        result = self.forward_eof()
        self.flush_held()
        return result

    def connection_lost(self, exc):
        self.lost = True
        self.forward_lost(exc)

    def pause_writing(self):
        self.forward_pause()

    def resume_writing(self):
        self.forward_resume()


class BufferedMessagePump(MessagePump, asyncio.BufferedProtocol):
    """The MessagePump as a BufferedProtocol: asyncio's own transports then
    read into the thread's read buffer instead of a new one each time."""

    __slots__ = ()
