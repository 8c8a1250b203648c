"""``python -m wsfast bench``: runs the implementations of ``wsfast.bench.impls`` side by
side in one process, prints a table per operation, and writes JSON and a
plot on request.

Method, the same for every cell: the input is made once per size and reused
by every call (warm caches); each implementation's result is checked once
before it is timed; the number of calls per timed batch is calibrated so a
batch lasts at least ``min_time``; the figure is the median of ``repeats``
batches. Every cell is also given relative to a plain memory copy of the
same bytes, measured in the same run: on a shared or throttled machine the
ratios hold up better than the absolute numbers.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

import wsfast
from wsfast import _impl
from wsfast.bench import impls as bench_impls
from wsfast.bench.impls import COPY, KiB, MiB, Impl

SUITES = ("mask", "utf8", "parse", "text")
DEFAULT_SIZES = [16, 125, 1 * KiB, 64 * KiB, 1 * MiB, 16 * MiB]
QUICK_SIZES = [16, 1 * KiB, 64 * KiB, 1 * MiB]
PEERS = ("websockets", "aiohttp", "tornado", "wsaccel", "autobahn", "wsproto", "picows", "numpy")
# The x86 and Arm features that matter to the kernels, as /proc/cpuinfo names them.
SIMD_FLAGS = ("sse2", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "bmi2", "avx512f", "avx512bw",
              "avx512vl", "asimd", "neon", "sve", "sve2")
SCHEMA = 1


@dataclass
class Case:
    """One operation over a list of sizes, e.g. masking into a new buffer.
    ``make_input(size)`` gives the input and what ``check(impl, fn, data,
    expected)`` needs to tell whether ``fn`` did the operation right."""
    suite: str
    name: str
    impls: list[Impl]
    make_input: Callable[[int], tuple[Any, Any]]
    check: Callable[[Impl, Callable[[], object], Any, Any], bool]
    key: bytes = b""
    reset: Callable[[Any, Any], None] | None = None   # put the input back before each impl
    unit: str = "bytes"                            # "bytes" (GB/s) or "frames" (frames/s)
    ref: str = COPY                                # the row the ratios are against


@dataclass
class Report:
    """What one run measured, what it could not, and how long it took."""
    results: list[dict[str, Any]] = field(default_factory=list)
    not_measured: list[dict[str, str]] = field(default_factory=list)
    method: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


# ---- the cases ------------------------------------------------------------------

def _mask_case(kind: str, kernels: list[str]) -> Case:
    key = os.urandom(4)

    def make_input(n: int) -> tuple[Any, Any]:
        data = os.urandom(n)
        # The RFC 6455 definition, computed without any implementation under test.
        pattern = (key * (n // 4 + 1))[:n]
        want = (int.from_bytes(data, "little") ^ int.from_bytes(pattern, "little")).to_bytes(
            n, "little")
        return (bytearray(data) if kind == "in place" else data), (data, want)

    def check(impl: Impl, fn: Callable[[], object], data: Any, expect: Any) -> bool:
        original, want = expect
        if kind == "new":
            return bytes(fn()) == (original if impl.label == COPY else want)  # type: ignore
        fn()
        return bool(bytes(data) == (original if impl.label == COPY else want))

    def reset(data: Any, expect: Any) -> None:
        data[:] = expect[0]   # timing masked it an unknown number of times

    return Case("mask", f"mask, {kind}", bench_impls.mask_impls(kind, kernels), make_input, check,
                key=key, reset=reset if kind == "in place" else None)


def _same_bytes_or(check: Callable[[Callable[[], object], Any, Any], bool]) -> Callable[
        [Impl, Callable[[], object], Any, Any], bool]:
    """The check for a case whose memory copy returns a copy of its input."""
    def both(impl: Impl, fn: Callable[[], object], data: Any, expect: Any) -> bool:
        if impl.label == COPY:
            return bool(fn() == data)
        return check(fn, data, expect)
    return both


def _utf8_case(text: str, kernels: list[str]) -> Case:
    return Case("utf8", f"utf8 validate, {text}", bench_impls.utf8_impls(kernels),
                lambda n: (bench_impls.utf8_text(text, n), None),
                _same_bytes_or(lambda fn, data, expect: bool(fn())))


def _text_case(text: str, loop: asyncio.AbstractEventLoop, kernels: list[str]) -> Case:
    def make_input(n: int) -> tuple[Any, Any]:
        return bench_impls.text_frame(text, n)

    return Case("text", f"text delivery, {text}", bench_impls.text_impls(loop, kernels),
                make_input, lambda impl, fn, data, want: fn() == want,
                ref=bench_impls.UNMASK_DECODE)


def _parse_case(loop: asyncio.AbstractEventLoop, kernels: list[str]) -> Case:
    def make_input(n: int) -> tuple[Any, Any]:
        frames = bench_impls.frames_for(n)
        return bench_impls.frame_stream(n, frames), frames

    return Case("parse", "parse masked frames", bench_impls.parse_impls(loop, kernels), make_input,
                _same_bytes_or(lambda fn, data, frames: fn() == frames), unit="frames")


# ---- progress -------------------------------------------------------------------

class Progress:
    """One line on a terminal, rewritten in place: ``[ 12/96] mask ...``.
    Silent when the stream is not a terminal (a log or a pipe)."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None):
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.monotonic()

    def step(self, text: str) -> None:
        """One more of ``total`` done; show what is running now."""
        self.done += 1
        self.show(text)

    def show(self, text: str) -> None:
        """Rewrite the line without counting a step."""
        if self.enabled:
            elapsed = time.monotonic() - self.start
            line = f"[{self.done:>3}/{self.total}] {elapsed:5.1f}s {text}"
            self.stream.write("\r\x1b[K" + line[:100])
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# ---- running --------------------------------------------------------------------

