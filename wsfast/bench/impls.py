"""The implementations that ``python -m wsfast bench`` and the
pytest-benchmark suites in ``bench/`` compare, and the timing primitives
they share. (The command's tables, JSON and plot are in ``wsfast.bench.report``.)

Each implementation is an ``Impl``: a label, what it does ("new": return a
new buffer, "in place": change a bytearray, "validate": check UTF-8,
"parse": parse a buffer of masked client frames, "deliver": a masked text
frame to its str), and ``make(data, key)``
returning a zero-argument callable that does one operation on ``data`` (for
"in place", data is a bytearray that it changes; for "parse", the callable
returns the number of frames it got). Peers that are not installed are
listed with the reason, never silently left out.

The adapters live here, inside the package, so that the command users run
and the suites in bench/ measure exactly the same calls; nothing here
imports bench/.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import ctypes
import functools
import logging
import os
import socket
import statistics
import sys
import time
import timeit
from importlib import metadata
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from wsfast import _impl, _pure

KiB, MiB = 1024, 1024 * 1024
# The C build's variants (csrc/dispatch.c's table); in pure Python, none.
KERNELS: tuple[str, ...] = ()
if _impl.IMPLEMENTATION == "c":
    from wsfast import _speedups
    KERNELS = tuple(_speedups._kernel_table())
COPY = "memory copy"
# The largest frame a parser under test must accept (the biggest default size).
MAX_FRAME = 32 * MiB

Maker = Callable[[Any, bytes], Callable[[], object]]


class Impl(NamedTuple):
    label: str
    kind: str                      # "new", "in place", "validate" or "parse"
    make: Maker | None
    missing: str = ""              # why make is None
    kernel: str = ""               # the wsfast C kernel variant to select while it runs


@contextlib.contextmanager
def kernel(name: str) -> Iterator[None]:
    """Run the C kernels as variant ``name`` for a while (single-threaded
    benchmarks only: the choice is process-wide)."""
    from wsfast import _speedups  # only called when the extension is there
    old = os.environ.get("WSFAST_KERNEL")
    os.environ["WSFAST_KERNEL"] = name
    try:
        _speedups._select_kernel()
        yield
    finally:
        if old is None:
            del os.environ["WSFAST_KERNEL"]
        else:
            os.environ["WSFAST_KERNEL"] = old
        _speedups._select_kernel()


def using(impl: Impl) -> contextlib.AbstractContextManager[None]:
    """The context to run ``impl`` in: its kernel variant selected, if it has one."""
    return kernel(impl.kernel) if impl.kernel else contextlib.nullcontext()


def _import(module: str, name: str) -> tuple[object, str]:
    try:
        mod = __import__(module, fromlist=[name])
        return getattr(mod, name), ""
    except (ImportError, AttributeError) as exc:
        return None, f"{module}.{name} unavailable: {exc}"


def _peer(label: str, kind: str, module: str, name: str,
          make: Callable[[Any], Maker]) -> Impl:
    obj, missing = _import(module, name)
    return Impl(label, kind, make(obj) if obj is not None else None, missing)


def _call(fn: Callable[..., object], key_first: bool = False) -> Maker:
    """make(data, key) -> fn(data, key) (or fn(key, data)), as a partial so
    that ``batch`` can call it at a plain call site."""
    def make(data: Any, key: bytes) -> Callable[[], object]:
        return functools.partial(fn, key, data) if key_first else functools.partial(fn, data, key)
    return make


def _c_kernels(kind: str, kernels: Iterable[str], make: Callable[[], Maker]) -> list[Impl]:
    """One Impl per C kernel variant; those this build or CPU cannot run are
    listed with the reason."""
    impls = []
    for name in kernels:
        label = f"wsfast C {name}"
        if _impl.IMPLEMENTATION != "c":
            impls.append(Impl(label, kind, None, "the C extension is not in use"))
        elif name not in _impl.available_kernels():
            impls.append(Impl(label, kind, None, f"this CPU or build cannot run {name}"))
        else:
            impls.append(Impl(label, kind, make(), kernel=name))
    return impls


def kernel_order() -> list[str]:
    """The kernel variants to measure: the active one first, then the others
    this build and CPU can run, then the rest (listed as not measured)."""
    active = [_impl.KERNEL] if _impl.IMPLEMENTATION == "c" else []
    return active + [k for k in KERNELS if k not in active]


def _copy_new(data: bytes, key: bytes) -> Callable[[], object]:
    return functools.partial(bytes, memoryview(data))


def _copy_into(buf: bytearray, key: bytes) -> Callable[[], object]:
    # One pass that reads n bytes and writes n bytes into the existing
    # buffer, as in-place masking does: bytearray's same-length slice
    # assignment is one memmove from a same-sized source.
    return functools.partial(buf.__setitem__, slice(None), bytes(buf))


def _numpy_new(np: Any) -> Maker:
    # The usual numpy way: XOR the bulk as uint32 words with the key read as
    # one word (byte order does not matter: the same bytes line up), then
    # the last 0-3 bytes; tobytes() because the others return bytes too.
    def make(data: bytes, key: bytes) -> Callable[[], object]:
        k32, k8 = np.frombuffer(key, np.uint32)[0], np.frombuffer(key, np.uint8)

        def run() -> bytes:
            n = len(data)
            words = n // 4
            out = np.empty(n, np.uint8)
            np.bitwise_xor(np.frombuffer(data, np.uint32, words), k32,
                           out=out[: words * 4].view(np.uint32))
            out[words * 4:] = np.frombuffer(data, np.uint8, offset=words * 4) ^ k8[: n % 4]
            return bytes(out.tobytes())
        return run
    return make


def _numpy_into(np: Any) -> Maker:
    def make(buf: bytearray, key: bytes) -> Callable[[], object]:
        k32, k8 = np.frombuffer(key, np.uint32)[0], np.frombuffer(key, np.uint8)

        def run() -> None:
            words = len(buf) // 4
            a32 = np.frombuffer(buf, np.uint32, words)
            np.bitwise_xor(a32, k32, out=a32)
            tail = np.frombuffer(buf, np.uint8, offset=words * 4)
            np.bitwise_xor(tail, k8[: len(tail)], out=tail)
        return run
    return make


def _numpy() -> Any:
    import numpy
    return numpy


def mask_impls(kind: str, kernels: Iterable[str] = KERNELS) -> list[Impl]:
    """Masking implementations that return a new buffer (kind="new") or
    mask a bytearray in place (kind="in place"): wsfast, a memory copy (the
    ceiling) and the peers."""
    # ssse3 masks with the SSE2 kernel: one row for both, unless ssse3 is in use.
    kernels = [k for k in kernels if k != "ssse3" or k == _impl.KERNEL]
    if kind == "new":
        impls = _c_kernels(kind, kernels, lambda: _call(_impl.apply_mask))
        impls += [
            Impl(COPY, kind, _copy_new),
            Impl("wsfast pure", kind, _call(_pure.apply_mask)),
            _peer("websockets", kind, "websockets.speedups", "apply_mask", _call),
            _peer("tornado", kind, "tornado.speedups", "websocket_mask",
                  lambda f: _call(f, key_first=True)),
            _peer("wsaccel", kind, "wsaccel.xormask", "XorMaskerSimple",
                  lambda cls: lambda data, key: lambda: cls(key).process(data)),
            _peer("numpy", kind, "numpy", "__name__", lambda _: _numpy_new(_numpy())),
        ]
    else:
        impls = _c_kernels(kind, kernels, lambda: _call(_impl.mask_into))
        impls += [
            Impl(COPY, kind, _copy_into),
            Impl("wsfast pure", kind, _call(_pure.mask_into)),
            _peer("aiohttp", kind, "aiohttp._websocket.mask", "_websocket_mask_cython",
                  lambda f: _call(f, key_first=True)),
            _peer("numpy", kind, "numpy", "__name__", lambda _: _numpy_into(_numpy())),
        ]
    impls.append(Impl("picows", kind, None,
                      "picows masks inside its transport; it exports no mask function"))
    return impls


def _validator(cls: type) -> Maker:
    def make(data: bytes, key: bytes) -> Callable[[], object]:
        v = cls()

        def run() -> object:
            v.reset()
            return v.validate(data)[0]
        return run
    return make


def utf8_impls(kernels: Iterable[str] = KERNELS) -> list[Impl]:
    """UTF-8 validators: wsfast, CPython's decoder, a memory copy (the
    ceiling) and peers. Each callable returns a true value for valid input."""
    impls = _c_kernels("validate", kernels, lambda: lambda data, key: functools.partial(
        _impl.validate_utf8, data))
    impls += [
        Impl(COPY, "validate", _copy_new),
        Impl("bytes.decode", "validate", lambda data, key: functools.partial(
            data.decode, "utf-8")),
        Impl("wsfast pure", "validate", lambda data, key: functools.partial(
            _pure.validate_utf8, data)),
        _peer("wsaccel", "validate", "wsaccel.utf8validator", "Utf8Validator", _validator),
        _peer("autobahn", "validate", "autobahn.websocket.utf8validator", "Utf8Validator",
              _validator),
    ]
    return impls


UTF8_SAMPLES = {
    "ascii": "The quick brown fox jumps over the lazy dog; 0123456789. ",
    "2-byte": "Ελληνικά κείμενα и русский текст ",
    "3-byte": "日本語のテキストと中文文本",
    "4-byte": "🎉😀🚀🦄🌍",
    "mixed": "WebSocket κόσμε 日本語 🎉 ",
}


def utf8_text(kind: str, size: int) -> bytes:
    """About ``size`` bytes of valid UTF-8 of the given kind, whole characters."""
    sample = UTF8_SAMPLES[kind].encode()
    data = (sample * (size // len(sample) + 1))[:size]
    return data[: len(data.decode("utf-8", "ignore").encode())]


# ---- Frame parsing ------------------------------------------------------------
#
# Each parser gets one buffer of masked client frames (binary, a random key
# each) and does the same work: it gets every payload as bytes and keeps them
# all until the buffer is done, as wsfast's feed() and aiohttp's queue do by
# design, so allocator costs weigh on each alike. The callable returns how
# many frames it got.

def frame_stream(size: int, frames: int) -> bytes:
    """``frames`` masked binary client frames of ``size`` random bytes each."""
    from wsfast import build_frame
    payload = os.urandom(size)
    return b"".join(build_frame(2, payload, mask=True) for _ in range(frames))


def frames_for(size: int, budget: int = 4 * MiB, most: int = 10_000) -> int:
    """How many frames of ``size`` bytes to parse in one call: about
    ``budget`` bytes of stream, at least one frame, at most ``most``."""
    return max(1, min(most, budget // max(size, 1)))


def _parse_with(parser_class: type) -> Maker:
    return lambda data, key: lambda: len(parser_class("server", max_frame_size=MAX_FRAME,
                                                      max_message_size=MAX_FRAME).feed(data))


def _wsproto(data: bytes, key: bytes) -> Callable[[], int]:
    from wsproto.frame_protocol import FrameProtocol

    def run() -> int:
        proto = FrameProtocol(client=False, extensions=[])  # it has no size limit
        proto.receive_bytes(data)
        return len([frame.payload for frame in proto.received_frames()])
    return run


def _websockets(data: bytes, key: bytes) -> Callable[[], int]:
    # What websockets' Protocol does: Frame.parse driven by its StreamReader.
    from websockets.frames import Frame
    from websockets.streams import StreamReader

    def run() -> int:
        reader = StreamReader()
        reader.feed_data(data)
        payloads = []
        while reader.buffer:
            parse = Frame.parse(reader.read_exact, mask=True, max_size=MAX_FRAME)
            try:
                next(parse)
            except StopIteration as done:
                payloads.append(done.value.data)
        return len(payloads)
    return run


class _FlowControl:
    """What aiohttp's data queue calls on flow control; nothing to do here."""
    _reading_paused = False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _aiohttp(loop: asyncio.AbstractEventLoop) -> Maker:
    from aiohttp._websocket import reader

    def parser() -> Any:
        queue = reader.WebSocketDataQueue(_FlowControl(), 1 << 30, loop=loop)
        return reader.WebSocketReader(queue, MAX_FRAME, False, False), queue

    parser()  # another aiohttp's reader takes other arguments: TypeError here, not mid-run

    def make(data: bytes, key: bytes) -> Callable[[], int]:
        def run() -> int:
            ws_reader, queue = parser()
            ws_reader.feed_data(data)
            return len(queue._buffer)  # the messages waiting to be read
        return run
    return make


