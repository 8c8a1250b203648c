"""wsfast.patch(): patched libraries give the same bytes and events as unpatched
ones, unpatch() restores the exact original objects, and a library whose
internals differ is skipped with a warning instead of being broken."""
from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import os
import random
import socket
import subprocess
import sys
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wsfast
from wsfast.integrations import PatchWarning, _registry, bindings

LIBRARIES = list(_registry.LIBRARIES)
# scripts/test.sh installs the versions wsfast is checked against (the
# test-integrations extra) and sets this: there, a library patch() declines
# is a failure. Elsewhere (a wheel's tests, say, with whatever versions pip
# picked for that Python) it is patch()'s documented behaviour, and the tests
# of that library skip, saying why.
STRICT = os.environ.get("WSFAST_PINNED_PEERS", "") not in ("", "0")


def _declined(name):
    """Why patch() declines this installed library (its version or internals
    differ from those wsfast knows), or None."""
    if importlib.util.find_spec(name) is None or STRICT:
        return None
    try:
        importlib.import_module(_registry.LIBRARIES[name]).plan()
    except _registry.Mismatch as exc:
        return f"wsfast does not patch {name} {_registry.library_version(name)}: {exc}"
    return None


declined = {name: _declined(name) for name in LIBRARIES}
# "installed" here means installed and taken by patch().
installed = {name: importlib.util.find_spec(name) is not None and declined[name] is None
             for name in LIBRARIES}

payloads = st.binary(max_size=3000)
keys = st.binary(min_size=4, max_size=4)
texts = st.text(max_size=600)


def needs(name):
    return pytest.mark.skipif(not installed[name],
                              reason=declined[name] or f"{name} is not installed")


@pytest.fixture(autouse=True)
def _unpatched():
    wsfast.unpatch()
    yield
    wsfast.unpatch()


