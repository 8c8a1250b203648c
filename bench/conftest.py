"""Benchmarks (pytest-benchmark): ``python -m pytest bench``. Each run
records which wsfast implementation and C kernel it measured, in the JSON
and in the report header.

The kernel benchmarks (test_bench_mask.py, test_bench_utf8.py) make every
implementation its own test function (test_<impl>) and every size its own
parameter id, so that

    python -m pytest bench/test_bench_mask.py bench/test_bench_utf8.py --benchmark-group-by=group

(or ``--benchmark-group-by=param``: the group is the parameter id) prints one table per operation and size with all implementations side by
side (times there are per round: 100 calls below 4 KiB, see SMALL).
Implementations that are not installed, and kernel variants this CPU cannot
run, are skipped with the reason.

The heap is kept warm for the whole run (``bench_impls.warm_heap``, as ``python
-m wsfast bench`` does; ``--cold-heap`` leaves glibc as it is). Left as it
is, glibc's state depends on what ran before: its mmap and trim thresholds
rise for good the first time a large block is freed, which websockets' parser
driver does (its StreamReader copies the stream). Every parser after it in
the run then reuses freed memory while those before it fault in fresh pages:
wsfast C parsed 10,000 frames of 1 KiB in 8.2 ms before websockets ran in
the same process and in 1.6 ms after.
"""
import pytest

import wsfast
from wsfast.bench import impls as bench_impls


HEAP = pytest.StashKey[str]()


def pytest_addoption(parser):
    parser.addoption("--cold-heap", action="store_true",
                     help="leave glibc's trimming and mmap thresholds as they are "
                          "(results then depend on the order the tests run in)")


def pytest_configure(config):
    warm = not config.getoption("--cold-heap") and bench_impls.warm_heap()
    config.stash[HEAP] = "warm" if warm else "as is"


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["wsfast"] = {"implementation": wsfast.IMPLEMENTATION, "kernel": wsfast.KERNEL,
                              "heap": config.stash[HEAP]}


def pytest_report_header(config) -> str:
    return f"wsfast {wsfast.__version__}: implementation={wsfast.IMPLEMENTATION}, " \
           f"kernel={wsfast.KERNEL}, heap={config.stash[HEAP]}"


# Calls per timed round below this size: one call would be mostly the
# harness's own overhead. Reported times are per call (bench/report.py
# divides by extra_info["calls"]); pytest-benchmark's tables show per round.
SMALL = 4096
CALLS_SMALL = 100


def run_impl(benchmark, impl, data, key, check):
    """Benchmark impl on data after checking, once, that check(callable) is
    true (the check runs the callable)."""
    if impl.make is None:
        pytest.skip(impl.missing)
    fn = impl.make(data, key)
    calls = CALLS_SMALL if len(data) < SMALL else 1
    benchmark.extra_info["bytes"] = len(data)
    benchmark.extra_info["calls"] = calls
    benchmark.extra_info["implementation"] = impl.label
    # The parameter id ("new 64KiB", "utf8 mixed 1MiB") is the group, so
    # that --benchmark-group-by=group (what scripts/bench.sh uses for every
    # suite) puts all implementations of one operation and size side by side.
    benchmark.group = benchmark.param
    with bench_impls.using(impl):
        assert check(fn), impl.label
        benchmark(bench_impls.batch(fn, calls) if calls > 1 else fn)