def _picows(loop: asyncio.AbstractEventLoop) -> Maker:
    import picows as pw
    from picows.picows import WSProtocol

    def make(data: bytes, key: bytes) -> Callable[[], int]:
        payloads: list[bytes] = []

        class Listener(pw.WSListener):  # type: ignore[misc]
            def on_ws_frame(self, transport: Any, frame: Any) -> None:
                payloads.append(frame.get_payload_as_bytes())

        class Transport:
            """Just enough of an asyncio transport for the opening handshake."""
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # never connected

            def get_extra_info(self, name: str, default: Any = None) -> Any:
                return self.sock if name == "socket" else default

            def write(self, data: bytes) -> None:
                pass

            def is_closing(self) -> bool:
                return False

            def get_write_buffer_size(self) -> int:
                return 0

        logger = logging.getLogger("wsfast.bench.picows")
        logger.setLevel(logging.WARNING)   # it logs every connection at INFO

        async def connect() -> Any:
            proto = WSProtocol("127.0.0.1:1", "/", False, lambda request: Listener(), logger, True, None, False, 10, 10,
                               pw.WSAutoPingStrategy.PING_WHEN_IDLE, False, MAX_FRAME, None,
                               1 << 20)
            proto.connection_made(Transport())
            return proto

        proto = loop.run_until_complete(connect())
        Transport.sock.close()

        def feed(chunk: bytes) -> None:
            view = memoryview(chunk)
            while view:  # picows reads into its own buffer, as much as it offers
                target = proto.get_buffer(-1)
                n = min(len(target), len(view))
                target[:n] = view[:n]
                proto.buffer_updated(n)
                view = view[n:]

        feed(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Key: " + base64.b64encode(os.urandom(16)) +
             b"\r\nSec-WebSocket-Version: 13\r\n\r\n")

        def run() -> int:
            payloads.clear()
            feed(data)
            return len(payloads)
        return run
    return make


