"""The frame codec (RFC 6455 section 5) against the RFC's own examples and
rules, in both twins: the C parser (when built) and the pure-Python one.

tests/test_frames_diff.py checks the twins against each other and against
other projects' codecs.
"""
import os
import struct

import pytest

import wsfast
from wsfast import InvalidUTF8, MessageTooBig, Opcode, ProtocolError, _pure
from wsfast.frames import DEFAULT_MAX_FRAME_SIZE

IMPLS = [_pure]
if wsfast.IMPLEMENTATION == "c":
    from wsfast import _speedups
    IMPLS.insert(0, _speedups)

KEY = bytes.fromhex("37fa213d")  # the key of RFC 6455 section 5.7's examples


@pytest.fixture(params=IMPLS, ids=lambda m: m.KERNEL if m is not _pure else "pure")
def impl(request):
    return request.param


def frames_of(frames):
    return [(f.opcode, f.fin, f.rsv1, f.rsv2, f.rsv3, f.payload) for f in frames]


def masked(b0, payload, key=KEY, length_bytes=None):
    """A masked frame written out by hand, independently of build_frame."""
    return header(b0, len(payload), 0x80, length_bytes) + key + bytes(
        b ^ key[i % 4] for i, b in enumerate(payload))


def unmasked(b0, payload, length_bytes=None):
    return header(b0, len(payload), 0, length_bytes) + payload


def header(b0, n, mask_bit, length_bytes=None):
    if length_bytes is None:
        length_bytes = 0 if n <= 125 else 2 if n <= 0xFFFF else 8
    if length_bytes == 0:
        return bytes([b0, mask_bit | n])
    if length_bytes == 2:
        return bytes([b0, mask_bit | 126]) + struct.pack("!H", n)
    return bytes([b0, mask_bit | 127]) + struct.pack("!Q", n)


# ---- RFC 6455 section 5.7 ------------------------------------------------

RFC_EXAMPLES = [
    # (role that receives it, bytes, frames)
    ("client", "810548656c6c6f", [(1, True, b"Hello")]),
    ("server", "818537fa213d7f9f4d5158", [(1, True, b"Hello")]),
    ("client", "010348656c" "80026c6f", [(1, False, b"Hel"), (0, True, b"lo")]),
    ("client", "890548656c6c6f", [(9, True, b"Hello")]),
    ("server", "8a8537fa213d7f9f4d5158", [(10, True, b"Hello")]),
]


@pytest.mark.parametrize("role, wire, expected", RFC_EXAMPLES)
def test_rfc_examples_parse(impl, role, wire, expected):
    frames = impl.FrameParser(role).feed(bytes.fromhex(wire))
    assert [(f.opcode, f.fin, f.payload) for f in frames] == expected


def test_rfc_examples_build(impl):
    assert impl.build_frame(Opcode.TEXT, b"Hello") == bytes.fromhex("810548656c6c6f")
    assert impl.build_frame(Opcode.TEXT, "Hel", fin=False) == bytes.fromhex("010348656c")
    assert impl.build_frame(Opcode.CONTINUATION, b"lo") == bytes.fromhex("80026c6f")
    assert impl.build_frame(Opcode.PING, b"Hello") == bytes.fromhex("890548656c6c6f")


@pytest.mark.parametrize("size, wire_header", [
    (256, "827e0100"),                  # 16-bit length
    (65536, "827f0000000000010000"),    # 64-bit length
])
def test_rfc_binary_headers(impl, size, wire_header):
    payload = os.urandom(size)
    built = impl.build_frame(Opcode.BINARY, payload)
    assert built == bytes.fromhex(wire_header) + payload
    assert frames_of(impl.FrameParser("client", max_frame_size=None).feed(built)) == [
        (2, True, False, False, False, payload)]


