"""wsfast's handshakes and Connection wired in memory to two implementations
nobody here wrote: wsproto's WSConnection and websockets' sans-IO
ServerProtocol/ClientProtocol. Both roles, with and without compression:
handshake, text, binary, fragmented, ping/pong and both closing orders."""
from __future__ import annotations

import os
from typing import Any

import pytest

from wsfast.connection import Connection, State
from wsfast.deflate import PerMessageDeflate
from wsfast.errors import ConnectionClosed, HandshakeError, ProtocolError
from wsfast.events import BinaryMessage, CloseReceived, Ping, Pong, TextMessage
from wsfast.handshake import ClientHandshake, ServerHandshake

websockets = pytest.importorskip("websockets")
wsproto = pytest.importorskip("wsproto")

from websockets.client import ClientProtocol  # noqa: E402
from websockets.extensions.permessage_deflate import (  # noqa: E402
    ClientPerMessageDeflateFactory, ServerPerMessageDeflateFactory)
from websockets.frames import Opcode as WsOpcode  # noqa: E402
from websockets.server import ServerProtocol  # noqa: E402
from websockets.uri import parse_uri  # noqa: E402
from wsproto import ConnectionType, WSConnection  # noqa: E402
from wsproto import events as wp  # noqa: E402
from wsproto.extensions import PerMessageDeflate as WsprotoDeflate  # noqa: E402

URL = "ws://localhost:8765/chat"


class WebsocketsPeer:
    """websockets' sans-IO protocol behind a small common interface."""

    name = "websockets"

    def __init__(self, proto: Any) -> None:
        self.proto = proto
        self._parts: list[bytes] = []
        self._opcode: Any = None

    def take(self) -> bytes:
        return b"".join(self.proto.data_to_send())

    def feed(self, data: bytes) -> list[tuple[Any, ...]]:
        self.proto.receive_data(data)
        out: list[tuple[Any, ...]] = []
        for frame in self.proto.events_received():
            if frame.opcode in (WsOpcode.TEXT, WsOpcode.BINARY):
                self._opcode, self._parts = frame.opcode, [frame.data]
            elif frame.opcode is WsOpcode.CONT:
                self._parts.append(frame.data)
            elif frame.opcode is WsOpcode.PING:
                out.append(("ping", bytes(frame.data)))
            elif frame.opcode is WsOpcode.PONG:
                out.append(("pong", bytes(frame.data)))
            elif frame.opcode is WsOpcode.CLOSE:
                rcvd = self.proto.close_rcvd
                out.append(("close", rcvd.code, rcvd.reason))
            if frame.opcode in (WsOpcode.TEXT, WsOpcode.BINARY, WsOpcode.CONT) and frame.fin:
                data = b"".join(self._parts)
                out.append(("text", data.decode()) if self._opcode is WsOpcode.TEXT
                           else ("binary", data))
        return out

    def text(self, text: str, fragments: int = 1) -> None:
        self._send(self.proto.send_text, text.encode(), fragments)

    def binary(self, data: bytes, fragments: int = 1) -> None:
        self._send(self.proto.send_binary, data, fragments)

    def _send(self, first: Any, data: bytes, fragments: int) -> None:
        parts = split(data, fragments)
        for i, part in enumerate(parts):
            send = first if i == 0 else self.proto.send_continuation
            send(part, fin=i == len(parts) - 1)

    def ping(self, payload: bytes) -> None:
        self.proto.send_ping(payload)

    def close(self, code: int, reason: str) -> None:
        self.proto.send_close(code, reason)


