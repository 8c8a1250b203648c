"""The MessagePump, an open WebSocket's transport protocol, against the
WebSocket's general path (``_receive``, pure Python over the Connection):
for any stream of valid and invalid frames, any chunking, with on_message
or the queue of recv(), both must deliver the same messages, write the same
frames, pause reading and fail the connection alike. With the C extension
this compares the C hot path with the Python code it skips; in pure Python
the pump's twin (wsfast/asyncio/_pump_py.py), which parses and delivers the
same way. Also: the pump keeps to the seam (wsfast/seam.py).
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wsfast
from helpers.aio import aio
from helpers.connection_outcome import FRAME, encode, sent_frames
from helpers import pump_outcome
from helpers.pump_outcome import open_websocket, run
from wsfast.asyncio.connection import WebSocket
from wsfast.connection import Connection
from wsfast.errors import ConnectionClosed


# Whole messages, now and then a word the callback acts on.
WORDS = st.sampled_from([*pump_outcome.WORDS, b"x" * 130, b""])
WIRE = st.lists(FRAME | st.tuples(st.sampled_from([1, 2]), st.just(True), WORDS,
                                  st.just("plain")), max_size=10)


@settings(max_examples=300, deadline=None)
@given(frames=WIRE, role=st.sampled_from(["client", "server"]), deflate=st.booleans(),
       callback=st.booleans(), max_queue=st.sampled_from([1, 2, 16]),
       limit=st.sampled_from([None, 100, 1 << 20]),
       cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6))
def test_pump_and_general_path_agree(frames: Any, role: str, deflate: bool, callback: bool,
                                     max_queue: int, limit: int | None,
                                     cuts: list[int]) -> None:
    data = encode(frames, role)
    points = sorted(min(c, len(data)) for c in cuts)
    chunks = [data[a:b] for a, b in zip([0] + points, points + [len(data)])] + [b""]
    pumped, buffered, general = both_ways(role, chunks, deflate, callback, max_queue, limit)
    assert pumped == general
    assert buffered == general


def both_ways(*args: Any) -> tuple[Any, Any, Any]:
    """pump_outcome.run(*args) through the pump (data_received, then as a
    BufferedProtocol), then through the general path."""
    async def both() -> tuple[Any, Any, Any]:
        return (await run(*args, through_pump=True), await run(*args, through_pump="buffer"),
                await run(*args, through_pump=False))
    return asyncio.run(both())


@aio
async def test_the_pump_is_the_transports_protocol_and_the_c_one_when_built() -> None:
    ws, transport = open_websocket("server")
    pump = transport.get_protocol()
    assert type(pump).__name__ == "MessagePump"
    expected = "wsfast.asyncio._pump" if wsfast.IMPLEMENTATION == "c" else "wsfast.asyncio._pump_py"
    assert type(pump).__module__ == expected


@aio
async def test_send_nowait_writes_what_the_connection_builds_then_refuses_after_close() -> None:
    ws, transport = open_websocket("server")
    for message in ("héllo", b"\x00\xff", bytearray(b"ba"), memoryview(b"mv"), "x" * 70000):
        ws.send_nowait(message)
        assert transport.written[-1] == Connection("server").send(message)
    with pytest.raises(TypeError):
        ws.send_nowait(12345)  # type: ignore[arg-type]
    transport.written.clear()
    ws._conn.close(1000, "")  # type: ignore[union-attr]  # our Close is sent: no more messages
    with pytest.raises(ConnectionClosed):
        ws.send_nowait("too late")
    assert transport.written == []


@aio
async def test_client_send_nowait_masks_each_frame_with_a_fresh_key() -> None:
    ws, transport = open_websocket("client")
    ws.send_nowait("same")
    ws.send_nowait("same")
    first, second = transport.written
    assert first[1] & 0x80 and second[1] & 0x80 and first[2:6] != second[2:6]
    assert sent_frames(first + second, "client") == [(1, True, b"same")] * 2


@aio
async def test_a_subclass_send_nowait_is_honoured() -> None:
    sent: list[Any] = []

    class Counting(WebSocket):
        def send_nowait(self, message: Any) -> None:
            sent.append(message)
            super().send_nowait(message)

    ws, transport = open_websocket("server", cls=Counting)
    ws.on_message = ws.send_nowait
    transport.protocol.data_received(encode([(1, True, b"hi", "plain")], "server"))
    assert sent == ["hi"]
    assert transport.written == [b"\x81\x02hi"]


@aio
async def test_send_nowait_with_compression_compresses() -> None:
    ws, transport = open_websocket("server", deflate=True)
    ws.send_nowait("a" * 1000)
    assert transport.written[-1][0] == 0xC1  # FIN, RSV1, text
    assert len(transport.written[-1]) < 100


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
@pytest.mark.parametrize("consume", ["async for", "on_message"])
def test_the_pump_takes_the_reads(consume: str, loop_name: str) -> None:
    # uvloop binds data_received when a protocol is set, so set_protocol()
    # must reach it; the messages must flow through the pump either way.
    # asyncio's own transports read into the pump's buffer (a
    # BufferedProtocol); uvloop, which has a buffer of its own, does not.
    if loop_name == "uvloop":
        uvloop = pytest.importorskip("uvloop", reason="pip install uvloop")
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    from wsfast.asyncio import connect, serve

    protocols: list[str] = []
    general_reads: list[bytes] = []
    pumps: list[Any] = []

    async def handler(ws: WebSocket) -> None:
        pump = ws.transport.get_protocol()  # type: ignore[union-attr]
        protocols.append(type(pump).__name__)
        pumps.append(pump)
        # Had uvloop kept calling the WebSocket, every read would land here.
        receive = ws._receive
        ws._receive = lambda data: (general_reads.append(data), receive(data))  # type: ignore[method-assign]
        await pump_outcome.echo(ws, consume)

    async def main() -> bytes:
        async with serve(handler, "127.0.0.1", 0, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}/", compression=None) as ws:
                for message in ("é" * 3, b"\x00" * 70000, "", b"") * 3:
                    await ws.send(message)
                    assert await ws.recv() == message
                assert await asyncio.wait_for(await ws.ping(), 5) >= 0
                await ws.send(b"last")
                assert await ws.recv() == b"last"
                # This thread's last read was the client's of that echo.
                return bytes(pumps[0].get_buffer(-1)[:6])

    try:
        last_read = loop.run_until_complete(asyncio.wait_for(main(), 20))
    finally:
        loop.close()
    buffered = loop_name == "asyncio"
    assert protocols == ["BufferedMessagePump" if buffered else "MessagePump"]
    assert isinstance(pumps[0], asyncio.BufferedProtocol) == buffered
    assert general_reads == []
    if buffered:
        assert last_read == b"\x82\x04last"


@aio
async def test_a_closed_websocket_is_freed_without_the_cycle_collector() -> None:
    import gc
    import weakref

    ws, transport = open_websocket("server")
    ws.send_nowait("bound here")
    transport.protocol.data_received(encode([(1, True, b"hi", "plain")], "server"))
    ws.connection_lost(None)
    ref = weakref.ref(ws)
    gc.disable()  # before the last reference goes: only reference counting may free it
    try:
        del ws
        transport.protocol = None  # as asyncio's transports do after connection_lost
        assert ref() is None
    finally:
        gc.enable()


@aio
async def test_setting_on_message_to_none_keeps_a_full_queue_paused() -> None:
    ws, transport = open_websocket("server", max_queue=2)
    transport.protocol.data_received(
        encode([(1, True, b"a", "plain"), (1, True, b"b", "plain")], "server"))
    assert transport.calls == ["pause_reading"] and ws._inbox.paused
    ws.on_message = None  # no callback: the queue is still full
    assert transport.calls == ["pause_reading"] and ws._inbox.paused
    got: list[Any] = []
    ws.on_message = got.append  # drains the queue into the callback: resume
    assert got == ["a", "b"] and transport.calls == ["pause_reading", "resume_reading"]


@aio
async def test_an_instance_send_nowait_of_the_users_own_is_left_alone() -> None:
    ws, transport = open_websocket("server")
    sent: list[Any] = []
    ws.send_nowait = sent.append  # type: ignore[method-assign]  # a mock, say
    ws.connection_lost(None)
    assert ws.send_nowait == sent.append


@pytest.mark.parametrize("role", ["client", "server"])
@pytest.mark.parametrize("last", [b"echo", b"boom"])
def test_a_nested_read_writes_what_the_outer_read_owes_as_the_general_path_does(
        role: str, last: bytes) -> None:
    # A read of "again" (on_message feeds one more message from inside the
    # callback, as a synchronous transport would), a reply or a failure,
    # then a ping. The general path's nested read dispatches the pong the
    # outer read owes right away, before the reply (or the Close of the
    # failure) that follows; the pump's nested read, whole messages only,
    # must not leave it behind them. Found by test_pump_and_general_path_agree.
    chunks = [encode([(1, True, b"again", "plain"), (1, True, last, "plain"),
                      (9, True, b"", "plain")], role), b""]
    pumped, buffered, general = both_ways(role, chunks, False, True, 16, None)
    assert pumped == general
    assert buffered == general


@pytest.mark.parametrize("code", [1000, 1011])
@aio
async def test_async_for_goes_through_a_subclass_recv(code: int) -> None:
    class Upper(WebSocket):
        async def recv(self) -> Any:
            return (await super().recv()).upper()

    ws, transport = open_websocket("server", cls=Upper)
    close = encode([(8, True, code.to_bytes(2, "big") + b"bye", "plain")], "server")
    transport.protocol.data_received(encode([(1, True, b"one", "plain"),
                                             (1, True, b"two", "plain")], "server") + close)
    got = []
    if code == 1000:
        got = [m async for m in ws]
    else:
        with pytest.raises(ConnectionClosed) as info:
            async for message in ws:
                got.append(message)
        assert (info.value.code, info.value.reason) == (code, "bye")
    assert got == ["ONE", "TWO"]


class PublicOnly:
    """A Connection seen through its public names only, as the seam promises
    the pump sees it: reading any private attribute fails the test."""

    def __init__(self, conn: Connection) -> None:
        object.__setattr__(self, "_target", conn)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AssertionError(f"the MessagePump read Connection.{name}")
        return getattr(object.__getattribute__(self, "_target"), name)


@pytest.mark.parametrize("role", ["client", "server"])
@aio
async def test_the_pump_uses_only_the_seam(role: str) -> None:
    from wsfast.asyncio.connection import MessagePump
    from wsfast.seam import Inbox
    calls: list[Any] = []
    conn = Connection(role)
    inbox = Inbox(4, lambda: calls.append("pause"), lambda: calls.append("resume"),
                  lambda: calls.append("failed"))
    transport = pump_outcome.Transport()

    def received(items: list[Any], error: Any) -> None:
        calls.append(("received", [getattr(i, "opcode", i) for i in items], error))
        conn.receive_parsed(items, error)

    pump = MessagePump(PublicOnly(conn), inbox, transport, asyncio.get_running_loop(),
                       receive=lambda data: calls.append(("receive", data)),
                       received=received, send=lambda m: calls.append(("send", m)),
                       eof_received=lambda: calls.append("eof"),
                       connection_lost=lambda exc: calls.append(("lost", exc)),
                       pause_writing=lambda: calls.append("pause_writing"),
                       resume_writing=lambda: calls.append("resume_writing"))
    pump.data_received(encode([(1, True, b"one", "plain"), (2, True, b"two", "plain")], role))
    assert list(inbox.queue) == ["one", b"two"] and calls == []
    pump.data_received(encode([(9, True, b"hi", "plain"), (1, True, b"three", "plain")], role))
    assert calls == [("received", [9, "three"], None)]
    pump.write(conn.bytes_to_send())  # the pong the general path owes
    pump.send_nowait("four")
    assert [(op, payload) for op, _, payload in sent_frames(b"".join(transport.written), role)
            ] == [(10, b"hi"), (1, b"four")]
    inbox.deliver(conn.messages_and_events(), lambda event: None)
    assert list(inbox.queue) == ["one", b"two", "three"]
    inbox.deliver(["five"])
    assert calls[-1] == "pause" and inbox.paused
    pump.pause_writing(), pump.resume_writing(), pump.eof_received(), pump.connection_lost(None)
    assert calls[-4:] == ["pause_writing", "resume_writing", "eof", ("lost", None)]
