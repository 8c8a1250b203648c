"""What a Connection hands back from received bytes: small immutable events.

Each event is a tuple subclass with named read-only fields, so it is
immutable, cheap to create on the per-message path (the Connection builds
them with ``tuple.__new__``, no Python-level ``__init__``) and works with
``match`` statements by field name.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Any

__all__ = ["BinaryFragment", "BinaryMessage", "CloseReceived", "Event", "Ping", "Pong",
           "TextFragment", "TextMessage"]


class Event(tuple):  # type: ignore[type-arg]
    """Base class of the events; fields are named in ``_fields``."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Event:
        values = list(args)
        for name in cls._fields[len(args):]:
            if name not in kwargs:
                raise TypeError(f"{cls.__name__}() missing argument {name!r}")
            values.append(kwargs.pop(name))
        if kwargs or len(values) != len(cls._fields):
            raise TypeError(f"{cls.__name__}() takes the fields {', '.join(cls._fields)}")
        return tuple.__new__(cls, values)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        setattr(cls, "__match_args__", cls._fields)
        for i, name in enumerate(cls._fields):
            setattr(cls, name, property(itemgetter(i), doc=f"The event's {name}."))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self))
        return f"{type(self).__name__}({fields})"

    # Two events are equal only when they are of the same kind.
    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self)))


class TextMessage(Event):
    """A whole text message (RFC 6455 opcode 0x1), validated and decoded."""

    __slots__ = ()
    _fields = ("data",)
    data: str


class BinaryMessage(Event):
    """A whole binary message (opcode 0x2)."""

    __slots__ = ()
    _fields = ("data",)
    data: bytes


class TextFragment(Event):
    """Part of a text message, as it arrives (``stream_fragments=True``);
    ``fin`` on the last part. Each part is whole characters."""

    __slots__ = ()
    _fields = ("data", "fin")
    data: str
    fin: bool


class BinaryFragment(Event):
    """Part of a binary message, as it arrives (``stream_fragments=True``)."""

    __slots__ = ()
    _fields = ("data", "fin")
    data: bytes
    fin: bool


class Ping(Event):
    """The peer sent a ping; the Connection has already queued the pong."""

    __slots__ = ()
    _fields = ("payload",)
    payload: bytes


class Pong(Event):
    """The peer sent a pong (an answer to our ping, or a heartbeat)."""

    __slots__ = ()
    _fields = ("payload",)
    payload: bytes


class CloseReceived(Event):
    """The peer sent a Close frame: ``code`` (1005 when it carried none) and
    ``reason``. The Connection has queued its echo when one was due."""

    __slots__ = ()
    _fields = ("code", "reason")
    code: int
    reason: str
