"""Masking (RFC 6455 section 5.3) against a byte-by-byte reference.

The pure-Python twin and the C kernels must both equal the definition
``out[i] = data[i] ^ key[(i + phase) % 4]``, whatever the buffer type,
alignment, size and phase.
"""
import array
import os
import sys
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wsfast
from wsfast import _pure

IMPLS = [wsfast, _pure] if wsfast.IMPLEMENTATION == "c" else [_pure]
KEY = bytes([0x37, 0xFA, 0x21, 0x3D])
try:  # the size from which C drops the GIL around a kernel call
    from wsfast._speedups import _NOGIL_MIN as NOGIL_MIN
except ImportError:  # not built: the sizes are still worth testing
    NOGIL_MIN = 256 * 1024


def reference(data, key, phase=0):
    return bytes(b ^ key[(i + phase) % 4] for i, b in enumerate(bytes(data)))


@pytest.fixture(scope="module", params=IMPLS, ids=lambda m: "c" if m is wsfast else "pure")
def impl(request):
    return request.param


def test_rfc6455_example(impl):
    # RFC 6455 section 5.7: a masked "Hello" from a client.
    masked = bytes([0x7F, 0x9F, 0x4D, 0x51, 0x58])
    assert impl.apply_mask(masked, KEY) == b"Hello"


@pytest.mark.parametrize("phase", range(4))
def test_every_small_size_every_alignment(impl, phase):
    source = bytearray(os.urandom(600))
    for offset in range(0, 40, 3):
        for size in list(range(0, 300)) + [511, 512, 513]:
            view = memoryview(source)[offset:offset + size]
            expected = reference(view, KEY, phase)
            assert impl.apply_mask(view, KEY, phase) == expected
            copy = bytearray(source)
            target = memoryview(copy)[offset:offset + size]
            assert impl.mask_into(target, KEY, phase) == (phase + size) % 4
            assert bytes(target) == expected
            # Bytes around the target are untouched.
            assert copy[:offset] == source[:offset]
            assert copy[offset + size:] == source[offset + size:]


@pytest.mark.parametrize("size", [*range(0, 200), NOGIL_MIN - 1, NOGIL_MIN, NOGIL_MIN + 1])
def test_mask_into_bytearray(impl, size):
    # bytearray has its own path in C (no Py_buffer below the no-GIL size).
    data = os.urandom(size)
    buf = bytearray(data)
    assert impl.mask_into(buf, KEY, size % 4) == (size % 4 + size) % 4
    assert buf == reference(data, KEY, size % 4)


@given(data=st.binary(max_size=70_000), key=st.binary(min_size=4, max_size=4),
       phase=st.integers(0, 3), offset=st.integers(0, 63))
def test_matches_reference(impl, data, key, phase, offset):
    padded = bytearray(offset) + data
    view = memoryview(padded)[offset:]
    expected = reference(data, key, phase)
    assert impl.apply_mask(view, key, phase) == expected
    impl.mask_into(view, key, phase)
    assert bytes(view) == expected


@given(data=st.binary(max_size=5000), key=st.binary(min_size=4, max_size=4),
       cuts=st.lists(st.integers(0, 5000), max_size=8))
def test_chunked_equals_one_call(impl, data, key, cuts):
    whole = impl.apply_mask(data, key)
    buf = bytearray(data)
    phase = 0
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    for start, stop in zip(bounds, bounds[1:]):
        phase = impl.mask_into(memoryview(buf)[start:stop], key, phase)
    assert bytes(buf) == whole
    assert phase == len(data) % 4


@pytest.mark.parametrize("phase", range(4))
@pytest.mark.parametrize("size", [16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 16 * 1024 + 3,
                                  100_001])
def test_around_the_pure_twins_switch_to_translate(impl, size, phase):
    # The pure twin masks with bytes.translate from 16 KiB up (_pure._xor).
    source = bytearray(os.urandom(size + 1))
    view = memoryview(source)[1:]  # misaligned, not bytes
    expected = reference(view, KEY, phase)
    assert impl.apply_mask(view, KEY, phase) == expected
    assert impl.apply_mask(bytes(view), KEY, phase) == expected
    assert impl.mask_into(view, KEY, phase) == (phase + size) % 4
    assert bytes(view) == expected


@pytest.mark.parametrize("size", [64 * 1024 - 1, 1024 * 1024 + 3, 16 * 1024 * 1024 + 1])
def test_large_against_pure(impl, size):
    data = os.urandom(size)
    key = os.urandom(4)
    expected = _pure.apply_mask(data, key, 2)
    assert impl.apply_mask(data, key, 2) == expected
    assert impl.apply_mask(expected, key, 2) == data
    buf = bytearray(data)
    impl.mask_into(buf, key, 2)
    assert buf == expected
    # Independent check on a sample of positions.
    for i in range(0, size, 4099):
        assert expected[i] == data[i] ^ key[(i + 2) % 4]


