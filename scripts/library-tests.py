#!/usr/bin/env python3
"""Run WebSocket libraries' own tests with and without ``wsfast.patch()``.

For each library: download the sdist of the installed version from PyPI
(``pip download --no-binary :all: --no-deps``), extract it to a temporary
directory, copy out its tests (never its sources: the installed package is
what gets tested), and run the framing/protocol tests twice with pytest,
unpatched and then with wsfast's patch active (scripts/wsfast_library_plugin.py,
which refuses to run unpatched). Prints pass/fail counts side by side and
exits non-zero when a test that passes unpatched fails patched, or when a
patched run collected nothing.

Libraries whose wheel ships its tests (tornado, autobahn) are run from the
installed package instead.

    python scripts/library-tests.py                 # every library below
    python scripts/library-tests.py wsproto aiohttp # some of them
"""
from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT = 900  # seconds for one pytest run

# name -> (where the tests come from, test files or modules, extra pytest args):
# "sdist" runs pytest on the sdist's tests, "installed" pytest --pyargs on
# the installed package's tests, "unittest" the module as a test runner.
SUITES: dict[str, tuple[str, list[str], list[str]]] = {
    # websockets' sdist ships no tests (checked for below, reported if so).
    "websockets": ("sdist", ["tests"], []),
    "wsproto": ("sdist", ["tests"], []),
    "aiohttp": ("sdist", [
        "tests/test_websocket_parser.py", "tests/test_websocket_writer.py",
        "tests/test_websocket_data_queue.py", "tests/test_websocket_handshake.py",
        "tests/test_web_websocket.py", "tests/test_web_websocket_functional.py",
        "tests/test_client_ws.py", "tests/test_client_ws_functional.py",
    ], ["-m", "not dev_mode and not autobahn and not internal"]),
    "tornado": ("unittest", ["tornado.test.runtests", "tornado.test.websocket_test"], []),
    "autobahn": ("installed", ["autobahn.websocket.test"], []),
}
# Environment each library's tests need (autobahn's pick their framework).
ENV = {"autobahn": {"USE_ASYNCIO": "1"}}
# Tests that check one of the library's private names, which the patch
# replaces: not run patched. Each says what checks the same behaviour instead.
PRIVATE: dict[str, dict[str, str]] = {
    "aiohttp": {
        name: "asserts queue._stalled_reader, the hook by which aiohttp's own reader "
              "stalls on a full queue (wsfast's stalls through a gate on the queue's "
              "protocol): tests/integrations/test_patch.py::"
              "test_aiohttp_messages_kept_back_survive_connection_loss checks the same"
        for name in ("test_stalled_parser_outlives_connection_lost",
                     "test_stashed_frames_survive_connection_loss")},
}


def log(*args: object) -> None:
    print(*args, flush=True)


def fetch_tests(name: str, version: str, workdir: Path, wanted: list[str]) -> Path | None:
    """Download and extract the sdist; return a directory holding only its tests."""
    download = workdir / "download"
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:",
                    "--no-deps", "-d", str(download),
                    f"{name}=={version}"], check=True, timeout=600)
    archives = list(download.glob("*.tar.gz"))
    if len(archives) != 1:
        raise RuntimeError(f"expected one sdist for {name}, found {archives}")
    with tarfile.open(archives[0]) as tar:
        if sys.version_info >= (3, 12):
            tar.extractall(workdir / "src", filter="data")
        else:
            tar.extractall(workdir / "src")
    (root,) = (workdir / "src").iterdir()
    if not (root / "tests").is_dir():
        return None
    run = workdir / "run"
    shutil.copytree(root / "tests", run / "tests")
    missing = [w for w in wanted if not (run / w).exists()]
    if missing:
        raise RuntimeError(f"{name} {version}'s sdist lacks {missing}")
    return run


def run_pytest(name: str, cwd: Path, targets: list[str], extra: list[str], patched: bool,
               pyargs: bool) -> dict[str, str]:
    """One pytest run; returns {test id: "passed"|"failed"|"error"|"skipped"}."""
    report = cwd / f"report-{'patched' if patched else 'unpatched'}.xml"
    env = {**os.environ, **ENV.get(name, {})}
    env.pop("PYTHONPATH", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
           "--rootdir", str(cwd), f"--junitxml={report}", *extra]
    if pyargs:
        cmd.append("--pyargs")
    if patched:
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parent)])
        env["WSFAST_PATCH"] = name
        cmd += ["-p", "wsfast_library_plugin"]
        if PRIVATE.get(name):
            cmd += ["-k", " and ".join(f"not {test}" for test in PRIVATE[name])]
    cmd += targets
    proc = subprocess.run(cmd, cwd=cwd, env=env, timeout=TIMEOUT, capture_output=True,
                          text=True)
    tail = "\n".join(proc.stdout.strip().splitlines()[-3:])
    log(f"    {'patched  ' if patched else 'unpatched'}: exit {proc.returncode}: {tail}")
    if proc.returncode not in (0, 1) or not report.exists():
        log(proc.stdout[-4000:], proc.stderr[-4000:])
        raise RuntimeError(f"pytest for {name} ({'patched' if patched else 'unpatched'}) "
                           f"did not complete (exit {proc.returncode})")
    return parse_junit(report)


