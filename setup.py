"""Build the optional C extension; install pure Python when it cannot be built.

WSFAST_REQUIRE_EXTENSIONS=1 turns a failed build into an error (wheels, CI);
WSFAST_NO_EXTENSIONS=1 skips it; WSFAST_SANITIZE=1 builds with AddressSanitizer
and UndefinedBehaviorSanitizer (see scripts/sanitize.sh).
"""
import glob
import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def flag(name):
    return os.environ.get(name, "") not in ("", "0")


WARNING = """
**********************************************************************
WARNING: wsfast's C extension could not be built ({reason}).
wsfast is installed as pure Python: correct, but several times slower.
Install a C compiler and the Python headers and reinstall for full speed.
**********************************************************************
"""


class OptionalBuildExt(build_ext):
    """build_ext that degrades to pure Python instead of failing the install."""

    def build_extensions(self):
        gcc_like = self.compiler.compiler_type != "msvc"
        for ext in self.extensions:
            if gcc_like:
                ext.extra_compile_args += ["-O3", "-fno-strict-aliasing"]
                if flag("WSFAST_SANITIZE"):
                    san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                           "-fno-omit-frame-pointer", "-g", "-O1"]
                    ext.extra_compile_args += san
                    ext.extra_link_args += san
            else:
                ext.extra_compile_args += ["/O2"]
        super().build_extensions()

    def run(self):
        try:
            super().run()
        except Exception as exc:  # compiler missing, headers missing, ...
            self.give_up(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self.give_up(exc)

    def give_up(self, exc):
        if flag("WSFAST_REQUIRE_EXTENSIONS"):
            raise exc
        sys.stderr.write(WARNING.format(reason=f"{type(exc).__name__}: {exc}"))


def extensions():
    if flag("WSFAST_NO_EXTENSIONS") or platform.python_implementation() != "CPython":
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        if flag("WSFAST_REQUIRE_EXTENSIONS"):
            raise
        sys.stderr.write(WARNING.format(reason=f"Cython is missing: {exc}"))
        return []
    # The kernel binding (csrc/ and nothing else), the Inbox, the asyncio
    # MessagePump, which cimports both (wsfast/_speedups.pxd, _inbox.pxd), and
    # the aiohttp reader's loop (cimports the parser): the header of csrc/ is
    # seen by all, its code linked into the first.
    exts = [
        Extension("wsfast._speedups", ["wsfast/_speedups.pyx"] + sorted(glob.glob("csrc/*.c")),
                  include_dirs=["csrc"]),
        Extension("wsfast._inbox", ["wsfast/_inbox.pyx"]),
        Extension("wsfast.asyncio._pump", ["wsfast/asyncio/_pump.pyx"], include_dirs=["csrc"]),
        Extension("wsfast.integrations._aiohttp_feed", ["wsfast/integrations/_aiohttp_feed.pyx"],
                  include_dirs=["csrc"]),
    ]
    return cythonize(exts, compiler_directives={"language_level": "3"}, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
