"""The sans-IO Connection against RFC 6455 itself: frames are built and read
here by hand (struct and XOR, nothing from wsfast), so every expectation
comes from the RFC's text and its section 5.7 examples."""
from __future__ import annotations

import os
import struct
import zlib

import pytest

from wsfast.connection import Connection, State
from wsfast.deflate import NegotiatedDeflate
from wsfast.errors import ConnectionClosed, InvalidUTF8, MessageTooBig, ProtocolError
from wsfast.events import (BinaryFragment, BinaryMessage, CloseReceived, Ping, Pong,
                           TextFragment, TextMessage)


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv1: bool = False,
          rsv2: bool = False, masked: bool = True) -> bytes:
    """One frame per RFC 6455 section 5.2; masked as a client's would be."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0) | opcode
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", b0, mask_bit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mask_bit | 127, n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frames(data: bytes) -> list[tuple[int, bool, bool, bool, bytes]]:
    """(opcode, fin, rsv1, masked, payload) of every frame in data."""
    out, pos = [], 0
    while pos < len(data):  # bounded: each turn consumes a frame
        b0, b1 = data[pos], data[pos + 1]
        n, pos = b1 & 0x7F, pos + 2
        if n == 126:
            n, pos = struct.unpack_from("!H", data, pos)[0], pos + 2
        elif n == 127:
            n, pos = struct.unpack_from("!Q", data, pos)[0], pos + 8
        key = b"\0\0\0\0"
        if b1 & 0x80:
            key, pos = data[pos:pos + 4], pos + 4
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(data[pos:pos + n]))
        pos += n
        out.append((b0 & 0x0F, bool(b0 & 0x80), bool(b0 & 0x40), bool(b1 & 0x80), payload))
    return out


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


def server(**kwargs: object) -> Connection:
    return Connection("server", **kwargs)  # type: ignore[arg-type]


def sent_close(conn: Connection) -> int:
    """The code of the single Close frame the connection queued."""
    [(opcode, _, _, _, payload)] = read_frames(conn.bytes_to_send())
    assert opcode == 8
    return int(struct.unpack("!H", payload[:2])[0])


def fails_with(conn: Connection, data: bytes, error: type, code: int) -> ProtocolError:
    with pytest.raises(error) as info:
        conn.receive_data(data)
    assert info.value.close_code == code
    assert conn.state is State.CLOSING
    assert sent_close(conn) == code
    return info.value


# -- RFC 6455 section 5.7 examples ---------------------------------------------

def test_rfc_examples_to_a_client() -> None:
    conn = Connection("client")
    conn.receive_data(bytes.fromhex("810548656c6c6f"))            # unmasked "Hello"
    conn.receive_data(bytes.fromhex("010348656c") + bytes.fromhex("80026c6f"))  # fragmented
    conn.receive_data(bytes.fromhex("890548656c6c6f"))            # ping "Hello"
    conn.receive_data(bytes.fromhex("8a0548656c6c6f"))            # pong "Hello"
    conn.receive_data(bytes.fromhex("827e0100") + bytes(256))     # 256 bytes binary
    conn.receive_data(bytes.fromhex("827f0000000000010000") + bytes(65536))  # 64 KiB
    assert conn.events() == [TextMessage("Hello"), TextMessage("Hello"), Ping(b"Hello"),
                             Pong(b"Hello"), BinaryMessage(bytes(256)),
                             BinaryMessage(bytes(65536))]
    # The pong answers the ping with the same payload, masked (client).
    assert read_frames(conn.bytes_to_send()) == [(10, True, False, True, b"Hello")]
    assert conn.bytes_to_send() == b""


def test_rfc_masked_example_to_a_server() -> None:
    conn = server()
    conn.receive_data(bytes.fromhex("818537fa213d7f9f4d5158"))
    assert conn.events() == [TextMessage("Hello")]
    assert conn.events() == []


def test_byte_by_byte() -> None:
    conn = server()
    data = frame(1, "héllo wörld".encode(), fin=False) + frame(9, b"p") + frame(0, b"!")
    for i in range(len(data)):
        conn.receive_data(data[i:i + 1])
    assert conn.events() == [Ping(b"p"), TextMessage("héllo wörld!")]


# -- data frames ---------------------------------------------------------------

def test_fragments_with_control_frames_interleaved() -> None:
    conn = server()
    conn.receive_data(frame(2, b"ab", fin=False) + frame(9, b"1") + frame(0, b"cd", fin=False)
                      + frame(10, b"2") + frame(0, b"", fin=False) + frame(0, b"ef"))
    assert conn.events() == [Ping(b"1"), Pong(b"2"), BinaryMessage(b"abcdef")]
    assert read_frames(conn.bytes_to_send()) == [(10, True, False, False, b"1")]


def test_empty_messages() -> None:
    conn = server()
    conn.receive_data(frame(1) + frame(2) + frame(1, fin=False) + frame(0))
    assert conn.events() == [TextMessage(""), BinaryMessage(b""), TextMessage("")]


def test_multibyte_character_split_across_fragments() -> None:
    data = "€𝄞".encode()
    conn = server()
    conn.receive_data(b"".join(frame(0 if i else 1, data[i:i + 1], fin=i == len(data) - 1)
                               for i in range(len(data))))
    assert conn.events() == [TextMessage("€𝄞")]


def test_stream_fragments() -> None:
    conn = server(stream_fragments=True)
    euro = "€".encode()
    conn.receive_data(frame(1, b"a" + euro[:1], fin=False) + frame(9, b"x")
                      + frame(0, euro[1:], fin=False) + frame(0, b"b"))
    assert conn.events() == [TextFragment("a", False), Ping(b"x"), TextFragment("€", False),
                             TextFragment("b", True)]
    conn.receive_data(frame(2, b"12", fin=False) + frame(0, b"34"))
    assert conn.events() == [BinaryFragment(b"12", False), BinaryFragment(b"34", True)]
    conn.receive_data(frame(1, b"whole"))  # unfragmented messages stay whole
    assert conn.events() == [TextMessage("whole")]


# -- invalid UTF-8: 1007, as soon as it is certain ----------------------------------

@pytest.mark.parametrize("payload", [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                                     b"ok\xe2\x82"])
def test_invalid_text_is_1007(payload: bytes) -> None:
    conn = server()
    fails_with(conn, frame(1, b"first") + frame(1, payload), InvalidUTF8, 1007)
    assert conn.events() == [TextMessage("first")]  # what came before stays


@pytest.mark.parametrize("prefix", [b"\xff", b"\xed\xa0", b"\xf5", b"\xe0\x80", b"abc\xc2\x41"])
def test_invalid_fragment_fails_before_the_message_ends(prefix: bytes) -> None:
    # Section 8.1: fail as soon as the data can no longer be valid, here in
    # the first fragment of a message whose end has not arrived.
    fails_with(server(), frame(1, prefix, fin=False), InvalidUTF8, 1007)


def test_text_ending_inside_a_character_is_1007() -> None:
    conn = server()
    conn.receive_data(frame(1, b"\xe2\x82", fin=False))
    fails_with(conn, frame(0, b""), InvalidUTF8, 1007)


def test_invalid_text_in_stream_mode_is_1007() -> None:
    conn = server(stream_fragments=True)
    conn.receive_data(frame(1, b"ok", fin=False))
    fails_with(conn, frame(0, b"\xed\xbf\xbf", fin=False), InvalidUTF8, 1007)
    assert conn.events() == [TextFragment("ok", False)]


# -- protocol errors: 1002 and 1009 ---------------------------------------------

@pytest.mark.parametrize("data", [
    frame(3, b"x"),                             # reserved opcode
    frame(0xB, b"x"),                           # reserved control opcode
    frame(1, b"x", rsv1=True),                  # RSV1 without an extension
    frame(1, b"x", rsv2=True),                  # RSV2
    frame(0, b"x"),                             # continuation with nothing to continue
    frame(1, b"a", fin=False) + frame(1, b"b"),  # new message inside a fragmented one
    frame(9, b"x", fin=False),                  # fragmented control frame
    frame(9, b"x" * 126),                       # control frame over 125 bytes
    frame(1, b"unmasked", masked=False),        # clients must mask
])
def test_protocol_violation_is_1002(data: bytes) -> None:
    fails_with(server(), data, ProtocolError, 1002)


def test_masked_frame_to_client_is_1002() -> None:
    fails_with(Connection("client"), frame(1, b"x", masked=True), ProtocolError, 1002)


def test_too_big_is_1009() -> None:
    fails_with(server(max_message_size=10), frame(2, b"x" * 11), MessageTooBig, 1009)
    conn = server(max_message_size=10)
    conn.receive_data(frame(2, b"x" * 10))
    assert conn.events() == [BinaryMessage(b"x" * 10)]
    fails_with(conn, frame(1, b"abcdef", fin=False) + frame(0, b"ghijk"), MessageTooBig, 1009)
    fails_with(server(max_message_size=100, max_frame_size=4), frame(2, b"12345"),
               MessageTooBig, 1009)


def test_after_a_failure_data_is_ignored_and_nothing_is_sent() -> None:
    conn = server()
    fails_with(conn, frame(3), ProtocolError, 1002)
    conn.receive_data(frame(1, b"late") + frame(9, b"late"))
    assert conn.events() == [] and conn.bytes_to_send() == b""
    with pytest.raises(ConnectionClosed):
        conn.send_text("no")
    conn.receive_data(b"")
    assert conn.state is State.CLOSED and conn.close_code == 1006


# -- the closing handshake -----------------------------------------------------

@pytest.mark.parametrize("payload, event, echo", [
    (close_payload(1000, b"bye"), CloseReceived(1000, "bye"), 1000),
    (close_payload(1001), CloseReceived(1001, ""), 1001),
    (close_payload(3000, "é".encode()), CloseReceived(3000, "é"), 3000),
    (close_payload(4999), CloseReceived(4999, ""), 4999),
    (b"", CloseReceived(1005, ""), 1000),  # no code: echo 1000
])
def test_peer_close_is_echoed(payload: bytes, event: CloseReceived, echo: int) -> None:
    conn = server()
    conn.receive_data(frame(8, payload) + frame(1, b"after close"))
    assert conn.events() == [event]  # nothing after the Close is processed
    assert conn.state is State.CLOSED
    assert (conn.close_code, conn.close_reason) == (event.code, event.reason)
    [(opcode, fin, _, masked, echoed)] = read_frames(conn.bytes_to_send())
    assert (opcode, fin, masked) == (8, True, False)
    assert echoed == close_payload(echo)
    for send in (lambda: conn.send_text("x"), lambda: conn.send_binary(b"x"),
                 lambda: conn.ping(), lambda: conn.pong(), lambda: conn.close()):
        with pytest.raises(ConnectionClosed) as info:
            send()
        assert info.value.code == event.code


@pytest.mark.parametrize("payload, code", [
    (b"\x03", 1002),                                   # 1 byte
    (close_payload(999), 1002), (close_payload(1004), 1002), (close_payload(1005), 1002),
    (close_payload(1006), 1002), (close_payload(1015), 1002), (close_payload(1016), 1002),
    (close_payload(2999), 1002), (close_payload(5000), 1002), (close_payload(65535), 1002),
    (close_payload(1000, b"\xff"), 1007),              # reason not UTF-8
])
def test_invalid_close_payload(payload: bytes, code: int) -> None:
    conn = server()
    fails_with(conn, frame(8, payload), ProtocolError, code)
    assert conn.close_code is None


def test_we_close_first() -> None:
    conn = Connection("client")
    data = conn.close(1001, "going")
    assert read_frames(data) == [(8, True, False, True, close_payload(1001, b"going"))]
    assert conn.state is State.CLOSING
    with pytest.raises(ConnectionClosed):
        conn.send_text("no")
    with pytest.raises(ConnectionClosed):
        conn.close()
    # Messages and pings still arrive; no pong goes out after our Close.
    conn.receive_data(frame(1, b"still", masked=False) + frame(9, b"p", masked=False))
    conn.receive_data(frame(8, close_payload(1001), masked=False))
    assert conn.events() == [TextMessage("still"), Ping(b"p"), CloseReceived(1001, "")]
    assert conn.bytes_to_send() == b""
    assert conn.state is State.CLOSED
    conn.receive_data(b"")
    assert conn.state is State.CLOSED and conn.close_code == 1001


def test_close_arguments_are_checked() -> None:
    conn = server()
    with pytest.raises(ValueError):
        conn.close(1005)
    with pytest.raises(ValueError):
        conn.close(1000, "x" * 124)
    assert conn.state is State.OPEN


def test_eof_without_close_is_1006() -> None:
    conn = server()
    conn.receive_data(frame(1, b"x"))
    conn.receive_data(b"")
    assert conn.state is State.CLOSED and conn.close_code == 1006
    assert conn.events() == [TextMessage("x")]


# The parser hands what came before a bad frame over in two ways (appended
# in place without compression, on the error with it): both are checked.
compressions = pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflate"])


def maybe_deflate(compress: bool) -> Connection:
    return server(compression=NegotiatedDeflate() if compress else None)


@compressions
def test_frames_before_an_error_in_the_same_data_are_kept(compress: bool) -> None:
    conn = maybe_deflate(compress)
    with pytest.raises(ProtocolError):
        conn.receive_data(frame(1, b"a") + frame(9, b"b") + frame(3))
    assert conn.events() == [TextMessage("a"), Ping(b"b")]
    # The pong owed for the ping, then the Close for the bad frame.
    assert [(op, p[:2]) for op, _, _, _, p in read_frames(conn.bytes_to_send())] == [
        (10, b"b"), (8, close_payload(1002))]


@compressions
def test_first_error_in_the_same_data_wins(compress: bool) -> None:
    # The invalid text comes before the reserved opcode: 1007, not 1002.
    fails_with(maybe_deflate(compress), frame(1, b"\xff") + frame(3), InvalidUTF8, 1007)
    fails_with(maybe_deflate(compress), frame(1, b"\xff", fin=False) + frame(3), InvalidUTF8,
               1007)


@compressions
def test_close_before_an_error_in_the_same_data_wins(compress: bool) -> None:
    conn = maybe_deflate(compress)
    conn.receive_data(frame(1, b"last") + frame(8, close_payload(1000)) + frame(3))
    assert conn.events() == [TextMessage("last"), CloseReceived(1000, "")]
    assert read_frames(conn.bytes_to_send())[0][4] == close_payload(1000)
    assert conn.state is State.CLOSED


# -- sending ---------------------------------------------------------------------

def test_client_masks_server_does_not() -> None:
    client, srv = Connection("client"), server()
    assert read_frames(client.send_text("héllo")) == [(1, True, False, True, "héllo".encode())]
    assert read_frames(srv.send_text("héllo")) == [(1, True, False, False, "héllo".encode())]
    assert read_frames(client.send_binary(bytearray(b"\x00\x01"))) == [
        (2, True, False, True, b"\x00\x01")]
    assert read_frames(srv.send_binary(memoryview(bytes(70000)))) == [
        (2, True, False, False, bytes(70000))]
    assert read_frames(client.ping(b"p")) == [(9, True, False, True, b"p")]
    assert read_frames(srv.pong(b"q")) == [(10, True, False, False, b"q")]
    keys = {client.send_text("same")[2:6] for _ in range(20)}
    assert len(keys) > 1  # a fresh masking key per frame (section 5.3)
    with pytest.raises(ValueError):
        client.ping(b"x" * 126)


@pytest.mark.parametrize("role", ["client", "server"])
def test_send_is_text_for_str_and_binary_for_the_rest(role: str) -> None:
    conn, masked = Connection(role), role == "client"
    assert read_frames(conn.send("héllo")) == [(1, True, False, masked, "héllo".encode())]
    for data in (b"\x00\xff", bytearray(b"ab"), memoryview(bytes(70000))):
        assert read_frames(conn.send(data)) == [(2, True, False, masked, bytes(data))]
    conn.close()
    with pytest.raises(ConnectionClosed):
        conn.send("late")


def test_send_compresses_as_send_text_and_send_binary_do() -> None:
    conn = server(compression=NegotiatedDeflate())
    for message in ("ab" * 500, b"\x01" * 1000):
        (opcode, fin, rsv1, _, payload), = read_frames(conn.send(message))
        assert (opcode, fin, rsv1) == (1 if isinstance(message, str) else 2, True, True)
        raw = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        assert raw == (message.encode() if isinstance(message, str) else message)


def test_role_is_checked() -> None:
    with pytest.raises(ValueError):
        Connection("peer")


# -- compression (RFC 7692) -------------------------------------------------------

def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def test_compressed_messages_are_decompressed() -> None:
    conn = server(compression=NegotiatedDeflate())
    text = "compressed text " * 20
    body = deflate(text.encode())
    conn.receive_data(frame(1, body, rsv1=True) + frame(2, deflate(b"\x00" * 1000), rsv1=True)
                      + frame(1, b"plain"))
    conn.receive_data(frame(1, body[:5], rsv1=True, fin=False) + frame(9, b"p")
                      + frame(0, body[5:]))
    assert conn.events() == [TextMessage(text), BinaryMessage(bytes(1000)), TextMessage("plain"),
                             Ping(b"p"), TextMessage(text)]


def test_compressed_invalid_text_is_1007() -> None:
    conn = server(compression=NegotiatedDeflate())
    fails_with(conn, frame(1, deflate(b"ok \xff"), rsv1=True), InvalidUTF8, 1007)
    conn = server(compression=NegotiatedDeflate())
    body = deflate(b"abc\xed\xa0\x80" + b"x" * 100)
    fails_with(conn, frame(1, body, rsv1=True, fin=False), InvalidUTF8, 1007)


def test_compressed_garbage_is_1002() -> None:
    fails_with(server(compression=NegotiatedDeflate()), frame(1, b"\xff\xff\xff", rsv1=True),
               ProtocolError, 1002)


def test_compression_bomb_is_1009() -> None:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_SYNC_FLUSH)
    bomb = (block * 64)[:-4]  # 64 MiB of zeros in about 64 KiB
    conn = server(compression=NegotiatedDeflate())
    fails_with(conn, frame(2, bomb, rsv1=True), MessageTooBig, 1009)
    conn = server(compression=NegotiatedDeflate())
    fails_with(conn, frame(2, bomb[:30000], rsv1=True, fin=False) + frame(0, bomb[30000:]),
               MessageTooBig, 1009)


def test_sending_compressed_respects_threshold() -> None:
    conn = Connection("client", compression=NegotiatedDeflate(threshold=20))
    [(_, _, rsv1, _, payload)] = read_frames(conn.send_text("short"))
    assert not rsv1 and payload == b"short"
    text = "long enough to compress " * 10
    [(_, _, rsv1, _, payload)] = read_frames(conn.send_text(text))
    d = zlib.decompressobj(-15)
    assert rsv1 and len(payload) < len(text)
    assert d.decompress(payload + b"\x00\x00\xff\xff") == text.encode()
    [(_, _, rsv1, _, payload)] = read_frames(conn.send_binary(text.encode()))
    assert rsv1 and d.decompress(payload + b"\x00\x00\xff\xff") == text.encode()


# -- events ----------------------------------------------------------------------

def test_events_are_immutable_values() -> None:
    event = TextMessage("x")
    assert event.data == "x" and event == TextMessage(data="x")
    assert event != BinaryMessage("x")  # type: ignore[arg-type]
    assert repr(CloseReceived(1000, "bye")) == "CloseReceived(code=1000, reason='bye')"
    with pytest.raises(AttributeError):
        event.data = "y"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        event.other = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        TextFragment("x")  # type: ignore[call-arg]
    assert {Ping(b"a"), Ping(b"a"), Pong(b"a")} == {Ping(b"a"), Pong(b"a")}


def test_compressed_stream_fragments() -> None:
    conn = server(compression=NegotiatedDeflate(), stream_fragments=True)
    body = deflate("€uro ".encode() * 50)
    conn.receive_data(frame(1, body[:7], rsv1=True, fin=False) + frame(0, body[7:]))
    events = conn.events()
    assert all(isinstance(e, TextFragment) for e in events) and events[-1].fin
    assert "".join(e.data for e in events) == "€uro " * 50


def test_send_binary_refuses_str() -> None:
    with pytest.raises(TypeError, match="send_text"):
        server().send_binary("text")  # type: ignore[arg-type]


# -- properties: any chunking gives the same events; junk only raises ProtocolError ----

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

message = st.one_of(
    st.tuples(st.just("text"), st.text(max_size=300), st.integers(1, 4)),
    st.tuples(st.just("binary"), st.binary(max_size=300), st.integers(1, 4)),
    st.tuples(st.just("ping"), st.binary(max_size=125), st.just(1)))


def encode(kind: str, data: object, parts: int) -> tuple[bytes, list[object]]:
    if kind == "ping":
        return frame(9, data), [Ping(data)]  # type: ignore[arg-type]
    raw = data.encode() if kind == "text" else data  # type: ignore[attr-defined]
    n = max(1, -(-len(raw) // parts))
    chunks = [raw[i:i + n] for i in range(0, len(raw), n)] or [b""]
    wire = b"".join(frame((1 if kind == "text" else 2) if i == 0 else 0, chunk,
                          fin=i == len(chunks) - 1) for i, chunk in enumerate(chunks))
    return wire, [TextMessage(data) if kind == "text" else BinaryMessage(data)]


@given(st.lists(message, max_size=8), st.lists(st.integers(0, 4000), max_size=10))
def test_any_chunking_gives_the_same_events(messages: list, cuts: list[int]) -> None:  # type: ignore[type-arg]
    wire, expected = b"", []
    for kind, data, parts in messages:
        w, e = encode(kind, data, parts)
        wire += w
        expected += e
    conn = server()
    points = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    for a, b in zip(points, points[1:]):
        if b > a:
            conn.receive_data(wire[a:b])
    assert conn.events() == expected
    pongs = [p for op, _, _, _, p in read_frames(conn.bytes_to_send()) if op == 10]
    assert pongs == [e.payload for e in expected if isinstance(e, Ping)]


@given(st.lists(message, max_size=8), st.lists(st.integers(0, 4000), max_size=10),
       st.booleans())
def test_messages_and_events_are_events_with_messages_unwrapped(
        messages: list, cuts: list[int], compress: bool) -> None:  # type: ignore[type-arg]
    wire = b"".join(encode(kind, data, parts)[0] for kind, data, parts in messages)
    deflate = NegotiatedDeflate() if compress else None
    one, other = server(compression=deflate), server(compression=deflate)
    points = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    got, expected = [], []
    for a, b in zip(points, points[1:]):
        one.receive_data(wire[a:b])
        other.receive_data(wire[a:b])
        got += one.messages_and_events()
        expected += [e.data if type(e) in (TextMessage, BinaryMessage) else e
                     for e in other.events()]
    assert got == expected
    assert [type(x) for x in got] == [type(x) for x in expected]


@given(st.binary(max_size=500), st.booleans(), st.booleans())
def test_junk_only_ever_raises_protocol_errors(junk: bytes, client: bool, compress: bool) -> None:
    conn = Connection("client" if client else "server",
                      compression=NegotiatedDeflate() if compress else None)
    try:
        conn.receive_data(junk)
    except ProtocolError as exc:
        assert exc.close_code in (1002, 1007, 1009)
        assert conn.state is State.CLOSING
        assert read_frames(conn.bytes_to_send())[-1][0] == 8


def test_incompressible_message_at_the_limit_is_accepted() -> None:
    # Deflate grows random data a little; the limit is on the message, so a
    # message that inflates to exactly max_message_size must get through,
    # while one byte more is 1009.
    limit = 256 * 1024
    client = Connection("client", compression=NegotiatedDeflate(), max_message_size=limit)
    srv = Connection("server", compression=NegotiatedDeflate(), max_message_size=limit)
    payload = os.urandom(limit)
    wire = client.send_binary(payload)
    assert len(wire) > limit + 14  # really bigger than the limit on the wire
    srv.receive_data(wire)
    assert srv.events() == [BinaryMessage(payload)]
    with pytest.raises(MessageTooBig):
        srv.receive_data(client.send_binary(payload + b"!"))


@pytest.mark.parametrize("stream", [False, True])
def test_uncompressed_message_on_compressed_connection_gets_the_exact_limit(
        stream: bool) -> None:
    # Regression: with permessage-deflate negotiated the frame parser allows
    # deflate's overhead above max_message_size; a message the peer sends
    # without compression (RSV1 clear) used to get that slack too.
    def conn() -> Connection:
        return server(compression=NegotiatedDeflate(), max_message_size=100,
                      stream_fragments=stream)
    ok = conn()
    ok.receive_data(frame(2, b"x" * 100))
    assert [bytes(e[0]) for e in ok.events()] == [b"x" * 100]
    fails_with(conn(), frame(2, b"x" * 101), MessageTooBig, 1009)
    fails_with(conn(), frame(1, b"y" * 60, fin=False) + frame(0, b"y" * 41),
               MessageTooBig, 1009)
    # The count starts again with each message.
    again = conn()
    again.receive_data(frame(1, b"y" * 60, fin=False) + frame(0, b"y" * 40)
                       + frame(2, b"z" * 100))
    assert sum(len(e[0]) for e in again.events()) == 200


def test_receive_parsed_ignores_what_follows_the_peers_close() -> None:
    # As receive_data: RFC 6455 section 5.5.1, nothing counts after a Close.
    conn = Connection("client")
    conn.receive_data(b"\x88\x02\x03\xe8")  # Close 1000, unmasked from a server
    conn.events()
    conn.receive_parsed(["late"])
    assert conn.events() == []


# -- reply_before_failing: answers to what came before a violation go first ----

def test_reply_before_failing_holds_the_close_until_finish_failing() -> None:
    conn = server(reply_before_failing=True)
    with pytest.raises(ProtocolError) as info:
        conn.receive_data(frame(1, b"hello") + frame(2, b"x", rsv2=True) + frame(1, b"after"))
    assert info.value.close_code == 1002
    assert conn.state is State.CLOSING and conn.failure_pending
    assert conn.messages_and_events() == ["hello"]  # not "after": nothing counts past the error
    assert not conn.has_bytes_to_send  # the Close waits
    reply = conn.send("hello")  # the answer still goes out, before the Close
    assert read_frames(reply) == [(1, True, False, False, b"hello")]
    with pytest.raises(ConnectionClosed):
        conn.ping()  # only messages while the Close waits
    close = conn.finish_failing()
    [(opcode, _, _, _, payload)] = read_frames(close)
    assert (opcode, struct.unpack("!H", payload[:2])[0]) == (8, 1002)
    assert not conn.failure_pending and conn.finish_failing() == b""
    with pytest.raises(ConnectionClosed):
        conn.send("too late")


def test_reply_before_failing_without_messages_closes_at_once() -> None:
    conn = server(reply_before_failing=True)
    fails_with(conn, frame(2, b"x", rsv2=True), ProtocolError, 1002)
    assert not conn.failure_pending
    # And close() during a held failure gives the violation's Close, not a new one.
    conn = server(reply_before_failing=True)
    with pytest.raises(InvalidUTF8):
        conn.receive_data(frame(2, b"data") + frame(1, b"\xff"))
    [(opcode, _, _, _, payload)] = read_frames(conn.close(1000))
    assert (opcode, struct.unpack("!H", payload[:2])[0]) == (8, 1007)


def test_without_reply_before_failing_the_close_is_queued_at_once() -> None:
    conn = server()
    fails_with(conn, frame(1, b"hello") + frame(2, b"x", rsv2=True), ProtocolError, 1002)
    assert conn.messages_and_events() == ["hello"]
    with pytest.raises(ConnectionClosed):
        conn.send("hello")
