"""permessage-deflate (RFC 7692): negotiation rules, the RFC's own byte
examples, plain zlib as the independent codec, and a decompression bomb."""
from __future__ import annotations

import os
import zlib

import pytest

try:
    import tracemalloc
except ImportError:  # PyPy has none
    tracemalloc = None  # type: ignore[assignment]

from wsfast.deflate import NegotiatedDeflate, PerMessageDeflate
from wsfast.errors import HandshakeError, MessageTooBig, ProtocolError
from wsfast.handshake import ClientHandshake, ServerHandshake, accept_key, parse_extensions

# The memory bounds are measured with tracemalloc; where it is missing (PyPy)
# the tests that assert them skip, saying why.
needs_tracemalloc = pytest.mark.skipif(
    tracemalloc is None, reason="no tracemalloc in this interpreter: memory bounds not measurable")

TAIL = b"\x00\x00\xff\xff"


def params(text: str) -> list[tuple[str, str | None]]:
    [(name, ps)] = parse_extensions([text])
    assert name == "permessage-deflate"
    return ps


# -- server side negotiation ---------------------------------------------------

@pytest.mark.parametrize("config, offer, response, local, remote", [
    ({}, "permessage-deflate", "permessage-deflate", (False, 15), (False, 15)),
    # Section 7.1.1.1: a requested server_no_context_takeover is accepted.
    ({}, "permessage-deflate; server_no_context_takeover",
     "permessage-deflate; server_no_context_takeover", (True, 15), (False, 15)),
    # Section 7.1.1.2: the client's hint is echoed, so its context can go.
    ({}, "permessage-deflate; client_no_context_takeover",
     "permessage-deflate; client_no_context_takeover", (False, 15), (True, 15)),
    # Section 7.1.2.1: the same or a smaller value.
    ({}, "permessage-deflate; server_max_window_bits=10",
     "permessage-deflate; server_max_window_bits=10", (False, 10), (False, 15)),
    ({"server_max_window_bits": 9}, "permessage-deflate; server_max_window_bits=12",
     "permessage-deflate; server_max_window_bits=9", (False, 9), (False, 15)),
    # Section 7.1.2.2: client_max_window_bits only when offered.
    ({"client_max_window_bits": 10}, "permessage-deflate",
     "permessage-deflate", (False, 15), (False, 15)),
    ({"client_max_window_bits": 10}, "permessage-deflate; client_max_window_bits",
     "permessage-deflate; client_max_window_bits=10", (False, 15), (False, 10)),
    ({"client_max_window_bits": 12}, "permessage-deflate; client_max_window_bits=9",
     "permessage-deflate; client_max_window_bits=9", (False, 15), (False, 9)),
    ({"server_no_context_takeover": True, "client_no_context_takeover": True,
      "server_max_window_bits": 11},
     "permessage-deflate; client_max_window_bits",
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
     "server_max_window_bits=11", (True, 11), (True, 15)),
    ({}, 'permessage-deflate; server_max_window_bits="8"',
     "permessage-deflate; server_max_window_bits=8", (False, 8), (False, 15)),
])
def test_server_accepts_offer(config: dict, offer: str, response: str,  # type: ignore[type-arg]
                              local: tuple[bool, int], remote: tuple[bool, int]) -> None:
    accepted = PerMessageDeflate(**config).accept_offer(params(offer))
    assert accepted is not None
    header, codec = accepted
    assert header == response
    assert (codec.local_no_context_takeover, codec.local_max_window_bits) == local
    assert (codec.remote_no_context_takeover, codec.remote_max_window_bits) == remote


@pytest.mark.parametrize("offer", [
    "permessage-deflate; foo",                                  # unknown parameter
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; server_no_context_takeover=1",         # takes no value
    "permessage-deflate; server_max_window_bits",               # needs a value
    "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=010",           # leading zero
    "permessage-deflate; client_max_window_bits=abc",
    "permessage-deflate; client_max_window_bits=8; client_max_window_bits=9",
])
def test_server_declines_invalid_offer(offer: str) -> None:
    # RFC 7692 section 5.1: decline, do not fail.
    assert PerMessageDeflate().accept_offer(params(offer)) is None