def _cases(suites: list[str], loop: asyncio.AbstractEventLoop) -> list[Case]:
    kernels = bench_impls.kernel_order()
    cases: list[Case] = []
    for suite in suites:
        if suite == "mask":
            cases += [_mask_case("new", kernels), _mask_case("in place", kernels)]
        elif suite == "utf8":
            cases += [_utf8_case("ascii", kernels), _utf8_case("mixed", kernels)]
        elif suite == "text":
            cases += [_text_case(t, loop, kernels) for t in ("ascii", "2-byte", "3-byte", "mixed")]
        else:
            cases.append(_parse_case(loop, kernels))
    return cases


def run(suite: str = "mask", sizes: list[int] | None = None, quick: bool = False,
        out: Callable[[str], None] = print, progress: bool | None = None,
        warm_heap: bool = True) -> Report:
    """Measure ``suite`` ("mask", "utf8", "parse", "text" or "all") at ``sizes``,
    print one table per operation through ``out`` and return the results.
    ``warm_heap``: keep freed memory in the process first (see
    ``bench_impls.warm_heap``), so megabyte-sized results do not cost page faults."""
    suites = list(SUITES) if suite == "all" else [suite]
    if suite not in SUITES + ("all",):
        raise ValueError(f"unknown suite {suite!r}: choose from {', '.join(SUITES)}, all")
    sizes = sorted(set(sizes or (QUICK_SIZES if quick else DEFAULT_SIZES)))
    repeats, min_time = (3, 0.005) if quick else (5, 0.02)
    started = time.monotonic()
    report = Report(method={"statistic": "median", "repeats": repeats, "min_batch_s": min_time,
                            "warm_caches": True, "results_checked": True,
                            "heap": "warm" if warm_heap and bench_impls.warm_heap() else "as is"})
    loop = asyncio.new_event_loop()   # aiohttp's and picows' parsers want one to exist
    try:
        cases = _cases(suites, loop)
        bar = Progress(sum(len(sizes) * sum(i.make is not None for i in c.impls) for c in cases),
                       enabled=progress)
        try:
            for case in cases:
                report.results += _run_case(case, sizes, repeats, min_time, bar, report)
        finally:
            bar.close()
    finally:
        loop.close()
    report.seconds = time.monotonic() - started
    out(header())
    out(f"method: median of {repeats} batches of calibrated calls (>= {min_time * 1e3:g} ms "
        "each), warm caches (the same input every call), every result checked first, "
        f"heap {report.method['heap']}")
    for case in cases:
        out("")
        out(table(case, [r for r in report.results if r["case"] == case.name], sizes))
    for item in report.not_measured:
        out(f"not measured: {item['impl']} ({item['suite']}): {item['reason']}")
    out(f"\n{sum(1 for _ in report.results)} measurements in {report.seconds:.1f} s")
    return report


