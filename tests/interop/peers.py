"""Shared helpers for the interop tests."""
import os
import subprocess
from pathlib import Path

HERE = Path(__file__).parent
NODE_DIR = HERE / "node"


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
