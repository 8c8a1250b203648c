"""Masking throughput: wsfast (each kernel variant, and pure Python) against
a plain memory copy and every installed peer, like with like: functions that
return a new buffer in "new <size>" groups, in-place masking of a bytearray
in "in place <size>" groups."""
import os

import pytest

pytest.importorskip("pytest_benchmark", reason="pip install pytest-benchmark")

from conftest import run_impl  # noqa: E402
from wsfast.bench import impls as bench_impls  # noqa: E402

SIZES = [16, 125, 1024, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024]
KEY = os.urandom(4)
DATA = {n: os.urandom(n) for n in SIZES}


def expected(data):
    """The RFC 6455 definition, computed independently of every implementation."""
    pattern = (KEY * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "little") ^ int.from_bytes(pattern, "little")).to_bytes(
        len(data), "little")


def bench(label, kind):
    impl = next(i for i in bench_impls.mask_impls(kind) if i.label == label)
    ids = [f"{kind} {bench_impls.size_label(n).replace(' ', '')}" for n in SIZES]

    @pytest.mark.parametrize("size", SIZES, ids=ids)
    def test(benchmark, size):
        data = DATA[size]
        want = data if label == "memory copy" else expected(data)
        if kind == "new":
            run_impl(benchmark, impl, data, KEY, lambda fn: fn() == want)
        else:
            buf = bytearray(data)

            def check(fn):
                fn()
                return buf == want
            run_impl(benchmark, impl, buf, KEY, check)
    return test


test_wsfast_c_scalar = bench("wsfast C scalar", "new")
test_wsfast_c_sse2 = bench("wsfast C sse2", "new")
test_wsfast_c_avx2 = bench("wsfast C avx2", "new")
test_wsfast_c_avx512 = bench("wsfast C avx512", "new")
test_wsfast_c_neon = bench("wsfast C neon", "new")
test_wsfast_pure = bench("wsfast pure", "new")
test_memory_copy = bench("memory copy", "new")
test_websockets = bench("websockets", "new")
test_tornado = bench("tornado", "new")
test_wsaccel = bench("wsaccel", "new")
test_numpy = bench("numpy", "new")
test_picows = bench("picows", "new")

test_wsfast_c_scalar_into = bench("wsfast C scalar", "in place")
test_wsfast_c_sse2_into = bench("wsfast C sse2", "in place")
test_wsfast_c_avx2_into = bench("wsfast C avx2", "in place")
test_wsfast_c_avx512_into = bench("wsfast C avx512", "in place")
test_wsfast_c_neon_into = bench("wsfast C neon", "in place")
test_wsfast_pure_into = bench("wsfast pure", "in place")
test_memory_copy_into = bench("memory copy", "in place")
test_aiohttp_into = bench("aiohttp", "in place")
test_numpy_into = bench("numpy", "in place")
