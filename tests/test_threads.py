"""Concurrent use from several threads: results stay correct.

The objects with state (FrameParser, Utf8Validator, Frame, the masking-key
batch behind build_frame) are hammered from 8 threads at once. On
free-threaded CPython the threads really run in parallel and these tests are
what backs the extension's claim to be free-threading safe; on a GIL build
(the switch interval is made tiny so threads interleave often) they still
check the logic: a shared parser applies each feed whole, keys are never
handed out twice, and nothing is lost or mixed between threads.
"""
import random
import sys
import sysconfig
import threading

import pytest

import wsfast
from wsfast import Opcode, ProtocolError, _pure

IMPLS = [_pure]
if wsfast.IMPLEMENTATION == "c":
    from wsfast import _speedups
    IMPLS.insert(0, _speedups)

THREADS = 8
JOIN_TIMEOUT = 120  # seconds: a hang fails the test instead of the run

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


@pytest.fixture(params=IMPLS, ids=lambda m: m.KERNEL if m is not _pure else "pure")
def impl(request):
    return request.param


@pytest.fixture(autouse=True)
def often_switch():
    """Make a GIL build switch threads as often as it can."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def hammer(work):
    """Run work(index) in THREADS threads started together; return their
    results in thread order, re-raising the first exception."""
    barrier = threading.Barrier(THREADS)
    results = [None] * THREADS
    errors = []

    def run(i):
        try:
            barrier.wait(JOIN_TIMEOUT)
            results[i] = work(i)
        except BaseException as exc:  # reported in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


def client_frames(impl, thread, count, rng):
    """Masked frames from a client: (bytes on the wire, expected tuples)."""
    wire, expected = [], []
    for n in range(count):
        size = rng.choice((0, 1, 5, 125, 126, 1000, 70_000))
        if n % 3 == 0:
            text = (f"thread {thread} message {n} é€😀 " * (size // 20 + 1))[:size]
            payload = text.encode()
            wire.append(impl.build_frame(Opcode.TEXT, text, mask=True))
            expected.append((Opcode.TEXT, payload))
        else:
            payload = bytes([thread]) * size
            wire.append(impl.build_frame(Opcode.BINARY, payload, mask=True))
            expected.append((Opcode.BINARY, payload))
    return wire, expected


def test_shared_parser_applies_each_feed_whole(impl):
    parser = impl.FrameParser("server", max_frame_size=None)

    def work(i):
        rng = random.Random(i)
        wire, expected = client_frames(impl, i, 60, rng)
        got = []
        pos = 0
        while pos < len(wire):  # whole frames per feed, one to three at a time
            k = rng.randint(1, 3)
            got += [(f.opcode, f.payload) for f in parser.feed(b"".join(wire[pos:pos + k]))]
            pos += k
        return got, expected

    for got, expected in hammer(work):
        assert got == expected
    assert parser.buffered == 0


def test_shared_parser_feed_messages_counts_each_feed_whole(impl):
    # Whole messages come bare, pings as Frames; each thread's own out list
    # gets exactly its feed's items, and the count is its own Frames.
    parser = impl.FrameParser("server", max_frame_size=None)

    def work(i):
        rng = random.Random(200 + i)
        wire, expected = client_frames(impl, i, 60, rng)
        ping = impl.build_frame(Opcode.PING, bytes([i]), mask=True)
        got, frames = [], 0
        pos = 0
        while pos < len(wire):
            k = rng.randint(1, 3)
            out = []
            count = parser.feed_messages(b"".join(wire[pos:pos + k]) + ping, out)
            frames += count
            assert count == sum(type(x) not in (str, bytes) for x in out)
            got += [x.encode() if type(x) is str else x for x in out
                    if type(x) in (str, bytes)]
            assert [x.payload for x in out if type(x) not in (str, bytes)] == [bytes([i])]
            pos += k
        return got, [payload for _, payload in expected], frames

    for got, expected, frames in hammer(work):
        assert got == expected
        assert frames > 0
    assert parser.buffered == 0


def test_parser_per_thread_with_split_feeds(impl):
    def work(i):
        rng = random.Random(100 + i)
        parser = impl.FrameParser("server", max_frame_size=None)
        wire, expected = client_frames(impl, i, 40, rng)
        stream = b"".join(wire)
        got = []
        pos = 0
        while pos < len(stream):
            step = rng.choice((1, 2, 7, 100, 5000, 100_000))
            got += [(f.opcode, f.payload) for f in parser.feed(stream[pos:pos + step])]
            pos += step
        return got, expected, parser.buffered

    for got, expected, buffered in hammer(work):
        assert got == expected
        assert buffered == 0


def test_shared_parser_fails_once_for_everyone(impl):
    parser = impl.FrameParser("server")
    good = impl.build_frame(Opcode.BINARY, b"ok", mask=True)
    unmasked = impl.build_frame(Opcode.BINARY, b"bad")  # clients must mask

    def work(i):
        outcomes = []
        for n in range(200):
            data = unmasked if (i, n) == (3, 50) else good
            try:
                frames = parser.feed(data)
            except ProtocolError as exc:
                outcomes.append(("error", exc.close_code))
            else:
                assert [f.payload for f in frames] == [b"ok"]
                outcomes.append(("ok", None))
        return outcomes

    outcomes = [o for per_thread in hammer(work) for o in per_thread]
    errors = [o for o in outcomes if o[0] == "error"]
    assert errors and all(code == 1002 for _, code in errors)
    # Once failed, the parser stays failed: after the first error no feed
    # succeeds, whichever thread makes it.
    with pytest.raises(ProtocolError):
        parser.feed(good)
    assert parser.buffered == 0


def test_utf8_validator_per_thread(impl):
    big = ("aé€😀" * 30_000).encode()  # 300 KB: the kernel's GIL-released path in C
    small = big[:3000]

    def work(i):
        rng = random.Random(200 + i)
        v = impl.Utf8Validator()
        verdicts = []
        for _ in range(10):
            verdicts.append((v.feed(big), v.finish()))
            pos = 0
            ok = True
            while pos < len(small):
                step = rng.choice((1, 2, 3, 5, 100))
                ok = v.feed(small[pos:pos + step]) and ok
                pos += step
            verdicts.append((ok, v.finish()))
            v.reset()
            bad = small[:rng.randrange(len(small))] + b"\xed\xa0\x80"  # a surrogate
            verdicts.append((v.feed(bad), v.finish()))
            v.reset()
        return verdicts

    for verdicts in hammer(work):
        assert verdicts == [(True, True), (True, True), (False, False)] * 10


def test_utf8_validator_shared_by_threads(impl):
    # Every chunk is whole characters, so any order of feeds stays valid;
    # the large chunks take the kernel's GIL-released path in C.
    chunks = [("é€😀" * n).encode() for n in (1, 7, 30_000)]
    v = impl.Utf8Validator()

    def work(i):
        return all(v.feed(chunks[(i + n) % 3]) for n in range(100))

    assert hammer(work) == [True] * THREADS
    assert v.finish()


def test_masking_keys_are_never_handed_out_twice(impl):
    per_thread = 1000  # 8000 keys: several 1024-key batches, refilled under contention

    def work(i):
        keys = []
        payload = bytes([i]) * 9
        for _ in range(per_thread):
            frame = impl.build_frame(Opcode.BINARY, payload, mask=True)
            key = frame[2:6]
            assert impl.apply_mask(frame[6:], key) == payload
            keys.append(key)
        return keys

    keys = [k for per_thread_keys in hammer(work) for k in per_thread_keys]
    assert len(keys) == THREADS * per_thread
    # 8000 random 32-bit keys collide by chance with probability under 1%,
    # and more than three repeats essentially never; a batch handed out to
    # two threads would repeat hundreds.
    assert len(keys) - len(set(keys)) <= 3


def test_frame_payload_read_while_replaced(impl):
    values = [bytes([n]) * (n * 100 + 1) for n in range(8)]
    frame = impl.Frame(Opcode.BINARY, values[0])

    def work(i):
        seen = set()
        for n in range(2000):
            if i % 2:
                frame.payload = values[(i + n) % 8]
            else:
                seen.add(frame.payload)
        return seen

    for seen in hammer(work):
        assert seen <= set(values)


def test_mask_into_per_thread(impl):
    key = b"\x01\x02\x03\x04"

    def work(i):
        rng = random.Random(300 + i)
        ok = True
        for _ in range(200):
            original = bytes(rng.randrange(256) for _ in range(rng.choice((3, 64, 1000))))
            buf = bytearray(original)
            impl.mask_into(buf, key)
            masked = bytes(buf)
            impl.mask_into(buf, key)
            ok = ok and masked == impl.apply_mask(original, key) and buf == original
        return ok

    assert hammer(work) == [True] * THREADS
