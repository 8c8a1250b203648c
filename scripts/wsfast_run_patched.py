"""Run a module as __main__ with ``wsfast.patch(LIBRARY)`` active.

    python scripts/wsfast_run_patched.py LIBRARY MODULE [ARGS...]

For test runners that are not pytest (tornado's). Refuses to run when the
patch did not apply; exits 3 if a replaced binding was put back meanwhile.
"""
from __future__ import annotations

import runpy
import sys

import wsfast
from wsfast.integrations import changed_bindings


def main() -> None:
    library, module, *args = sys.argv[1:]
    if library not in wsfast.patch(library):
        sys.exit(f"wsfast.patch({library!r}) did not apply")
    print(f"wsfast.patch(): {wsfast.patched()}", flush=True)
    sys.argv = [module, *args]
    code: object = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    lost = changed_bindings(library)
    if lost or library not in wsfast.patched():
        print(f"wsfast: {library} was no longer patched at the end: {lost}", flush=True)
        code = 3
    sys.exit(code)


if __name__ == "__main__":
    main()
