"""What the Connection differential checks compare (tests/test_connection_diff.py
and fuzz/fuzz_connection.py): everything a Connection says about a byte
stream, run once over the C kernels and once over their pure-Python twins in
the same process.

``wsfast.connection`` binds FrameParser, build_frame and Utf8Validator (and
``wsfast.frames`` binds validate_utf8 for close reasons) when it is imported;
``pure_twin()`` executes fresh copies of both modules with those names bound
to ``wsfast._pure``, so the two Connections differ in nothing but the
backend.
"""
from __future__ import annotations

import importlib.util
import types
import zlib
from typing import Any

from hypothesis import strategies as st

from helpers.hostile_peer import header
from wsfast import _pure
from wsfast.deflate import NegotiatedDeflate
from wsfast.errors import ProtocolError

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


_PURE_NAMES = ("Frame", "FrameParser", "build_frame", "validate_utf8", "Utf8Validator")


def _fresh(name: str, overrides: dict[str, Any]) -> types.ModuleType:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.__dict__.update({k: v for k, v in overrides.items() if k in module.__dict__})
    return module


def pure_twin() -> type:
    """``Connection`` running on the pure-Python backend whatever _impl chose."""
    backend = {name: getattr(_pure, name) for name in _PURE_NAMES}
    frames = _fresh("wsfast.frames", backend)
    connection = _fresh("wsfast.connection", dict(
        backend, encode_close=frames.encode_close, parse_close=frames.parse_close))
    connection.Connection.pure_streams = True  # outcome() gives it pure DeflateStreams
    return connection.Connection  # type: ignore[no-any-return]


def sent_frames(data: bytes, role: str) -> list[tuple[int, bool, bytes]]:
    """The frames in ``bytes_to_send()`` output, unmasked: a client masks
    with random keys, so its bytes differ from run to run but its frames
    must not."""
    parser = _pure.FrameParser("server" if role == "client" else "client",
                               max_frame_size=None, max_message_size=None)
    return [(f.opcode, f.fin, f.payload) for f in parser.feed(data)]


def outcome(connection_class: type, role: str, chunks: list[bytes],
            deflate: dict[str, Any] | None, **options: Any) -> list[Any]:
    """Per chunk: the events, or the error (class, close code) that ended
    the stream; with the frames the connection owes the peer, its state and
    the peer's close code. Anything but a ProtocolError propagates."""
    streams = _pure.DeflateStreams if getattr(connection_class, "pure_streams", False) \
        else NegotiatedDeflate
    compression = streams(**deflate) if deflate is not None else None
    conn = connection_class(role, compression=compression, **options)
    said: list[Any] = []
    for chunk in chunks + [b""]:  # b"": the transport reaches EOF
        try:
            conn.receive_data(chunk)
            result: Any = [tuple(e) + (type(e).__name__,) for e in conn.events()]
        except ProtocolError as exc:
            result = (type(exc).__name__, exc.close_code,
                      [tuple(e) + (type(e).__name__,) for e in conn.events()])
        said.append((result, sent_frames(conn.bytes_to_send(), role), int(conn.state),
                     conn.close_code))
        if isinstance(result, tuple):
            break
    return said
