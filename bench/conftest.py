"""Benchmarks, run with pytest-benchmark: ``python -m pytest bench/``.

Every benchmark names what it measures side by side with its peers in one
run; the header says which wsfast implementation and kernel ran.
"""
import wsfast


def pytest_report_header() -> str:
    return f"wsfast {wsfast.__version__}: implementation={wsfast.IMPLEMENTATION}, " \
           f"kernel={wsfast.KERNEL}"