class WsprotoPeer:
    """wsproto's WSConnection behind the same interface; it answers pings and
    closes itself, as an application on wsproto must."""

    name = "wsproto"

    def __init__(self, ws: WSConnection, out: bytes = b"") -> None:
        self.ws = ws
        self._out = out
        self._parts: list[Any] = []

    def take(self) -> bytes:
        out, self._out = self._out, b""
        return out

    def feed(self, data: bytes) -> list[tuple[Any, ...]]:
        self.ws.receive_data(data)
        out: list[tuple[Any, ...]] = []
        for event in self.ws.events():
            if isinstance(event, wp.Message):
                self._parts.append(event.data)
                if event.message_finished:
                    kind = "text" if isinstance(event, wp.TextMessage) else "binary"
                    joined = ("" if kind == "text" else b"").join(self._parts)
                    out.append((kind, joined))
                    self._parts = []
            elif isinstance(event, wp.Ping):
                out.append(("ping", bytes(event.payload)))
                self._out += self.ws.send(event.response())
            elif isinstance(event, wp.Pong):
                out.append(("pong", bytes(event.payload)))
            elif isinstance(event, wp.CloseConnection):
                out.append(("close", event.code, event.reason or ""))
                if self.ws.state.name == "REMOTE_CLOSING":
                    self._out += self.ws.send(event.response())
        return out

    def text(self, text: str, fragments: int = 1) -> None:
        # wsproto fragments by characters, so split the str.
        n = max(1, -(-len(text) // fragments))
        parts = [text[i:i + n] for i in range(0, len(text), n)] or [""]
        for i, part in enumerate(parts):
            self._out += self.ws.send(wp.TextMessage(data=part,
                                                     message_finished=i == len(parts) - 1))

    def binary(self, data: bytes, fragments: int = 1) -> None:
        parts = split(data, fragments)
        for i, part in enumerate(parts):
            self._out += self.ws.send(wp.BytesMessage(data=part,
                                                      message_finished=i == len(parts) - 1))

    def ping(self, payload: bytes) -> None:
        self._out += self.ws.send(wp.Ping(payload=payload))

    def close(self, code: int, reason: str) -> None:
        self._out += self.ws.send(wp.CloseConnection(code=code, reason=reason))


def split(data: bytes, fragments: int) -> list[bytes]:
    n = max(1, -(-len(data) // fragments))
    return [data[i:i + n] for i in range(0, len(data), n)] or [b""]


def wsfast_offer(compress: bool) -> PerMessageDeflate | None:
    return PerMessageDeflate(threshold=0) if compress else None


# -- handshakes: each pairing returns (wsfast Connection, peer) -------------------

def wsfast_client_websockets_server(compress: bool) -> tuple[Connection, Any]:
    hs = ClientHandshake(URL, subprotocols=["chat", "other"], compression=wsfast_offer(compress))
    proto = ServerProtocol(subprotocols=["chat"], extensions=[ServerPerMessageDeflateFactory()]
                           if compress else None)
    proto.receive_data(hs.request_bytes())
    [request] = proto.events_received()
    assert request.path == "/chat"
    proto.send_response(proto.accept(request))
    response = hs.receive_data(b"".join(proto.data_to_send()))
    assert response is not None and response.subprotocol == "chat"
    assert (hs.compression is not None) is compress
    assert (len(proto.extensions) == 1) is compress
    conn = Connection("client", compression=hs.compression)
    assert hs.leftover == b""
    return conn, WebsocketsPeer(proto)


def websockets_client_wsfast_server(compress: bool) -> tuple[Connection, Any]:
    proto = ClientProtocol(parse_uri(URL), subprotocols=["other", "chat"],
                           extensions=[ClientPerMessageDeflateFactory()] if compress else None)
    proto.send_request(proto.connect())
    hs = ServerHandshake(subprotocols=["chat", "other"], compression=wsfast_offer(compress),
                         path="/chat")
    request = hs.receive_data(b"".join(proto.data_to_send()))
    assert request is not None and request.subprotocol == "chat"
    proto.receive_data(hs.accept(request))
    [response] = proto.events_received()
    assert response.status_code == 101 and proto.handshake_exc is None
    assert proto.subprotocol == "chat"
    assert (len(proto.extensions) == 1) is compress
    assert (hs.compression is not None) is compress
    return Connection("server", compression=hs.compression), WebsocketsPeer(proto)


def wsfast_client_wsproto_server(compress: bool) -> tuple[Connection, Any]:
    hs = ClientHandshake(URL, subprotocols=["chat"], compression=wsfast_offer(compress))
    ws = WSConnection(ConnectionType.SERVER)
    ws.receive_data(hs.request_bytes())
    [request] = ws.events()
    assert isinstance(request, wp.Request) and request.target == "/chat"
    assert request.subprotocols == ["chat"]
    data = ws.send(wp.AcceptConnection(subprotocol="chat",
                                       extensions=[WsprotoDeflate()] if compress else []))
    response = hs.receive_data(data)
    assert response is not None and response.subprotocol == "chat"
    assert (hs.compression is not None) is compress
    return Connection("client", compression=hs.compression), WsprotoPeer(ws)


def wsproto_client_wsfast_server(compress: bool) -> tuple[Connection, Any]:
    ws = WSConnection(ConnectionType.CLIENT)
    data = ws.send(wp.Request(host="localhost:8765", target="/chat", subprotocols=["chat"],
                              extensions=[WsprotoDeflate()] if compress else []))
    hs = ServerHandshake(subprotocols=["chat"], compression=wsfast_offer(compress))
    request = hs.receive_data(data)
    assert request is not None
    ws.receive_data(hs.accept(request))
    [accepted] = ws.events()
    assert isinstance(accepted, wp.AcceptConnection) and accepted.subprotocol == "chat"
    assert (len(accepted.extensions) == 1) is compress
    return Connection("server", compression=hs.compression), WsprotoPeer(ws)


PAIRINGS = [wsfast_client_websockets_server, websockets_client_wsfast_server,
            wsfast_client_wsproto_server, wsproto_client_wsfast_server]


@pytest.fixture(params=[(p, c) for p in PAIRINGS for c in (False, True)],
                ids=lambda pc: f"{pc[0].__name__}-{'deflate' if pc[1] else 'plain'}")
def pair(request: pytest.FixtureRequest) -> tuple[Connection, Any, bool]:
    make, compress = request.param
    conn, peer = make(compress)
    return conn, peer, compress


def to_peer(conn: Connection, peer: Any, data: bytes) -> list[tuple[Any, ...]]:
    events = peer.feed(data)
    replies = peer.take()  # the peer's automatic replies
    if replies:  # b"" would tell the Connection the transport ended
        conn.receive_data(replies)
    return events


def from_peer(conn: Connection, peer: Any) -> list[Any]:
    data = peer.take()
    assert data
    conn.receive_data(data)
    return conn.events()


TEXT = "héllo wörld, ça va? 👋 " * 200
BLOB = os.urandom(50_000) + bytes(50_000)


def test_messages_both_ways(pair: tuple[Connection, Any, bool]) -> None:
    conn, peer, compress = pair
    assert to_peer(conn, peer, conn.send_text("hello")) == [("text", "hello")]
    assert to_peer(conn, peer, conn.send_text(TEXT)) == [("text", TEXT)]
    assert to_peer(conn, peer, conn.send_binary(BLOB)) == [("binary", BLOB)]
    assert to_peer(conn, peer, conn.send_binary(b"")) == [("binary", b"")]
    wire = conn.send_text(TEXT)
    assert bool(wire[0] & 0x40) is compress  # RSV1: compressed on the wire
    assert len(wire) < len(TEXT.encode()) if compress else len(wire) > len(TEXT.encode())
    assert to_peer(conn, peer, wire) == [("text", TEXT)]
    peer.text("hi")
    peer.text(TEXT)
    peer.binary(BLOB)
    assert from_peer(conn, peer) == [TextMessage("hi"), TextMessage(TEXT), BinaryMessage(BLOB)]


def test_fragmented_from_peer(pair: tuple[Connection, Any, bool]) -> None:
    conn, peer, _ = pair
    peer.text(TEXT, fragments=7)
    peer.binary(BLOB, fragments=5)
    peer.ping(b"between")
    peer.text("a", fragments=1)
    assert from_peer(conn, peer) == [TextMessage(TEXT), BinaryMessage(BLOB),
                                     Ping(b"between"), TextMessage("a")]
    assert peer.feed(conn.bytes_to_send()) == [("pong", b"between")]


def test_ping_pong_both_ways(pair: tuple[Connection, Any, bool]) -> None:
    conn, peer, _ = pair
    assert to_peer(conn, peer, conn.ping(b"are you there")) == [("ping", b"are you there")]
    assert conn.events() == [Pong(b"are you there")]
    peer.ping(b"\x00\xff")
    assert from_peer(conn, peer) == [Ping(b"\x00\xff")]
    assert peer.feed(conn.bytes_to_send()) == [("pong", b"\x00\xff")]
    assert peer.feed(conn.pong(b"beat")) == [("pong", b"beat")]


def test_wsfast_closes_first(pair: tuple[Connection, Any, bool]) -> None:
    conn, peer, _ = pair
    assert to_peer(conn, peer, conn.close(1001, "going away")) == [("close", 1001, "going away")]
    [echo] = conn.events()  # the peer's echo: the same code (section 5.5.1)
    assert isinstance(echo, CloseReceived) and echo.code == 1001
    assert conn.state is State.CLOSED
    assert conn.close_code == 1001


def test_peer_closes_first(pair: tuple[Connection, Any, bool]) -> None:
    conn, peer, _ = pair
    peer.text("last words")
    peer.close(1000, "done")
    assert from_peer(conn, peer) == [TextMessage("last words"), CloseReceived(1000, "done")]
    assert conn.state is State.CLOSED
    assert peer.feed(conn.bytes_to_send()) == [("close", 1000, "")]
    with pytest.raises(ConnectionClosed):
        conn.send_text("too late")


def test_wsfast_reports_peer_violation_to_peer(pair: tuple[Connection, Any, bool]) -> None:
    # A frame no peer would send: an unknown opcode. The Close it triggers
    # must make sense to the real peer.
    conn, peer, _ = pair
    masked = conn.role == "server"
    bad = b"\x83\x80\x00\x00\x00\x00" if masked else b"\x83\x00"
    with pytest.raises(ProtocolError):
        conn.receive_data(bad)
    assert peer.feed(conn.bytes_to_send())[0][:2] == ("close", 1002)


# -- negotiation details and refusals against the real peers -----------------------

def exchange_many(conn: Connection, peer: Any) -> None:
    """Several similar messages each way: context takeover (or its absence)
    must agree on both sides for every one to decode."""
    for i in range(5):
        text = f"message {i}: " + "the same phrase again " * (20 + i)
        assert to_peer(conn, peer, conn.send_text(text)) == [("text", text)]
        peer.text(text)
        assert from_peer(conn, peer) == [TextMessage(text)]


@pytest.mark.parametrize("client_kwargs, server", [
    ({"server_no_context_takeover": True, "client_no_context_takeover": True}, {}),
    ({"server_max_window_bits": 10, "client_max_window_bits": 9}, {}),
    ({}, {"server_max_window_bits": 9, "client_max_window_bits": 10,
          "server_no_context_takeover": True, "client_no_context_takeover": True}),
])
def test_deflate_parameters_websockets_client(client_kwargs: dict,  # type: ignore[type-arg]
                                              server: dict) -> None:  # type: ignore[type-arg]
    proto = ClientProtocol(parse_uri(URL),
                           extensions=[ClientPerMessageDeflateFactory(**client_kwargs)])
    proto.send_request(proto.connect())
    hs = ServerHandshake(compression=PerMessageDeflate(threshold=0, **server))
    request = hs.receive_data(b"".join(proto.data_to_send()))
    assert request is not None
    proto.receive_data(hs.accept(request))
    proto.events_received()
    assert proto.handshake_exc is None and len(proto.extensions) == 1
    exchange_many(Connection("server", compression=hs.compression), WebsocketsPeer(proto))


@pytest.mark.parametrize("offer, server_kwargs", [
    ({"server_no_context_takeover": True, "client_no_context_takeover": True}, {}),
    ({"server_max_window_bits": 9, "client_max_window_bits": 8}, {}),
    ({}, {"server_max_window_bits": 10, "client_max_window_bits": 11,
          "server_no_context_takeover": True, "client_no_context_takeover": True}),
])
def test_deflate_parameters_websockets_server(offer: dict,  # type: ignore[type-arg]
                                              server_kwargs: dict) -> None:  # type: ignore[type-arg]
    hs = ClientHandshake(URL, compression=PerMessageDeflate(threshold=0, **offer))
    proto = ServerProtocol(extensions=[ServerPerMessageDeflateFactory(**server_kwargs)])
    proto.receive_data(hs.request_bytes())
    [request] = proto.events_received()
    proto.send_response(proto.accept(request))
    assert hs.receive_data(b"".join(proto.data_to_send())) is not None
    assert hs.compression is not None
    exchange_many(Connection("client", compression=hs.compression), WebsocketsPeer(proto))


@pytest.mark.parametrize("kwargs", [
    {"client_no_context_takeover": True, "server_no_context_takeover": True},
    {"client_max_window_bits": 9, "server_max_window_bits": 10},
])
def test_deflate_parameters_wsproto(kwargs: dict) -> None:  # type: ignore[type-arg]
    ws = WSConnection(ConnectionType.CLIENT)
    data = ws.send(wp.Request(host="localhost", target="/", extensions=[WsprotoDeflate(**kwargs)]))
    hs = ServerHandshake(compression=PerMessageDeflate(threshold=0))
    request = hs.receive_data(data)
    assert request is not None
    ws.receive_data(hs.accept(request))
    [accepted] = ws.events()
    assert isinstance(accepted, wp.AcceptConnection) and accepted.extensions
    exchange_many(Connection("server", compression=hs.compression), WsprotoPeer(ws))


def test_wsfast_server_refuses_cross_origin_websockets_client() -> None:
    proto = ClientProtocol(parse_uri(URL), origin="https://evil.example")  # type: ignore[arg-type]
    proto.send_request(proto.connect())
    hs = ServerHandshake()
    with pytest.raises(HandshakeError) as info:
        hs.receive_data(b"".join(proto.data_to_send()))
    proto.receive_data(hs.reject(info.value))
    proto.events_received()
    assert proto.handshake_exc is not None
    assert proto.handshake_exc.response.status_code == 403
    assert b"Origin" in proto.handshake_exc.response.body


def test_wsfast_server_answers_426_to_wsproto_with_other_version() -> None:
    ws = WSConnection(ConnectionType.CLIENT)
    data = ws.send(wp.Request(host="localhost", target="/"))
    data = data.replace(b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8")
    hs = ServerHandshake()
    with pytest.raises(HandshakeError) as info:
        hs.receive_data(data)
    ws.receive_data(hs.reject(info.value))
    [rejected] = [e for e in ws.events() if isinstance(e, wp.RejectConnection)]
    assert rejected.status_code == 426
    assert (b"sec-websocket-version", b"13") in rejected.headers


def test_wsfast_client_sees_websockets_refusal() -> None:
    hs = ClientHandshake(URL)
    proto = ServerProtocol()
    proto.receive_data(hs.request_bytes())
    [request] = proto.events_received()
    proto.send_response(proto.reject(403, "not you\n"))
    with pytest.raises(HandshakeError) as info:
        hs.receive_data(b"".join(proto.data_to_send()))
    assert info.value.status == 403
