"""Round trip of one message through two in-memory sans-IO connections,
client -> server -> client (the server echoes), for wsfast's Connection,
websockets' ClientProtocol/ServerProtocol and wsproto's Connection.

Each round counts: client send (masking), server parse and unmask, server
event, server send, client parse, client event. One round is one message
each way; messages/s in docs/benchmarks.md is 1 / median.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from wsfast import BinaryMessage, Connection, TextMessage

SIZES = {"32B": 32, "64KiB": 64 * 1024}


def payload(kind: str, size: int) -> Any:
    return "x" * size if kind == "text" else bytes(range(256)) * (size // 256) or b"y" * size


def wsfast_round_trip(kind: str) -> Callable[[Any], Any]:
    client, server = Connection("client"), Connection("server")
    client_send = client.send_text if kind == "text" else client.send_binary
    server_send = server.send_text if kind == "text" else server.send_binary

    def round_trip(message: Any) -> Any:
        server.receive_data(client_send(message))
        for event in server.events():
            client.receive_data(server_send(event.data))
        return client.events()[0].data

    return round_trip


def websockets_round_trip(kind: str) -> Callable[[Any], Any]:
    ws = pytest.importorskip("websockets")
    from websockets.client import ClientProtocol
    from websockets.protocol import State
    from websockets.server import ServerProtocol
    from websockets.uri import parse_uri
    del ws
    client = ClientProtocol(parse_uri("ws://localhost/"), state=State.OPEN)
    server = ServerProtocol(state=State.OPEN)
    text = kind == "text"
    client_send = client.send_text if text else client.send_binary
    server_send = server.send_text if text else server.send_binary

    def round_trip(message: Any) -> Any:
        # websockets' sans-IO API takes bytes: encoding text is part of the trip.
        client_send(message.encode() if text else message)
        server.receive_data(b"".join(client.data_to_send()))
        for frame in server.events_received():
            server_send(frame.data)
        client.receive_data(b"".join(server.data_to_send()))
        data = client.events_received()[0].data
        return data.decode() if text else data

    return round_trip


def wsproto_round_trip(kind: str) -> Callable[[Any], Any]:
    pytest.importorskip("wsproto")
    from wsproto.connection import Connection as WPConnection
    from wsproto.connection import ConnectionType
    from wsproto.events import BytesMessage
    from wsproto.events import TextMessage as WPText
    client, server = WPConnection(ConnectionType.CLIENT), WPConnection(ConnectionType.SERVER)
    make = WPText if kind == "text" else BytesMessage

    def round_trip(message: Any) -> Any:
        server.receive_data(client.send(make(data=message)))
        for event in server.events():
            client.receive_data(server.send(make(data=event.data)))
        return next(client.events()).data

    return round_trip


LIBRARIES = {"wsfast": wsfast_round_trip, "websockets": websockets_round_trip,
             "wsproto": wsproto_round_trip}


@pytest.mark.parametrize("library", list(LIBRARIES))
@pytest.mark.parametrize("kind", ["text", "binary"])
@pytest.mark.parametrize("size", list(SIZES))
def test_round_trip(benchmark: Any, library: str, kind: str, size: str) -> None:
    benchmark.group = f"connection round trip {kind} {size}"
    message = payload(kind, SIZES[size])
    round_trip = LIBRARIES[library](kind)
    assert round_trip(message) == message  # the echo is right before timing it
    benchmark(round_trip, message)


def test_wsfast_events_types() -> None:
    # The wsfast round trip yields the documented event types.
    client, server = Connection("client"), Connection("server")
    server.receive_data(client.send_text("a") + client.send_binary(b"b"))
    assert server.events() == [TextMessage("a"), BinaryMessage(b"b")]


TEXTS = {"32B-ascii": b"x" * 32, "64KiB-ascii": b"x" * 65536,
         "64KiB-mixed": ("h\u00e9llo w\u00f6rld \U0001f44b " * 4000).encode()[:65536]
         .decode(errors="ignore").encode()}


@pytest.mark.parametrize("way", ["decode", "validate+decode"])
@pytest.mark.parametrize("text", list(TEXTS))
def test_single_frame_text(benchmark: Any, way: str, text: str) -> None:
    """What the Connection does with a whole text frame: CPython's decoder
    alone (it validates as it decodes) or wsfast's validator first."""
    from wsfast import validate_utf8
    benchmark.group = f"single-frame text {text}"
    data = TEXTS[text]
    # Both through a lambda and with the same iteration count, so the
    # harness overhead is the same for both.
    if way == "decode":
        run = lambda: data.decode()  # noqa: E731
    else:
        run = lambda: validate_utf8(data) and data.decode()  # noqa: E731
    benchmark.pedantic(run, iterations=2000 if len(data) < 100 else 20, rounds=200,
                       warmup_rounds=5)
