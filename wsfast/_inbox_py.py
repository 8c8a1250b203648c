"""Pure-Python twin of wsfast/_inbox.pyx: the same Inbox, the same results."""
from __future__ import annotations

import collections
from typing import Any, Callable, Iterable, Optional, Union

from wsfast.errors import ConnectionClosed

__all__ = ["Inbox"]

Data = Union[str, bytes]


def _nothing() -> None:
    pass


class Inbox:
    """Messages received and not yet consumed, for one connection.

    The one place where a received message is delivered: to the ``callback``
    when one is set (its exceptions go to ``callback_failed``, called inside
    the ``except`` clause), else to ``queue``, waking the reader waiting on
    it. Reading is paused (``pause_reading``) once ``max_queue`` messages
    wait and resumed (``resume_reading``) when a reader has taken them down
    to a quarter of that. Whole messages are bare ``str`` and ``bytes``; any
    other item handed to ``deliver`` goes to its ``on_event``, in order.
    Used by one thread at a time (an I/O layer with threads locks around it).
    """

    __slots__ = ("queue", "callback", "paused", "closed", "max_queue", "_waiter",
                 "_pause", "_resume", "_failed")

    def __init__(self, max_queue: int, pause_reading: Callable[[], Any],
                 resume_reading: Callable[[], Any], callback_failed: Callable[[], Any]) -> None:
        self.queue: collections.deque[Data] = collections.deque()
        self.callback: Optional[Callable[[Data], Any]] = None
        self.paused = False
        self.closed = False
        self.max_queue = max_queue
        self._waiter: Any = None
        self._pause = pause_reading
        self._resume = resume_reading
        self._failed = callback_failed

    def deliver(self, items: Iterable[Any], on_event: Optional[Callable[[Any], Any]] = None
                ) -> None:
        """Hand out one read's items, in order: messages as above, the rest
        to ``on_event``. The callback set when the read starts gets all of it
        (one that changes the callback affects the next read)."""
        callback = self.callback
        if callback is not None:
            for item in items:
                kind = type(item)
                if kind is str or kind is bytes:
                    try:
                        callback(item)
                    except ConnectionClosed:
                        pass
                    except Exception:
                        self._failed()
                else:
                    on_event(item)  # type: ignore[misc]
            return
        queue = self.queue
        for item in items:
            kind = type(item)
            if kind is str or kind is bytes:
                queue.append(item)
            else:
                on_event(item)  # type: ignore[misc]
        if queue:
            self._wake()
            if len(queue) >= self.max_queue and not self.paused:
                self.paused = True
                self._pause()

    def wait(self, waiter: Any) -> None:
        """Have ``waiter`` (a future: ``done()``, ``set_result()``) completed
        with None when a message is queued or the inbox is closed."""
        current = self._waiter
        if current is not None and not current.done():
            # Two readers would race for each message; one would wait forever.
            raise RuntimeError("recv() is already waiting for a message in another task")
        self._waiter = waiter

    def consumed(self) -> None:
        """A reader took messages from ``queue``: resume reading if it was
        paused and the queue is down to a quarter of ``max_queue``."""
        if self.paused and len(self.queue) <= self.max_queue // 4:
            self.paused = False
            if not self.closed:
                self._resume()

    def set_callback(self, callback: Optional[Callable[[Data], Any]]) -> None:
        """Deliver to ``callback`` from now on (None: queue again); messages
        already queued go to it first, unless the inbox is closed."""
        self.callback = callback
        queue = self.queue
        while callback is not None and queue and not self.closed:
            message = queue.popleft()
            try:
                callback(message)
            except ConnectionClosed:
                pass
            except Exception:
                self._failed()
        if self.paused and not self.closed:
            self.consumed()

    def close(self) -> None:
        """The connection is gone: wake the reader; never resume reading."""
        self.closed = True
        # Drop the I/O layer's callables (and the reference cycle through
        # them): nothing is delivered or resumed after this.
        self._pause = self._resume = self._failed = _nothing
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():  # its reader may have been cancelled
                waiter.set_result(None)
