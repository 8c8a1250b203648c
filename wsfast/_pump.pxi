# The asyncio WebSocket's per-read hot path, included into _speedups.pyx so it
# can call FrameParser.run and the frame encoder without a Python call.
# Duck-typed over the WebSocket (wsfast/asyncio/connection.py) and its
# Connection (wsfast/connection.py), whose Python code is the general path and
# the reference: this class only skips Python frames for the common case.

from wsfast.errors import ConnectionClosed


cdef class MessagePump:
    """An open WebSocket's transport protocol (see WebSocket._opened_with).

    A read that holds only whole messages (no control frame, fragment or
    violation) goes from the parser to ``on_message``, or to the queue of
    ``recv()``, without a Python frame; every other read goes to the
    WebSocket's general path with what was parsed. ``send_nowait`` builds
    and writes a frame the same way, else calls the WebSocket's own. The
    other protocol callbacks are forwarded. Used by the event loop's thread
    only, as any asyncio protocol.
    """

    cdef object ws, conn, write, fallback_send
    cdef FrameParser parser  # None with compression: every read goes to the WebSocket
    cdef list items  # reused read after read, unless a read re-enters (see below)
    cdef bint mask, busy

    def __init__(self, ws, conn, transport, send_nowait):
        with cython.critical_section(self):
            self.ws = ws
            self.conn = conn
            self.parser = conn.parser
            self.write = transport.write
            self.fallback_send = send_nowait
            self.mask = conn.role == "client"
            self.items = []

    def data_received(self, data):
        cdef list items
        cdef Py_ssize_t count
        ws = self.ws
        if self.parser is None or not data or not self.conn._reading:
            ws._receive(data)
            return
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
                return
            if count:
                ws._received(items, None)
            elif items:
                self.deliver(ws, items)
        finally:
            del items[:]
            if items is self.items:
                self.busy = False

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
        if self.parser is not None and self.conn._writing and not self.ws._lost:
            self.write(encode_frame(1 if isinstance(message, str) else 2, message,
                                    True, False, self.mask))
        else:
            self.fallback_send(message)  # compression, closing, closed: the general way

    def eof_received(self):
        return self.ws.eof_received()

    def connection_lost(self, exc):
        self.ws.connection_lost(exc)

    def pause_writing(self):
        self.ws.pause_writing()

    def resume_writing(self):
        self.ws.resume_writing()
