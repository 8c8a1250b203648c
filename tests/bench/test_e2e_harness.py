"""bench/e2e/run.py measures what its table says: the C load generator
against real servers (bench/e2e/servers.py) for a fraction of a second, its
counts read back. Nothing here asserts a rate, only that echoes came back
in the negotiated form and that a refused option fails the run."""
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "bench" / "e2e" / "run.py"

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the generator uses epoll"),
    pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler"),
    pytest.mark.skipif(not Path("/usr/include/zlib.h").exists(), reason="no zlib headers"),
    pytest.mark.skipif(shutil.which("taskset") is None, reason="no taskset"),
    pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the harness pins two CPUs"),
]


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("e2e_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def env(deflate):
    return {"WSFAST_BENCH_DEFLATE": "1" if deflate else "0", "WSFAST_BENCH_HEAP": "warm",
            "WSFAST_BENCH_LOOP": "asyncio"}


def test_binary_echoes_from_wsfast(harness):
    result = harness.one_run("wsfast", 4, 200, 0.3, 2, [], env(False))
    assert result["messages"] > 0 and result["compressed_echoes"] == 0
    assert result["echoes"] >= result["messages"]


def test_compressed_text_echoes_from_fastapi_on_uvicorn(harness):
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    result = harness.one_run("fastapi-wsfast", 4, 1024, 0.3, 1, ["text", "deflate"], env(True))
    assert result["messages"] > 0
    # wsfast compresses every message from 64 bytes on (PerMessageDeflate's threshold).
    assert result["compressed_echoes"] == result["echoes"]


def test_a_server_that_refuses_deflate_fails_the_run(harness):
    with pytest.raises(RuntimeError, match="did not accept permessage-deflate"):
        harness.one_run("wsfast", 2, 64, 0.3, 1, ["deflate"], env(False))
