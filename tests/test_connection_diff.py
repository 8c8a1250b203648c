"""The sans-IO Connection over the C kernels against the same Connection
over the pure-Python twins (tests/connection_outcome.py), on streams of
valid and invalid frames, both roles, with and without permessage-deflate,
any chunking. fuzz/fuzz_connection.py runs the same comparison for longer.
"""
from __future__ import annotations

import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wsfast
from connection_outcome import outcome, pure_twin
from hostile_peer import header
from wsfast.connection import Connection

pytestmark = pytest.mark.skipif(wsfast.IMPLEMENTATION != "c",
                                reason="compares the C extension with pure Python")

TEXT = st.text(max_size=40).map(str.encode)
BAD_TEXT = st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"ok\xf4\x90"])
CLOSE = st.tuples(st.sampled_from([1000, 1001, 1005, 1007, 1015, 3000, 5000]),
                  st.binary(max_size=5)).map(lambda c: c[0].to_bytes(2, "big") + c[1])
FRAME = st.tuples(
    st.sampled_from([0, 1, 2, 8, 9, 10, 3]),               # opcode (3 reserved)
    st.booleans() | st.just(True),                          # fin
    st.one_of(st.binary(max_size=200), TEXT, BAD_TEXT, CLOSE),
    st.sampled_from(["plain", "plain", "deflate", "rsv1 garbage", "unmasked"]),
)


def encode(frames: list[tuple[int, bool, bytes, str]], role: str) -> bytes:
    """The frames as a peer of ``role`` would send them (masked to a server)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = []
    for opcode, fin, payload, how in frames:
        rsv1 = how in ("deflate", "rsv1 garbage")
        if how == "deflate":
            payload = (compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
        masked = (role == "server") != (how == "unmasked")
        key = b"\x9a\x0b\x37\xe4" if masked else None
        if key is not None:
            payload = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        out.append(header(opcode, len(payload), fin=fin, rsv1=rsv1, key=key) + payload)
    return b"".join(out)


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
