"""websockets: its masking function, where every module binds it.

websockets unmasks each frame with ``apply_mask(data, mask) -> bytes``,
imported by ``websockets.frames`` (the sans-IO core behind the asyncio,
sync and trio APIs) and ``websockets.legacy.framing`` (the legacy protocol,
still the one uvicorn's ``--ws websockets`` runs) from
``websockets.speedups`` or, without its extension, ``websockets.utils``.
Patching the two source modules as well means a module imported later
(``websockets.legacy`` is imported lazily) binds wsfast's function too.

Frame parsing and text decoding are left alone: websockets decodes text
with ``bytes.decode``, which validates and decodes in one C pass, and its
header parsing is interleaved with its reader coroutine; neither has a
behaviour-identical replacement that measured faster (docs/integrations.md).
"""
from __future__ import annotations

import importlib
import os
from typing import Union

from wsfast import _impl
from wsfast.integrations._registry import (Mismatch, Target, require_attr, require_version,
                                           same_results)

BytesLike = Union[bytes, bytearray, memoryview]

_wsfast_mask = _impl.apply_mask


def apply_mask(data: BytesLike, mask: BytesLike) -> bytes:
    """websockets' ``apply_mask`` on wsfast's kernel: a new bytes object."""
    try:
        return _wsfast_mask(data, mask)
    except (TypeError, ValueError):
        if len(mask) != 4:
            raise ValueError("mask must contain 4 bytes") from None
        if isinstance(data, memoryview) and not data.c_contiguous:
            return _wsfast_mask(bytes(data), mask)
        raise


def plan() -> list[Target]:
    """Check websockets and name the bindings to replace."""
    require_version("websockets", (10, 0))
    frames = importlib.import_module("websockets.frames")
    utils = importlib.import_module("websockets.utils")
    sources = []
    try:
        sources.append(importlib.import_module("websockets.speedups"))
    except ImportError:
        pass
    sources.append(utils)
    data, key = os.urandom(37), os.urandom(4)
    targets = []
    for module in (*sources, frames):
        original = require_attr(module, "apply_mask")
        same_results(f"{module.__name__}.apply_mask", original, apply_mask,
                     (data, key), (b"", key), (bytearray(data), key),
                     (memoryview(data)[::2], key), (data, b"abc"))
        targets.append(Target(module, "apply_mask", apply_mask))
    parse = require_attr(require_attr(frames, "Frame"), "parse")
    if "apply_mask" not in parse.__func__.__code__.co_names:
        raise Mismatch("websockets.frames.Frame.parse no longer calls apply_mask")
    return targets
