"""UTF-8 validation throughput: wsfast (each kernel variant, and pure Python)
against ``bytes.decode("utf-8")``, a memory copy (the ceiling) and the
installed peers' validators, on
ASCII, 2-, 3- and 4-byte and mixed text; one group per text and size."""
import pytest

pytest.importorskip("pytest_benchmark", reason="pip install pytest-benchmark")

from conftest import run_impl  # noqa: E402
from wsfast.bench import impls as bench_impls  # noqa: E402

SIZES = [1024, 64 * 1024, 1024 * 1024]
TEXTS = ["ascii", "2-byte", "3-byte", "4-byte", "mixed"]
CASES = [(t, n) for t in TEXTS for n in SIZES]
IDS = [f"utf8 {t} {bench_impls.size_label(n).replace(' ', '')}" for t, n in CASES]
DATA = {case: bench_impls.utf8_text(*case) for case in CASES}


def bench(label):
    impl = next(i for i in bench_impls.utf8_impls() if i.label == label)

    @pytest.mark.parametrize("case", CASES, ids=IDS)
    def test(benchmark, case):
        data = DATA[case]
        assert len(data) > 0.99 * case[1]
        # Valid by construction; each implementation must say so.
        run_impl(benchmark, impl, data, b"", lambda fn: bool(fn()))
    return test


test_wsfast_c_scalar = bench("wsfast C scalar")
test_wsfast_c_sse2 = bench("wsfast C sse2")
test_wsfast_c_ssse3 = bench("wsfast C ssse3")
test_wsfast_c_avx2 = bench("wsfast C avx2")
test_wsfast_c_avx512 = bench("wsfast C avx512")
test_wsfast_c_neon = bench("wsfast C neon")
test_wsfast_pure = bench("wsfast pure")
test_bytes_decode = bench("bytes.decode")
test_memory_copy = bench("memory copy")
test_wsaccel = bench("wsaccel")
test_autobahn = bench("autobahn")
