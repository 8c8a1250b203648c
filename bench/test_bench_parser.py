"""Frame parsing throughput, side by side with the parsers of other projects.

One buffer of 10,000 masked client frames (binary, 16-byte or 1 KiB
payloads) is parsed by a server-side parser of each project in the same run.
Every driver does the same work: it gets each payload as bytes and keeps all
of them until the buffer is done (as wsfast's feed() and aiohttp's queue do
by design), so allocator costs weigh on each alike. Run::

    python -m pytest bench/test_bench_parser.py --benchmark-group-by=param:size

Projects that are not installed are skipped. aiohttp and picows need an
event loop to exist; they are fed without any socket. The drivers are shared
with ``python -m wsfast bench --suite parse`` (wsfast/bench/impls.py).
"""
from __future__ import annotations

import asyncio
import os

import pytest

pytest.importorskip("pytest_benchmark", reason="pip install pytest-benchmark")

from wsfast.bench import impls as bench_impls  # noqa: E402

FRAMES = 10_000
SIZES = {"16B": 16, "1KiB": 1024}
# The drivers are wsfast.bench.impls.parse_impls (shared with `wsfast bench`);
# here the active C kernel only, pure Python and every peer installed.
PARSERS = ["wsfast C", "wsfast pure", "picows", "aiohttp", "websockets", "wsproto"]


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module", params=list(SIZES))
def size(request):
    return request.param


@pytest.fixture(scope="module")
def data(size):
    return bench_impls.frame_stream(SIZES[size], FRAMES)


def parser_impl(name, loop):
    kernels = bench_impls.kernel_order()[:1]
    for impl in bench_impls.parse_impls(loop, kernels):
        if impl.label == name or (name == "wsfast C" and impl.label.startswith("wsfast C")):
            return impl
    raise LookupError(name)


@pytest.mark.parametrize("parser", PARSERS)
def test_parse(benchmark, parser, size, data, loop):
    impl = parser_impl(parser, loop)
    if impl.make is None:
        pytest.skip(impl.missing)
    run = impl.make(data, b"")
    with bench_impls.using(impl):
        assert run() == FRAMES
        benchmark.group = f"parse {FRAMES} masked frames of {size}"
        benchmark.extra_info["frames"] = FRAMES
        benchmark.extra_info["implementation"] = impl.label
        benchmark(run)


# ---- Frame objects and building frames ---------------------------------------

FRAME_IMPLS = {"wsfast-c": "wsfast._speedups", "wsfast-pure": "wsfast._pure"}


@pytest.mark.parametrize("impl", list(FRAME_IMPLS))
def test_frame_creation(benchmark, impl):
    """10,000 Frame objects through the public constructor."""
    module = pytest.importorskip(FRAME_IMPLS[impl])
    frame, payload = module.Frame, b"x" * 16
    benchmark.group = f"create {FRAMES} Frame objects"
    benchmark(lambda: [frame(2, payload, True) for _ in range(FRAMES)])


def _websockets_build(payload):
    from websockets.frames import Frame, Opcode
    return lambda: [Frame(Opcode.BINARY, payload).serialize(mask=True) for _ in range(FRAMES)]


@pytest.mark.parametrize("impl", list(FRAME_IMPLS) + ["websockets"])
def test_build_masked(benchmark, impl):
    """10,000 masked 16-byte frames, as a client sends them (a key each)."""
    payload = os.urandom(16)
    if impl == "websockets":
        pytest.importorskip("websockets")
        run = _websockets_build(payload)
    else:
        build = pytest.importorskip(FRAME_IMPLS[impl]).build_frame
        run = lambda: [build(2, payload, mask=True) for _ in range(FRAMES)]  # noqa: E731
    benchmark.group = f"build {FRAMES} masked frames of 16B"
    benchmark(run)


# ---- Large frames that straddle reads -----------------------------------------

CHUNKED = {"64KiB frames, 195KiB reads": (65536, 64, 200_000),
           "64KiB frames, 64KiB reads": (65536, 64, 65536),
           "1MiB frames, 64KiB reads": (1 << 20, 8, 65536)}


@pytest.mark.parametrize("case", list(CHUNKED))
@pytest.mark.parametrize("impl", list(FRAME_IMPLS))
def test_parse_chunked(benchmark, impl, case):
    """Masked binary frames fed in reads that do not line up with them: the
    end of a frame comes in a later read than its start."""
    module = pytest.importorskip(FRAME_IMPLS[impl])
    size, count, read = CHUNKED[case]
    stream = b"".join(module.build_frame(2, os.urandom(size), mask=True) for _ in range(count))
    reads = [stream[i:i + read] for i in range(0, len(stream), read)]

    def run():
        parser = module.FrameParser("server", max_frame_size=None)
        return sum(len(parser.feed(chunk)) for chunk in reads)

    assert run() == count
    benchmark.group = f"parse {case}"
    benchmark(run)
