"""The sans-IO Connection over the C kernels against the same Connection
over the pure-Python twins (tests/helpers/connection_outcome.py), on streams of
valid and invalid frames, both roles, with and without permessage-deflate,
any chunking. fuzz/fuzz_connection.py runs the same comparison for longer.
"""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wsfast
from helpers.connection_outcome import FRAME, encode, outcome, pure_twin
from wsfast.connection import Connection

pytestmark = pytest.mark.skipif(wsfast.IMPLEMENTATION != "c",
                                reason="compares the C extension with pure Python")

PureConnection = pure_twin()


@given(frames=st.lists(FRAME, max_size=8), role=st.sampled_from(["client", "server"]),
       deflate=st.booleans(), stream=st.booleans(),
       limit=st.sampled_from([None, 0, 100, 1 << 20]),
       cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6))
def test_c_and_pure_connections_agree(frames: Any, role: str, deflate: bool, stream: bool,
                                      limit: int | None, cuts: list[int]) -> None:
    data = encode(frames, role)
    points = sorted(min(c, len(data)) for c in cuts)
    chunks = [data[a:b] for a, b in zip([0] + points, points + [len(data)])]
    options: dict[str, Any] = dict(max_message_size=limit, stream_fragments=stream)
    negotiated = {} if deflate else None
    assert (outcome(Connection, role, chunks, negotiated, **options)
            == outcome(PureConnection, role, chunks, negotiated, **options))


def test_the_twin_really_runs_pure_python() -> None:
    # Without this the comparison above could be C against C.
    conn = PureConnection("server")
    assert type(conn._parser).__module__ == "wsfast._pure"
    assert type(Connection("server")._parser).__module__ != "wsfast._pure"