def test_server_picks_first_acceptable_offer_and_declines_others() -> None:
    client = ClientHandshake("ws://a/")
    base = client.request_bytes().rstrip(b"\r\n")
    data = base + (b"\r\nSec-WebSocket-Extensions: permessage-deflate; bogus, "
                   b"permessage-deflate; server_max_window_bits=10, x-other\r\n\r\n")
    server = ServerHandshake(compression=PerMessageDeflate())
    req = server.receive_data(data)
    assert req is not None and req.compression is not None
    response = server.accept(req)
    assert b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n" \
        in response
    assert server.compression is req.compression
    assert server.compression.local_max_window_bits == 10


def test_server_without_compression_declines() -> None:
    hs = ClientHandshake("ws://a/", compression=PerMessageDeflate())
    server = ServerHandshake()
    req = server.receive_data(hs.request_bytes())
    assert req is not None
    response = server.accept(req)
    assert b"Sec-WebSocket-Extensions" not in response
    assert hs.receive_data(response) is not None and hs.compression is None


# -- client side negotiation ---------------------------------------------------

def test_client_offer_text() -> None:
    assert PerMessageDeflate().offer() == "permessage-deflate; client_max_window_bits"
    assert PerMessageDeflate(server_no_context_takeover=True, client_no_context_takeover=True,
                             server_max_window_bits=10, client_max_window_bits=12).offer() == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=10; client_max_window_bits=12")


@pytest.mark.parametrize("config, response, local, remote", [
    ({}, "permessage-deflate", (False, 15), (False, 15)),
    ({}, "permessage-deflate; server_no_context_takeover", (False, 15), (True, 15)),
    ({}, "permessage-deflate; client_no_context_takeover", (True, 15), (False, 15)),
    ({}, "permessage-deflate; server_max_window_bits=9", (False, 15), (False, 9)),
    ({}, "permessage-deflate; client_max_window_bits=8", (False, 8), (False, 15)),
    ({"client_no_context_takeover": True}, "permessage-deflate", (True, 15), (False, 15)),
    ({"client_max_window_bits": 11}, "permessage-deflate", (False, 11), (False, 15)),
    ({"server_max_window_bits": 12}, "permessage-deflate; server_max_window_bits=10",
     (False, 15), (False, 10)),
])
def test_client_accepts_response(config: dict, response: str,  # type: ignore[type-arg]
                                 local: tuple[bool, int], remote: tuple[bool, int]) -> None:
    codec = PerMessageDeflate(**config).accept_response(params(response))
    assert (codec.local_no_context_takeover, codec.local_max_window_bits) == local
    assert (codec.remote_no_context_takeover, codec.remote_max_window_bits) == remote


@pytest.mark.parametrize("config, response, words", [
    ({}, "permessage-deflate; foo", "invalid parameter"),
    ({}, "permessage-deflate; client_max_window_bits", "invalid parameter"),
    ({}, "permessage-deflate; server_max_window_bits=20", "invalid parameter"),
    ({}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
     "invalid parameter"),
    ({"server_no_context_takeover": True}, "permessage-deflate", "server_no_context_takeover"),
    ({"server_max_window_bits": 10}, "permessage-deflate", "server_max_window_bits"),
    ({"server_max_window_bits": 10}, "permessage-deflate; server_max_window_bits=12",
     "server_max_window_bits"),
    ({"client_max_window_bits": 10}, "permessage-deflate; client_max_window_bits=12",
     "larger than offered"),
])
def test_client_fails_bad_response(config: dict, response: str,  # type: ignore[type-arg]
                                   words: str) -> None:
    with pytest.raises(ValueError, match=words):
        PerMessageDeflate(**config).accept_response(params(response))
    # Through the handshake, the same response fails the connection.
    client = ClientHandshake("ws://a/", compression=PerMessageDeflate(**config))
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept_key(client.key)}",
             f"Sec-WebSocket-Extensions: {response}"]
    with pytest.raises(HandshakeError, match=words):
        client.receive_data(("\r\n".join(lines) + "\r\n\r\n").encode())


