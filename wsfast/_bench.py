"""Throughput measurement behind ``python -m wsfast bench``.

Each case is timed with calibrated repetitions (at least ~20 ms per repeat),
warm caches (the same buffer every call), and the median of several repeats.
"""
from __future__ import annotations

import os
import statistics
import time
from typing import Callable, Iterable

from wsfast import _impl, _pure

KiB, MiB = 1024, 1024 * 1024


def measure(fn: Callable[[], object], repeats: int = 5, min_time: float = 0.02) -> float:
    """Median seconds per call of fn."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        number *= 2 if elapsed == 0 else max(2, int(min_time / elapsed * 1.2))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def size_label(n: int) -> str:
    if n >= MiB:
        return f"{n // MiB} MiB"
    if n >= KiB:
        return f"{n // KiB} KiB"
    return f"{n} B"


def mask_cases(sizes: Iterable[int]) -> list[tuple[str, int, Callable[[], object]]]:
    key = os.urandom(4)
    cases = []
    for n in sizes:
        data = os.urandom(n)
        cases.append(("memory copy", n, lambda m=memoryview(data): bytes(m)))
        if _impl.IMPLEMENTATION == "c":
            cases.append((f"wsfast C ({_impl.KERNEL})", n, lambda d=data: _impl.apply_mask(d, key)))
        cases.append(("wsfast pure Python", n, lambda d=data: _pure.apply_mask(d, key)))
    return cases


def utf8_cases(sizes: Iterable[int]) -> list[tuple[str, int, Callable[[], object]]]:
    cases = []
    for n in sizes:
        text = ("WebSocket κόσμε 日本語 🎉 " * (n // 20 + 1)).encode()
        data = text[: len(text[:n].decode("utf-8", "ignore").encode())]
        cases.append(("bytes.decode", n, lambda d=data: d.decode("utf-8")))
        if _impl.IMPLEMENTATION == "c":
            cases.append((f"wsfast C ({_impl.KERNEL})", n, lambda d=data: _impl.validate_utf8(d)))
        cases.append(("wsfast pure Python", n, lambda d=data: _pure.validate_utf8(d)))
    return cases


def run(suite: str = "mask", quick: bool = False, out: Callable[[str], None] = print) -> list[dict]:
    sizes = [1 * KiB, 64 * KiB, 1 * MiB] if quick else [16, 125, 1 * KiB, 64 * KiB, 1 * MiB, 16 * MiB]
    suites = {"mask": mask_cases, "utf8": utf8_cases}
    chosen = list(suites) if suite == "all" else [suite]
    results = []
    for name in chosen:
        out(f"{name}: implementation={_impl.IMPLEMENTATION} kernel={_impl.KERNEL}")
        out(f"  {'size':>8}  {'implementation':<22} {'GB/s':>8} {'ns/call':>12}")
        for label, n, fn in suites[name](sizes):
            seconds = measure(fn, repeats=3 if quick else 5, min_time=0.01 if quick else 0.02)
            gbps = n / seconds / 1e9
            results.append({"suite": name, "impl": label, "size": n, "seconds": seconds,
                            "gbps": gbps})
            out(f"  {size_label(n):>8}  {label:<22} {gbps:8.2f} {seconds * 1e9:12.0f}")
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
