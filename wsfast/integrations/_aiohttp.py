"""aiohttp: the client writer's mask (the reader comes with the frame codec).

aiohttp's writer masks what a client sends with
``websocket_mask(mask, data: bytearray) -> None`` (in place), bound in
``aiohttp._websocket.writer`` from ``aiohttp._websocket.helpers``.
"""
from __future__ import annotations

import importlib
import os

from wsfast import _impl
from wsfast.integrations._registry import Target, require_attr, require_version, same_results

_mask_into = _impl.mask_into


def websocket_mask(mask: bytes, data: bytearray) -> None:
    """aiohttp's ``websocket_mask`` on wsfast's kernel: masks data in place."""
    _mask_into(data, mask)


def plan() -> list[Target]:
    """Check aiohttp and name the bindings to replace."""
    require_version("aiohttp", (3, 9))
    helpers = importlib.import_module("aiohttp._websocket.helpers")
    writer = importlib.import_module("aiohttp._websocket.writer")
    data, key = bytearray(os.urandom(45)), os.urandom(4)
    targets = []
    for module in (helpers, writer):
        original = require_attr(module, "websocket_mask")
        same_results(f"{module.__name__}.websocket_mask", original, websocket_mask,
                     (key, data), (key, bytearray()), (key, data[:5]))
        targets.append(Target(module, "websocket_mask", websocket_mask))
    return targets
