"""Peers for interop tests, each skipped with a visible reason when missing."""
import shutil

import pytest

from peers import NODE_DIR


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