@pytest.mark.parametrize("n, encoded", [
    (0, "00"), (125, "7d"), (126, "7e007e"), (65535, "7effff"), (65536, "7f0000000000010000"),
])
def test_minimal_length_encoding(impl, n, encoded):
    # Section 5.2: "the minimal number of bytes MUST be used".
    frame = impl.build_frame(Opcode.BINARY, bytes(n))
    assert frame[1:1 + len(encoded) // 2].hex() == encoded
    assert len(frame) == 1 + len(encoded) // 2 + n


def test_masked_build_unmasks_to_payload(impl):
    payload = os.urandom(300)
    frame = impl.build_frame(Opcode.BINARY, payload, mask=True)
    assert frame[:4] == bytes.fromhex("82fe012c")
    key = frame[4:8]
    assert bytes(b ^ key[i % 4] for i, b in enumerate(frame[8:])) == payload
    assert frames_of(impl.FrameParser("server").feed(frame)) == [
        (2, True, False, False, False, payload)]


def test_masking_keys_are_fresh(impl):
    # Section 5.3: a new unpredictable key per frame. 3000 frames cross
    # several 4 KiB batches of keys; random 32-bit keys would collide in
    # 3000 draws with probability ~0.1%, so allow a couple of repeats.
    keys = [impl.build_frame(Opcode.BINARY, b"x", mask=True)[2:6] for _ in range(3000)]
    assert len(set(keys)) >= 2995


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_draws_its_own_keys(impl):
    impl.build_frame(Opcode.BINARY, b"", mask=True)  # a batch is in the pool now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report the next 8 keys, then leave at once
        try:
            os.write(write, b"".join(impl.build_frame(2, b"", mask=True)[2:6]
                                     for _ in range(8)))
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    parent = b"".join(impl.build_frame(2, b"", mask=True)[2:6] for _ in range(8))
    assert len(child) == 32
    assert child != parent


def test_build_accepts_bytes_like_and_str(impl):
    for payload in (b"abc", bytearray(b"abc"), memoryview(b"xabc")[1:], "abc"):
        assert impl.build_frame(Opcode.TEXT, payload) == b"\x81\x03abc"
    assert impl.build_frame(Opcode.TEXT, "é") == b"\x81\x02\xc3\xa9"
    assert impl.build_frame(Opcode.TEXT, b"x", rsv1=True) == b"\xc1\x01x"
    with pytest.raises(TypeError):
        impl.build_frame(Opcode.TEXT, 42)


@pytest.mark.parametrize("opcode, payload, kwargs, words", [
    (Opcode.PING, bytes(126), {}, "longer than 125"),
    (Opcode.CLOSE, b"\x03\xe8", {"fin": False}, "fragmented control"),
    (Opcode.PONG, b"", {"rsv1": True}, "RSV1"),
    (Opcode.CONTINUATION, b"", {"rsv1": True}, "RSV1"),
    (3, b"", {}, "reserved opcode 0x3"),
    (0xB, b"", {}, "reserved opcode 0xb"),
])
def test_build_refuses_invalid_frames(impl, opcode, payload, kwargs, words):
    with pytest.raises(ValueError, match=words):
        impl.build_frame(opcode, payload, **kwargs)


def test_build_refuses_opcode_out_of_range(impl):
    for opcode in (-1, 16, 256, 2**80):
        with pytest.raises(ValueError, match="opcode must be 0 to 15"):
            impl.build_frame(opcode, b"")
    for opcode in (1.0, "1", None):
        with pytest.raises(TypeError):
            impl.build_frame(opcode, b"")
    assert impl.build_frame(True, b"") == b"\x81\x00"  # an int, as operator.index says


# ---- Chunking ------------------------------------------------------------

def test_byte_at_a_time_equals_one_feed(impl):
    stream = (masked(0x01, "héllo wörld".encode()[:5]) + masked(0x89, b"ping") +
              masked(0x80, "héllo wörld".encode()[5:]) + masked(0x82, os.urandom(70000)) +
              masked(0x88, b"\x03\xe8bye"))
    whole = frames_of(impl.FrameParser("server").feed(stream))
    parser = impl.FrameParser("server")
    pieces = []
    for i in range(len(stream)):
        pieces += parser.feed(stream[i:i + 1])
    assert frames_of(pieces) == whole
    assert [f[0] for f in whole] == [1, 9, 0, 2, 8]
    assert parser.buffered == 0


def test_a_frame_completed_by_a_later_read_gives_the_same_frames_at_every_cut(impl):
    # The C parser takes the end of a buffered frame straight from the read
    # that completes it (wsf_frame_take_split), not through its buffer.
    stream = (masked(0x81, "añb€c😀".encode() * 20) + masked(0x82, os.urandom(300)) +
              masked(0x01, "€".encode()[:2]) + masked(0x80, "€".encode()[2:]))
    whole = frames_of(impl.FrameParser("server").feed(stream))
    for cut in range(1, len(stream)):
        parser = impl.FrameParser("server")
        got = parser.feed(stream[:cut]) + parser.feed(stream[cut:])
        assert frames_of(got) == whole, cut
        assert parser.buffered == 0


def test_invalid_utf8_fails_in_the_read_that_brings_it(impl):
    payload = b"ok" * 50 + b"\xff" + b"ok" * 10
    stream = masked(0x81, payload)
    bad_at = 6 + 100  # 2-byte header, key, then the 100 good bytes
    for cut in range(1, len(stream)):
        parser = impl.FrameParser("server")
        if cut > bad_at:
            with pytest.raises(InvalidUTF8) as info:
                parser.feed(stream[:cut])
        else:
            assert parser.feed(stream[:cut]) == []
            with pytest.raises(InvalidUTF8) as info:
                parser.feed(stream[cut:])
        assert info.value.close_code == 1007


def test_feed_accepts_bytes_like(impl):
    data = masked(0x81, b"Hello")
    for wrap in (bytes, bytearray, memoryview, lambda d: memoryview(b"xx" + d)[2:]):
        assert frames_of(impl.FrameParser("server").feed(wrap(data))) == [
            (1, True, False, False, False, b"Hello")]
    with pytest.raises(TypeError):
        impl.FrameParser("server").feed("text")


def test_non_minimal_length_is_accepted(impl):
    # Section 5.2's "minimal number of bytes" binds the sender; the value is
    # the same however it is written, so wsfast accepts longer encodings
    # (as websockets and aiohttp do; wsproto refuses them).
    stream = masked(0x81, b"Hello", length_bytes=2) + masked(0x82, b"x" * 200, length_bytes=8)
    assert [f.payload for f in impl.FrameParser("server").feed(stream)] == [b"Hello", b"x" * 200]


# ---- Section 5 rules, each a ProtocolError with its close code --------------

def P(data_hex):
    return bytes.fromhex(data_hex)


VIOLATIONS = [
    # (name, role, options, bytes, error class, close code, words in the reason)
    ("reserved opcode 3", "client", {}, P("83"), ProtocolError, 1002, "reserved opcode 0x3"),
    ("reserved opcode 7", "client", {}, P("8700"), ProtocolError, 1002, "reserved opcode 0x7"),
    ("reserved opcode B", "client", {}, P("8b00"), ProtocolError, 1002, "reserved opcode 0xb"),
    ("reserved opcode F", "client", {}, P("8f00"), ProtocolError, 1002, "reserved opcode 0xf"),
    ("RSV1 without extension", "client", {}, P("c100"), ProtocolError, 1002, "RSV1"),
    ("RSV2", "client", {"rsv1_allowed": True}, P("a100"), ProtocolError, 1002, "RSV2"),
    ("RSV3", "client", {"rsv1_allowed": True}, P("9100"), ProtocolError, 1002, "RSV3"),
    ("RSV1 on control", "client", {"rsv1_allowed": True}, P("c900"), ProtocolError, 1002,
     "control frame"),
    ("RSV1 on continuation", "client", {"rsv1_allowed": True}, P("4100c000"), ProtocolError,
     1002, "continuation"),
    ("fragmented ping", "client", {}, P("0900"), ProtocolError, 1002, "fragmented control"),
    ("fragmented close", "client", {}, P("0800"), ProtocolError, 1002, "fragmented control"),
    ("long ping 126", "client", {}, P("897e007e") + bytes(126), ProtocolError, 1002,
     "longer than 125"),
    ("long close 127", "client", {}, P("887f") + bytes(8), ProtocolError, 1002,
     "longer than 125"),
    ("continuation without start", "client", {}, P("8000"), ProtocolError, 1002,
     "without a message"),
    ("text inside fragmented", "client", {}, P("0100" "8100"), ProtocolError, 1002,
     "before the fragmented message"),
    ("binary inside fragmented", "client", {}, P("0200" "0200"), ProtocolError, 1002,
     "before the fragmented message"),
    ("64-bit length MSB", "client", {"max_frame_size": None}, P("827f8000000000000000"),
     ProtocolError, 1002, "most significant bit"),
    ("unmasked client frame", "server", {}, P("8100"), ProtocolError, 1002, "unmasked"),
    ("masked server frame", "client", {}, P("818037fa213d"), ProtocolError, 1002, "masked"),
    ("frame over limit", "client", {"max_frame_size": 10}, P("820b"), MessageTooBig, 1009,
     "frame of 11 bytes exceeds the limit of 10"),
    ("2^63-1 frame", "client", {}, P("827f7fffffffffffffff"), MessageTooBig, 1009,
     "exceeds the limit"),
    ("message over limit", "client", {"max_message_size": 10},
     P("0206") + bytes(6) + P("8905") + bytes(5) + P("8005"), MessageTooBig, 1009,
     "message of at least 11 bytes exceeds the limit of 10"),
    ("single-frame message over limit", "client", {"max_message_size": 3}, P("8204"),
     MessageTooBig, 1009, "message of at least 4 bytes"),
    ("invalid UTF-8", "client", {}, P("8102c328"), InvalidUTF8, 1007, "not valid UTF-8"),
    ("surrogate", "client", {}, P("8103eda080"), InvalidUTF8, 1007, "UTF-8"),
    ("text ends inside a character", "client", {}, P("8102" "c3a9" "0101e2" "8001" "82"),
     InvalidUTF8, 1007, "UTF-8"),
    ("invalid continuation", "server", {},
     masked(0x01, b"ok") + masked(0x80, b"\xff"), InvalidUTF8, 1007, "UTF-8"),
]


@pytest.mark.parametrize("name, role, options, data, error, code, words", VIOLATIONS,
                         ids=[v[0] for v in VIOLATIONS])
def test_violation(impl, name, role, options, data, error, code, words):
    with pytest.raises(error) as info:
        impl.FrameParser(role, **options).feed(data)
    assert type(info.value) is error
    assert info.value.close_code == code
    assert words in info.value.reason


@pytest.mark.parametrize("name, role, options, data, error, code, words", VIOLATIONS,
                         ids=[v[0] for v in VIOLATIONS])
def test_violation_byte_at_a_time(impl, name, role, options, data, error, code, words):
    # The same error whatever the chunking.
    with pytest.raises(error) as whole:
        impl.FrameParser(role, **options).feed(data)
    parser = impl.FrameParser(role, **options)
    with pytest.raises(error) as info:
        for i in range(len(data)):
            parser.feed(data[i:i + 1])
    assert (info.value.close_code, info.value.reason) == (code, whole.value.reason)


def test_errors_are_seen_from_the_first_byte(impl):
    # Fail fast: a reserved opcode or a stray continuation needs no more.
    for first in (0x83, 0x80, 0xC1, 0x09):
        with pytest.raises(ProtocolError):
            impl.FrameParser("client").feed(bytes([first]))


def test_huge_claimed_frame_costs_no_memory(impl):
    # A 10-byte header claiming 2^63-1 bytes is refused before any payload,
    # and nothing is buffered for it.
    parser = impl.FrameParser("server")
    head = P("82ff7fffffffffffffff") + KEY
    assert parser.feed(head[:-1]) == []
    assert parser.buffered == len(head) - 1
    with pytest.raises(MessageTooBig):
        parser.feed(head[-1:] + b"x" * 100)
    assert parser.buffered == 0  # a failed parser lets go of its buffer


def test_unlimited_parser_buffers_only_what_arrived(impl):
    # Without a limit the claim is allowed, but memory follows the bytes
    # that actually arrive, not the length the peer claims.
    parser = impl.FrameParser("server", max_frame_size=None)
    head = P("82ff7fffffffffffffff") + KEY
    assert parser.feed(head + b"x" * 100) == []
    assert parser.buffered == len(head) + 100


def test_default_frame_limit(impl):
    at_limit = unmasked(0x82, bytes(DEFAULT_MAX_FRAME_SIZE))
    assert len(impl.FrameParser("client").feed(at_limit)) == 1
    with pytest.raises(MessageTooBig):
        impl.FrameParser("client").feed(header(0x82, DEFAULT_MAX_FRAME_SIZE + 1, 0))


def test_message_limit_counts_fragments_not_control_frames(impl):
    parser = impl.FrameParser("client", max_message_size=10)
    stream = P("0205") + bytes(5) + P("8905") + bytes(5) + P("8005") + bytes(5)
    assert [f.opcode for f in parser.feed(stream)] == [2, 9, 0]
    # A new message starts from zero.
    assert len(parser.feed(P("820a") + bytes(10))) == 1


def test_error_carries_earlier_frames_and_parser_stays_failed(impl):
    parser = impl.FrameParser("client")
    with pytest.raises(ProtocolError) as info:
        parser.feed(P("8102") + b"hi" + P("8900") + P("83"))
    assert [(f.opcode, f.payload) for f in info.value.frames] == [(1, b"hi"), (9, b"")]
    with pytest.raises(ProtocolError) as again:
        parser.feed(P("8100"))
    assert again.value.close_code == 1002
    assert again.value.reason == info.value.reason


def test_invalid_options(impl):
    with pytest.raises(ValueError, match="role"):
        impl.FrameParser("peer")
    with pytest.raises(ValueError, match="max_frame_size"):
        impl.FrameParser("server", max_frame_size=-1)
    with pytest.raises(TypeError):
        impl.FrameParser("server", max_message_size=1.5)


# ---- UTF-8 -----------------------------------------------------------------

def test_utf8_character_split_across_fragments_with_control_between(impl):
    # "é" = C3 A9, cut between two fragments with a ping in the middle.
    stream = masked(0x01, b"caf\xc3") + masked(0x89, b"\xff") + masked(0x80, b"\xa9!")
    frames = impl.FrameParser("server").feed(stream)
    assert b"".join(f.payload for f in frames if f.opcode != 9).decode() == "café!"


def test_utf8_fails_fast_inside_a_partial_frame(impl):
    # A 1000-byte text frame whose first bytes are already invalid fails
    # before the rest arrives (Autobahn 6.4.x).
    payload = b"ab\xc0\xaf" + b"x" * 996
    frame = masked(0x81, payload)
    parser = impl.FrameParser("server")
    with pytest.raises(InvalidUTF8):
        parser.feed(frame[:20])


def test_utf8_fails_fast_in_a_fragment(impl):
    parser = impl.FrameParser("server")
    assert len(parser.feed(masked(0x01, b"fine"))) == 1
    with pytest.raises(InvalidUTF8):
        parser.feed(masked(0x00, b"\xf4\x90"))  # > U+10FFFF, not yet the last frame


def test_utf8_not_checked_for_compressed_messages(impl):
    # RSV1 (permessage-deflate): the payload is compressed; the connection
    # validates after inflating it.
    stream = unmasked(0x41, b"\xff\xfe") + unmasked(0x80, b"\xff")
    frames = impl.FrameParser("client", rsv1_allowed=True).feed(stream)
    assert [(f.rsv1, f.payload) for f in frames] == [(True, b"\xff\xfe"), (False, b"\xff")]


def test_utf8_check_can_be_turned_off(impl):
    frames = impl.FrameParser("client", validate_utf8=False).feed(unmasked(0x81, b"\xff"))
    assert frames[0].payload == b"\xff"


def test_binary_and_control_payloads_are_not_checked(impl):
    stream = unmasked(0x82, b"\xff") + unmasked(0x89, b"\xff") + unmasked(0x88, b"\x03\xe8\xff")
    assert len(impl.FrameParser("client").feed(stream)) == 3


def test_large_text_frame_validated_across_blocks(impl):
    text = ("ascii then ü€😀 " * 2000).encode()
    assert len(text) > 3 * 4096
    frames = impl.FrameParser("server", max_frame_size=None).feed(masked(0x81, text))
    assert frames[0].payload == text
    bad = text[:9000] + b"\xed\xa0\x80" + text[9003:]
    with pytest.raises(InvalidUTF8):
        impl.FrameParser("server").feed(masked(0x81, bad))


# ---- Frame -----------------------------------------------------------------

def test_frame_object(impl):
    frame = impl.Frame(Opcode.TEXT, b"Hello")
    assert (frame.opcode, frame.fin, frame.rsv1, frame.rsv2, frame.rsv3, frame.payload) == (
        1, True, False, False, False, b"Hello")
    assert frame.opcode == Opcode.TEXT
    assert frame == impl.Frame(1, b"Hello", True)
    assert frame != impl.Frame(1, b"Hello", False)
    assert frame != impl.Frame(2, b"Hello")
    assert frame != "Frame"
    assert repr(frame) == "Frame(TEXT, b'Hello', fin=True)"
    assert repr(impl.Frame(0, bytes(40), False, True)) == (
        "Frame(CONTINUATION, " + repr(bytes(32)) + "...(40 bytes), fin=False, rsv1=True)")
    assert impl.Frame(2, bytearray(b"ab")).payload == b"ab"
    with pytest.raises(TypeError):
        hash(frame)


def test_frames_compare_across_twins():
    if len(IMPLS) < 2:
        pytest.skip("needs the C extension")
    assert IMPLS[0].Frame(9, b"x") == IMPLS[1].Frame(9, b"x")


# -- validate_utf8="incomplete": only text that arrives in pieces ---------------

def test_incomplete_mode_fails_inside_a_frame_not_yet_complete(impl):
    # RFC 6455 section 8.1, Autobahn 6.4.3: the frame announces 100 bytes;
    # its first 12 already cannot be UTF-8.
    payload = b"valid text \xff" + b"x" * 88
    frame = masked(0x81, payload)
    parser = impl.FrameParser("server", validate_utf8="incomplete")
    with pytest.raises(InvalidUTF8) as info:
        parser.feed_messages(frame[:6 + 12], [])
    assert info.value.close_code == 1007


def test_incomplete_mode_checks_fragments_as_they_come(impl):
    parser = impl.FrameParser("server", validate_utf8="incomplete")
    out = []
    assert parser.feed_messages(masked(0x01, "caf".encode()), out) == 1
    with pytest.raises(InvalidUTF8):
        parser.feed_messages(masked(0x00, b"\xc3\x28"), out)


def test_incomplete_mode_leaves_a_whole_message_to_the_decoder(impl):
    # Taken at once, a text frame is decoded by feed_messages (which checks
    # it); feed() hands it out unchecked, as the mode says.
    bad = masked(0x81, b"ok \xff")
    assert frames_of(impl.FrameParser("server", validate_utf8="incomplete").feed(bad)) == [
        (1, True, False, False, False, b"ok \xff")]
    with pytest.raises(InvalidUTF8):
        impl.FrameParser("server", validate_utf8="incomplete").feed_messages(bad, [])
    # Valid text in pieces, byte by byte, arrives whole.
    text = "héllo wörld €" * 20
    frame = masked(0x81, text.encode())
    parser, out = impl.FrameParser("server", validate_utf8="incomplete"), []
    for i in range(len(frame)):
        parser.feed_messages(frame[i:i + 1], out)
    assert out == [text]


def test_validate_utf8_refuses_other_strings(impl):
    with pytest.raises(ValueError, match="incomplete"):
        impl.FrameParser("server", validate_utf8="partial")
