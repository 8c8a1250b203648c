# The asyncio WebSocket's per-read hot path, included into _speedups.pyx so it
# can call FrameParser.run and the frame encoder without a Python call.
# Duck-typed over the WebSocket (wsfast/asyncio/connection.py) and its
# Connection (wsfast/connection.py), whose Python code is the general path and
# the reference: this class only skips Python frames for the common case.

import asyncio.selector_events

from wsfast.errors import ConnectionClosed

cdef Py_ssize_t CORK_LIMIT = _fr.CORK_LIMIT
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


cdef class MessagePump:
    """An open WebSocket's transport protocol (see WebSocket._opened_with).

    A read that holds only whole messages (no control frame, fragment or
    violation) goes from the parser to ``on_message``, or to the queue of
    ``recv()``, without a Python frame; every other read goes to the
    WebSocket's general path with what was parsed. ``send_nowait`` builds
    and writes a frame the same way, else calls the WebSocket's own. The
    other protocol callbacks are forwarded. Used by the event loop's thread
    only, as any asyncio protocol.

    Every write of the open WebSocket goes through ``write``: while corked
    (for the whole of a read, and from ``cork()`` to the event loop's next
    turn) writes are joined and reach the transport as one, so the replies
    to a read of many messages cost one system call, not one each. A large
    unmasked payload (a bytes or str message) is written without copying.
    """

    cdef object ws, conn, transport_write, transport_writelines, fallback_send, loop
    cdef FrameParser parser  # None with compression: every read goes to the WebSocket
    cdef list items  # reused read after read, unless a read re-enters (see below)
    cdef list out  # writes held while corked, in order
    cdef Py_ssize_t out_bytes
    cdef bint mask, busy, corked, flush_scheduled
    cdef bint by_reference  # out holds a payload that is not to be copied by a join

    def __init__(self, ws, conn, transport, send_nowait):
        parser, mask = conn.parser, conn.role == "client"
        write, writelines = transport.write, getattr(transport, "writelines", None)
        if getattr(type(transport), "writelines", None) is SELECTOR_WRITELINES:
            writelines = None  # payloads are copied into their frames instead
        loop = ws._loop
        with cython.critical_section(self):
            self.ws = ws
            self.conn = conn
            self.parser = parser
            self.transport_write = write
            self.transport_writelines = writelines
            self.fallback_send = send_nowait
            self.loop = loop
            self.mask = mask
            self.items = []
            self.out = []

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
        ws = self.ws
        if self.parser is None or not data or not self.conn._reading:
            ws._receive(data)
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
                ws._received(items, exc)
                return 0
            # Frames to resolve, or replies still owed: a read nested in a
            # callback of another read (a synchronous transport; its own
            # list of items) comes before that read has written what it
            # owes, which the general path (_dispatch) writes now, before
            # whatever the outer read's later callbacks send. deliver()
            # writes nothing.
            if count or (items is not self.items and self.conn._out):
                ws._received(items, None)
            elif items:
                self.deliver(ws, items)
        finally:
            del items[:]
            if items is self.items:
                self.busy = False
        return 0

    cdef int deliver(self, ws, list messages) except -1:
        """WebSocket._dispatch for a read of whole messages only: no events,
        nothing owed to the peer, no change of state."""
        callback = ws._on_message
        if callback is not None:
            for message in messages:
                try:
                    callback(message)
                except ConnectionClosed:
                    pass
                except Exception:
                    ws._on_message_failed()
            return 0
        queue = ws._messages
        queue.extend(messages)
        # As WebSocket._dispatch: wake a waiting recv(), pause when full.
        waiter = ws._recv_waiter
        if waiter is not None:
            ws._recv_waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if len(queue) >= ws.max_queue and not ws._reading_paused:
            ws._reading_paused = True
            ws.transport.pause_reading()
        return 0

    def send_nowait(self, message):
        """WebSocket.send_nowait: one message, text for a str."""
        cdef long op
        cdef uint8_t header[14]
        cdef int size
        if self.parser is None or not self.conn._writing or self.ws._lost:
            self.fallback_send(message)  # compression, closing, closed: the general way
            return
        op = 2
        if isinstance(message, str):
            op = 1
            message = (<str>message).encode("utf-8")
        if (self.mask or not PyBytes_CheckExact(message)
                or PyBytes_GET_SIZE(message) < BY_REFERENCE_MIN
                or self.transport_writelines is None):
            self.put(encode_frame(op, message, True, False, self.mask))
            return
        # Immutable and ours to share: the payload goes out as it is.
        size = wsf_header_encode(header, <unsigned>op, True, False,
                                 <uint64_t>PyBytes_GET_SIZE(message), NULL)
        if size < 0:
            raise _fr.build_error(-size, op)
        self.put_large(PyBytes_FromStringAndSize(<char *>header, size), message)

    cdef int put_large(self, bytes header, bytes payload) except -1:
        if not self.corked:  # then nothing is held
            self.transport_writelines([header, payload])
            return 0
        self.out.append(header)
        self.out.append(payload)
        self.by_reference = True
        self.out_bytes += len(header) + len(payload)
        if self.out_bytes >= CORK_LIMIT:
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
        if n >= CORK_LIMIT:  # large: what is held, then it as it is (a join would copy it)
            self.flush_held()
            if not self.ws._lost:
                self.transport_write(data)
            return 0
        self.out.append(data)
        self.out_bytes += n
        if self.out_bytes >= CORK_LIMIT:
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
        if self.ws._lost:  # the connection is gone: so is what it owed
            return 0
        if by_reference:
            self.transport_writelines(out)
        else:
            self.transport_write(out[0] if n == 1 else b"".join(out))
        return 0

    def eof_received(self):
        # The transport closes itself after this: nothing may stay held.
        result = self.ws.eof_received()
        self.flush_held()
        return result

    def connection_lost(self, exc):
        self.ws.connection_lost(exc)

    def pause_writing(self):
        self.ws.pause_writing()

    def resume_writing(self):
        self.ws.resume_writing()