class Patched:
    """Context manager: patch one library for the block, unpatch after."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        assert self.name in wsfast.patch(self.name)
        return self

    def __exit__(self, *exc):
        wsfast.unpatch(self.name)


def both(name, func, *args):
    """func(*args) unpatched, then patched: the two results."""
    before = func(*args)
    with Patched(name):
        after = func(*args)
    return before, after


def spy_on(monkeypatch, module, attr):
    """Replace a kernel an integration calls with a recorder of payload sizes."""
    calls = []
    real = getattr(module, attr)

    def spy(data, key, phase=0):
        calls.append(len(data))
        return real(data, key, phase)

    monkeypatch.setattr(module, attr, spy)
    return calls


def split(data, cuts):
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


# --- the registry -----------------------------------------------------------

def test_import_wsfast_imports_no_library():
    code = ("import sys, wsfast, wsfast.integrations; "
            f"print([m for m in sys.modules if m.split('.')[0] in {LIBRARIES!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_patch_reports_every_installed_library_with_the_implementation():
    label = "python" if wsfast.IMPLEMENTATION == "python" else f"c ({wsfast.KERNEL})"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = wsfast.patch()
    assert result == {name: label for name in LIBRARIES if installed[name]}
    # Only a library patch() declines is warned about ("wsfast: not patching NAME ...").
    assert sorted(str(w.message).split()[3] for w in caught) == \
        sorted(name for name in LIBRARIES if declined[name])
    assert all(w.category is PatchWarning for w in caught)
    assert wsfast.patched() == result
    wsfast.unpatch()
    assert wsfast.patched() == {}


def _all_bindings():
    """Every (module, attr) -> object that patch() replaces, read unpatched."""
    wsfast.patch()
    replaced = {name: bindings(name) for name in LIBRARIES}
    wsfast.unpatch()
    return {(mod, attr): getattr(sys.modules[mod], attr)
            for pairs in replaced.values() for mod, attr in pairs}


def test_unpatch_restores_the_original_objects():
    originals = _all_bindings()
    if not originals:
        pytest.skip("none of the libraries patch() targets is installed")
    wsfast.patch()
    changed = [key for key, obj in originals.items()
               if getattr(sys.modules[key[0]], key[1]) is not obj]
    assert sorted(changed) == sorted(originals)
    wsfast.unpatch()
    for (mod, attr), obj in originals.items():
        assert getattr(sys.modules[mod], attr) is obj, (mod, attr)


def _library_namespaces():
    return {(name, attr): value for name, module in list(sys.modules.items())
            if name.split(".")[0] in LIBRARIES
            for attr, value in list(vars(module).items())}


def test_patch_then_unpatch_leaves_every_library_module_as_it_was():
    for name in LIBRARIES:  # import what patch() imports, changing nothing
        if installed[name]:
            importlib.import_module(_registry.LIBRARIES[name]).plan()
    before = _library_namespaces()
    wsfast.patch()
    wsfast.unpatch()
    after = _library_namespaces()
    changed = [key for key in before if after.get(key, before) is not before[key]]
    assert changed == []


def test_patching_twice_is_harmless():
    originals = _all_bindings()
    first = wsfast.patch()
    replaced = {key: getattr(sys.modules[key[0]], key[1]) for key in originals}
    assert wsfast.patch() == first
    assert wsfast.patch(*first) == first
    for (mod, attr), obj in replaced.items():
        assert getattr(sys.modules[mod], attr) is obj
    wsfast.unpatch()
    wsfast.unpatch()
    for (mod, attr), obj in originals.items():
        assert getattr(sys.modules[mod], attr) is obj


def test_unknown_library_is_an_error():
    with pytest.raises(ValueError, match="cannot patch"):
        wsfast.patch("socketio")


def test_missing_library_is_skipped_with_a_warning(monkeypatch):
    monkeypatch.setattr(_registry, "_installed", lambda name: False)
    with pytest.warns(PatchWarning, match="not installed"):
        assert wsfast.patch("tornado") == {}
    assert wsfast.patch() == {}  # no names: quietly nothing


@needs("tornado")
def test_missing_attribute_is_skipped_with_a_warning(monkeypatch):
    import tornado.util
    import tornado.websocket
    original = tornado.websocket._websocket_mask
    monkeypatch.delattr(tornado.util, "_websocket_mask")
    with pytest.warns(PatchWarning, match=r"tornado\.util\._websocket_mask is missing"):
        assert "tornado" not in wsfast.patch("tornado")
    assert tornado.websocket._websocket_mask is original


@needs("tornado")
def test_different_behaviour_is_skipped_with_a_warning(monkeypatch):
    import tornado.util
    import tornado.websocket
    changed = lambda mask, data: bytes(data)  # noqa: E731  (a library that stopped masking)
    monkeypatch.setattr(tornado.websocket, "_websocket_mask", changed)
    with pytest.warns(PatchWarning, match="behaves differently"):
        assert wsfast.patch("tornado") == {}
    assert tornado.websocket._websocket_mask is changed


@needs("wsproto")
def test_different_signature_is_skipped_with_a_warning(monkeypatch):
    import wsproto.frame_protocol as fp

    class TwoArgMasker:  # a future wsproto whose masker wants another argument
        def __init__(self, key, length):
            pass

        def process(self, data):
            return bytearray(data)

    monkeypatch.setattr(fp, "XorMaskerSimple", TwoArgMasker)
    with pytest.warns(PatchWarning, match="wsproto"):
        assert wsfast.patch("wsproto") == {}
    assert fp.XorMaskerSimple is TwoArgMasker


@needs("aiohttp")
def test_aiohttp_reader_with_other_parameters_is_skipped_with_a_warning(monkeypatch):
    import aiohttp.client
    import aiohttp.web_ws

    class FutureReader:  # an aiohttp whose reader takes its options differently
        def __init__(self, queue, options):
            pass

    monkeypatch.setattr(aiohttp.web_ws, "WebSocketReader", FutureReader)
    with pytest.warns(PatchWarning, match=r"aiohttp\.web_ws\.WebSocketReader takes"):
        assert wsfast.patch("aiohttp") == {}
    assert aiohttp.web_ws.WebSocketReader is FutureReader
    assert aiohttp.client.WebSocketReader.__module__.startswith("aiohttp.")


@needs("websockets")
def test_old_version_is_skipped_with_a_warning(monkeypatch):
    import websockets.frames
    original = websockets.frames.apply_mask
    monkeypatch.setattr(_registry, "library_version", lambda name: "9.1")
    with pytest.warns(PatchWarning, match="older than"):
        assert wsfast.patch("websockets") == {}
    assert websockets.frames.apply_mask is original


@needs("tornado")
def test_a_later_replacement_is_left_alone():
    import tornado.websocket
    wsfast.patch("tornado")
    theirs = lambda mask, data: data  # noqa: E731
    tornado.websocket._websocket_mask = theirs
    try:
        with pytest.warns(PatchWarning, match="replaced again"):
            wsfast.unpatch("tornado")
        assert tornado.websocket._websocket_mask is theirs
    finally:
        importlib.reload(tornado.websocket)


def test_version_tuple():
    assert _registry.version_tuple("17.4") == (17, 4)
    assert _registry.version_tuple("3.14.5.post1") == (3, 14, 5)
    assert _registry.version_tuple("26.10.2rc1") == (26, 10, 2)
    assert _registry.version_tuple("?") == ()


# --- websockets ---------------------------------------------------------------

def _ws_frames(data, cuts, opcode):
    """Frames a websockets server-side protocol reads from masked bytes."""
    from websockets.frames import Frame
    from websockets.protocol import Protocol, Side
    protocol = Protocol(Side.SERVER, max_size=None)
    for piece in split(data, cuts):
        protocol.receive_data(piece)
    return [(f.opcode, bytes(f.data), f.fin) for f in protocol.events_received()
            if isinstance(f, Frame)]


def _masked_frame(opcode, payload, key, fin=True):
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + key + wsfast.apply_mask(payload, key)


@needs("websockets")
@given(payload=payloads, key=keys, cuts=st.lists(st.integers(0, 4000), max_size=4))
def test_websockets_reads_the_same_frames(payload, key, cuts):
    data = _masked_frame(2, payload, key)
    before, after = both("websockets", _ws_frames, data, cuts, 2)
    assert before == after == [(2, payload, True)]


@needs("websockets")
@given(text=texts, seed=st.integers(0, 2**32))
def test_websockets_client_writes_the_same_bytes(text, seed):
    import websockets.frames
    from websockets.protocol import Protocol, Side

    def send():
        rng = random.Random(seed)
        original = websockets.frames.secrets.token_bytes
        websockets.frames.secrets.token_bytes = lambda n: rng.randbytes(n)
        try:
            client = Protocol(Side.CLIENT)
            client.send_text(text.encode())
            client.send_binary(text.encode()[::-1])
            return b"".join(client.data_to_send())
        finally:
            websockets.frames.secrets.token_bytes = original

    before, after = both("websockets", send)
    assert before == after


@needs("websockets")
@given(payload=payloads, key=keys)
def test_websockets_legacy_framing_reads_the_same_frames(payload, key):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from websockets.legacy.framing import Frame

    def read():
        async def go():
            reader = asyncio.StreamReader()
            reader.feed_data(_masked_frame(2, payload, key))
            frame = await Frame.read(reader.readexactly, mask=True)
            return frame.opcode, bytes(frame.data), frame.fin
        return asyncio.run(go())

    before, after = both("websockets", read)
    assert before == after == (2, payload, True)


@needs("websockets")
def test_websockets_calls_wsfast_where_it_unmasks(monkeypatch):
    from wsfast.integrations import _websockets
    calls = spy_on(monkeypatch, _websockets, "_wsfast_mask")
    payload = os.urandom(300)
    with Patched("websockets"):
        calls.clear()  # the self-check's own calls
        frames = _ws_frames(_masked_frame(2, payload, os.urandom(4)), [], 2)
    assert frames == [(2, payload, True)]
    assert calls == [300]


@needs("websockets")
def test_websockets_apply_mask_keeps_its_argument_forms():
    import websockets.frames
    with Patched("websockets"):
        mask = websockets.frames.apply_mask
        assert mask(memoryview(b"abcdefgh")[::2], b"\x01\x02\x03\x04") == \
            wsfast.apply_mask(b"aceg", b"\x01\x02\x03\x04")
        with pytest.raises(ValueError, match="mask must contain 4 bytes"):
            mask(b"abc", b"\x00")
        assert type(mask(bytearray(b"xyz"), b"abcd")) is bytes


# --- tornado ---------------------------------------------------------------

@needs("tornado")
@given(payload=payloads, key=keys)
def test_tornado_masks_the_same(payload, key):
    import tornado.websocket
    before, after = both("tornado", lambda: tornado.websocket._websocket_mask(key, payload))
    assert before == after
    assert type(after) is bytes


@needs("tornado")
def test_tornado_echo_over_loopback_calls_wsfast(monkeypatch):
    from wsfast.integrations import _tornado
    calls = spy_on(monkeypatch, _tornado, "_wsfast_mask")
    messages = ["x" * 10, "ünïcödé " * 50, os.urandom(70000)]
    with Patched("tornado"):
        calls.clear()
        echoed = asyncio.run(_tornado_echo(messages))
    assert echoed == messages
    # Each message is masked by the client and unmasked by the server (the
    # client's close frame, empty, may be masked too).
    assert sorted(c for c in calls if c) == sorted(2 * [len(m.encode() if isinstance(m, str) else m)
                                        for m in messages])


async def _tornado_echo(messages):
    import tornado.httpserver
    import tornado.web
    import tornado.websocket

    class Echo(tornado.websocket.WebSocketHandler):
        def on_message(self, message):
            self.write_message(message, binary=isinstance(message, bytes))

    app = tornado.web.Application([("/", Echo)])
    server = tornado.httpserver.HTTPServer(app)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    try:
        conn = await asyncio.wait_for(
            tornado.websocket.websocket_connect(f"ws://127.0.0.1:{port}/"), 10)
        out = []
        for message in messages:
            await conn.write_message(message, binary=isinstance(message, bytes))
            out.append(await asyncio.wait_for(conn.read_message(), 10))
        conn.close()
        return out
    finally:
        server.stop()
        await server.close_all_connections()


# --- wsproto -------------------------------------------------------------

def _wsproto_exchange(messages, seed, cuts):
    """A wsproto client sends messages to a wsproto server: bytes and events."""
    import wsproto.frame_protocol as fp
    from wsproto import ConnectionType
    from wsproto.connection import Connection
    from wsproto.events import BytesMessage, TextMessage
    rng = random.Random(seed)
    original = fp.os.urandom
    fp.os.urandom = lambda n: rng.randbytes(n)
    try:
        client = Connection(ConnectionType.CLIENT)
        server = Connection(ConnectionType.SERVER)
        wire = b""
        for message in messages:
            event = TextMessage(message) if isinstance(message, str) else BytesMessage(message)
            wire += client.send(event)
        for piece in split(wire, cuts):
            server.receive_data(piece)
        events = [(type(e).__name__, e.data, e.frame_finished, e.message_finished)
                  for e in server.events()]
        return wire, events
    finally:
        fp.os.urandom = original


@needs("wsproto")
@given(messages=st.lists(st.one_of(texts, payloads), min_size=1, max_size=4),
       seed=st.integers(0, 2**32), cuts=st.lists(st.integers(0, 20000), max_size=6))
def test_wsproto_sends_and_receives_the_same(messages, seed, cuts):
    before, after = both("wsproto", _wsproto_exchange, messages, seed, cuts)
    assert before == after
    joined = {}
    for kind, data, _, _ in after[1]:
        joined.setdefault("all", []).append(data)
    assert "".join(d for d in joined.get("all", []) if isinstance(d, str)) == \
        "".join(m for m in messages if isinstance(m, str))


@needs("wsproto")
@given(payload=payloads, key=keys, cuts=st.lists(st.integers(0, 4000), max_size=5))
def test_wsproto_masker_matches_piece_by_piece(payload, key, cuts):
    import wsproto.frame_protocol as fp

    def run():
        masker = fp.XorMaskerSimple(bytearray(key))
        out = [masker.process(bytearray(p)) for p in split(payload, cuts)]
        return out, bytes(masker._masking_key), [type(o) for o in out]

    before, after = both("wsproto", run)
    assert before == after


# --- autobahn ------------------------------------------------------------

@needs("autobahn")
@given(payload=payloads, key=keys, cuts=st.lists(st.integers(0, 4000), max_size=5))
def test_autobahn_masker_matches_piece_by_piece(payload, key, cuts):
    import autobahn.websocket.protocol as proto

    def run():
        masker = proto.create_xor_masker(key, len(payload))
        out = []
        for piece in split(payload, cuts):
            out.append((masker.process(piece), masker.pointer()))
        masker.reset()
        out.append((masker.process(payload[:9]), masker.pointer()))
        return out

    before, after = both("autobahn", run)
    assert before == after


utf8_pieces = st.lists(st.one_of(
    st.text(max_size=30).map(lambda s: s.encode()),
    st.sampled_from([b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe2\x82", b"\xff",
                     b"\xf0\x9f", b"\x80"]),
    st.binary(max_size=6)), max_size=8)


@needs("autobahn")
@given(pieces=utf8_pieces, cuts=st.lists(st.integers(0, 400), max_size=4))
def test_autobahn_utf8_validator_matches_until_the_first_error(pieces, cuts):
    import autobahn.websocket.protocol as proto

    def run():
        validator = proto.Utf8Validator()
        out = []
        for chunk in split(b"".join(pieces), cuts):
            result = tuple(validator.validate(chunk))
            out.append(result)
            if not result[0]:  # autobahn's protocol stops at the first error
                break
        return out

    before, after = both("autobahn", run)
    assert before == after


@needs("autobahn")
def test_autobahn_protocol_instance_uses_wsfast(monkeypatch):
    """Fails when only package-level names are patched (as older accelerators did):
    the protocol module's own bindings must be wsfast's, and a running protocol
    must call them."""
    import autobahn.websocket.protocol as proto
    from wsfast.integrations import _autobahn
    calls = spy_on(monkeypatch, _autobahn, "_apply_mask")
    unpatched = _autobahn_receive(["hello autobahn", "€" * 100])
    assert calls == []
    with Patched("autobahn"):
        assert proto.create_xor_masker is _autobahn.create_xor_masker
        assert proto.Utf8Validator is _autobahn.Utf8Validator
        calls.clear()
        patched = _autobahn_receive(["hello autobahn", "€" * 100])
    assert patched == unpatched == [("hello autobahn", False), ("€" * 100, False)]
    # Each frame arrives in two pieces, unmasked piece by piece (the second
    # frame's header is 2 bytes longer, so its first piece holds 1 byte).
    assert calls == [3, 11, 1, 299]


def _autobahn_receive(texts):
    """Feed a handshake and masked text frames to an autobahn asyncio server protocol."""
    from unittest import mock

    import txaio
    from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol

    received = []

    class Server(WebSocketServerProtocol):
        def onMessage(self, payload, isBinary):
            received.append((payload.decode(), isBinary))
            assert isinstance(self.utf8validator, type(proto_validator()))

    def proto_validator():
        import autobahn.websocket.protocol as proto
        return proto.Utf8Validator()

    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        txaio.config.loop = loop  # txaio keeps the first loop it saw otherwise
        factory = WebSocketServerFactory("ws://127.0.0.1:9")
        factory.protocol = Server
        protocol = factory()
        transport = mock.Mock()
        transport.get_extra_info.side_effect = lambda name, default=None: (
            ("127.0.0.1", 12345) if name in ("peername", "sockname") else default)
        protocol.connection_made(transport)
        protocol.data_received(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n")
        for _ in range(100):  # the handshake completes on the loop
            if protocol.state == protocol.STATE_OPEN:
                break
            loop.run_until_complete(asyncio.sleep(0))
        assert protocol.state == protocol.STATE_OPEN
        for text in texts:
            frame = _masked_frame(1, text.encode(), os.urandom(4))
            protocol.data_received(frame[:9])  # header and a first piece
            protocol.data_received(frame[9:])
        for _ in range(100):  # onMessage runs on the loop too
            if len(received) == len(texts):
                break
            loop.run_until_complete(asyncio.sleep(0))
        protocol.connection_lost(None)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return received


# --- aiohttp writer ----------------------------------------------------------

@needs("aiohttp")
@given(payload=payloads, seed=st.integers(0, 2**32))
def test_aiohttp_client_writer_sends_the_same_bytes(payload, seed):
    from unittest import mock

    from aiohttp._websocket.writer import WebSocketWriter

    def send():
        async def go():
            transport = mock.Mock()
            transport.is_closing.return_value = False
            protocol = mock.Mock(_paused=False)
            writer = WebSocketWriter(protocol, transport, use_mask=True,
                                     random=random.Random(seed))
            await writer.send_frame(payload, 2)
            return b"".join(bytes(c.args[0]) for c in transport.write.call_args_list)
        return asyncio.run(go())

    before, after = both("aiohttp", send)
    assert before == after


# --- aiohttp reader ------------------------------------------------------------

@contextlib.asynccontextmanager
async def _aiohttp_serving(handler):
    """An aiohttp app serving handler at / on a free loopback port: its URL."""
    from aiohttp import web
    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


async def _aiohttp_echo(messages, compress=0, max_msg_size=4 << 20):
    """Echo messages through an aiohttp server and client on loopback.

    Returns what the client received, the server-side and client-side reader
    classes, and how the exchange ended (the close code the client saw).
    """
    import aiohttp
    from aiohttp import web

    readers = {}

    async def handler(request):
        ws = web.WebSocketResponse(compress=bool(compress), max_msg_size=max_msg_size)
        await ws.prepare(request)
        readers["server"] = type(ws._parser).__module__
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    received = []
    async with _aiohttp_serving(handler) as url, aiohttp.ClientSession() as session:
        async with session.ws_connect(url, compress=compress,
                                      max_msg_size=max_msg_size) as ws:
            readers["client"] = type(ws._parser).__module__
            for message in messages:
                if isinstance(message, str):
                    await ws.send_str(message)
                else:
                    await ws.send_bytes(message)
                reply = await asyncio.wait_for(ws.receive(), 10)
                received.append((int(reply.type), reply.data))
                if reply.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                  aiohttp.WSMsgType.ERROR):
                    break
            await ws.close()
            end = ws.close_code
    return received, readers, end


@needs("aiohttp")
@pytest.mark.parametrize("compress", [0, 15])
def test_aiohttp_echo_gives_the_same_messages(compress):
    messages = ["hello", "ünïcödé €" * 300, b"\x00\xff" * 40000, b"", "", os.urandom(200000)]
    before = asyncio.run(_aiohttp_echo(messages, compress))
    with Patched("aiohttp"):
        after = asyncio.run(_aiohttp_echo(messages, compress))
    assert before[0] == after[0]
    assert [data for _, data in after[0]] == messages
    assert before[2] == after[2] == 1000
    ours = "wsfast.integrations._aiohttp"
    assert after[1] == {"server": ours, "client": ours}
    assert ours not in before[1].values()


@needs("aiohttp")
@pytest.mark.parametrize("size", [4095, 4096, 5000])
@pytest.mark.parametrize("compress", [0, 15])
def test_aiohttp_message_size_limit_is_the_same(size, compress):
    """aiohttp refuses a message of max_msg_size bytes or more (1009)."""
    messages = ["ok", "x" * size]
    before = asyncio.run(_aiohttp_echo(messages, compress, max_msg_size=4096))
    with Patched("aiohttp"):
        after = asyncio.run(_aiohttp_echo(messages, compress, max_msg_size=4096))
    assert (before[0], before[2]) == (after[0], after[2])
    assert after[0][0] == (1, "ok")


def _aiohttp_read(reader_cls, queue_cls, wire, cuts, compress, decode_text=True):
    """Messages (and the error close code) an aiohttp reader makes of wire."""
    from unittest import mock
    queue = queue_cls(mock.Mock(_reading_paused=False), 1 << 20, loop=None)
    reader = reader_cls(queue, 1 << 16, compress=compress, decode_text=decode_text)
    for piece in split(wire, cuts):
        if reader.feed_data(piece)[0]:
            break
    messages = [(int(m.type), bytes(m.data) if isinstance(m.data, (bytes, bytearray))
                 else m.data, m.extra) for m, _ in queue._buffer]
    error = queue.exception()
    return messages, getattr(error, "code", None if error is None else type(error).__name__)


def _frame_bytes(opcode, payload, fin, rsv1, key):
    """A frame as a client sends it (masked with key) or a server (key None)."""
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    n, mask_bit = len(payload), 0x80 if key is not None else 0
    if n < 126:
        head += bytes([mask_bit | n])
    else:
        head += bytes([mask_bit | 126]) + n.to_bytes(2, "big")
    if key is None:
        return head + payload
    return head + key + wsfast.apply_mask(payload, key)


def _deflate(data):
    import zlib
    c = zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


frame_specs = st.lists(st.tuples(
    st.sampled_from([0, 1, 1, 2, 2, 8, 9, 10, 3]),
    st.one_of(st.text(max_size=200).map(str.encode), st.binary(max_size=300),
              st.sampled_from([b"\x03\xe8", b"\x03\xe8bye", b"\x0b\xb8", b"\x03\xed", b"\x01",
                               b"\xed\xa0\x80", b"\x03\xe8\xff"])),
    st.booleans(), st.booleans(), st.booleans()), max_size=6)


def _empty_fragment_interleaved(specs):
    """A new data message starts while one whose fragments so far were all
    empty is unfinished: aiohttp only notices when those fragments had bytes."""
    started, empty = False, True
    for opcode, payload, fin, _, _ in specs:
        if opcode in (1, 2):
            if started and empty:
                return True
            started, empty = not fin, not payload
        elif opcode == 0 and started:
            empty = empty and not payload
            started = not fin
    return False


def _invalid_text_seen(specs, compress):
    """Whether CPython's decoder finds a text message's bytes invalid, by the
    end of the stream or of the message."""
    import codecs
    decoder = None
    for opcode, payload, fin, rsv1, _ in specs:
        if opcode in (1, 2):
            compressed = rsv1 and compress
            decoder = codecs.getincrementaldecoder("utf-8")() \
                if opcode == 1 and not compressed else None
        if opcode in (0, 1, 2) and decoder is not None:
            try:
                decoder.decode(payload, fin)
            except UnicodeDecodeError:
                return True
        if opcode in (0, 1, 2) and fin:
            decoder = None
    return False


@needs("aiohttp")
@given(specs=frame_specs, key=keys, cuts=st.lists(st.integers(0, 3000), max_size=4),
       compress=st.booleans(), decode_text=st.booleans(), client=st.booleans())
def test_aiohttp_reader_matches_aiohttp(specs, key, cuts, compress, decode_text, client):
    """Random frame streams, valid or not, to a server's reader (masked frames)
    or a client's (unmasked): the same messages and close code as aiohttp's
    own reader (or, where wsfast fails fast inside a message, the same code
    with a prefix of aiohttp's messages)."""
    from aiohttp._websocket.reader import WebSocketDataQueue, WebSocketReader
    from wsfast.integrations import _aiohttp
    wsfast.patch("aiohttp")  # loads the aiohttp names the reader uses
    ours_cls = _aiohttp.ClientWebSocketReader if client else _aiohttp.WebSocketReader
    key = None if client else key
    wire = b""
    for opcode, payload, fin, rsv1, deflate in specs:
        rsv1 = rsv1 and compress and opcode in (1, 2)
        if rsv1 and deflate:
            payload = _deflate(payload)
        wire += _frame_bytes(opcode, payload, fin or opcode >= 8, rsv1, key)
    theirs = _aiohttp_read(WebSocketReader, WebSocketDataQueue, wire, cuts, compress,
                           decode_text)
    ours = _aiohttp_read(ours_cls, WebSocketDataQueue, wire, cuts, compress, decode_text)
    if ours[1] == 1002 and _empty_fragment_interleaved(specs):
        # aiohttp overlooks this violation; wsfast refuses it (documented).
        assert ours[0] == theirs[0][:len(ours[0])]
        return
    if ours[1] == 1007 and decode_text and _invalid_text_seen(specs, compress):
        # wsfast refuses invalid UTF-8 as soon as it arrives; aiohttp when the
        # message ends (or never, if something else fails first).
        assert ours[0] == theirs[0][:len(ours[0])]
        return
    if theirs[1] is None or ours[1] is None:
        assert ours == theirs
    else:
        assert ours[1] == theirs[1]
        assert ours[0] == theirs[0][:len(ours[0])]


def _aiohttp_queues():
    """aiohttp's data queues: the Python one, and the compiled one if built."""
    names = ["reader_py"]
    if importlib.util.find_spec("aiohttp._websocket.reader_c"):
        names.append("reader_c")
    return names


@needs("aiohttp")
@pytest.mark.parametrize("queue_module", _aiohttp_queues())
@pytest.mark.parametrize("ours", [False, True])
def test_aiohttp_reader_stalls_and_resumes_on_a_full_queue(ours, queue_module):
    """Over the queue's high-water mark the reader keeps the rest and stops
    (reading stays paused); reading the queue down resumes parsing, then
    reading; every message arrives, in order."""
    from unittest import mock

    from aiohttp._websocket.reader_py import WebSocketReader
    from wsfast.integrations import _aiohttp
    wsfast.patch("aiohttp")
    queue_cls = importlib.import_module(f"aiohttp._websocket.{queue_module}").WebSocketDataQueue
    cls = _aiohttp.WebSocketReader if ours else WebSocketReader
    key = os.urandom(4)
    payloads = [os.urandom(40) for _ in range(50)]
    wire = b"".join(_frame_bytes(2, p, True, False, key) for p in payloads)

    class Protocol:
        _reading_paused = False
        pause_reading = mock.Mock(side_effect=lambda: setattr(Protocol, "_reading_paused", True))
        resume_reading = mock.Mock(
            side_effect=lambda: setattr(Protocol, "_reading_paused", False))

    async def go():
        queue = queue_cls(Protocol(), 100, loop=asyncio.get_running_loop())
        reader = cls(queue, 1 << 16, compress=False, decode_text=True)
        assert reader.feed_data(wire) == (False, b"")
        queued, paused = len(queue._buffer), Protocol._reading_paused
        got = [(await asyncio.wait_for(queue.read(), 10)).data for _ in payloads]
        return queued, paused, got

    if queue_module == "reader_c" and not ours:
        pytest.skip("aiohttp's compiled queue stalls only aiohttp's compiled reader")
    queued, paused, got = asyncio.run(go())
    assert paused and queued < len(payloads)
    assert got == payloads
    assert not Protocol._reading_paused


@needs("aiohttp")
def test_aiohttp_messages_kept_back_survive_connection_loss():
    """A read of more messages than the queue admits, then the connection
    lost: every message still reaches the handler, then CLOSED (aiohttp's
    own tests of this name its private stall hook, see
    scripts/library-tests.py; this is the same check through wsfast's)."""
    import gc

    import aiohttp
    from aiohttp import WSMsgType, web
    wsfast.patch("aiohttp")
    sent = 8000

    async def go():
        received = asyncio.get_running_loop().create_future()

        async def handler(request):
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            try:
                protocol, transport = request.protocol, request.transport
                # Empty masked text frames: 6 bytes each on the wire, each
                # charged aiohttp's per-message overhead in the queue.
                protocol.data_received(b"\x81\x80\x00\x00\x00\x00" * sent)
                kept_back = len(ws._parser._pending)
                protocol._task_handler = None
                transport.abort()
                protocol.connection_lost(None)
                gc.collect()
                count = 0
                while (await ws.receive()).type is WSMsgType.TEXT:
                    count += 1
                received.set_result((kept_back, count))
            except Exception as exc:  # surfaced by the test, not a timeout
                received.set_exception(exc)
            return ws

        async with _aiohttp_serving(handler) as url, aiohttp.ClientSession() as session:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.ws_connect(url):
                    return await asyncio.wait_for(received, 10)
            return await asyncio.wait_for(received, 10)

    kept_back, count = asyncio.run(go())
    assert kept_back > 0
    assert count == sent


# --- uvicorn, on top of websockets and wsproto ---------------------------------

async def _uvicorn_echo(ws_impl, messages):
    """Echo messages through a uvicorn server (ASGI echo app, --ws ws_impl),
    driven by wsfast's own client (which no patch touches)."""
    import uvicorn

    from wsfast.asyncio import connect

    async def app(scope, receive, send):
        assert scope["type"] == "websocket"
        while True:
            event = await receive()
            if event["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
            elif event["type"] == "websocket.receive":
                await send({"type": "websocket.send", **{k: v for k, v in event.items()
                                                          if k in ("bytes", "text") and v is not None}})
            else:
                return

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, ws=ws_impl, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):  # started within 5 s
            if server.started:
                break
            await asyncio.sleep(0.01)
        port = sock.getsockname()[1]
        out = []
        async with connect(f"ws://127.0.0.1:{port}/", compression=None) as ws:
            for message in messages:
                await ws.send(message)
                out.append(await asyncio.wait_for(ws.recv(), 10))
        return out
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.mark.skipif(importlib.util.find_spec("uvicorn") is None, reason="uvicorn is not installed")
@pytest.mark.parametrize("ws_impl,library,kernel", [
    ("websockets", "websockets", "_wsfast_mask"),
    ("websockets-sansio", "websockets", "_wsfast_mask"),
    ("wsproto", "wsproto", "_mask_into"),
])
def test_uvicorn_runs_on_the_patched_library(monkeypatch, ws_impl, library, kernel):
    """uvicorn's --ws implementations unmask with the patched library code."""
    if not installed[library]:
        pytest.skip(declined[library] or f"{library} is not installed")
    module = importlib.import_module(f"wsfast.integrations._{library}")
    calls = spy_on(monkeypatch, module, kernel)
    messages = ["hello uvicorn", os.urandom(100000), "€" * 1000]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # websockets.legacy
        before = asyncio.run(_uvicorn_echo(ws_impl, messages))
        assert calls == []
        with Patched(library):
            calls.clear()
            after = asyncio.run(_uvicorn_echo(ws_impl, messages))
    assert before == after == messages
    sizes = [len(m.encode() if isinstance(m, str) else m) for m in messages]
    assert sizes[0] in calls  # the small message, unmasked in one piece
    assert sum(calls) >= sum(sizes)  # every byte the server received was unmasked by wsfast