def test_client_fails_when_deflate_accepted_twice() -> None:
    client = ClientHandshake("ws://a/", compression=PerMessageDeflate())
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept_key(client.key)}",
             "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate"]
    with pytest.raises(HandshakeError, match="twice"):
        client.receive_data(("\r\n".join(lines) + "\r\n\r\n").encode())


def test_full_negotiation_through_both_handshakes() -> None:
    client = ClientHandshake("ws://a/", compression=PerMessageDeflate(
        server_no_context_takeover=True))
    server = ServerHandshake(compression=PerMessageDeflate(client_max_window_bits=10))
    req = server.receive_data(client.request_bytes())
    assert req is not None
    assert client.receive_data(server.accept(req)) is not None
    c, s = client.compression, server.compression
    assert c is not None and s is not None
    assert (c.local_max_window_bits, c.remote_no_context_takeover) == (10, True)
    assert (s.remote_max_window_bits, s.local_no_context_takeover) == (10, True)
    message = b"the same words again and again " * 50
    assert s.decompress(c.compress(message), True, None) == message
    assert c.decompress(s.compress(message), True, None) == message


def test_config_validation() -> None:
    for bad in [{"server_max_window_bits": 7}, {"client_max_window_bits": 16},
                {"compress_level": 10}, {"mem_level": 0}, {"threshold": -1}]:
        with pytest.raises(ValueError):
            PerMessageDeflate(**bad)  # type: ignore[arg-type]


# -- compression -------------------------------------------------------------

def test_rfc7692_examples_decompress() -> None:
    codec = NegotiatedDeflate()
    # Section 7.2.3.1: "Hello" in one compressed frame.
    assert codec.decompress(bytes.fromhex("f248cdc9c90700"), True, None) == b"Hello"
    # Section 7.2.3.2: the second "Hello" refers back to the first message.
    assert codec.decompress(bytes.fromhex("f200110000"), True, None) == b"Hello"
    # Section 7.2.3.3: a stored (uncompressed) DEFLATE block.
    assert NegotiatedDeflate().decompress(bytes.fromhex("000500faff48656c6c6f"),
                                          True, None) == b"Hello"
    # Section 7.2.3.1, fragmented across two frames.
    codec = NegotiatedDeflate()
    assert codec.decompress(bytes.fromhex("f248cd"), False, None) \
        + codec.decompress(bytes.fromhex("c9c90700"), True, None) == b"Hello"
    # Section 7.2.3.4: a message ending in a BFINAL block, then another one.
    codec = NegotiatedDeflate()
    assert codec.decompress(bytes.fromhex("f348cdc9c90700"), True, None) == b"Hello"
    assert codec.decompress(bytes.fromhex("f248cdc9c90700"), True, None) == b"Hello"


def test_rfc7692_examples_compress() -> None:
    codec = NegotiatedDeflate()
    assert codec.compress(b"Hello") == bytes.fromhex("f248cdc9c90700")
    assert codec.compress(b"Hello") == bytes.fromhex("f200110000")  # context taken over
    codec = NegotiatedDeflate(local_no_context_takeover=True)
    assert codec.compress(b"Hello") == codec.compress(b"Hello") == bytes.fromhex("f248cdc9c90700")


def plain_inflate(messages: list[bytes], bits: int = 15, takeover: bool = True) -> list[bytes]:
    """Decompress with zlib alone, as any RFC 7692 receiver would."""
    d = zlib.decompressobj(-bits)
    out = []
    for m in messages:
        if not takeover:
            d = zlib.decompressobj(-bits)
        out.append(d.decompress(m + TAIL))
    return out


