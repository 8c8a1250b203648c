"""Which implementation and kernel run, and how they are chosen."""
import os
import subprocess
import sys

import pytest

import wsfast
from wsfast import _pure

FORCED_PURE = os.environ.get("WSFAST_NO_EXTENSIONS", "") not in ("", "0")


def test_implementation_matches_environment():
    if FORCED_PURE:
        assert wsfast.IMPLEMENTATION == "python"
        assert wsfast.KERNEL == "python"
        assert wsfast.apply_mask is _pure.apply_mask
    elif os.environ.get("WSFAST_REQUIRE_EXTENSIONS", "") not in ("", "0"):
        # A silent fallback to pure Python would make the compiled run a lie.
        assert wsfast.IMPLEMENTATION == "c"
    if wsfast.IMPLEMENTATION == "c":
        assert wsfast.KERNEL in wsfast.available_kernels()
        assert "scalar" in wsfast.available_kernels()
        forced = os.environ.get("WSFAST_KERNEL")
        if forced:
            assert wsfast.KERNEL == forced


def _import_with(env):
    return subprocess.run(
        [sys.executable, "-c", "import wsfast; print(wsfast.IMPLEMENTATION, wsfast.KERNEL)"],
        env={**os.environ, **env}, capture_output=True, text=True)


@pytest.mark.skipif(wsfast.IMPLEMENTATION != "c", reason="needs the C extension")
def test_unknown_kernel_name_is_a_clear_error():
    result = _import_with({"WSFAST_KERNEL": "mmx"})
    assert result.returncode != 0
    assert "WSFAST_KERNEL='mmx' is not a kernel" in result.stderr
    assert "scalar" in result.stderr


@pytest.mark.skipif(wsfast.IMPLEMENTATION != "c", reason="needs the C extension")
def test_each_available_kernel_can_be_forced():
    for kernel in wsfast.available_kernels():
        result = _import_with({"WSFAST_KERNEL": kernel})
        assert result.stdout.split() == ["c", kernel], result.stderr


def test_no_extensions_forces_pure_python():
    result = _import_with({"WSFAST_NO_EXTENSIONS": "1"})
    assert result.stdout.split() == ["python", "python"], result.stderr
