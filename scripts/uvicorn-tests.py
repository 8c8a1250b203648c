#!/usr/bin/env python3
"""uvicorn's own WebSocket tests with wsfast's protocol among theirs.

Downloads the installed uvicorn's sdist, takes its tests, adds
``wsfast.uvicorn:WebSocketProtocol`` to the ``ws_protocol_cls`` fixture (each
test then runs for uvicorn's protocols and for wsfast's, with every HTTP
parser installed: httptools and h11), and runs tests/protocols/test_websocket.py.
Fails when any test fails, or when fewer than MIN_WSFAST wsfast cases passed;
the tests skipped for wsfast, with their reasons, are in
scripts/wsfast_uvicorn_plugin.py.

    python scripts/uvicorn-tests.py
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIN_WSFAST = 100  # wsfast cases that must pass (132 with uvicorn 0.54.0, both parsers)
ANCHOR = '''        pytest.param(
            "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol", id="websockets-sansio"
        ),
'''

spec = importlib.util.spec_from_file_location("library_tests", HERE / "library-tests.py")
assert spec is not None and spec.loader is not None
library_tests = importlib.util.module_from_spec(spec)
spec.loader.exec_module(library_tests)


def main() -> int:
    version = importlib.metadata.version("uvicorn")
    target = "tests/protocols/test_websocket.py"
    with tempfile.TemporaryDirectory() as tmp:
        run = library_tests.fetch_tests("uvicorn", version, Path(tmp), [target, "tests/conftest.py"])
        if run is None:
            raise RuntimeError(f"uvicorn {version}'s sdist ships no tests")
        conftest = run / "tests" / "conftest.py"
        text = conftest.read_text()
        if ANCHOR not in text:
            raise RuntimeError("uvicorn's ws_protocol_cls fixture changed: update ANCHOR")
        conftest.write_text(text.replace(ANCHOR, ANCHOR + '        pytest.param('
                                         '"wsfast.uvicorn:WebSocketProtocol", id="wsfast"),\n'))
        report = run / "report.xml"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
               "-rs", "-p", "wsfast_uvicorn_plugin", "--rootdir", str(run),
               f"--junitxml={report}", target]
        proc = subprocess.run(cmd, cwd=run, env=env, timeout=library_tests.TIMEOUT,
                              capture_output=True, text=True)
        print("\n".join(line for line in proc.stdout.splitlines()
                        if "wsfast:" in line or " passed" in line or "FAILED" in line))
        if not report.exists():
            print(proc.stdout[-4000:], proc.stderr[-4000:])
            return 1
        outcomes = library_tests.parse_junit(report)
    ours = {k: v for k, v in outcomes.items() if "[wsfast-" in k}
    print(f"uvicorn {version}, all protocols: {library_tests.counts(outcomes)}")
    print(f"uvicorn {version}, wsfast's protocol: {library_tests.counts(ours)}")
    failed = [k for k, v in outcomes.items() if v in ("failed", "error")]
    for k in failed:
        print("FAILED", k)
    passed = list(ours.values()).count("passed")
    if passed < MIN_WSFAST:
        print(f"only {passed} wsfast cases passed (at least {MIN_WSFAST} expected)")
    return 1 if failed or passed < MIN_WSFAST else 0


if __name__ == "__main__":
    sys.exit(main())