@pytest.mark.parametrize("takeover", [True, False])
@pytest.mark.parametrize("bits", [8, 9, 12, 15])
def test_compress_matches_plain_zlib(takeover: bool, bits: int) -> None:
    codec = NegotiatedDeflate(local_no_context_takeover=not takeover, local_max_window_bits=bits)
    messages = [b"", b"x", bytes(range(256)) * 40, b"abc" * 1000, b"abc" * 1000]
    compressed = [codec.compress(m) for m in messages]
    assert plain_inflate(compressed, bits, takeover) == messages
    # A window of 8 bits is served Huffman-only: smaller, but no matches.
    assert len(compressed[3]) < (1000 if bits == 8 else 100)
    if takeover and bits > 8:
        assert len(compressed[4]) < len(compressed[3])  # refers to the previous message
    else:
        assert len(compressed[4]) == len(compressed[3])


@pytest.mark.parametrize("takeover", [True, False])
def test_decompress_matches_plain_zlib(takeover: bool) -> None:
    messages = [b"first message " * 30, b"first message " * 30, b"", bytes(5000)]
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    codec = NegotiatedDeflate(remote_no_context_takeover=not takeover)
    for m in messages:
        if not takeover:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(TAIL)
        data = data[:-4]
        # Split in three frames to check streaming.
        parts = [data[:3], data[3:7], data[7:]]
        got = b"".join(codec.decompress(p, i == 2, 1 << 20) for i, p in enumerate(parts))
        assert got == m


def test_invalid_compressed_data_is_protocol_error() -> None:
    with pytest.raises(ProtocolError) as info:
        NegotiatedDeflate().decompress(b"\xff\xff\xff\xff", True, None)
    assert info.value.close_code == 1002 and "invalid compressed data" in info.value.reason


