"""The implementations that ``python -m wsfast bench`` and bench/ compare
must do the operation they are labelled with (right argument order, right
result), or the comparison means nothing. Checked here against the RFC 6455
definition and CPython's decoder; no timing is asserted."""
import asyncio
import io
import os

import pytest

import wsfast
from wsfast.bench import impls as bench_impls, report as bench_report

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])


def reference(data):
    return bytes(b ^ KEY[i % 4] for i, b in enumerate(data))


# scripts/test.sh installs the peers at the versions the drivers know.
PINNED = os.environ.get("WSFAST_PINNED_PEERS", "") not in ("", "0")


def runnable(impls):
    found = [i for i in impls if i.make is not None]
    for impl in impls:
        assert impl.make is not None or impl.missing, impl.label  # a reason when skipped
        # With those, a driver that gives up on its peer is a bug in the driver.
        assert not (PINNED and impl.make is None and "differs" in impl.missing), impl.missing
    return found


@pytest.mark.parametrize("size", [0, 5, 125, 4099])
def test_mask_new(size):
    data = os.urandom(size)
    for impl in runnable(bench_impls.mask_impls("new")):
        with bench_impls.using(impl):
            result = impl.make(data, KEY)()
        assert bytes(result) == (data if impl.label == "memory copy" else reference(data)), impl
    assert any(i.label == "memory copy" for i in runnable(bench_impls.mask_impls("new")))


@pytest.mark.parametrize("size", [5, 125, 4099])
def test_mask_in_place(size):
    data = os.urandom(size)
    for impl in runnable(bench_impls.mask_impls("in place")):
        buf = bytearray(data)
        with bench_impls.using(impl):
            impl.make(buf, KEY)()
        assert buf == (data if impl.label == "memory copy" else reference(data)), impl


@pytest.mark.parametrize("kind", sorted(bench_impls.UTF8_SAMPLES))
def test_utf8(kind):
    text = bench_impls.utf8_text(kind, 3000)
    assert 2990 < len(text) <= 3000
    text.decode("utf-8")  # whole characters only
    for impl in runnable(bench_impls.utf8_impls()):
        if impl.label == bench_impls.COPY:  # the ceiling: copies, judges nothing
            assert impl.make(text, b"")() == text
            continue
        with bench_impls.using(impl):
            assert impl.make(text, b"")(), impl
            try:
                verdict = impl.make(text + b"\xed\xa0\x80", b"")()
            except UnicodeDecodeError:
                verdict = False
        assert not verdict, impl


@pytest.mark.parametrize("size", [16, 3000])
def test_parse(size):
    frames = 3
    stream = bench_impls.frame_stream(size, frames)
    loop = asyncio.new_event_loop()
    try:
        impls = bench_impls.parse_impls(loop)
        for impl in runnable(impls):
            with bench_impls.using(impl):
                got = impl.make(stream, b"")()
            assert got == (stream if impl.label == bench_impls.COPY else frames), impl
    finally:
        loop.close()


def test_frames_for():
    assert bench_impls.frames_for(16) == 10_000
    assert bench_impls.frames_for(64 * 1024) == 64
    assert bench_impls.frames_for(16 * 1024 * 1024) == 1


@pytest.mark.parametrize("text,size", [("16", 16), ("1KiB", 1024), ("64k", 65536),
                                       ("16MiB", 16 << 20), ("2m", 2 << 20), ("125B", 125)])
def test_parse_size(text, size):
    assert bench_impls.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-1", "1.5k", "KiB", "12 parsecs"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError):
        bench_impls.parse_size(text)


def test_run_reports_every_implementation():
    lines = []
    report = bench_report.run("all", out=lines.append, sizes=[64], quick=True, warm_heap=False)
    labels = {r["impl"] for r in report.results}
    assert {"wsfast pure", "memory copy", "bytes.decode"} <= labels
    assert all(r["seconds"] > 0 and r["vs_copy"] > 0 for r in report.results)
    assert not [m for m in report.not_measured if m["reason"].startswith("wrong result")]
    text = "\n".join(lines)
    loop = asyncio.new_event_loop()
    try:
        every = bench_impls.mask_impls("new") + bench_impls.mask_impls("in place") + \
            bench_impls.utf8_impls() + bench_impls.parse_impls(loop)
    finally:
        loop.close()
    for impl in every:
        assert impl.label in text  # measured, or listed as not measured with the reason
        if impl.make is None:
            assert impl.missing in text


def test_wrong_result_is_not_timed(monkeypatch):
    """An implementation that does not mask is reported, not measured."""
    broken = bench_impls.Impl("broken", "new", lambda data, key: lambda: data)
    real = bench_impls.mask_impls
    monkeypatch.setattr(bench_impls, "mask_impls", lambda kind, kernels=(): real(kind, []) + [broken])
    report = bench_report.run("mask", out=lambda line: None, sizes=[64], quick=True,
                              warm_heap=False)
    assert "broken" not in {r["impl"] for r in report.results}
    assert {"suite": "mask", "impl": "broken", "reason": "wrong result at 64 bytes"} in \
        report.not_measured


def test_summary_line():
    line = bench_report.summary_line(4096)
    assert line.startswith("masking 4 KiB: ")
    assert "memory copy" in line and "pure Python" in line
    assert ("C (" in line) == (wsfast.IMPLEMENTATION == "c")




def test_progress_rewrites_one_line():
    stream = io.StringIO()
    bar = bench_report.Progress(2, stream=stream, enabled=True)
    bar.step("mask, 16 B: wsfast C avx2")
    bar.show("timing round 1 of 5")
    bar.step("mask, 16 B: memory copy")
    bar.close()
    text = stream.getvalue()
    assert "\n" not in text and text.count("\r") == 4
    assert "[  1/2]" in text and "[  2/2]" in text and "timing round 1 of 5" in text
    assert text.endswith("\r\x1b[K")  # the line is cleared for the table


def test_progress_is_silent_off_a_terminal():
    stream = io.StringIO()  # isatty() is False
    bar = bench_report.Progress(1, stream=stream)
    bar.step("anything")
    bar.close()
    assert stream.getvalue() == ""