def _needs(label: str, module: str, make: Callable[[], Maker]) -> Impl:
    """A peer's driver, or the reason it cannot run: not installed, or a
    version whose internals the driver does not know."""
    try:
        __import__(module)
    except ImportError as exc:
        return Impl(label, "parse", None, f"{module} unavailable: {exc}")
    try:
        return Impl(label, "parse", make())
    except (AttributeError, TypeError) as exc:
        try:
            version = metadata.version(module)
        except metadata.PackageNotFoundError:
            version = "?"
        return Impl(label, "parse", None,
                    f"{module} {version} differs from what the driver knows: {exc}")


def parse_impls(loop: asyncio.AbstractEventLoop, kernels: Iterable[str] = KERNELS) -> list[Impl]:
    """Server-side frame parsers: wsfast, a memory copy of the stream (the
    ceiling) and the peers. aiohttp and picows need an event loop to exist
    (``loop``); they are fed without any socket."""
    impls = _c_kernels("parse", kernels, lambda: _parse_with(_impl.FrameParser))
    impls += [
        Impl(COPY, "parse", _copy_new),
        Impl("wsfast pure", "parse", _parse_with(_pure.FrameParser)),
        _needs("picows", "picows", lambda: _picows(loop)),
        _needs("aiohttp", "aiohttp._websocket.reader", lambda: _aiohttp(loop)),
        _needs("websockets", "websockets.frames", lambda: _websockets),
        _needs("wsproto", "wsproto.frame_protocol", lambda: _wsproto),
    ]
    return impls


