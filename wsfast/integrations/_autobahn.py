"""autobahn: the XOR masker and UTF-8 validator its protocol module binds.

``autobahn.websocket.protocol`` imports ``create_xor_masker`` and
``Utf8Validator`` by name at import time (from its ``xormasker`` and
``utf8validator`` modules, which pick NVX or pure Python), so replacing the
package-level names, as older accelerators did, changes nothing a running
protocol calls: wsfast replaces the protocol module's own bindings (and the
defining modules', for code that imports them later).
"""
from __future__ import annotations

import importlib
import os
from typing import Optional, Tuple, Union

from wsfast import _impl
from wsfast.integrations._registry import (Mismatch, Target, require_attr, require_methods,
                                           require_version)

BytesLike = Union[bytes, bytearray, memoryview]

_apply_mask = _impl.apply_mask
_Validator = _impl.Utf8Validator


class XorMasker:
    """autobahn's masker interface on wsfast's kernel.

    ``process`` returns masked bytes and advances ``pointer()`` (the number
    of bytes processed since the last ``reset()``), so a frame's payload can
    be masked piece by piece.
    """

    __slots__ = ("_key", "_ptr")

    def __init__(self, mask: BytesLike) -> None:
        if len(mask) != 4:
            raise AssertionError("Mask must be exactly 4 bytes")
        self._key = bytes(mask)
        self._ptr = 0

    def pointer(self) -> int:
        """Bytes processed since creation or the last reset."""
        return self._ptr

    def reset(self) -> None:
        """Start again from the first key byte."""
        self._ptr = 0

    def process(self, data: BytesLike) -> bytes:
        """Return data XOR-ed with the key from the current position."""
        out = _apply_mask(data, self._key, self._ptr & 3)
        self._ptr += len(out)
        return out


def create_xor_masker(mask: BytesLike, length: Optional[int] = None) -> XorMasker:
    """autobahn's masker factory; one wsfast masker serves every length."""
    return XorMasker(mask)


class Utf8Validator:
    """autobahn's incremental UTF-8 validator on wsfast's streaming kernel.

    ``validate(chunk)`` returns ``(valid, ends_on_code_point, current_index,
    total_index)`` like autobahn's: on the first byte that makes the input
    invalid, ``current_index`` is its index in the chunk and ``total_index``
    its index in the whole input; otherwise the chunk length and the number
    of bytes consumed so far.
    """

    __slots__ = ("_validator", "_total", "_failed", "_tail")

    def __init__(self) -> None:
        self._validator = _Validator()
        self.reset()

    def reset(self) -> None:
        """Start a new input."""
        self._validator.reset()
        self._total = 0
        self._failed = False
        self._tail = b""  # the last <= 3 bytes of valid input seen

    def validate(self, ba: BytesLike) -> Tuple[bool, bool, int, int]:
        """Validate the next chunk of the input; see the class docstring."""
        n = len(ba)
        if self._failed:
            # Once rejected, the input stays rejected at the first byte fed.
            if n == 0:
                return True, False, 0, self._total
            return False, False, 0, self._total
        if self._validator.feed(ba):
            self._total += n
            if n >= 3:
                self._tail = bytes(ba[n - 3:])
            elif n:
                self._tail = (self._tail + bytes(ba))[-3:]
            return True, self._validator.finish(), n, self._total
        index = self._first_bad(bytes(ba))
        self._failed = True
        self._total += index
        return False, False, index, self._total

    def _first_bad(self, chunk: bytes) -> int:
        """Index in chunk of the first byte no valid input can continue with."""
        pending = _pending(self._tail)
        lo, hi = 0, len(chunk) - 1  # the byte at hi is known to be past the point
        while lo < hi:
            mid = (lo + hi) // 2
            if _Validator().feed(pending + chunk[:mid + 1]):
                lo = mid + 1
            else:
                hi = mid
        return lo


def _pending(tail: bytes) -> bytes:
    """The unfinished character at the end of valid input (b"" if none)."""
    for back in range(1, len(tail) + 1):
        byte = tail[-back]
        if byte < 0x80:
            return b""
        if byte >= 0xC0:  # a lead byte: how long is its character?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return tail[-back:] if need > back else b""
    return b""


def _self_check(create: object, validator: type) -> None:
    key = os.urandom(4)
    theirs, ours = create(key, 300), create_xor_masker(key, 300)  # type: ignore[operator]
    for piece in (os.urandom(n) for n in (7, 1, 200, 0, 92)):
        if theirs.process(piece) != ours.process(piece) or theirs.pointer() != ours.pointer():
            raise Mismatch("autobahn's xor masker behaves differently from wsfast's "
                           "on a self-check")
    theirs_v, ours_v = validator(), Utf8Validator()
    for chunk in ("añ€".encode(), "𝄞".encode()[:2], "𝄞".encode()[2:], b"ok\xc0\xafx"):
        if tuple(theirs_v.validate(chunk)) != ours_v.validate(chunk):
            raise Mismatch("autobahn's Utf8Validator behaves differently from wsfast's "
                           "on a self-check")


def plan() -> list[Target]:
    """Check autobahn and name the bindings to replace."""
    require_version("autobahn", (20, 0))
    protocol = importlib.import_module("autobahn.websocket.protocol")
    create = require_attr(protocol, "create_xor_masker")
    validator = require_attr(protocol, "Utf8Validator")
    require_methods(validator, "validate", "reset")
    _self_check(create, validator)
    return [Target(protocol, "create_xor_masker", create_xor_masker),
            Target(protocol, "Utf8Validator", Utf8Validator)]
