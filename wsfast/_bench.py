"""Throughput measurement behind ``python -m wsfast bench``, and the list of
implementations that it and the pytest-benchmark suite in ``bench/`` compare.

Each implementation is an ``Impl``: a label, what it does ("new": return a
new buffer, "in place": change a bytearray, "validate"), and
``make(data, key)`` returning a zero-argument callable that does one
operation on ``data`` (for "in place", data is a bytearray that it changes).
Peers that are not installed are listed
with the reason, never silently left out. Timings use calibrated repetitions
(at least ~20 ms per repeat), warm caches (the same buffer every call) and the
median of several repeats.
"""
from __future__ import annotations

import contextlib
import functools
import os
import statistics
import time
import timeit
from typing import Callable, Iterable, Iterator, NamedTuple

from wsfast import _impl, _pure

KiB, MiB = 1024, 1024 * 1024
KERNELS = ("scalar", "sse2", "avx2", "neon")


class Impl(NamedTuple):
    label: str
    kind: str                      # "new" (returns a new buffer) or "in place" or "validate"
    make: Callable[[bytes, bytes], Callable[[], object]] | None
    missing: str = ""              # why make is None


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


def _import(module: str, name: str) -> tuple[object, str]:
    try:
        mod = __import__(module, fromlist=[name])
        return getattr(mod, name), ""
    except (ImportError, AttributeError) as exc:
        return None, f"{module}.{name} unavailable: {exc}"


def _peer(label: str, kind: str, module: str, name: str,
          make: Callable[[object], Callable[[bytes, bytes], Callable[[], object]]]) -> Impl:
    obj, missing = _import(module, name)
    return Impl(label, kind, make(obj) if obj is not None else None, missing)


def _in_place(fn: Callable[..., object], key_first: bool = False):
    def make(buf: bytearray, key: bytes) -> Callable[[], object]:
        return functools.partial(fn, key, buf) if key_first else functools.partial(fn, buf, key)
    return make


def _c_kernel(name: str, kind: str) -> Impl:
    label = f"wsfast C {name}"
    if _impl.IMPLEMENTATION != "c":
        return Impl(label, kind, None, "the C extension is not in use")
    if name not in _impl.available_kernels():
        return Impl(label, kind, None, f"this CPU or build cannot run {name}")
    fn = _impl.mask_into if kind == "in place" else _impl.apply_mask
    make = _in_place(fn) if kind == "in place" else (
        lambda data, key: functools.partial(fn, data, key))
    return Impl(label, kind, make)


def mask_impls(kind: str, kernels: Iterable[str] = KERNELS) -> list[Impl]:
    """Masking implementations that return a new buffer (kind="new") or
    mask a bytearray in place (kind="in place"), wsfast and peers."""
    impls = [_c_kernel(k, kind) for k in kernels]
    if kind == "new":
        impls += [
            Impl("memory copy", kind, lambda data, key: functools.partial(
                bytes, memoryview(data))),
            Impl("wsfast pure", kind, lambda data, key: functools.partial(
                _pure.apply_mask, data, key)),
            _peer("websockets", kind, "websockets.speedups", "apply_mask",
                  lambda f: lambda data, key: functools.partial(f, data, key)),
            _peer("tornado", kind, "tornado.speedups", "websocket_mask",
                  lambda f: lambda data, key: functools.partial(f, key, data)),
            _peer("wsaccel", kind, "wsaccel.xormask", "XorMaskerSimple",
                  lambda cls: lambda data, key: lambda: cls(key).process(data)),
        ]
    else:
        impls += [
            Impl("memory copy", kind, lambda buf, key: functools.partial(
                buf.__setitem__, slice(None), bytes(buf))),
            Impl("wsfast pure", kind, _in_place(_pure.mask_into)),
            _peer("aiohttp", kind, "aiohttp._websocket.mask", "_websocket_mask_cython",
                  lambda f: _in_place(f, key_first=True)),
        ]
    impls.append(Impl("picows", kind, None,
                      "picows masks inside its transport; it exports no mask function"))
    return impls


def _validator(cls: type) -> Callable[[bytes, bytes], Callable[[], object]]:
    def make(data: bytes, key: bytes) -> Callable[[], object]:
        v = cls()

        def run() -> object:
            v.reset()
            return v.validate(data)[0]
        return run
    return make