# ---- Text delivery -------------------------------------------------------------
#
# One masked text frame, as a server receives it, to the ``str`` the
# application gets: each callable returns that str. The reference is the
# fastest way to do it by hand: wsfast's own unmasking, then CPython's decoder.

UNMASK_DECODE = "unmask + bytes.decode"


def text_frame(kind: str, size: int) -> tuple[bytes, str]:
    """A masked client text frame of about ``size`` bytes of ``kind`` text
    (see ``utf8_text``), and the text."""
    from wsfast import build_frame
    payload = utf8_text(kind, size)
    return build_frame(1, payload, mask=True), payload.decode("utf-8")


def _unmask_decode(data: bytes, key: bytes) -> Callable[[], str]:
    from wsfast import FrameParser
    frame = FrameParser("server", validate_utf8=False, max_frame_size=MAX_FRAME).feed(data)[0]
    start = len(data) - len(frame.payload)
    masked, frame_key = data[start:], data[start - 4:start]
    mask = _impl.apply_mask
    return lambda: mask(masked, frame_key).decode("utf-8")


def _deliver_with(parser_class: type) -> Maker:
    # As the Connection reads: whole messages from feed_messages, UTF-8 checked
    # there (validate_utf8="incomplete" leaves it to the decoding).
    def make(data: bytes, key: bytes) -> Callable[[], object]:
        parser = parser_class("server", validate_utf8="incomplete", max_frame_size=MAX_FRAME,
                              max_message_size=MAX_FRAME)

        def run() -> object:
            out: list[object] = []
            parser.feed_messages(data, out)
            return out[0]
        return run
    return make