def run_unittest(name: str, cwd: Path, targets: list[str], patched: bool) -> dict[str, str]:
    """One run of a unittest-style runner module; returns outcome counts as
    {"passed": n, ...} keyed by outcome (unittest names no passing tests)."""
    env = {**os.environ, **ENV.get(name, {})}
    env.pop("PYTHONPATH", None)
    if patched:
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parent)])
        cmd = [sys.executable, str(HERE / "wsfast_run_patched.py"), name, *targets]
    else:
        cmd = [sys.executable, "-m", *targets]
    proc = subprocess.run(cmd, cwd=cwd, env=env, timeout=TIMEOUT, capture_output=True,
                          text=True)
    out = proc.stdout + proc.stderr
    ran = re.search(r"^Ran (\d+) tests?", out, re.M)
    if proc.returncode not in (0, 1) or ran is None:
        log(out[-4000:])
        raise RuntimeError(f"{name}'s tests did not complete (exit {proc.returncode})")
    found = {k: int(v) for k, v in re.findall(r"(failures|errors|skipped)=(\d+)", out)}
    failed, error, skipped = (found.get(k, 0) for k in ("failures", "errors", "skipped"))
    passed = int(ran[1]) - failed - error - skipped
    log(f"    {'patched  ' if patched else 'unpatched'}: exit {proc.returncode}: "
        f"ran {ran[1]}: {out.strip().splitlines()[-1]}")
    outcomes = {f"passed {i}": "passed" for i in range(passed)}
    outcomes.update({f"failed {i}": "failed" for i in range(failed)})
    outcomes.update({f"error {i}": "error" for i in range(error)})
    outcomes.update({f"skipped {i}": "skipped" for i in range(skipped)})
    return outcomes


def parse_junit(path: Path) -> dict[str, str]:
    outcomes = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        outcome = ("error" if "error" in kinds else "failed" if "failure" in kinds
                   else "skipped" if "skipped" in kinds else "passed")
        # A test that failed and then errored in teardown keeps the worst.
        if outcomes.get(test_id) not in ("failed", "error"):
            outcomes[test_id] = outcome
    return outcomes


def counts(outcomes: dict[str, str]) -> str:
    values = list(outcomes.values())
    return ", ".join(f"{values.count(k)} {k}" for k in ("passed", "failed", "error", "skipped"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("libraries", nargs="*", default=list(SUITES))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE.parent))  # this checkout's wsfast, as the plugin gets
    import wsfast
    log(f"wsfast {wsfast.__version__}, implementation {wsfast.IMPLEMENTATION} "
        f"({wsfast.KERNEL}), Python {sys.version.split()[0]}")
    status = 0
    summary = []
    totals = {"passed": 0, "failed": 0}
    top = Path(tempfile.mkdtemp(prefix="wsfast-library-tests-"))
    try:
        for name in args.libraries:
            source, targets, extra = SUITES[name]
            try:
                version = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                log(f"{name}: not installed, skipped")
                summary.append((name, "-", "not installed", ""))
                continue
            log(f"{name} {version}:")
            workdir = top / name
            workdir.mkdir()
            if source == "sdist":
                cwd = fetch_tests(name, version, workdir, targets)
                if cwd is None:
                    log(f"    the {name} {version} sdist ships no tests")
                    summary.append((name, version, "sdist has no tests", ""))
                    continue
            else:
                cwd = workdir
            if source == "unittest":
                before = run_unittest(name, cwd, targets, False)
                after = run_unittest(name, cwd, targets, True)
            else:
                before = run_pytest(name, cwd, targets, extra, False, source == "installed")
                after = run_pytest(name, cwd, targets, extra, True, source == "installed")
            private = PRIVATE.get(name, {})
            unrun = sorted(t for t in before if t.split("::")[-1].split("[")[0] in private)
            broken = sorted(t for t, o in before.items()
                            if o == "passed" and after.get(t) != "passed" and t not in unrun)
            for test_id in unrun:
                log(f"    not run patched: {test_id}: "
                    f"{private[test_id.split('::')[-1].split('[')[0]]}")
            summary.append((name, version, counts(before), counts(after)))
            totals["passed"] += sum(o == "passed" for o in after.values())
            totals["failed"] += sum(o in ("failed", "error") for o in after.values())
            if broken:
                status = 1
                log(f"    passes unpatched, not patched ({len(broken)}):")
                for test_id in broken:
                    log(f"      {test_id}: {after.get(test_id, 'missing')}")
            if not any(o == "passed" for o in after.values()):
                status = 1
                log("    the patched run passed no test")
    finally:
        if args.keep:
            log(f"kept {top}")
        else:
            shutil.rmtree(top, ignore_errors=True)
    log("")
    log(f"{'library':<11} {'version':<9} {'unpatched':<46} patched")
    for row in summary:
        log(f"{row[0]:<11} {row[1]:<9} {row[2]:<46} {row[3]}")
    log(f"patched: {totals['passed']} passed, {totals['failed']} failed")
    return status


if __name__ == "__main__":
    sys.exit(main())
