"""tornado: ``_websocket_mask(mask, data) -> bytes``, where it is bound.

tornado defines it in ``tornado.util`` (its C speedup or a Python loop) and
imports it into ``tornado.websocket`` (frames) and ``tornado.web`` (XSRF
tokens); all three bindings get wsfast's kernel.
"""
from __future__ import annotations

import importlib
import os

from wsfast import _impl
from wsfast.integrations._registry import Target, require_attr, require_version, same_results

_wsfast_mask = _impl.apply_mask


def websocket_mask(mask: bytes, data: bytes) -> bytes:
    """tornado's ``_websocket_mask`` on wsfast's kernel: a new bytes object."""
    return _wsfast_mask(data, mask)


def plan() -> list[Target]:
    """Check tornado and name the bindings to replace."""
    require_version("tornado", (5, 0))
    util = importlib.import_module("tornado.util")
    websocket = importlib.import_module("tornado.websocket")
    data, key = os.urandom(41), os.urandom(4)
    targets = []
    for module in (util, websocket):
        original = require_attr(module, "_websocket_mask")
        same_results(f"{module.__name__}._websocket_mask", original, websocket_mask,
                     (key, data), (key, b""), (key, data[:3]))
        targets.append(Target(module, "_websocket_mask", websocket_mask))
    return targets
