"""Chooses the C extensions or their pure-Python twins, once, at import.

WSFAST_NO_EXTENSIONS=1 forces pure Python; a missing or broken extension
falls back to it, with one RuntimeWarning on CPython (where the extension is
expected: the slowdown should not go unnoticed). WSFAST_KERNEL picks a C
kernel variant (see _speedups). Each C module beside the kernel binding
(the Inbox, the asyncio MessagePump) has its twin too: ``twin()`` picks it
the same way.
"""
from __future__ import annotations

import importlib
import os
import platform
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Type checkers see the C extension's stub (_speedups.pyi), which the
    # pure twins follow: the public API has one set of types.
    import wsfast._speedups as _backend
    IMPLEMENTATION = "c"
elif os.environ.get("WSFAST_NO_EXTENSIONS", "") not in ("", "0"):
    from wsfast import _pure as _backend
    IMPLEMENTATION = "python"
else:
    try:
        import wsfast._speedups as _backend
        IMPLEMENTATION = "c"
    except ImportError as exc:
        from wsfast import _pure as _backend
        IMPLEMENTATION = "python"
        if platform.python_implementation() == "CPython":
            warnings.warn(
                f"wsfast's C extension is not available ({exc}); using the pure-Python "
                "implementation, which is several times slower. Reinstall wsfast with a C "
                "compiler for full speed, or set WSFAST_NO_EXTENSIONS=1 to choose pure "
                "Python and silence this warning.", RuntimeWarning, stacklevel=2)


def twin(c_module: str, pure_module: str) -> ModuleType:
    """The C module, where the kernels are C, or its pure-Python twin."""
    if IMPLEMENTATION == "c":
        try:
            return importlib.import_module(c_module)
        except ImportError as exc:  # a partial build: that module alone runs in Python
            warnings.warn(f"wsfast's C module {c_module} is not available ({exc}); using "
                          "its pure-Python twin. Reinstall wsfast for full speed.",
                          RuntimeWarning, stacklevel=2)
    return importlib.import_module(pure_module)


KERNEL: str = _backend.KERNEL
available_kernels = _backend.available_kernels
apply_mask = _backend.apply_mask
mask_into = _backend.mask_into
validate_utf8 = _backend.validate_utf8
decode_utf8 = _backend.decode_utf8
Utf8Validator = _backend.Utf8Validator
Frame = _backend.Frame
FrameParser = _backend.FrameParser
DeflateStreams = _backend.DeflateStreams
build_frame = _backend.build_frame
if TYPE_CHECKING:
    from wsfast._inbox import Inbox as Inbox  # the stub; the twin follows it
else:
    Inbox = twin("wsfast._inbox", "wsfast._inbox_py").Inbox
