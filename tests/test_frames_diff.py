"""The frame codec against what nobody here wrote: random chunkings of valid
streams, the other twin (C against pure Python on arbitrary bytes), and the
codecs of wsproto and websockets in both directions."""
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.frame_outcome import describe, outcome

import wsfast
from wsfast import Opcode, _pure
from wsfast.errors import InvalidUTF8, ProtocolError

IMPLS = [_pure]
if wsfast.IMPLEMENTATION == "c":
    from wsfast import _speedups
    IMPLS.insert(0, _speedups)


@pytest.fixture(scope="module", params=IMPLS, ids=lambda m: "pure" if m is _pure else "c")
def impl(request):
    return request.param


# ---- Valid streams, any chunking ---------------------------------------------

def split_at(data, cuts):
    """data cut at the given fractions into consecutive pieces."""
    points = sorted({int(c * len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0] + points, points + [len(data)])]


@st.composite
def messages(draw):
    """A valid sequence of frames: (opcode, fin, rsv1, payload) each, data
    messages in fragments cut anywhere (also inside a UTF-8 character) with
    control frames between the fragments."""
    frames = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            opcode = draw(st.sampled_from([Opcode.PING, Opcode.PONG, Opcode.CLOSE]))
            frames.append((opcode, True, False, draw(st.binary(max_size=125))))
            continue
        text = draw(st.booleans())
        body = (draw(st.text(max_size=300)).encode() if text
                else draw(st.binary(max_size=70_000 if draw(st.booleans()) else 300)))
        pieces = split_at(body, draw(st.lists(st.floats(0, 1), max_size=3)))
        for i, piece in enumerate(pieces):
            opcode = (Opcode.TEXT if text else Opcode.BINARY) if i == 0 else Opcode.CONTINUATION
            frames.append((opcode, i == len(pieces) - 1, False, piece))
            if draw(st.integers(0, 4)) == 0:
                frames.append((Opcode.PING, True, False, draw(st.binary(max_size=10))))
    return frames


def encode(frames, mask, builder):
    return b"".join(builder(op, payload, fin=fin, rsv1=rsv1, mask=mask)
                    for op, fin, rsv1, payload in frames)


@given(frames=messages(), role=st.sampled_from(["server", "client"]),
       cuts=st.lists(st.floats(0, 1), max_size=12), one_byte=st.integers(0, 15))
def test_any_chunking_gives_the_same_frames(impl, frames, role, cuts, one_byte):
    stream = encode(frames, role == "server", impl.build_frame)
    if one_byte == 0 and len(stream) < 5000:
        chunks = [stream[i:i + 1] for i in range(len(stream))]
    else:
        chunks = split_at(stream, cuts)
    parser = impl.FrameParser(role, max_frame_size=None)
    got = [f for chunk in chunks for f in parser.feed(chunk)]
    assert [(f.opcode, f.fin, f.rsv1, f.payload) for f in got] == frames
    assert parser.buffered == 0


# ---- C against pure Python on arbitrary input ------------------------------

@st.composite
def wire(draw):
    """Bytes that are mostly frame-shaped: headers with random bits, lengths
    of every encoding (some too long or with the top bit set), mask or not,
    payloads that may or may not be UTF-8, and plain noise."""
    out = b""
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 5)) == 0:
            out += draw(st.binary(max_size=20))
            continue
        b0 = draw(st.sampled_from([0x81, 0x82, 0x01, 0x02, 0x80, 0x00, 0x89, 0x8A, 0x88,
                                   0xC1, 0x41, 0xA1, 0x91, 0x83, 0x8B, 0x09]) |
                  st.integers(0, 255))
        payload = draw(st.binary(max_size=300) | st.text(max_size=50).map(str.encode) |
                       st.sampled_from([b"\xc3", b"\xa9", b"\xed\xa0\x80", b"\xf4\x90"]))
        n = len(payload)
        form = draw(st.sampled_from(["min", "min", "16", "64", "huge", "msb"]))
        mask_bit = 0x80 if draw(st.booleans()) else 0
        if form == "min" and n <= 125:
            head = bytes([b0, mask_bit | n])
        elif form in ("min", "16") and n <= 0xFFFF:
            head = bytes([b0, mask_bit | 126]) + n.to_bytes(2, "big")
        elif form == "huge":
            head = bytes([b0, mask_bit | 127]) + draw(st.integers(0, 2**63 - 1)).to_bytes(8, "big")
        elif form == "msb":
            head = bytes([b0, mask_bit | 127]) + (2**63 + n).to_bytes(8, "big")
        else:
            head = bytes([b0, mask_bit | 127]) + n.to_bytes(8, "big")
        key = draw(st.binary(min_size=4, max_size=4)) if mask_bit else b""
        out += head + key + (bytes(b ^ key[i % 4] for i, b in enumerate(payload))
                             if key else payload)
    return out


