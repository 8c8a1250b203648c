"""The patch registry: which libraries wsfast can speed up, what it replaced.

Each supported library has a module here whose ``plan()`` imports the
library, checks that its internals are what wsfast was written against
(attributes present, a quick behavioural self-check against the original)
and returns the bindings to replace. The registry applies a plan all or
nothing, remembers every original object, and puts exactly those objects
back on ``unpatch()``. A plan that does not match raises ``Mismatch``; the
library is then skipped with a ``PatchWarning`` and left untouched.

A function imported with ``from x import f`` lives on in every importing
module, so besides the bindings a plan names, every loaded module of the
library that binds the same original object under the same name is patched
too (and restored on unpatch, including modules imported after the patch
that picked up wsfast's object).
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any, Callable, NamedTuple

from wsfast import _impl

__all__ = ["LIBRARIES", "Mismatch", "PatchWarning", "Target", "implementation_label",
           "patch", "patched", "unpatch"]

# Library import name -> wsfast module holding its plan.
LIBRARIES: dict[str, str] = {
    "websockets": "wsfast.integrations._websockets",
    "aiohttp": "wsfast.integrations._aiohttp",
    "tornado": "wsfast.integrations._tornado",
    "wsproto": "wsfast.integrations._wsproto",
    "autobahn": "wsfast.integrations._autobahn",
}


class PatchWarning(UserWarning):
    """A library was not patched (not installed, or its internals differ)."""


class Mismatch(Exception):
    """The library's internals are not what wsfast's patch was written for."""


class Target(NamedTuple):
    """Replace ``module.attr`` with ``replacement`` (and, with ``sweep``, the
    same name in every loaded module of the library bound to the same object,
    except the modules named in ``keep``)."""

    module: ModuleType
    attr: str
    replacement: Any
    sweep: bool = True
    keep: tuple[str, ...] = ()


class _Applied(NamedTuple):
    module: ModuleType
    attr: str
    original: Any
    replacement: Any


# name -> what was replaced, in the order it was replaced.
_active: dict[str, list[_Applied]] = {}
# name -> (module id, attr) bindings that held a replacement object before
# patch() (the module that defines it, say): unpatch() leaves those alone.
_native: dict[str, set[tuple[int, str]]] = {}


def implementation_label() -> str:
    """How wsfast runs here: "c (avx2)", "c (scalar)", ... or "python"."""
    if _impl.IMPLEMENTATION == "c":
        return f"c ({_impl.KERNEL})"
    return "python"


def library_version(name: str) -> str:
    """The installed version of a library, or "?" when it cannot be told."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        module = sys.modules.get(name)
        return str(getattr(module, "__version__", "?"))


def version_tuple(version: str) -> tuple[int, ...]:
    """The leading numeric parts of a version string: "17.4.post1" -> (17, 4)."""
    parts = []
    for piece in version.split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def require_version(name: str, minimum: tuple[int, ...]) -> str:
    """Raise Mismatch when the installed library is older than ``minimum``."""
    version = library_version(name)
    if version_tuple(version) < minimum:
        wanted = ".".join(map(str, minimum))
        raise Mismatch(f"version {version} is older than the {wanted} wsfast supports")
    return version


def require_attr(module: ModuleType, attr: str) -> Any:
    """``getattr(module, attr)``, or Mismatch naming what is missing."""
    try:
        return getattr(module, attr)
    except AttributeError:
        raise Mismatch(f"{module.__name__}.{attr} is missing") from None


def require_methods(cls: Any, *names: str) -> None:
    """Raise Mismatch unless ``cls`` has every named method."""
    for name in names:
        if not callable(getattr(cls, name, None)):
            raise Mismatch(f"{getattr(cls, '__qualname__', cls)} has no {name}()")


def same_results(what: str, original: Callable[..., Any], replacement: Callable[..., Any],
                 *cases: tuple[Any, ...]) -> None:
    """Mismatch unless both callables give equal results of the same type.

    Arguments are deep-copied per call so in-place functions are compared on
    equal input; the compared result is the return value and the (possibly
    mutated) arguments.
    """
    for args in cases:
        expected = _run(original, args)
        got = _run(replacement, args)
        if expected != got or type(expected[0]) is not type(got[0]):
            raise Mismatch(f"{what} behaves differently from wsfast's replacement "
                           f"on a self-check (expected {expected!r:.80}, got {got!r:.80})")


def _run(func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...]:
    copies = tuple(bytearray(a) if isinstance(a, bytearray) else a for a in args)
    try:
        result = func(*copies)
    except Exception as exc:  # the original failing is a mismatch too
        return (type(exc), str(exc))
    return (result, *copies)