def _run_case(case: Case, sizes: list[int], repeats: int, min_time: float, bar: Progress,
              report: Report) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for impl in case.impls:
        if impl.make is None and not any(n["impl"] == impl.label and n["suite"] == case.suite
                                         for n in report.not_measured):
            report.not_measured.append({"suite": case.suite, "impl": impl.label,
                                        "reason": impl.missing})
    for n in sizes:
        data, expect = case.make_input(n)
        # Check each implementation, then time them round-robin: batch r of
        # every implementation before batch r + 1 of any, so that a burst of
        # load from elsewhere on the machine hits them all alike.
        timed: list[tuple[Impl, Callable[[], object], int]] = []
        for impl in case.impls:
            if impl.make is None:
                continue
            bar.step(f"{case.name}, {bench_impls.size_label(n)}: {impl.label}")
            if case.reset:
                case.reset(data, expect)
            with bench_impls.using(impl):
                fn = impl.make(data, case.key)
                if not case.check(impl, fn, data, expect):
                    report.not_measured.append({"suite": case.suite, "impl": impl.label,
                                                "reason": f"wrong result at {n} bytes"})
                    continue
                timed.append((impl, fn, bench_impls.calibrate(fn, min_time)))
        times: dict[str, list[float]] = {impl.label: [] for impl, _, _ in timed}
        for r in range(repeats):
            bar.show(f"{case.name}, {bench_impls.size_label(n)}: timing round {r + 1} of {repeats}")
            for impl, fn, number in timed:
                with bench_impls.using(impl):
                    times[impl.label].append(bench_impls.time_batch(fn, number))
        at_size: list[dict[str, Any]] = []
        for impl, _, _ in timed:
            seconds = statistics.median(times[impl.label])
            row = {"suite": case.suite, "case": case.name, "impl": impl.label, "size": n,
                   "bytes": len(data), "seconds": seconds, "gbps": len(data) / seconds / 1e9,
                   "ref": case.ref}
            if case.unit == "frames":
                row["frames"] = expect
                row["frames_per_s"] = expect / seconds
            at_size.append(row)
        copy = next((r["seconds"] for r in at_size if r["impl"] == case.ref), None)
        for row in at_size:
            row["vs_copy"] = copy / row["seconds"] if copy else None   # against row["ref"]
        rows += at_size
    return rows


# ---- output ---------------------------------------------------------------------

def header() -> str:
    return (f"wsfast {wsfast.__version__}: implementation={_impl.IMPLEMENTATION}, "
            f"kernel={_impl.KERNEL}; {cpu_model()}; Python {platform.python_version()}")


def _value(row: dict[str, Any], unit: str) -> str:
    if unit == "frames":
        v = row["frames_per_s"]
        return f"{v / 1e6:.4g}M" if v >= 1e5 else f"{v / 1e3:.4g}k"
    return f"{row['gbps']:.3g}"


def ratio(x: float) -> str:
    """1.43x, 0.05x, 0.0031x: two decimals, or two significant digits below 0.1."""
    return f"{x:.2f}x" if x >= 0.1 else f"{x:.2g}x"


def table(case: Case, rows: list[dict[str, Any]], sizes: list[int]) -> str:
    """A plain-text table: one row per implementation, one column per size;
    each cell is throughput and, after it, throughput relative to a memory
    copy of the same bytes (1.00x = as fast as copying)."""
    what = ("frames/s (payload sizes; a buffer of about 4 MiB of frames, at most 10,000)"
            if case.unit == "frames" else "GB/s")
    lines = [f"{case.name}: {what}, and x {case.ref}"]
    width = 16
    name = max([18] + [len(i.label) + 1 for i in case.impls])
    lines.append(f"  {'implementation':<{name}}" + "".join(
        f"{bench_impls.size_label(n):>{width}}" for n in sizes))
    for impl in case.impls:
        cells = {r["size"]: r for r in rows if r["impl"] == impl.label}
        if not cells:
            continue
        mark = "*" if impl.kernel and impl.kernel == _impl.KERNEL else " "
        text = []
        for n in sizes:
            r = cells.get(n)
            if r is None:
                text.append(f"{'—':>{width}}")
                continue
            vs = ratio(r["vs_copy"]) if r.get("vs_copy") else ""
            text.append(f"{_value(r, case.unit) + ' ' + vs:>{width}}")
        lines.append(f" {mark}{impl.label:<{name}}" + "".join(text))
    lines.append("  (* the kernel wsfast chose on this machine)")
    return "\n".join(lines)


def cpu_model() -> str:
    """The CPU's name: /proc/cpuinfo on Linux, the platform module elsewhere."""
    info = _cpuinfo()
    for key in ("model name", "Hardware", "Processor", "cpu model"):
        if info.get(key):
            return info[key]
    return platform.processor() or platform.machine() or "unknown CPU"


def simd_features() -> list[str]:
    """The SIMD features the CPU reports (Linux), or [] where unknown."""
    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    return [f for f in SIMD_FLAGS if f in flags]


def _cpuinfo() -> dict[str, str]:
    """The first processor's block of /proc/cpuinfo; {} off Linux."""
    info: dict[str, str] = {}
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    if info:
                        break
                    continue
                name, _, value = line.partition(":")
                info.setdefault(name.strip(), value.strip())
    return info


