"""``python -m wsfast bench`` as a user runs it: a separate process, --quick
on tiny sizes, its JSON read back. Nothing here asserts a timing: only that
every suite, implementation and field is there and makes sense."""
import asyncio
import importlib.util
import json
import os
import subprocess
import sys

import pytest

import wsfast
from wsfast.bench import impls as bench_impls

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
SIZES = ["16", "1KiB"]


def bench(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "wsfast", "bench", *args], capture_output=True,
                          text=True, timeout=timeout, env=ENV)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "out.json"
    proc = bench("--suite", "all", "--quick", "--sizes", *SIZES, "--json", str(path))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads(path.read_text())


def expected_impls():
    """Every implementation the run should have measured, by suite: each
    peer that is importable here, and wsfast's kernels this CPU runs."""
    loop = asyncio.new_event_loop()
    try:
        lists = {"mask": bench_impls.mask_impls("new") + bench_impls.mask_impls("in place"),
                 "utf8": bench_impls.utf8_impls(), "parse": bench_impls.parse_impls(loop),
                 "text": bench_impls.text_impls(loop)}
    finally:
        loop.close()
    return {suite: {i.label for i in impls if i.make is not None}
            for suite, impls in lists.items()}


def test_json_schema(result):
    _, data = result
    assert data["schema"] == 1
    assert data["suite"] == "all" and data["quick"] is True
    assert data["duration_s"] > 0
    assert data["machine"]["cpu"] and isinstance(data["machine"]["simd"], list)
    if sys.platform.startswith("linux") and os.uname().machine == "x86_64":
        assert "sse2" in data["machine"]["simd"]
    assert data["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert data["wsfast"] == {"version": wsfast.__version__,
                              "implementation": wsfast.IMPLEMENTATION,
                              "kernel": wsfast.KERNEL,
                              "available_kernels": list(wsfast.available_kernels())}
    assert data["method"]["statistic"] == "median" and data["method"]["repeats"] >= 3
    for row in data["results"]:
        assert set(row) >= {"suite", "case", "impl", "size", "bytes", "seconds", "gbps",
                            "vs_copy", "ref"}
        assert row["size"] in (16, 1024)
        assert row["seconds"] > 0 and row["gbps"] > 0 and row["vs_copy"] > 0
        if row["suite"] == "parse":
            assert row["frames"] == bench_impls.frames_for(row["size"])
            assert row["frames_per_s"] > 0
    for item in data["not_measured"]:
        assert set(item) == {"suite", "impl", "reason"} and item["reason"]
        assert not item["reason"].startswith("wrong result"), item


def test_every_installed_peer_appears(result):
    stdout, data = result
    for suite, labels in expected_impls().items():
        measured = {(r["impl"], r["size"]) for r in data["results"] if r["suite"] == suite}
        for label in labels:
            for size in (16, 1024):
                assert (label, size) in measured, (suite, label, size)
            assert label in stdout
    for peer, version in data["peers"].items():
        if importlib.util.find_spec(peer) is not None:
            assert version, peer


def test_every_case_has_its_reference(result):
    _, data = result
    cases = {r["case"] for r in data["results"]}
    # mask new and in place, utf8 ascii and mixed, parse, text delivery of four kinds
    assert len(cases) == 9
    for case in cases:
        ref = "unmask + bytes.decode" if case.startswith("text delivery") else "memory copy"
        assert {r["ref"] for r in data["results"] if r["case"] == case} == {ref}
        rows = [r for r in data["results"] if r["case"] == case and r["impl"] == ref]
        assert [r["vs_copy"] for r in rows] == [1.0, 1.0]


def test_kernels_are_measured_and_the_active_one_marked(result):
    stdout, data = result
    if wsfast.IMPLEMENTATION != "c":
        assert not [r for r in data["results"] if r["impl"].startswith("wsfast C")]
        return
    for kernel in wsfast.available_kernels():
        assert any(r["impl"] == f"wsfast C {kernel}" for r in data["results"])
    assert f"*wsfast C {wsfast.KERNEL}" in stdout


def test_plot_draws_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        # scripts/sanitize.sh preloads libasan into an unsanitized Python:
        # matplotlib's C++ exceptions then abort in ASan's interceptor.
        pytest.skip("matplotlib cannot run with libasan preloaded")
    png = tmp_path / "plot.png"
    proc = bench("--quick", "--sizes", "16", "--plot", str(png), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_get_it(tmp_path):
    png = tmp_path / "plot.png"
    # None in sys.modules makes "import matplotlib" fail, as if not installed.
    code = ("import sys; sys.modules['matplotlib'] = None; from wsfast.cli import main; "
            f"sys.exit(main(['bench', '--quick', '--sizes', '16', '--plot', {str(png)!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=ENV)
    assert proc.returncode == 2
    assert "pip install 'wsfast[bench]'" in proc.stderr
    assert proc.stdout == "" and not png.exists()  # it failed before measuring anything


def test_bad_size_is_a_usage_error():
    proc = bench("--sizes", "lots")
    assert proc.returncode == 2
    assert "lots" in proc.stderr