def _websockets_text(data: bytes, key: bytes) -> Callable[[], str]:
    from websockets.frames import Frame
    from websockets.streams import StreamReader

    def run() -> str:
        reader = StreamReader()
        reader.feed_data(data)
        parse = Frame.parse(reader.read_exact, mask=True, max_size=MAX_FRAME)
        try:
            next(parse)
        except StopIteration as done:
            return str(done.value.data.decode("utf-8"))
        raise AssertionError("websockets wanted more bytes")
    return run


def _aiohttp_text(loop: asyncio.AbstractEventLoop) -> Maker:
    from aiohttp._websocket import reader
    _aiohttp(loop)   # fails early on an aiohttp whose reader it does not know

    def make(data: bytes, key: bytes) -> Callable[[], object]:
        def run() -> object:
            # A reader per message, as the parse driver does: one kept for
            # the whole run has been seen to stop delivering.
            queue = reader.WebSocketDataQueue(_FlowControl(), 1 << 30, loop=loop)
            reader.WebSocketReader(queue, MAX_FRAME, False, False).feed_data(data)
            got = queue._buffer.popleft()[0].data   # (WSMessage, size)
            # aiohttp 3.13 on hands text over as bytes, decoded when the
            # application asks for str (WSMessageTextBytes).
            return got if isinstance(got, str) else got.decode("utf-8")
        return run
    return make