def peer_versions() -> dict[str, str | None]:
    """The installed version of each peer project (None: not installed)."""
    from importlib import metadata
    versions: dict[str, str | None] = {}
    for name in PEERS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def machine_info() -> dict[str, Any]:
    load = None
    with contextlib.suppress(OSError, AttributeError):
        load = [round(x, 2) for x in os.getloadavg()]
    return {
        "cpu": cpu_model(),
        "simd": simd_features(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": load,
    }


def to_json(report: Report, suite: str, quick: bool) -> dict[str, Any]:
    """The machine-readable form of a run (schema version ``SCHEMA``)."""
    return {
        "schema": SCHEMA,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m wsfast bench " + " ".join(sys.argv[2:]) if sys.argv[1:2] == [
            "bench"] else None,
        "suite": suite,
        "quick": quick,
        "duration_s": round(report.seconds, 3),
        "machine": machine_info(),
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation(),
                   "compiler": platform.python_compiler()},
        "wsfast": {"version": wsfast.__version__, "implementation": _impl.IMPLEMENTATION,
                   "kernel": _impl.KERNEL, "available_kernels": list(_impl.available_kernels())},
        "peers": peer_versions(),
        "method": report.method,
        "results": report.results,
        "not_measured": report.not_measured,
    }


def write_json(path: str, report: Report, suite: str, quick: bool) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_json(report, suite, quick), f, indent=1)
        f.write("\n")


def require_matplotlib() -> Any:
    """matplotlib.pyplot with a file-only backend, or an error that says how
    to get it (it is the optional extra ``wsfast[bench]``)."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'wsfast[bench]' "
                           "(or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot(path: str, report: Report) -> None:
    """Throughput against size, log-log, one panel per operation and one line
    per implementation (the same colour in every panel; the memory copy
    dashed black)."""
    plt = require_matplotlib()
    cases = list(dict.fromkeys(r["case"] for r in report.results))
    impls = list(dict.fromkeys(r["impl"] for r in report.results))
    colours = {name: plt.get_cmap("tab20")(i % 20) for i, name in
               enumerate(i for i in impls if i != COPY)}
    cols = 2 if len(cases) > 1 else 1
    rows = (len(cases) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(7.5 * cols, 4.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, cases):
        results = [r for r in report.results if r["case"] == name]
        frames = "frames_per_s" in results[0]
        for impl in impls:
            pts = sorted((r["size"], r["frames_per_s"] if frames else r["gbps"])
                         for r in results if r["impl"] == impl)
            if not pts:
                continue
            style = ({"color": "black", "linestyle": "--", "linewidth": 2} if impl == COPY
                     else {"color": colours[impl], "marker": "o", "markersize": 3.5,
                           "linewidth": 2.2 if impl.startswith("wsfast C") else 1.3})
            label = impl + (" (chosen)" if impl == f"wsfast C {_impl.KERNEL}" else "")
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=label, **style)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        sizes = sorted({r["size"] for r in results})
        ax.set_xticks(sizes, [bench_impls.size_label(n).replace(" ", "") for n in sizes])
        ax.set_title(name)
        ax.set_xlabel("payload size" if frames else "input size")
        ax.set_ylabel("frames/s" if frames else "GB/s")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(cases):]:
        ax.set_visible(False)
    fig.suptitle(f"wsfast bench: {header()}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---- the demo's line --------------------------------------------------------------

def summary_line(size: int = 1 * MiB) -> str:
    """One line for the demo: masking into a new buffer at ``size``, the
    active C kernel against a memory copy and pure Python (the same
    implementations and timing as the "mask, new" table, fewer repeats)."""
    data, key = os.urandom(size), os.urandom(4)
    wanted = {COPY, "wsfast pure", f"wsfast C {_impl.KERNEL}"}
    gbps = {}
    for impl in bench_impls.mask_impls("new", [_impl.KERNEL] if _impl.IMPLEMENTATION == "c" else []):
        if impl.label in wanted and impl.make is not None:
            gbps[impl.label] = size / bench_impls.measure(impl.make(data, key), repeats=3,
                                                     min_time=0.01) / 1e9
    copy, pure = gbps[COPY], gbps["wsfast pure"]
    parts = [f"masking {bench_impls.size_label(size)}:"]
    c = gbps.get(f"wsfast C {_impl.KERNEL}")
    if c is not None:
        parts.append(f"C ({_impl.KERNEL}) {c:.1f} GB/s ({c / copy:.2f}x memory copy),")
        parts.append(f"pure Python {pure:.2f} GB/s: C is {c / pure:.0f}x faster")
    else:
        parts.append(f"pure Python {pure:.2f} GB/s ({pure / copy:.2f}x memory copy; "
                     "C extension not built)")
    return " ".join(parts)