def utf8_impls(kernels: Iterable[str] = KERNELS) -> list[Impl]:
    """UTF-8 validators: wsfast, CPython's decoder and peers. Each callable
    returns a true value for valid input."""
    impls = []
    for k in kernels:
        label = f"wsfast C {k}"
        if _impl.IMPLEMENTATION != "c":
            impls.append(Impl(label, "validate", None, "the C extension is not in use"))
        elif k not in _impl.available_kernels():
            impls.append(Impl(label, "validate", None, f"this CPU or build cannot run {k}"))
        else:
            impls.append(Impl(label, "validate", lambda data, key: functools.partial(
                _impl.validate_utf8, data)))
    impls += [
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


def measure(fn: Callable[[], object], repeats: int = 5, min_time: float = 0.02) -> float:
    """Median seconds per call of fn."""
    number = 1
    while True:
        start = time.perf_counter()
        batch(fn, number)()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        number *= 2 if elapsed == 0 else max(2, int(min_time / elapsed * 1.2))
    times = []
    for _ in range(repeats):
        run = batch(fn, number)
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def size_label(n: int) -> str:
    if n >= MiB:
        return f"{n // MiB} MiB"
    if n >= KiB:
        return f"{n // KiB} KiB"
    return f"{n} B"


def _cases(suite: str, sizes: list[int]) -> Iterator[tuple[str, int, list[Impl], bytes, bytes]]:
    active = [_impl.KERNEL] if _impl.IMPLEMENTATION == "c" else []
    key = os.urandom(4)
    if suite == "mask":
        for kind in ("new", "in place"):
            impls = mask_impls(kind, active)
            for n in sizes:
                data = os.urandom(n)
                yield f"mask, {kind}", n, impls, bytearray(data) if kind == "in place" else data, key
    else:
        impls = utf8_impls(active)
        for text in ("ascii", "mixed"):
            for n in sizes:
                yield f"utf8 {text}", n, impls, utf8_text(text, n), key


def run(suite: str = "mask", quick: bool = False, out: Callable[[str], None] = print,
        sizes: list[int] | None = None) -> list[dict]:
    if sizes is None:
        sizes = [1 * KiB, 64 * KiB, 1 * MiB] if quick else [16, 125, 1 * KiB, 64 * KiB, 1 * MiB,
                                                           16 * MiB]
    chosen = ["mask", "utf8"] if suite == "all" else [suite]
    results = []
    out(f"implementation={_impl.IMPLEMENTATION} kernel={_impl.KERNEL}")
    for name in chosen:
        missing: dict[str, str] = {}
        for title, n, impls, data, key in _cases(name, sizes):
            out(f"{title}, {size_label(n)}:")
            base, base_label = 0.0, ""
            for impl in impls:
                if impl.make is None:
                    missing[impl.label] = impl.missing
                    continue
                seconds = measure(impl.make(data, key), repeats=3 if quick else 5,
                                  min_time=0.01 if quick else 0.02)
                if not base:   # the first one measured: wsfast C when it is built
                    base, base_label = seconds, impl.label
                results.append({"suite": name, "case": title, "impl": impl.label, "size": n,
                                "seconds": seconds, "gbps": len(data) / seconds / 1e9})
                out(f"  {impl.label:<18} {len(data) / seconds / 1e9:8.2f} GB/s "
                    f"{seconds * 1e9:12.0f} ns  {seconds / base:6.2f}x the time of {base_label}")
        for label, why in missing.items():
            out(f"  (not measured: {label}: {why})")
    return results


def summary_line(size: int = 1 * MiB) -> str:
    """One line for the demo: masking throughput, C against pure Python."""
    data, key = os.urandom(size), os.urandom(4)
    copy = size / measure(lambda: bytes(memoryview(data)), repeats=3, min_time=0.01) / 1e9
    pure = size / measure(lambda: _pure.apply_mask(data, key), repeats=3, min_time=0.01) / 1e9
    parts = [f"masking {size_label(size)}:"]
    if _impl.IMPLEMENTATION == "c":
        c = size / measure(lambda: _impl.apply_mask(data, key), repeats=3, min_time=0.01) / 1e9
        parts.append(f"C ({_impl.KERNEL}) {c:.1f} GB/s ({c / copy:.2f}x memory copy),")
        parts.append(f"pure Python {pure:.2f} GB/s: C is {c / pure:.0f}x faster")
    else:
        parts.append(f"pure Python {pure:.2f} GB/s (C extension not built)")
    return " ".join(parts)
