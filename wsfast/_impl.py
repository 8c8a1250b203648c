"""Chooses the C extension or the pure-Python twins, once, at import.

WSFAST_NO_EXTENSIONS=1 forces pure Python; a missing or broken extension
falls back to it. WSFAST_KERNEL picks a C kernel variant (see _speedups).
"""
from __future__ import annotations

import os

if os.environ.get("WSFAST_NO_EXTENSIONS", "") not in ("", "0"):
    from wsfast import _pure as _backend
    IMPLEMENTATION = "python"
else:
    try:
        from wsfast import _speedups as _backend  # type: ignore[no-redef]
        IMPLEMENTATION = "c"
    except ImportError:
        from wsfast import _pure as _backend
        IMPLEMENTATION = "python"

KERNEL: str = _backend.KERNEL
available_kernels = _backend.available_kernels
apply_mask = _backend.apply_mask
mask_into = _backend.mask_into
validate_utf8 = _backend.validate_utf8
Utf8Validator = _backend.Utf8Validator
Frame = _backend.Frame
FrameParser = _backend.FrameParser
build_frame = _backend.build_frame