needs_c = pytest.mark.skipif(wsfast.IMPLEMENTATION != "c", reason="C extension not in use")


@pytest.fixture
def streaming():
    """Out-of-place masking with non-temporal stores whatever the size (on
    kernels that have them: AVX2), restored afterwards."""
    from wsfast import _speedups
    previous = _speedups._mask_stream_threshold(0)
    yield
    _speedups._mask_stream_threshold(previous)


@needs_c
@pytest.mark.parametrize("phase", range(4))
def test_streaming_stores(streaming, phase):
    source = bytearray(os.urandom(4200))
    for offset in range(0, 64, 7):
        for size in [*range(0, 200), 1023, 1024, 1025, 4095, 4096]:
            view = memoryview(source)[offset:offset + size]
            assert wsfast.apply_mask(view, KEY, phase) == reference(view, KEY, phase)
    big = os.urandom(1024 * 1024 + 3)
    assert wsfast.apply_mask(big, KEY, phase) == _pure.apply_mask(big, KEY, phase)


@needs_c
def test_stream_threshold():
    from wsfast import _speedups
    never = 2 * sys.maxsize + 1  # SIZE_MAX: the cache size is unknown
    default = _speedups._mask_stream_threshold()
    # 5/16 of a plausible last-level cache, or never.
    assert default == never or 64 * 1024 <= default <= 1 << 30
    assert _speedups._mask_stream_threshold(4096) == default
    assert _speedups._mask_stream_threshold(default) == 4096
    assert _speedups._mask_stream_threshold() == default


def test_buffer_types(impl):
    data = bytes(range(64))
    expected = reference(data, KEY)
    assert impl.apply_mask(bytearray(data), KEY) == expected
    assert impl.apply_mask(memoryview(data), KEY) == expected
    assert impl.apply_mask(data, bytearray(KEY)) == expected
    assert impl.apply_mask(data, memoryview(b"xx" + KEY)[2:]) == expected
    words = array.array("I", data)  # itemsize 4: masked as its raw bytes
    assert impl.apply_mask(words, KEY) == expected
    impl.mask_into(words, KEY)
    assert words.tobytes() == expected
    assert impl.apply_mask(memoryview(data).cast("B", (8, 8)), KEY) == expected


def test_threads_get_independent_results(impl):
    # Large inputs run without the GIL in C; results must stay exact.
    inputs = [os.urandom(300_000) for _ in range(4)]
    keys = [os.urandom(4) for _ in range(4)]
    results = [None] * 4

    def work(i):
        for _ in range(5):
            results[i] = impl.apply_mask(inputs[i], keys[i], i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert results[i] == _pure.apply_mask(inputs[i], keys[i], i)


@pytest.mark.parametrize("key", [b"", b"abc", b"abcde"])
def test_wrong_key_length(impl, key):
    with pytest.raises(ValueError, match="key must be exactly 4 bytes"):
        impl.apply_mask(b"data", key)
    with pytest.raises(ValueError, match="key must be exactly 4 bytes"):
        impl.mask_into(bytearray(b"data"), key)


@pytest.mark.parametrize("key", [1234, "abcd", None, [1, 2, 3, 4]])
def test_key_not_a_buffer(impl, key):
    with pytest.raises(TypeError, match="key must be a bytes-like object"):
        impl.apply_mask(b"data", key)


@pytest.mark.parametrize("data", ["text", 12, None])
def test_data_not_a_buffer(impl, data):
    with pytest.raises(TypeError, match="data must be a bytes-like object"):
        impl.apply_mask(data, KEY)
    with pytest.raises(TypeError, match="buffer must be a bytes-like object"):
        impl.mask_into(data, KEY)


@pytest.mark.parametrize("buffer", [b"read-only", memoryview(b"read-only")])
def test_mask_into_read_only(impl, buffer):
    with pytest.raises(TypeError, match="writable buffer"):
        impl.mask_into(buffer, KEY)


def test_non_contiguous(impl):
    strided = memoryview(bytearray(64))[::2]
    with pytest.raises(TypeError, match="contiguous"):
        impl.apply_mask(strided, KEY)
    with pytest.raises(TypeError, match="contiguous"):
        impl.mask_into(strided, KEY)


@pytest.mark.parametrize("phase", [-1, 4, 100])
def test_phase_out_of_range(impl, phase):
    with pytest.raises(ValueError, match="phase must be 0, 1, 2 or 3"):
        impl.apply_mask(b"data", KEY, phase)
