"""Node's ws and headless Chromium as clients of the ASGI apps, each skipped
with a visible reason when missing (tests/helpers/peers.py)."""
from helpers.peers import chromium, node  # noqa: F401
