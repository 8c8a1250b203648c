"""The implementations that ``python -m wsfast bench`` and bench/ compare
must do the operation they are labelled with (right argument order, right
result), or the comparison means nothing. Checked here against the RFC 6455
definition and CPython's decoder; no timing is asserted."""
import contextlib
import os

import pytest

from wsfast import _bench

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])


def reference(data):
    return bytes(b ^ KEY[i % 4] for i, b in enumerate(data))


def runnable(impls):
    found = [i for i in impls if i.make is not None]
    for impl in impls:
        assert impl.make is not None or impl.missing, impl.label  # a reason when skipped
    return found


@pytest.mark.parametrize("size", [0, 5, 125, 4099])
def test_mask_new(size):
    data = os.urandom(size)
    for impl in runnable(_bench.mask_impls("new")):
        with _kernel_of(impl):
            result = impl.make(data, KEY)()
        assert bytes(result) == (data if impl.label == "memory copy" else reference(data)), impl
    assert any(i.label == "memory copy" for i in runnable(_bench.mask_impls("new")))


@pytest.mark.parametrize("size", [5, 125, 4099])
def test_mask_in_place(size):
    data = os.urandom(size)
    for impl in runnable(_bench.mask_impls("in place")):
        buf = bytearray(data)
        with _kernel_of(impl):
            impl.make(buf, KEY)()
        assert buf == (data if impl.label == "memory copy" else reference(data)), impl


@pytest.mark.parametrize("kind", sorted(_bench.UTF8_SAMPLES))
def test_utf8(kind):
    text = _bench.utf8_text(kind, 3000)
    assert 2990 < len(text) <= 3000
    text.decode("utf-8")  # whole characters only
    for impl in runnable(_bench.utf8_impls()):
        with _kernel_of(impl):
            assert impl.make(text, b"")(), impl
            try:
                verdict = impl.make(text + b"\xed\xa0\x80", b"")()
            except UnicodeDecodeError:
                verdict = False
        assert not verdict, impl


def test_run_reports_every_implementation():
    lines = []
    results = _bench.run("all", out=lines.append, sizes=[64])
    labels = {r["impl"] for r in results}
    assert {"wsfast pure", "memory copy", "bytes.decode"} <= labels
    assert all(r["seconds"] > 0 for r in results)
    text = "\n".join(lines)
    for impl in _bench.mask_impls("new", []) + _bench.utf8_impls([]):
        assert impl.label in text  # measured, or listed as not measured with the reason
        if impl.make is None:
            assert impl.missing in text


def _kernel_of(impl):
    if impl.label.startswith("wsfast C "):
        return _bench.kernel(impl.label.rsplit(" ", 1)[1])
    return contextlib.nullcontext()
