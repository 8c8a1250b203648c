"""wsfast's public API used the way a user would, for ``mypy --strict``
(scripts/typecheck.sh): the stub of the C extension and the annotations of
the Python layers must accept this code and give these types. It also runs
(``python tests/typing/use_api.py``): a sans-IO round trip and an asyncio
echo over loopback, so the code checked is code that works.
"""
from __future__ import annotations

import asyncio

import wsfast
from wsfast import (BinaryMessage, ClientHandshake, CloseCode, CloseReceived, Connection,
                    Frame, FrameParser, Opcode, ProtocolError, ServerHandshake, TextMessage,
                    Utf8Validator, accept_key, apply_mask, build_frame, encode_close, mask_into,
                    parse_close, validate_utf8)
from wsfast.asyncio import WebSocket, connect, serve


def kernels() -> None:
    implementation: str = wsfast.IMPLEMENTATION
    kernel: str = wsfast.KERNEL
    variants: list[str] = wsfast.available_kernels()
    print(f"{implementation} ({kernel}); variants here: {variants}")
    key = b"\x01\x02\x03\x04"
    masked: bytes = apply_mask(b"hello", key)
    buf = bytearray(masked)
    phase: int = mask_into(buf, key)
    assert bytes(buf) == b"hello" and phase == 1
    assert apply_mask(memoryview(masked), bytearray(key), 0) == b"hello"
    ok: bool = validate_utf8("κόσμε".encode())
    validator = Utf8Validator()
    pieces: list[bool] = [validator.feed(b"\xce"), validator.feed(bytearray(b"\xba"))]
    assert ok and all(pieces) and validator.finish()
    validator.reset()


def frames() -> None:
    wire: bytes = build_frame(Opcode.TEXT, "hi", mask=True) + build_frame(2, b"\x00", fin=True,
                                                                         mask=True)
    parser = FrameParser("server", max_frame_size=1 << 16, max_message_size=None)
    got: list[Frame] = parser.feed(wire)
    first = got[0]
    opcode: int = first.opcode
    payload: bytes = first.payload
    fin: bool = first.fin
    assert (opcode, payload, fin, parser.buffered) == (Opcode.TEXT, b"hi", True, 0)
    assert Frame(Opcode.BINARY, b"\x00") == got[1]
    close: bytes = encode_close(CloseCode.GOING_AWAY, "bye")
    code, reason = parse_close(close)
    assert (code, reason) == (1001, "bye")
    try:
        FrameParser("server").feed(build_frame(Opcode.BINARY, b"x"))  # clients must mask
    except ProtocolError as exc:
        close_code: int = exc.close_code
        assert close_code == 1002
    else:
        raise AssertionError("an unmasked frame from a client was accepted")


def sans_io() -> None:
    client_hs = ClientHandshake("ws://example.test/chat", subprotocols=["chat"])
    server_hs = ServerHandshake(subprotocols=["chat"])
    request = server_hs.receive_data(client_hs.request_bytes())
    assert request is not None
    response = client_hs.receive_data(server_hs.accept(request))
    assert response is not None and client_hs.subprotocol == "chat"
    assert accept_key(client_hs.key) == response.headers.get("Sec-WebSocket-Accept")
    client = Connection("client", compression=client_hs.compression)
    server = Connection("server", compression=server_hs.compression)
    server.receive_data(client.send_text("ping?") + client.send_binary(b"\x01"))
    for event in server.events():
        if isinstance(event, TextMessage):
            text: str = event.data
            client.receive_data(server.send_text(text.upper()))
        elif isinstance(event, BinaryMessage):
            data: bytes = event.data
            client.receive_data(server.send_binary(data))
    client.receive_data(server.close(1000, "done"))
    received = client.events()
    assert received[:2] == [TextMessage("PING?"), BinaryMessage(b"\x01")]
    closed = received[2]
    assert isinstance(closed, CloseReceived) and (closed.code, closed.reason) == (1000, "done")


async def echo(ws: WebSocket) -> None:
    async for message in ws:
        await ws.send(message)


async def over_loopback() -> None:
    async with serve(echo, "127.0.0.1", 0) as server:
        port: int = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send("hello")
            reply: str | bytes = await ws.recv()
            assert reply == "hello"
            latency: float = await (await ws.ping())
            assert latency >= 0


def main() -> None:
    kernels()
    frames()
    sans_io()
    asyncio.run(asyncio.wait_for(over_loopback(), 20))
    print("use_api: every call behaved as typed")


if __name__ == "__main__":
    main()