@pytest.mark.skipif(wsfast.IMPLEMENTATION != "c", reason="needs the C extension")
@given(data=wire(), cuts=st.lists(st.floats(0, 1), max_size=8),
       role=st.sampled_from(["server", "client"]), rsv1=st.booleans(),
       utf8=st.booleans(), max_frame=st.sampled_from([None, 0, 5, 126, 1 << 20]),
       max_message=st.sampled_from([None, 0, 10, 300]), messages=st.booleans())
def test_c_and_pure_agree_on_any_input(data, cuts, role, rsv1, utf8, max_frame, max_message,
                                       messages):
    options = dict(role=role, rsv1_allowed=rsv1, validate_utf8=utf8,
                   max_frame_size=max_frame, max_message_size=max_message)
    chunks = split_at(data, cuts)
    assert (outcome(_speedups, options, chunks, messages) ==
            outcome(_pure, options, chunks, messages))


def unwrapped(frames):
    """feed_messages' promise, from feed's frames and bytes.decode: whole
    plain text and binary frames as their payload, decoded for text; the
    index of the first text payload that is not UTF-8, or None."""
    out = []
    for f in frames:
        if f.fin and not f.rsv1 and f.opcode in (Opcode.TEXT, Opcode.BINARY):
            if f.opcode == Opcode.BINARY:
                out.append(f.payload)
                continue
            try:
                out.append(f.payload.decode())
            except UnicodeDecodeError:
                return out, len(out)
        else:
            out.append(describe(f))
    return out, None


@given(data=wire(), cuts=st.lists(st.floats(0, 1), max_size=8),
       role=st.sampled_from(["server", "client"]), rsv1=st.booleans())
def test_feed_messages_is_feed_with_whole_messages_unwrapped(impl, data, cuts, role, rsv1):
    options = dict(role=role, rsv1_allowed=rsv1, validate_utf8=False, max_frame_size=None)
    plain, fast = impl.FrameParser(**options), impl.FrameParser(**options)
    kept = ["earlier"]  # feed_messages appends; it never touches what was there
    for chunk in split_at(data, cuts):
        try:
            frames = plain.feed(chunk)
        except ProtocolError as exc:
            frames, error = exc.frames, exc
        else:
            error = None
        want, bad_text = unwrapped(frames)
        before = len(kept)
        try:
            count = fast.feed_messages(chunk, kept)
        except InvalidUTF8 as exc:
            assert bad_text is not None, exc
            assert exc.close_code == 1007
            assert [describe(x) for x in kept[before:]] == want[:bad_text]
            return
        except ProtocolError as exc:
            assert error is not None and bad_text is None
            assert (type(exc), exc.close_code, exc.reason) == (type(error), error.close_code,
                                                               error.reason)
            assert [describe(x) for x in kept[before:]] == want
            return
        assert error is None and bad_text is None
        assert [describe(x) for x in kept[before:]] == want
        assert count == sum(type(x) not in (str, bytes) for x in kept[before:])
    assert kept[0] == "earlier"


# ---- wsproto ---------------------------------------------------------------

wsproto_fp = pytest.importorskip("wsproto.frame_protocol")


def semantic(items):
    """(opcode, fin, payload) frames as what a receiver delivers: messages
    (whatever frames carried them) and control frames, up to the first close
    (wsproto stops there). Close payloads become (code, reason)."""
    out, parts, kind = [], [], None
    for op, fin, payload in items:
        if op == Opcode.CLOSE:
            out.append(("close",) + tuple(payload if isinstance(payload, tuple)
                                          else wsfast.parse_close(payload)))
            break
        if op in (Opcode.PING, Opcode.PONG):
            out.append((int(op), bytes(payload)))
            continue
        kind = op if op != Opcode.CONTINUATION else kind
        parts.append(payload)
        if fin:
            if all(isinstance(p, str) for p in parts):
                out.append((int(kind), "".join(parts)))
            elif kind == Opcode.TEXT:
                out.append((int(kind), b"".join(parts).decode()))
            else:
                out.append((int(kind), b"".join(parts)))
            parts = []
    return out


