# The C Inbox (wsfast/_inbox.pyx), for the pump to deliver without a Python call.

cdef class Inbox:
    cdef readonly object queue, callback
    cdef readonly bint paused, closed
    cdef readonly Py_ssize_t max_queue
    cdef object waiter, pause, resume, failed

    # deliver() for a read of whole messages only (str and bytes, no events).
    cdef int deliver_messages(self, list messages) except -1
    cdef int call(self, object callback, object message) except -1
    cdef int queued(self) except -1
    cdef int wake(self) except -1
