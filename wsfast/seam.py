"""The seam between wsfast's I/O layers and its core: what an I/O layer
(asyncio today; ASGI, threads next) needs from the core and gives it.

An I/O layer owns the sockets, timers and tasks. It gets from the core:

- a sans-IO ``Connection`` (wsfast/connection.py): bytes in, messages and
  events out, frames out; its public state (``SansIO`` below) is all an
  I/O layer reads of it;
- an ``Inbox``: the one place received messages are delivered -- to an
  ``on_message`` callback, or queued for a reader, who is woken, with
  reading paused at ``max_queue`` and resumed once drained. The I/O layer
  gives it its ``pause_reading`` / ``resume_reading`` and what to do when
  the callback fails, once, when it makes it.

The asyncio layer adds a ``MessagePump`` (wsfast/asyncio/_pump.pyx): the
transport's protocol, which feeds reads of whole messages from the
Connection's parser to the Inbox in C, and hands any other read back to the
I/O layer's general path (the callables it was given once, ``GeneralPath``
below). docs/architecture.md traces one frame each way.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Protocol, Union

from wsfast._impl import Inbox

__all__ = ["Data", "Delivery", "GeneralPath", "Inbox", "SansIO"]

Data = Union[str, bytes]


class Delivery(Protocol):
    """What ``Inbox`` (C, or its twin in wsfast/_inbox_py.py) offers.

    Construct it as ``Inbox(max_queue, pause_reading, resume_reading,
    callback_failed)``. ``queue`` (a deque) is the reader's to pop from,
    followed by ``consumed()``; the rest is changed through the methods.
    """

    queue: Any
    callback: Optional[Callable[[Data], Any]]
    paused: bool
    closed: bool
    max_queue: int

    def deliver(self, items: Iterable[Any],
                on_event: Optional[Callable[[Any], Any]] = None) -> None: ...
    def wait(self, waiter: Any) -> None: ...
    def consumed(self) -> None: ...
    def set_callback(self, callback: Optional[Callable[[Data], Any]]) -> None: ...
    def close(self) -> None: ...


class SansIO(Protocol):
    """What an I/O layer (and the pump) uses of a ``Connection``."""

    role: str
    reading: bool
    writing: bool

    @property
    def parser(self) -> Any: ...
    @property
    def has_bytes_to_send(self) -> bool: ...
    def receive_data(self, data: bytes) -> None: ...
    def receive_parsed(self, items: list[Any], error: Any = None) -> None: ...
    def messages_and_events(self) -> list[Any]: ...
    def bytes_to_send(self) -> bytes: ...
    def send(self, message: Any) -> bytes: ...


class GeneralPath(Protocol):
    """The callables an I/O layer hands a MessagePump, as keywords, once.

    ``receive(data)``: a read the pump does not parse (after the peer's
    Close); ``received(items, error)``: what the pump parsed of a
    read that is not only whole messages, for ``Connection.receive_parsed``;
    ``send(message)``: a send the pump does not frame itself. The asyncio
    protocol callbacks are forwarded as they are.
    """

    receive: Callable[[bytes], None]
    received: Callable[[list[Any], Any], None]
    send: Callable[[Any], None]
    eof_received: Callable[[], Any]
    connection_lost: Callable[[Optional[Exception]], None]
    pause_writing: Callable[[], None]
    resume_writing: Callable[[], None]