def wsproto_frames(data, client):
    """wsproto's frames as (opcode, fin, payload); it names a continuation
    by its message's opcode, so the first frame of a message is tracked."""
    proto = wsproto_fp.FrameProtocol(client=client, extensions=[])
    proto.receive_bytes(data)
    out, in_message = [], False
    for f in proto.received_frames():
        op = int(f.opcode)
        if op < 8:
            op, in_message = (0 if in_message else op), not f.message_finished
        out.append((op, f.message_finished, f.payload))
    return out


def valid_close(frames):
    """frames with every close payload made a valid one."""
    return [(op, fin, rsv1, wsfast.encode_close(1000, payload.hex()[:20])
             if op == Opcode.CLOSE else payload) for op, fin, rsv1, payload in frames]


@given(frames=messages().map(valid_close))
def test_wsproto_parses_what_wsfast_builds(impl, frames):
    expected = semantic([(op, fin, payload) for op, fin, _, payload in frames])
    for mask in (False, True):
        got = wsproto_frames(encode(frames, mask, impl.build_frame), client=not mask)
        assert semantic(got) == expected


def test_wsfast_parses_what_wsproto_builds(impl):
    sender = wsproto_fp.FrameProtocol(client=True, extensions=[])
    data = (sender.send_data("héllo", fin=False) + sender.ping(b"p") +
            sender.send_data("wörld", fin=True) + sender.send_data(os.urandom(70_000)) +
            sender.pong(b"q") + sender.close(1000, "bye"))
    got = [(f.opcode, f.fin, f.payload) for f in impl.FrameParser("server").feed(data)]
    assert [g[:2] for g in got] == [(1, False), (9, True), (0, True), (2, True), (10, True),
                                    (8, True)]
    assert (got[0][2] + got[2][2]).decode() == "héllowörld"
    assert len(got[3][2]) == 70_000
    assert wsfast.parse_close(got[5][2]) == (1000, "bye")


# ---- websockets ------------------------------------------------------------

ws_frames = pytest.importorskip("websockets.frames")
ws_streams = pytest.importorskip("websockets.streams")


def websockets_frames(data, mask):
    reader = ws_streams.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    out = []
    while reader.buffer:
        parse = ws_frames.Frame.parse(reader.read_exact, mask=mask)
        try:
            next(parse)
        except StopIteration as done:
            out.append(done.value)
        else:
            raise AssertionError("websockets wants more bytes than wsfast wrote")
    return out


@given(frames=messages(), mask=st.booleans())
def test_websockets_parses_what_wsfast_builds(impl, frames, mask):
    got = websockets_frames(encode(frames, mask, impl.build_frame), mask)
    assert [(int(f.opcode), f.fin, f.rsv1, bytes(f.data)) for f in got] == frames


@given(frames=messages(), mask=st.booleans())
def test_wsfast_parses_what_websockets_builds(impl, frames, mask):
    data = b"".join(ws_frames.Frame(ws_frames.Opcode(op), payload, fin).serialize(mask=mask)
                    for op, fin, _, payload in frames)
    parser = impl.FrameParser("server" if mask else "client", max_frame_size=None)
    assert [(f.opcode, f.fin, f.rsv1, f.payload) for f in parser.feed(data)] == frames


def test_feed_messages_takes_a_list_and_its_error_holds_a_copy(impl):
    parser = impl.FrameParser("client", max_frame_size=None)
    with pytest.raises(TypeError):
        parser.feed_messages(b"", type("Items", (list,), {})())
    out = []
    with pytest.raises(ProtocolError) as info:
        parser.feed_messages(b"\x82\x01a\x89\x01b\x83\x00", out)  # binary, ping, reserved 0x3
    assert out[0] == b"a" and out[1].opcode == Opcode.PING
    assert [describe(x) for x in info.value.frames] == [describe(x) for x in out]
    out.clear()  # the caller's list is its own; the error keeps what it saw
    assert len(info.value.frames) == 2
