"""Pure-Python twins of wsfast._speedups: the same API and the same results,
for platforms where the C extension cannot be built (and as the reference the
C kernels are tested against).

Masking XORs the whole payload as one big integer, which runs in C inside
CPython; UTF-8 validation leans on CPython's own decoder and adds the
fail-fast check on a character cut off at the end of a chunk.
"""
from __future__ import annotations

import codecs
import operator

__all__ = ["KERNEL", "Utf8Validator", "apply_mask", "available_kernels", "mask_into",
           "validate_utf8"]

KERNEL = "python"

_decode = codecs.utf_8_decode


def available_kernels() -> list[str]:
    """Kernel variants of the C extension: none in pure Python."""
    return []


def _view(obj: object, what: str) -> memoryview:
    try:
        view = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be a bytes-like object, not {type(obj).__name__}") from None
    if not view.c_contiguous:
        raise TypeError(f"{what} must be a contiguous buffer: "
                        "memoryview: underlying buffer is not C-contiguous")
    if view.itemsize != 1 or view.ndim != 1:
        view = view.cast("B")
    return view


def _key(key: object) -> bytes:
    if type(key) is not bytes:
        key = bytes(_view(key, "key"))
    if len(key) != 4:  # type: ignore[arg-type]
        raise ValueError(f"key must be exactly 4 bytes, got {len(key)}")  # type: ignore[arg-type]
    return key  # type: ignore[return-value]


def _phase(phase: object) -> int:
    phase = operator.index(phase)  # type: ignore[arg-type]
    if not 0 <= phase <= 3:
        raise ValueError(f"phase must be 0, 1, 2 or 3, got {phase}")
    return phase


def apply_mask(data: object, key: object, phase: int = 0) -> bytes:
    """Return data XOR-ed with the 4-byte masking key (RFC 6455 section 5.3)."""
    k = _key(key)
    phase = _phase(phase)
    if type(data) is not bytes:
        data = _view(data, "data")
    n = len(data)  # type: ignore[arg-type]
    if phase:
        k = k[phase:] + k[:phase]
    pattern = (k * ((n >> 2) + 1))[:n]
    value = int.from_bytes(data, "little") ^ int.from_bytes(pattern, "little")  # type: ignore[arg-type]
    return value.to_bytes(n, "little")


def mask_into(buffer: object, key: object, phase: int = 0) -> int:
    """XOR a writable buffer with the masking key in place; return the next phase."""
    k = _key(key)
    phase = _phase(phase)
    view = _view(buffer, "buffer")
    if view.readonly:
        raise TypeError("mask_into needs a writable buffer such as a bytearray, "
                        f"not a read-only {type(buffer).__name__}")
    view[:] = apply_mask(view, k, phase)
    return (phase + len(view)) & 3


def validate_utf8(data: object) -> bool:
    """True when data is complete, valid UTF-8 (RFC 3629)."""
    if type(data) is not bytes:
        data = _view(data, "data")
    try:
        _decode(data, "strict", True)  # type: ignore[arg-type]
    except UnicodeDecodeError:
        return False
    return True


# (first byte range, second byte range) of every multi-byte character
# (RFC 3629 section 4): the narrow ranges exclude overlongs, surrogates and
# code points above U+10FFFF.
_LEADS = {}
for _lo, _hi, _second in ((0xC2, 0xDF, range(0x80, 0xC0)), (0xE0, 0xE0, range(0xA0, 0xC0)),
                          (0xE1, 0xEC, range(0x80, 0xC0)), (0xED, 0xED, range(0x80, 0xA0)),
                          (0xEE, 0xEF, range(0x80, 0xC0)), (0xF0, 0xF0, range(0x90, 0xC0)),
                          (0xF1, 0xF3, range(0x80, 0xC0)), (0xF4, 0xF4, range(0x80, 0x90))):
    for _lead in range(_lo, _hi + 1):
        _LEADS[_lead] = _second


def _valid_prefix(tail: bytes) -> bool:
    """Whether the 1-3 bytes a decoder holds back can still start a character.

    CPython's incremental decoder already rejects most bad prefixes, but not
    all (it holds back ED A0, a surrogate, until more bytes arrive).
    """
    second = _LEADS.get(tail[0])
    if second is None:
        return False
    if len(tail) > 1 and tail[1] not in second:
        return False
    return all(0x80 <= b <= 0xBF for b in tail[2:])


class Utf8Validator:
    """Streaming UTF-8 validation for a message that arrives in pieces.

    ``feed`` is False as soon as the bytes seen can no longer be valid, even
    in the middle of a character; ``finish`` is False if the input ended
    inside a character. One validator belongs to one message at a time.
    """

    __slots__ = ("_pending", "_failed")

    def __init__(self) -> None:
        self._pending = b""
        self._failed = False

    def feed(self, chunk: object) -> bool:
        if type(chunk) is not bytes:
            chunk = _view(chunk, "chunk")
        if self._failed:
            return False
        data = self._pending + bytes(chunk) if self._pending else chunk  # type: ignore[arg-type]
        try:
            _, used = _decode(data, "strict", False)  # type: ignore[arg-type]
        except UnicodeDecodeError:
            self._failed = True
            return False
        self._pending = bytes(data[used:])  # type: ignore[index]
        if self._pending and not _valid_prefix(self._pending):
            self._failed = True
        return not self._failed

    def finish(self) -> bool:
        return not self._failed and not self._pending

    def reset(self) -> None:
        self._pending = b""
        self._failed = False
