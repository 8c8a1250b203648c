"""Benchmarks (pytest-benchmark): ``python -m pytest bench``. Each run
records which wsfast implementation and C kernel it measured, in the JSON
and in the report header."""
import wsfast


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["wsfast"] = {"implementation": wsfast.IMPLEMENTATION, "kernel": wsfast.KERNEL}


def pytest_report_header() -> str:
    return f"wsfast {wsfast.__version__}: implementation={wsfast.IMPLEMENTATION}, " \
           f"kernel={wsfast.KERNEL}"
