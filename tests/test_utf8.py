"""UTF-8 validation against CPython's decoder, which implements RFC 3629.

Whole-buffer validation must equal ``bytes.decode("utf-8")`` succeeding.
The streaming validator must give the same final verdict for every split of
the input, and fail as soon as the bytes seen are not a prefix of any valid
UTF-8 -- judged here by brute force: does some completion make them valid?
"""
import itertools
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wsfast
from helpers.utf8_cases import CASES, enc
from wsfast import _pure

IMPLS = [wsfast, _pure] if wsfast.IMPLEMENTATION == "c" else [_pure]
# ASCII before a sequence puts it at every position of a SIMD block.
PADDINGS = [0, 1, 15, 29, 30, 31, 32, 33, 60, 61, 62, 63, 64, 65, 127]


def decodes(data):
    try:
        bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Completions that finish any valid 1-3 byte prefix: 0-3 continuation bytes
# from each of the three ranges the narrow second-byte rules care about.
COMPLETIONS = [bytes(c) for n in range(4) for c in itertools.product((0x80, 0x90, 0xA0), repeat=n)]


def is_valid_prefix(data):
    return any(decodes(data + c) for c in COMPLETIONS)


@pytest.fixture(scope="module", params=IMPLS, ids=lambda m: "c" if m is wsfast else "pure")
def impl(request):
    return request.param


@pytest.mark.parametrize("name", sorted(CASES))
def test_stress_cases(impl, name):
    case = CASES[name]
    for pad in PADDINGS:
        for data in (b"a" * pad + case, b"a" * pad + case + b"z" * 40, case * 3):
            assert impl.validate_utf8(data) == decodes(data), (pad, data)


@pytest.mark.parametrize("name", sorted(CASES))
def test_stress_cases_every_split(impl, name):
    data = b"ab" + CASES[name] + "é".encode()
    for i in range(len(data) + 1):
        v = impl.Utf8Validator()
        ok = v.feed(data[:i])
        assert ok == is_valid_prefix(data[:i]), (i, data)
        ok = v.feed(data[i:]) and ok
        assert (ok and v.finish()) == decodes(data), (i, data)


def test_every_two_byte_sequence(impl):
    for a in range(256):
        for b in range(256):
            seq = bytes([a, b])
            assert impl.validate_utf8(seq) == decodes(seq), seq
            padded = b"x" * 63 + seq  # straddles a 64-byte block boundary
            assert impl.validate_utf8(padded) == decodes(padded), seq


def test_three_and_four_byte_sequences(impl):
    interesting = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF]
    for a in range(0xC0, 0x100):
        for rest in itertools.chain(itertools.product(interesting, repeat=2),
                                    itertools.product(interesting, repeat=3)):
            seq = bytes([a, *rest])
            for pad in (0, 62):
                data = b"x" * pad + seq
                assert impl.validate_utf8(data) == decodes(data), data


@given(text=st.text(max_size=300), noise=st.binary(max_size=4), at=st.integers(0, 2000),
       pad=st.integers(0, 70))
def test_text_with_corruption(impl, text, noise, at, pad):
    data = b" " * pad + text.encode("utf-8", "surrogatepass")
    at = min(at, len(data))
    data = data[:at] + noise + data[at:]
    assert impl.validate_utf8(data) == decodes(data)
    assert impl.validate_utf8(memoryview(bytearray(data))) == decodes(data)


@given(data=st.binary(max_size=300))
def test_random_bytes(impl, data):
    assert impl.validate_utf8(data) == decodes(data)


@given(text=st.text(min_size=0, max_size=3000), noise=st.binary(max_size=3),
       at=st.integers(0, 20000), cuts=st.lists(st.integers(0, 20000), max_size=6))
def test_streaming_any_split(impl, text, noise, at, cuts):
    data = text.encode("utf-8", "surrogatepass")
    at = min(at, len(data))
    data = data[:at] + noise + data[at:]
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    v = impl.Utf8Validator()
    failed = False
    for start, stop in zip(bounds, bounds[1:]):
        ok = v.feed(data[start:stop])
        if failed:
            assert not ok  # failure is sticky
        else:
            assert ok == is_valid_prefix(data[:stop])
        failed = not ok
    assert (not failed and v.finish()) == decodes(data)


def test_fail_fast_inside_a_character(impl):
    # Each of these is wrong before the character is complete.
    for prefix in (b"\xf4\x90", b"\xed\xa0", b"\xe0\x80", b"\xf0\x80", b"\xc0", b"\xf5",
                   b"\xe1\x80\xc0"):
        v = impl.Utf8Validator()
        assert v.feed(b"ok ") is True
        assert v.feed(prefix) is False, prefix
        assert v.feed(b"\x80\x80") is False
        assert v.finish() is False


def test_incomplete_at_end(impl):
    v = impl.Utf8Validator()
    assert v.feed("€".encode()[:2]) is True
    assert v.finish() is False
    assert v.feed(b"\xac") is True
    assert v.finish() is True


def test_byte_by_byte_large(impl):
    data = ("ascii 日本語 ελληνικά 🎉 " * 50).encode()
    v = impl.Utf8Validator()
    assert all(v.feed(data[i:i + 1]) for i in range(len(data)))
    assert v.finish()


def test_reset(impl):
    v = impl.Utf8Validator()
    assert v.feed(b"\xff") is False
    v.reset()
    assert v.feed(b"fine") is True and v.finish() is True
    assert v.feed(b"\xe2") is True
    v.reset()
    assert v.finish() is True


@pytest.mark.parametrize("size", [64 * 1024, 1024 * 1024 + 7])
def test_large_inputs(impl, size):
    text = ("a" * 50 + "é" * 20 + "€" * 10 + "🎉" * 5)
    data = (text * (size // len(text.encode()) + 1)).encode()[:size]
    data = data[: len(data.decode("utf-8", "ignore").encode())]  # whole characters
    assert impl.validate_utf8(data) is True
    for pos in (0, len(data) // 2, len(data) - 1):
        bad = bytearray(data)
        bad[pos] = 0xFF
        assert impl.validate_utf8(bad) is False
    v = impl.Utf8Validator()
    assert v.feed(data[:size // 3]) and v.feed(data[size // 3:]) and v.finish()
    ascii_data = os.urandom(size // 2).hex().encode()
    assert impl.validate_utf8(ascii_data) is True
    assert impl.validate_utf8(ascii_data + b"\xc3") is False


def test_non_buffer_input(impl):
    with pytest.raises(TypeError, match="data must be a bytes-like object"):
        impl.validate_utf8("text")
    with pytest.raises(TypeError, match="chunk must be a bytes-like object"):
        impl.Utf8Validator().feed("text")


def test_enc_helper_agrees_with_python():
    # The case generator is itself checked against the standard library.
    for cp in (0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF):
        assert enc(cp) == chr(cp).encode()
