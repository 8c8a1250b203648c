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


def _kernel_table():
    if wsfast.IMPLEMENTATION != "c":
        return []
    from wsfast import _speedups
    return _speedups._kernel_table()


@pytest.mark.skipif(wsfast.IMPLEMENTATION != "c", reason="needs the C extension")
@pytest.mark.parametrize("kernel", _kernel_table())
def test_each_kernel_can_be_forced_where_the_cpu_runs_it(kernel):
    """Every variant of this build: forced where the CPU runs it (the whole
    suite then runs on it, scripts/test.sh), a clear error and a visible skip
    where it does not (an AVX-512 variant on an AVX2 machine)."""
    result = _import_with({"WSFAST_KERNEL": kernel})
    if kernel not in wsfast.available_kernels():
        assert result.returncode != 0
        assert "this CPU or build cannot run it" in result.stderr
        pytest.skip(f"kernel {kernel}: this CPU cannot run it, so its tests do not run here")
    assert result.stdout.split() == ["c", kernel], result.stderr


def test_no_extensions_forces_pure_python():
    result = _import_with({"WSFAST_NO_EXTENSIONS": "1"})
    assert result.stdout.split() == ["python", "python"], result.stderr


def _pure_copy(tmp_path):
    """wsfast's Python files alone, as `pip install` leaves them when the
    extension could not be built."""
    package = tmp_path / "wsfast"
    package.mkdir()
    source = os.path.dirname(wsfast.__file__)
    for name in os.listdir(source):
        if name.endswith(".py"):
            with open(os.path.join(source, name), "rb") as f:
                (package / name).write_bytes(f.read())
    return tmp_path


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="the warning is for CPython")
def test_missing_extension_warns_once(tmp_path):
    root = _pure_copy(tmp_path)
    env = {k: v for k, v in os.environ.items()
           if k not in ("WSFAST_NO_EXTENSIONS", "PYTHONWARNINGS")}
    # wsfast's dependencies (h11) come from site-packages, named directly:
    # see -S below.
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p.endswith("site-packages"))
    code = ("import importlib, wsfast, wsfast._impl; importlib.reload(wsfast); "
            "print(wsfast.IMPLEMENTATION, wsfast.apply_mask(b'\\x7f\\x9f\\x4d\\x51\\x58', "
            "b'\\x37\\xfa\\x21\\x3d'))")
    # -S: no site initialisation, so no editable-install finder (a .pth
    # hook) can supply the extension from the source tree.
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=root, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["python", "b'Hello'"]
    assert result.stderr.count("RuntimeWarning: wsfast's C extension is not available") == 1
    assert "WSFAST_NO_EXTENSIONS=1" in result.stderr
    # Choosing pure Python on purpose is silent.
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=root,
                            env={**env, "WSFAST_NO_EXTENSIONS": "1"},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["python", "b'Hello'"]
    assert result.stderr == ""