def test_reference_to_context_we_do_not_have_is_protocol_error() -> None:
    # A peer that keeps its context although it agreed not to (or any stream
    # that points before its start) refers to bytes this side never saw.
    c = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=b"hello world " * 10)
    data = (c.compress(b"hello world hello world") + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    with pytest.raises(ProtocolError, match="too far back"):
        NegotiatedDeflate().decompress(data, True, None)


def test_message_limit_counts_decompressed_bytes_across_frames() -> None:
    codec = NegotiatedDeflate(remote_no_context_takeover=False)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = (c.compress(bytes(3000)) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    assert len(codec.decompress(data, True, 3000)) == 3000  # exactly at the limit
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = c.compress(bytes(2000)) + c.flush(zlib.Z_SYNC_FLUSH)
    second = (c.compress(bytes(1001)) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    codec = NegotiatedDeflate()
    assert len(codec.decompress(first, False, 3000)) == 2000
    with pytest.raises(MessageTooBig) as info:
        codec.decompress(second, True, 3000)
    assert info.value.close_code == 1009


def zero_bomb(gib: int = 1) -> bytes:
    """``gib`` GiB of zeros as one raw deflate stream, in about 1 MiB: 1 MiB
    blocks from fresh compressors, each ended by a sync flush, so copies of
    one block concatenate into a valid stream."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_SYNC_FLUSH)
    assert plain_inflate([block[:-4]]) == [bytes(1 << 20)]
    return (block * (1024 * gib))[:-4]


@needs_tracemalloc
def test_decompression_bomb_is_message_too_big_with_bounded_memory() -> None:
    bomb = zero_bomb()
    assert len(bomb) < 2 << 20
    # The bomb really is 1 GiB: count what zlib yields, 1 MiB at a time.
    d, total, rest = zlib.decompressobj(-15), 0, bomb
    while rest:  # bounded: each turn consumes input or stops
        total += len(d.decompress(rest, 1 << 20))
        rest = d.unconsumed_tail
    assert total == 1 << 30
    codec = NegotiatedDeflate()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(MessageTooBig):
            codec.decompress(bomb, True, 1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One message limit (1 MiB) plus zlib's state, not the 1 GiB it expands to.
    assert peak < 4 << 20, peak


def test_fragmented_bomb_is_bounded_too() -> None:
    bomb = zero_bomb()
    codec = NegotiatedDeflate()
    frame = 64 * 1024
    with pytest.raises(MessageTooBig):
        for i in range(0, len(bomb), frame):  # bounded by len(bomb)
            codec.decompress(bomb[i:i + frame], i + frame >= len(bomb), 1 << 20)
    # Within the limit, the codec starts afresh for the next message.
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    fresh = (c.compress(b"after") + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    assert codec.decompress(fresh, True, 1 << 20) == b"after"


# -- the parser inflates whole messages (both twins) ---------------------------

import wsfast  # noqa: E402
from wsfast import _pure  # noqa: E402
from wsfast.connection import Connection  # noqa: E402

TWINS = [_pure]
if wsfast.IMPLEMENTATION == "c":
    from wsfast import _speedups
    TWINS.insert(0, _speedups)


@pytest.fixture(params=TWINS, ids=lambda m: "c" if m is not _pure else "pure")
def twin(request: pytest.FixtureRequest) -> object:
    return request.param


def deflated(messages: list[bytes], takeover: bool = True) -> list[bytes]:
    """Each message compressed by plain zlib, as a peer would (section 7.2.1)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = []
    for m in messages:
        if not takeover:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
        out.append((c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH))[:-4])
    return out


def frame(b0: int, payload: bytes) -> bytes:
    """An unmasked frame from a server, written out by hand."""
    n = len(payload)
    if n < 126:
        return bytes([b0, n]) + payload
    if n < 1 << 16:
        return bytes([b0, 126]) + n.to_bytes(2, "big") + payload
    return bytes([b0, 127]) + n.to_bytes(8, "big") + payload


@pytest.mark.parametrize("takeover", [True, False])
def test_parser_inflates_whole_messages(twin: object, takeover: bool) -> None:
    texts = ["héllo " * 50, "héllo " * 50, "x", "ünïcode" * 300]
    payloads = deflated([t.encode() for t in texts], takeover)
    data = b"".join(frame(0xC1, p) for p in payloads) + frame(0x82, b"raw")
    streams = twin.DeflateStreams(remote_no_context_takeover=not takeover)  # type: ignore[attr-defined]
    parser = twin.FrameParser("client", max_message_size=1 << 20,  # type: ignore[attr-defined]
                              deflate=streams)
    out: list[object] = []
    # Byte by byte too: a message whose frame is cut anywhere still inflates.
    for chunk in [data] if takeover else [data[i:i + 1] for i in range(len(data))]:
        assert parser.feed_messages(chunk, out) == 0
    assert out == texts + [b"raw"]


def test_parser_keeps_stream_order_after_a_fragment(twin: object) -> None:
    # A compressed message in two frames, then a whole one referring back to
    # it, in one read: the whole one must not be inflated before the first.
    first, second = deflated([b"abcdefgh" * 20, b"abcdefgh" * 20])
    data = frame(0x41, first[:5]) + frame(0x80, first[5:]) + frame(0xC1, second)
    streams = twin.DeflateStreams()  # type: ignore[attr-defined]
    parser = twin.FrameParser("client", deflate=streams)  # type: ignore[attr-defined]
    out: list[object] = []
    assert parser.feed_messages(data, out) == 3
    payloads = [streams.decompress(f.payload, f.fin, None) for f in out]  # type: ignore[attr-defined]
    assert b"".join(payloads[:2]) == payloads[2] == b"abcdefgh" * 20
    # In the next read a whole message is inflated by the parser again.
    [third] = deflated([b"xyz" * 10])
    out = []
    assert parser.feed_messages(frame(0xC1, third), out) == 0
    assert out == ["xyz" * 10]


def test_parser_limit_is_the_inflated_size(twin: object) -> None:
    # Incompressible data grows a little in deflate: its frame may pass the
    # limit on the wire, its message may not once inflated.
    data = os.urandom(1000)
    [payload] = deflated([data])
    assert len(payload) > 1000
    parser = twin.FrameParser("client", max_message_size=1000,  # type: ignore[attr-defined]
                              deflate=twin.DeflateStreams())  # type: ignore[attr-defined]
    out: list[object] = []
    parser.feed_messages(frame(0xC2, payload), out)
    assert out == [data]
    # One byte more, inflated: 1009. Uncompressed, one byte over: 1009 too.
    for message in (frame(0xC2, deflated([bytes(1001)])[0]), frame(0x82, bytes(1001))):
        parser = twin.FrameParser("client", max_message_size=1000,  # type: ignore[attr-defined]
                                  deflate=twin.DeflateStreams())  # type: ignore[attr-defined]
        with pytest.raises(MessageTooBig) as info:
            parser.feed_messages(frame(0x82, b"before") + message, out := [])
        assert info.value.close_code == 1009
        assert out == [b"before"]


@needs_tracemalloc
def test_parser_stops_a_bomb_at_the_limit(twin: object) -> None:
    bomb = zero_bomb()
    parser = twin.FrameParser("client", max_message_size=1 << 20,  # type: ignore[attr-defined]
                              max_frame_size=None, deflate=twin.DeflateStreams())  # type: ignore[attr-defined]
    data = frame(0xC2, bomb)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(MessageTooBig):
            parser.feed_messages(data, [])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak  # one message limit, not the GiB it expands to


def test_parser_errors_for_bad_compressed_data(twin: object) -> None:
    parser = twin.FrameParser("client", deflate=twin.DeflateStreams())  # type: ignore[attr-defined]
    with pytest.raises(ProtocolError) as info:
        parser.feed_messages(frame(0xC1, b"\xff\xff\xff"), [])
    assert info.value.close_code == 1002
    [bad_text] = deflated([b"ok \xff"])
    parser = twin.FrameParser("client", deflate=twin.DeflateStreams())  # type: ignore[attr-defined]
    with pytest.raises(ProtocolError) as info:
        parser.feed_messages(frame(0xC1, bad_text), [])
    assert info.value.close_code == 1007


def test_connection_sends_and_reads_compressed_messages_as_zlib_does() -> None:
    # Both ends wsfast, through the parser's whole-message path; plain zlib
    # checks what went over the wire.
    client = Connection("client", compression=NegotiatedDeflate())
    server = Connection("server", compression=NegotiatedDeflate())
    sent = ["héllo" * 30, b"\x00" * 5000, "héllo" * 30]
    wire = [client.send(m) for m in sent]
    for data in wire:
        server.receive_data(data)
    assert server.messages_and_events() == sent
    plain = zlib.decompressobj(-15)
    for data, message in zip(wire, sent):
        raw = _pure.FrameParser("server", rsv1_allowed=True).feed(data)[0]
        assert raw.rsv1
        assert plain.decompress(raw.payload + TAIL) == (
            message.encode() if isinstance(message, str) else message)


def test_zlib_binding_is_chosen_by_wsfast_zlib(monkeypatch: pytest.MonkeyPatch) -> None:
    from wsfast import _contract
    monkeypatch.setenv("WSFAST_ZLIB", "zlib")
    assert _contract.zlib_module() is zlib
    monkeypatch.setenv("WSFAST_ZLIB", "gzip")
    with pytest.raises(ValueError, match="WSFAST_ZLIB"):
        _contract.zlib_module()
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        monkeypatch.setenv("WSFAST_ZLIB", "zlib-ng")
        with pytest.raises(ImportError):
            _contract.zlib_module()
        pytest.skip("zlib-ng is not installed (pip install 'wsfast[zlib-ng]')")
    for choice in ("zlib-ng", ""):
        monkeypatch.setenv("WSFAST_ZLIB", choice)
        assert _contract.zlib_module() is zlib_ng
    # What the streams of this process use: plain zlib reads what they wrote.
    [message] = [b"the quick brown fox " * 50]
    assert plain_inflate([NegotiatedDeflate().compress(message)]) == [message]