def _installed(name: str) -> bool:
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _loaded_modules(package: str) -> list[ModuleType]:
    """The library's loaded Python modules (compiled ones bind names in C,
    where changing their module attributes would change nothing)."""
    prefix = package + "."
    return [m for n, m in list(sys.modules.items())
            if isinstance(m, ModuleType) and (n == package or n.startswith(prefix))
            and str(getattr(m, "__file__", "") or "").endswith(".py")]


def _apply(name: str, targets: list[Target]) -> list[_Applied]:
    applied: list[_Applied] = []
    seen: set[tuple[int, str]] = set()
    _native[name] = {(id(m), t.attr) for t in targets for m in _loaded_modules(name)
                     if m.__dict__.get(t.attr) is t.replacement}
    for target in targets:
        original = getattr(target.module, target.attr)
        # The named binding, then every other module of the library that
        # imported the same object under the same name.
        others = [m for m in _loaded_modules(name) if _module_name(m) not in target.keep
                  ] if target.sweep else []
        for module in [target.module, *others]:
            key = (id(module), target.attr)
            if key in seen or module.__dict__.get(target.attr) is not original:
                continue
            seen.add(key)
            setattr(module, target.attr, target.replacement)
            applied.append(_Applied(module, target.attr, original, target.replacement))
    return applied


def patch(*names: str) -> dict[str, str]:
    """Replace the hot paths of the named libraries (default: every installed one).

    Patching twice is harmless. A library that is missing, or whose internals
    differ from what wsfast expects, is skipped with a PatchWarning. Returns
    ``patched()``.
    """
    for name in names:
        if name not in LIBRARIES:
            raise ValueError(f"wsfast cannot patch {name!r}; "
                             f"supported: {', '.join(LIBRARIES)}")
    explicit = bool(names)
    for name in names or tuple(LIBRARIES):
        if name in _active:
            continue
        if not _installed(name):
            if explicit:
                warnings.warn(f"wsfast: not patching {name}: it is not installed",
                              PatchWarning, stacklevel=2)
            continue
        integration = importlib.import_module(LIBRARIES[name])
        try:
            targets = integration.plan()
        except Mismatch as exc:
            warnings.warn(f"wsfast: not patching {name} {library_version(name)}: {exc}",
                          PatchWarning, stacklevel=2)
            continue
        except ImportError as exc:
            warnings.warn(f"wsfast: not patching {name}: it cannot be imported ({exc})",
                          PatchWarning, stacklevel=2)
            continue
        except Exception as exc:  # a self-check that crashed: internals changed
            warnings.warn(f"wsfast: not patching {name} {library_version(name)}: its "
                          f"self-check failed ({type(exc).__name__}: {exc})",
                          PatchWarning, stacklevel=2)
            continue
        _active[name] = _apply(name, targets)
    return patched()


def unpatch(*names: str) -> None:
    """Put back the original objects wsfast replaced (default: in every library)."""
    for name in names or tuple(_active):
        applied = _active.pop(name, None)
        native = _native.pop(name, set())
        if applied is None:
            continue
        restore = {(id(a.module), a.attr): a for a in applied}
        for a in applied:
            # Modules imported after patch() may have picked up the replacement.
            for module in _loaded_modules(name):
                key = (id(module), a.attr)
                if (key not in restore and key not in native
                        and module.__dict__.get(a.attr) is a.replacement):
                    restore[key] = _Applied(module, a.attr, a.original, a.replacement)
        for a in restore.values():
            if a.module.__dict__.get(a.attr) is a.replacement:
                setattr(a.module, a.attr, a.original)
            else:
                warnings.warn(f"wsfast: {_module_name(a.module)}.{a.attr} was replaced again "
                              "after wsfast patched it; leaving it as it is",
                              PatchWarning, stacklevel=2)


def patched() -> dict[str, str]:
    """Which libraries are patched now, each with the implementation it runs on."""
    label = implementation_label()
    return {name: label for name in _active}


def bindings(name: str) -> list[tuple[str, str]]:
    """The (module, attribute) pairs wsfast replaced in one library, for reports."""
    return [(_module_name(a.module), a.attr) for a in _active.get(name, [])]


def _module_name(module: ModuleType) -> str:
    """The name a module is imported by (a compiled module's own may differ)."""
    spec = getattr(module, "__spec__", None)
    return spec.name if spec is not None else module.__name__


def changed_bindings(name: str) -> list[str]:
    """Bindings patch() replaced in a library that no longer hold wsfast's object."""
    return [f"{_module_name(a.module)}.{a.attr}" for a in _active.get(name, [])
            if a.module.__dict__.get(a.attr) is not a.replacement]
