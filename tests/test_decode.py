"""Text to str: ``decode_utf8`` and every path that hands text to the
application (the parser's messages, the Connection's fragmented ones)
against CPython's decoder, the reference: the same str for valid input --
equal strs in CPython are also of the same kind, so a str built wider than
its characters need would fail -- and for invalid input the same
UnicodeDecodeError, or close code 1007 where a peer sent it. The suite runs
once per kernel variant (scripts/test.sh), so each transcoder is covered:
AVX-512's where the CPU has it, CPython's decoder behind the others."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import wsfast
from helpers.utf8_cases import CASES
from wsfast import _pure, build_frame
from wsfast.connection import Connection
from wsfast.errors import InvalidUTF8
from wsfast.events import TextMessage

IMPLS = [wsfast._impl, _pure] if wsfast.IMPLEMENTATION == "c" else [_pure]
# One character of each width, and the boundaries of each str kind.
CHARS = ["a", "\x7f", "\x80", "é", "\xff", "\u0100", "Ж", "\u07ff", "\u0800", "日", "\uffff",
         "\U00010000", "🎉", "\U0010ffff"]


@pytest.fixture(scope="module", params=IMPLS, ids=lambda m: "c" if m is not _pure else "pure")
def impl(request):
    return request.param


def same_as_decode(impl, data):
    try:
        want = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        with pytest.raises(UnicodeDecodeError) as got:
            impl.decode_utf8(data)
        assert got.value.args == exc.args
        return
    got = impl.decode_utf8(data)
    assert type(got) is str and got == want


@pytest.mark.parametrize("char", CHARS)
def test_each_kind_at_every_block_position(impl, char):
    # Before, after and straddling the 64-byte blocks of the SIMD kernels.
    for pad in range(0, 130):
        for tail in ("", "z" * 70, char * 40):
            same_as_decode(impl, ("a" * pad + char + tail).encode())
        same_as_decode(impl, (char * pad).encode())


def test_only_latin1_is_one_byte_per_char(impl):
    # U+00FF alone fits the 1-byte kind, one U+0100 anywhere needs the 2-byte.
    for at in (0, 63, 64, 199):
        text = "\xff" * 200
        same_as_decode(impl, (text[:at] + "\u0100" + text[at:]).encode())


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_cases(impl, name):
    for pad in (0, 1, 63, 64, 200):
        same_as_decode(impl, b"a" * pad + CASES[name])
        same_as_decode(impl, "é".encode() * pad + CASES[name] + b"z" * 70)


@given(text=st.text(max_size=3000))
def test_any_text(impl, text):
    same_as_decode(impl, text.encode())
    same_as_decode(impl, memoryview(bytearray(text.encode())))


@given(text=st.text(max_size=500), noise=st.binary(max_size=4), at=st.integers(0, 2000))
def test_text_with_corruption(impl, text, noise, at):
    data = text.encode("utf-8", "surrogatepass")
    at = min(at, len(data))
    same_as_decode(impl, data[:at] + noise + data[at:])


@pytest.mark.parametrize("size", [256 * 1024 - 1, 256 * 1024, 1024 * 1024 + 5])
def test_large_without_the_gil(impl, size):
    for char in ("a", "é", "Ж", "日", "🎉"):
        data = (char.encode() * (size // len(char.encode())))[:size]
        data = data[: len(data.decode("utf-8", "ignore").encode())]
        same_as_decode(impl, data)
        same_as_decode(impl, data + b"\xc3")


def test_not_a_buffer(impl):
    with pytest.raises(TypeError):
        impl.decode_utf8("text")


@given(text=st.text(max_size=2000))
def test_parser_messages_are_decode(text):
    frame = build_frame(1, text.encode(), mask=True)
    for parser_class in {wsfast.FrameParser, _pure.FrameParser}:
        for mode in (True, "incomplete"):
            out = []
            parser_class("server", validate_utf8=mode).feed_messages(frame, out)
            assert out == [text] and type(out[0]) is str


@given(text=st.text(min_size=1, max_size=500), cut=st.integers(0, 500))
def test_connection_fragments_are_decode(text, cut):
    data = text.encode()
    cut = min(cut, len(data))
    conn = Connection("server")
    conn.receive_data(build_frame(1, data[:cut], fin=False, mask=True) +
                      build_frame(0, data[cut:], mask=True))
    events = list(conn.events())
    assert events == [TextMessage(text)] and type(events[0].data) is str


def _invalid(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@pytest.mark.parametrize("name", sorted(n for n in CASES if _invalid(CASES[n])))
def test_invalid_text_messages_fail_with_1007(name):
    payload = "é".encode() * 40 + CASES[name]
    for parser_class in {wsfast.FrameParser, _pure.FrameParser}:
        with pytest.raises(InvalidUTF8):
            parser_class("server", validate_utf8="incomplete").feed_messages(
                build_frame(1, payload, mask=True), [])
