"""pytest plugin: run a library's own tests with ``wsfast.patch()`` active.

scripts/library-tests.py loads it (``-p wsfast_library_plugin``) with
WSFAST_PATCH naming the library. It patches before any test is collected,
refuses to run if the patch did not apply, and fails the session if any
replaced binding no longer holds wsfast's object at the end (a test suite
that silently ran unpatched would prove nothing).
"""
from __future__ import annotations

import os

import pytest

import wsfast
from wsfast.integrations import bindings, changed_bindings

_NAME = os.environ.get("WSFAST_PATCH", "")


def pytest_configure(config: pytest.Config) -> None:
    if not _NAME:
        raise pytest.UsageError("set WSFAST_PATCH to the library to patch")
    result = wsfast.patch(_NAME)
    if _NAME not in result:
        raise pytest.UsageError(f"wsfast.patch({_NAME!r}) did not apply: {result}")


def pytest_report_header(config: pytest.Config) -> str:
    where = ", ".join(f"{m}.{a}" for m, a in bindings(_NAME))
    return f"wsfast.patch(): {wsfast.patched()} -- {where}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    lost = changed_bindings(_NAME)
    if not wsfast.patched().get(_NAME) or lost:
        session.config.get_terminal_writer().line(
            f"wsfast: {_NAME} was no longer patched at the end: {lost}", red=True)
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