def text_impls(loop: asyncio.AbstractEventLoop, kernels: Iterable[str] = KERNELS) -> list[Impl]:
    """Text delivery: wsfast's parser (each kernel, and pure Python), unmasking
    and ``bytes.decode`` by hand (the reference), and the peers' readers."""
    impls = _c_kernels("deliver", kernels, lambda: _deliver_with(_impl.FrameParser))
    impls += [
        Impl(UNMASK_DECODE, "deliver", _unmask_decode),
        Impl("wsfast pure", "deliver", _deliver_with(_pure.FrameParser)),
        _needs("aiohttp", "aiohttp._websocket.reader", lambda: _aiohttp_text(loop)),
        _needs("websockets", "websockets.frames", lambda: _websockets_text),
    ]
    return impls


# ---- Timing -------------------------------------------------------------------

def warm_heap() -> bool:
    """Keep freed memory in the process (glibc: no trimming, no mmap for
    large blocks), as it is in a long-running server, so that a benchmark
    that allocates megabytes per call measures the code, not the kernel
    faulting fresh zeroed pages in. Process-wide; returns False where it
    cannot be done (not glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3   # from glibc's malloc.h
    # 32 MiB is the largest mmap threshold glibc accepts on 64-bit.
    return bool(mallopt(m_trim_threshold, 1 << 30)) and bool(mallopt(m_mmap_threshold, 1 << 25))


def batch(fn: Callable[[], object], n: int) -> Callable[[], float]:
    """A callable that calls fn n times in a timeit loop, so that the harness
    adds little to the time of small calls. A partial is unwrapped and its
    function called with its arguments at an ordinary Python call site,
    ``f(a0, a1)``, as an application would call it."""
    if isinstance(fn, functools.partial) and not fn.keywords:
        func, args = fn.func, fn.args
    else:
        func, args = fn, ()
    names = {f"a{i}": a for i, a in enumerate(args)}
    timer = timeit.Timer(f"f({', '.join(names)})", globals={"f": func, **names})
    return functools.partial(timer.timeit, n)


def calibrate(fn: Callable[[], object], min_time: float = 0.02) -> int:
    """How many calls of fn make a batch of at least ``min_time`` seconds
    (the calls made to find out also warm the caches)."""
    number = 1
    for _ in range(64):  # doubling at least: 2**64 calls is past any machine
        # The better of two tries: one stall of a shared machine must not
        # fix the batch at a single call whose timing is all overhead.
        elapsed = min(_timed(batch(fn, number)) for _ in range(2))
        if elapsed >= min_time:
            break
        number *= 2 if elapsed == 0 else max(2, int(min_time / elapsed * 1.2))
    return number


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def time_batch(fn: Callable[[], object], number: int) -> float:
    """Seconds per call of fn over one batch of ``number`` calls."""
    return _timed(batch(fn, number)) / number


def measure(fn: Callable[[], object], repeats: int = 5, min_time: float = 0.02) -> float:
    """Median seconds per call of fn over ``repeats`` calibrated batches."""
    number = calibrate(fn, min_time)
    return statistics.median(time_batch(fn, number) for _ in range(repeats))


def size_label(n: int) -> str:
    """16 -> "16 B", 65536 -> "64 KiB", 16777216 -> "16 MiB"."""
    if n >= MiB and n % MiB == 0:
        return f"{n // MiB} MiB"
    if n >= KiB and n % KiB == 0:
        return f"{n // KiB} KiB"
    return f"{n} B"


def parse_size(text: str) -> int:
    """"16", "1KiB", "64k", "16MiB", "1m" -> bytes."""
    t = text.strip().lower().replace(" ", "")
    for suffix, scale in (("kib", KiB), ("mib", MiB), ("kb", KiB), ("mb", MiB), ("k", KiB),
                          ("m", MiB), ("b", 1)):
        if t.endswith(suffix):
            t, unit = t[: -len(suffix)], scale
            break
    else:
        unit = 1
    if not t.isdigit() or int(t) * unit <= 0:
        raise ValueError(f"not a size: {text!r} (examples: 16, 1KiB, 64KiB, 16MiB)")
    return int(t) * unit
