"""wsfast: RFC 6455 WebSocket framing at C speed for Python.

The kernels (masking, UTF-8 validation) are C with SIMD when the extension is
built, and pure Python with the same results when it is not:
``IMPLEMENTATION`` says which, ``KERNEL`` which C variant runs.
"""
from wsfast._impl import (IMPLEMENTATION, KERNEL, Utf8Validator, apply_mask,
                          available_kernels, mask_into, validate_utf8)
from wsfast._version import __version__

__all__ = [
    "IMPLEMENTATION",
    "KERNEL",
    "Utf8Validator",
    "__version__",
    "apply_mask",
    "available_kernels",
    "mask_into",
    "validate_utf8",
]
