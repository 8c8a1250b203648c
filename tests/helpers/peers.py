"""The peers outside Python (Node's ws, headless Chromium), for the tests in
tests/interop/ and tests/integrations/: fixtures that find them or skip with
a visible reason, and how to start and end them by PID."""
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def peer_env() -> dict:
    """The environment for a peer that is not Python: without LD_PRELOAD,
    which the sanitizer run (scripts/sanitize.sh) sets to libasan for
    CPython, and with which Chromium and Node do not start."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}

NODE_DIR = Path(__file__).parent.parent / "interop" / "node"

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync",
                  "--remote-debugging-port=0"]  # keeps the browser running


@pytest.fixture(scope="session")
def node():
    exe = shutil.which("node")
    if exe is None:
        pytest.skip("node is not installed (apt-get install nodejs npm)")
    if not (NODE_DIR / "node_modules" / "ws").is_dir():
        pytest.skip("Node's ws is not installed (npm ci --prefix tests/interop/node)")
    return exe


@pytest.fixture(scope="session")
def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    pytest.skip("no headless Chromium (apt-get install chromium)")


def stop(proc: subprocess.Popen) -> None:
    """End a process this test started, by its PID, and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream:
            stream.close()


async def node_report(exe: str, script: str, *args: str, timeout: float = 30) -> dict:
    """Run one of the scripts in tests/interop/node/ and return the JSON
    report it prints; past ``timeout`` it is killed by its PID."""
    proc = await asyncio.create_subprocess_exec(exe, str(NODE_DIR / script), *args,
                                                stdout=subprocess.PIPE, env=peer_env())
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return json.loads(out)


def remove_profile(path: str) -> None:
    """Delete Chromium's profile; its helper processes can still be writing
    to it for a moment after the browser process has exited."""
    for _ in range(50):
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def headless_chromium(exe: str, url: str):
    """Headless Chromium on a fresh profile, showing ``url`` for as long as
    the block runs; then ended by its PID and its profile removed."""
    profile = tempfile.mkdtemp(prefix="wsfast-chromium-")
    try:
        proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=peer_env())
        try:
            yield proc
        finally:
            stop(proc)
    finally:
        remove_profile(profile)
