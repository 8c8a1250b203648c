# cython: language_level=3, boundscheck=False, wraparound=False
# cython: freethreading_compatible=True, binding=False, embedsignature=True
# cython: embedsignature.format=python
"""C implementation of the Inbox (wsfast/_inbox_py.py is its twin): where
every I/O layer delivers received messages -- to a callback, or to a queue
with a waiting reader woken and reading paused at ``max_queue``.

Like the twin, used by one thread at a time: an I/O layer on threads locks
around it.
"""
import collections

from wsfast.errors import ConnectionClosed

cdef object deque = collections.deque


def _nothing():
    pass


cdef class Inbox:
    """Messages received and not yet consumed, for one connection.

    The one place where a received message is delivered: to the ``callback``
    when one is set (its exceptions go to ``callback_failed``, called inside
    the ``except`` clause), else to ``queue``, waking the reader waiting on
    it. Reading is paused (``pause_reading``) once ``max_queue`` messages
    wait and resumed (``resume_reading``) when a reader has taken them down
    to a quarter of that. Whole messages are bare ``str`` and ``bytes``; any
    other item handed to ``deliver`` goes to its ``on_event``, in order.
    """

    def __init__(self, Py_ssize_t max_queue, pause_reading, resume_reading, callback_failed):
        self.queue = deque()
        self.max_queue = max_queue
        self.pause = pause_reading
        self.resume = resume_reading
        self.failed = callback_failed

    def deliver(self, items, on_event=None):
        """Hand out one read's items, in order: messages as above, the rest
        to ``on_event``. The callback set when the read starts gets all of it
        (one that changes the callback affects the next read)."""
        callback = self.callback
        if callback is not None:
            for item in items:
                if type(item) is str or type(item) is bytes:
                    self.call(callback, item)
                else:
                    on_event(item)
            return
        queue = self.queue
        for item in items:
            if type(item) is str or type(item) is bytes:
                queue.append(item)
            else:
                on_event(item)
        if queue:
            self.queued()

    cdef int deliver_messages(self, list messages) except -1:
        callback = self.callback
        if callback is not None:
            for message in messages:
                self.call(callback, message)
            return 0
        self.queue.extend(messages)
        self.queued()
        return 0

    cdef int call(self, object callback, object message) except -1:
        try:
            callback(message)
        except ConnectionClosed:
            pass
        except Exception:
            self.failed()
        return 0

    cdef int queued(self) except -1:
        self.wake()
        if len(self.queue) >= self.max_queue and not self.paused:
            self.paused = True
            self.pause()
        return 0

    def wait(self, waiter):
        """Have ``waiter`` (a future: ``done()``, ``set_result()``) completed
        with None when a message is queued or the inbox is closed."""
        current = self.waiter
        if current is not None and not current.done():
            # Two readers would race for each message; one would wait forever.
            raise RuntimeError("recv() is already waiting for a message in another task")
        self.waiter = waiter

    def consumed(self):
        """A reader took messages from ``queue``: resume reading if it was
        paused and the queue is down to a quarter of ``max_queue``."""
        if self.paused and len(self.queue) <= self.max_queue // 4:
            self.paused = False
            if not self.closed:
                self.resume()

    def set_callback(self, callback):
        """Deliver to ``callback`` from now on (None: queue again); messages
        already queued go to it first, unless the inbox is closed."""
        self.callback = callback
        queue = self.queue
        while callback is not None and queue and not self.closed:
            self.call(callback, queue.popleft())
        if self.paused and not self.closed:
            self.consumed()

    def close(self):
        """The connection is gone: wake the reader; never resume reading."""
        self.closed = True
        # Drop the I/O layer's callables (and the reference cycle through
        # them): nothing is delivered or resumed after this.
        self.pause = self.resume = self.failed = _nothing
        self.wake()

    cdef int wake(self) except -1:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():  # its reader may have been cancelled
                waiter.set_result(None)
        return 0
