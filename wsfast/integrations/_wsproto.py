"""wsproto: its payload masker, ``frame_protocol.XorMaskerSimple``.

wsproto unmasks every received frame, and masks every frame a client sends,
through ``XorMaskerSimple(key).process(data) -> bytearray`` (a new
bytearray; the key position carries over to the next call, so a frame's
payload can arrive in pieces). wsfast's class keeps that contract on its
in-place kernel. ``XorMaskerNull`` (unmasked frames) returns its input and
has nothing to speed up.

Text messages are decoded with ``codecs.getincrementaldecoder("utf-8")``:
CPython's decoder validates while it decodes in one C pass, which a
separate validator can only add to, so wsfast leaves it in place (see
docs/integrations.md for the measurement).
"""
from __future__ import annotations

import importlib
import os
from typing import Union

from wsfast import _impl
from wsfast.integrations._registry import (Mismatch, Target, require_attr, require_methods,
                                           require_version)

_mask_into = _impl.mask_into


class XorMaskerSimple:
    """wsproto's masker on wsfast's kernel: ``process`` returns a new bytearray."""

    __slots__ = ("_key", "_phase", "_key_type")

    def __init__(self, masking_key: Union[bytes, bytearray]) -> None:
        self._key = bytes(masking_key)
        self._key_type = type(masking_key)
        self._phase = 0

    @property
    def _masking_key(self) -> Union[bytes, bytearray]:
        """The key rotated to the next byte's position, as wsproto keeps it."""
        key = self._key[self._phase:] + self._key[:self._phase]
        return key if self._key_type is bytes else self._key_type(key)

    def process(self, data: Union[bytes, bytearray]) -> bytearray:
        """Return data masked from the current key position, as a new bytearray."""
        buf = bytearray(data)
        self._phase = _mask_into(buf, self._key, self._phase)
        return buf


def _self_check(original: type) -> None:
    key = bytearray(os.urandom(4))
    pieces = [os.urandom(n) for n in (0, 5, 1, 130, 3)]
    theirs, ours = original(key), XorMaskerSimple(key)
    for piece in pieces:
        a, b = theirs.process(bytearray(piece)), ours.process(bytearray(piece))
        if a != b or type(a) is not type(b):
            raise Mismatch("wsproto.frame_protocol.XorMaskerSimple.process behaves "
                           "differently from wsfast's masker on a self-check")


def plan() -> list[Target]:
    """Check wsproto and name the binding to replace."""
    require_version("wsproto", (1, 0))
    frame_protocol = importlib.import_module("wsproto.frame_protocol")
    original = require_attr(frame_protocol, "XorMaskerSimple")
    require_methods(original, "process")
    _self_check(original)
    return [Target(frame_protocol, "XorMaskerSimple", XorMaskerSimple)]
