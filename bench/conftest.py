"""Benchmarks (pytest-benchmark): ``python -m pytest bench``. Each run
records which wsfast implementation and C kernel it measured."""
import wsfast


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["wsfast"] = {"implementation": wsfast.IMPLEMENTATION, "kernel": wsfast.KERNEL}
