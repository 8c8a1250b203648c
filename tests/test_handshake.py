"""The opening handshake (RFC 6455 section 4) against the RFC's own example,
h11 as an independent HTTP parser, and every way a request or a response
must be refused."""
from __future__ import annotations

import base64
import hashlib

import h11
import pytest

from wsfast.errors import HandshakeError
from wsfast.handshake import (ClientHandshake, Headers, ServerHandshake, accept_key,
                              parse_extensions, parse_url)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def request(*lines: str, method: str = "GET /chat HTTP/1.1", end: bytes = b"") -> bytes:
    return ("\r\n".join([method, *lines]) + "\r\n\r\n").encode("latin-1") + end


GOOD = ("Host: server.example.com", "Upgrade: websocket", "Connection: Upgrade",
        f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13")


def without(name: str) -> list[str]:
    return [line for line in GOOD if not line.lower().startswith(name.lower() + ":")]


def refuse(data: bytes, **kwargs: object) -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        ServerHandshake(**kwargs).receive_data(data)  # type: ignore[arg-type]
    return info.value


def parse_response(data: bytes) -> h11.Response | h11.InformationalResponse:
    """Read a response with h11 (an independent parser)."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[
        ("Host", "x"), ("Upgrade", "websocket"), ("Connection", "Upgrade")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    return conn.next_event()  # type: ignore[no-any-return]


# -- accept key ---------------------------------------------------------------

def test_accept_key_rfc_example() -> None:
    # RFC 6455 section 1.3 and the seed document.
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_accept_key_is_sha1_of_key_and_guid() -> None:
    key = base64.b64encode(bytes(range(16))).decode()
    expected = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    assert accept_key(key) == expected


# -- URLs ---------------------------------------------------------------------

@pytest.mark.parametrize("url, host, port, path, secure, host_header", [
    ("ws://example.com", "example.com", 80, "/", False, "example.com"),
    ("wss://example.com/chat?room=1", "example.com", 443, "/chat?room=1", True, "example.com"),
    ("ws://example.com:8080/a/b", "example.com", 8080, "/a/b", False, "example.com:8080"),
    ("wss://example.com:80/", "example.com", 80, "/", True, "example.com:80"),
    ("WS://EXAMPLE.com", "example.com", 80, "/", False, "example.com"),
    ("ws://[::1]:9000/x", "::1", 9000, "/x", False, "[::1]:9000"),
    ("ws://127.0.0.1/?a=b", "127.0.0.1", 80, "/?a=b", False, "127.0.0.1"),
])
def test_parse_url(url: str, host: str, port: int, path: str, secure: bool,
                   host_header: str) -> None:
    parsed = parse_url(url)
    assert (parsed.host, parsed.port, parsed.path, parsed.secure) == (host, port, path, secure)
    assert parsed.host_header == host_header


@pytest.mark.parametrize("url, words", [
    ("http://example.com/", "scheme"),
    ("example.com", "scheme"),
    ("ws:///path", "no host"),
    ("ws://example.com/#frag", "fragment"),
    ("ws://example.com:99999/", "out of range"),
    ("ws://example.com:abc/", "Port"),
    ("ws://user:pw@example.com/", "credentials"),
    ("ws://example.com/a b", "percent-encoded"),
])
def test_parse_url_refuses_bad_urls(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_url(url)


# -- the client's request ------------------------------------------------------

def server_view(data: bytes) -> h11.Request:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    event = conn.next_event()
    assert isinstance(event, h11.Request)
    assert conn.next_event() == h11.EndOfMessage()
    return event


def test_client_request_is_an_rfc_request() -> None:
    hs = ClientHandshake("ws://example.com:8080/chat?x=1", origin="http://example.com",
                         subprotocols=["chat", "superchat"],
                         extra_headers=[("Authorization", "Bearer t")])
    event = server_view(hs.request_bytes())
    headers = {k.decode(): v.decode() for k, v in event.headers}
    assert event.method == b"GET" and event.target == b"/chat?x=1"
    assert event.http_version == b"1.1"
    assert headers["host"] == "example.com:8080"
    assert headers["upgrade"].lower() == "websocket"
    assert headers["connection"].lower() == "upgrade"
    assert headers["sec-websocket-version"] == "13"
    assert len(base64.b64decode(headers["sec-websocket-key"], validate=True)) == 16
    assert headers["origin"] == "http://example.com"
    assert headers["sec-websocket-protocol"] == "chat, superchat"
    assert headers["authorization"] == "Bearer t"
    assert "sec-websocket-extensions" not in headers
    assert hs.request_bytes() == hs.request_bytes()


def test_client_host_header_omits_default_port_and_key_is_fresh() -> None:
    a, b = ClientHandshake("wss://example.com/"), ClientHandshake("wss://example.com/")
    assert dict(server_view(a.request_bytes()).headers)[b"host"] == b"example.com"
    assert a.key != b.key


def test_client_refuses_bad_subprotocol_name() -> None:
    with pytest.raises(ValueError, match="token"):
        ClientHandshake("ws://x/", subprotocols=["a b"])


# -- client and server together -----------------------------------------------

def test_round_trip_with_subprotocol_and_leftover() -> None:
    client = ClientHandshake("ws://localhost:9000/chat", subprotocols=["v2", "v1"])
    server = ServerHandshake(subprotocols=["v1", "v2"])
    req = server.receive_data(client.request_bytes() + b"\x81\x80frame")
    assert req is not None
    assert req.path == "/chat"
    assert req.subprotocols == ["v2", "v1"]
    assert req.subprotocol == "v1"  # the server's preference wins
    assert req.headers.get("HOST") == "localhost:9000"
    assert server.leftover == b"\x81\x80frame"
    response = server.accept(req)
    assert server.subprotocol == "v1"
    event = parse_response(response)
    assert event.status_code == 101
    # Byte by byte: None until the whole response is in.
    results = [client.receive_data(response[i:i + 1]) for i in range(len(response))]
    assert all(r is None for r in results[:-1])
    resp = results[-1]
    assert resp is not None and resp.status == 101 and resp.subprotocol == "v1"
    assert resp.path == "/chat"
    assert client.subprotocol == "v1" and client.compression is None
    assert client.leftover == b""
    assert client.receive_data(b"more") is resp and client.leftover == b"more"


def test_client_leftover_holds_frames_sent_with_the_response() -> None:
    client = ClientHandshake("ws://localhost/")
    server = ServerHandshake()
    req = server.receive_data(client.request_bytes())
    assert req is not None
    assert client.receive_data(server.accept(req) + b"\x81\x02hi") is not None
    assert client.leftover == b"\x81\x02hi"


def test_server_request_arrives_in_pieces() -> None:
    data = request(*GOOD)
    server = ServerHandshake()
    for i in range(len(data) - 1):
        assert server.receive_data(data[i:i + 1]) is None
    assert server.receive_data(data[-1:]) is not None


def test_no_shared_subprotocol_means_none() -> None:
    req = ServerHandshake(subprotocols=["a"]).receive_data(
        request(*GOOD, "Sec-WebSocket-Protocol: b, c"))
    assert req is not None and req.subprotocol is None
    event = parse_response(ServerHandshake().accept(req))
    assert event.status_code == 101
    assert not [v for k, v in event.headers if k == b"sec-websocket-protocol"]


def test_server_accepts_token_lists_case_insensitively() -> None:
    req = ServerHandshake().receive_data(request(
        "Host: a", "Upgrade: foo/1, WebSocket", "Connection: keep-alive",
        "connection: UPGRADE", f"sec-websocket-key: {KEY}", "Sec-WebSocket-Version: 13"))
    assert req is not None
    event = parse_response(ServerHandshake().accept(req))
    headers = dict(event.headers)
    assert headers[b"sec-websocket-accept"] == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


# -- the server refuses -------------------------------------------------------

@pytest.mark.parametrize("data, status, words", [
    (request(*GOOD, method="POST /chat HTTP/1.1"), 400, "method must be GET"),
    (request(*GOOD, method="GET /chat HTTP/1.0"), 400, "HTTP/1.1"),
    (request(*without("Host")), 400, "missing Host"),
    (request(*without("Upgrade")), 400, "Upgrade: websocket"),
    (request(*without("Upgrade"), "Upgrade: h2c"), 400, "Upgrade: websocket"),
    (request(*without("Connection")), 400, "Connection: Upgrade"),
    (request(*without("Connection"), "Connection: keep-alive"), 400, "Connection: Upgrade"),
    (request(*without("Sec-WebSocket-Key")), 400, "Sec-WebSocket-Key"),
    (request(*without("Sec-WebSocket-Key"), "Sec-WebSocket-Key: c2hvcnQ="), 400, "16 bytes"),
    (request(*without("Sec-WebSocket-Key"), "Sec-WebSocket-Key: not base64!!"), 400, "16 bytes"),
    (request(*GOOD, f"Sec-WebSocket-Key: {KEY}"), 400, "more than one"),
    (request(*without("Sec-WebSocket-Version")), 400, "Sec-WebSocket-Version"),
    (request(*GOOD, "Content-Length: 3", end=b"abc"), 400, "body"),
    (b"GET /chat HTTP/1.1\r\nHost a\r\n\r\n", 400, "malformed HTTP request"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, 400, "malformed"),
    (request(*GOOD, "Sec-WebSocket-Extensions: permessage-deflate; x=\"a b\""), 400,
     "Sec-WebSocket-Extensions"),
])
def test_server_refuses_bad_request(data: bytes, status: int, words: str) -> None:
    error = refuse(data)
    assert error.status == status
    assert words in error.reason


@pytest.mark.parametrize("version", ["8", "12", "14", "13, 8"])
def test_server_answers_other_versions_with_426(version: str) -> None:
    error = refuse(request(*without("Sec-WebSocket-Version"), f"Sec-WebSocket-Version: {version}"))
    assert error.status == 426
    assert ("Sec-WebSocket-Version", "13") in error.headers
    response = parse_response(ServerHandshake().reject(error))
    assert response.status_code == 426
    assert (b"sec-websocket-version", b"13") in list(response.headers)


def test_oversize_header_block_is_431() -> None:
    server = ServerHandshake()
    with pytest.raises(HandshakeError) as info:
        for _ in range(100):  # bounded: the limit is 16 KiB
            server.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-Pad: " + b"a" * 1000)
    assert info.value.status == 431 and "16384 bytes" in info.value.reason
    # The error sticks: more data does not restart parsing.
    with pytest.raises(HandshakeError):
        server.receive_data(b"\r\n\r\n")


def test_too_many_header_fields_is_431() -> None:
    error = refuse(request(*GOOD, *[f"X-{i}: {i}" for i in range(130)]))
    assert error.status == 431 and "too many header fields" in error.reason


def test_eof_before_request_is_400() -> None:
    server = ServerHandshake()
    assert server.receive_data(b"GET / HTTP/1.1\r\n") is None
    with pytest.raises(HandshakeError) as info:
        server.receive_data(b"")
    assert info.value.status == 400


def test_absolute_uri_target_gives_the_resource_name() -> None:
    req = ServerHandshake(path="/chat").receive_data(
        request(*GOOD, method="GET http://server.example.com/chat?a=1 HTTP/1.1"))
    assert req is not None and req.path == "/chat?a=1"
    assert refuse(request(*GOOD, method="GET * HTTP/1.1")).status == 400


def test_path_mismatch_is_404() -> None:
    assert refuse(request(*GOOD, method="GET /other?x HTTP/1.1"), path="/chat").status == 404
    assert ServerHandshake(path="/chat").receive_data(
        request(*GOOD, method="GET /chat?x=1 HTTP/1.1")) is not None


def test_reject_is_a_well_formed_http_response() -> None:
    error = HandshakeError(403, "this Origin is not allowed", [("X-Why", "origin")])
    data = ServerHandshake().reject(error)
    event = parse_response(data)
    assert isinstance(event, h11.Response) and event.status_code == 403
    headers = dict(event.headers)
    assert headers[b"x-why"] == b"origin" and headers[b"connection"] == b"close"
    assert data.endswith(b"\r\n\r\nthis Origin is not allowed\n")
    assert int(headers[b"content-length"]) == len(b"this Origin is not allowed\n")
    with pytest.raises(ValueError):
        ServerHandshake().reject(HandshakeError(400, "x", [("X", "a\r\nInjected: 1")]))


# -- origins -----------------------------------------------------------------

@pytest.mark.parametrize("host, origin, allowed", [
    ("example.com", None, True),                          # non-browser client
    ("example.com", "https://example.com", True),
    ("example.com", "http://example.com", True),
    ("example.com:8080", "http://example.com:8080", True),
    ("Example.COM", "https://example.com", True),
    ("example.com:443", "https://example.com", True),
    ("[::1]:8000", "http://[::1]:8000", True),
    ("example.com", "https://evil.example", False),       # cross-site hijacking
    ("example.com:8080", "http://example.com", False),
    ("example.com", "http://example.com:8080", False),
    ("example.com", "null", False),
    ("example.com", "https://example.com.evil.example", False),
    ("example.com", "ftp://example.com", False),
])
def test_default_origin_policy_is_same_origin(host: str, origin: str | None,
                                              allowed: bool) -> None:
    lines = [f"Host: {host}", *without("Host")]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    server = ServerHandshake()
    if allowed:
        assert server.receive_data(request(*lines)) is not None
    else:
        with pytest.raises(HandshakeError) as info:
            server.receive_data(request(*lines))
        assert info.value.status == 403


def test_origin_allow_list_and_star() -> None:
    evil = request(*GOOD, "Origin: https://evil.example")
    good = request(*GOOD, "Origin: https://app.example")
    allow = ["https://app.example"]
    assert ServerHandshake(origins=allow).receive_data(good) is not None
    assert refuse(evil, origins=allow).status == 403
    assert refuse(request(*GOOD), origins=allow).status == 403  # no Origin
    assert ServerHandshake(origins=[*allow, None]).receive_data(request(*GOOD)) is not None
    assert ServerHandshake(origins="*").receive_data(evil) is not None
    assert refuse(request(*GOOD, "Origin: https://a", "Origin: https://b"),
                  origins="*").status == 400
    with pytest.raises(ValueError):
        ServerHandshake(origins="https://app.example")


# -- the client refuses ------------------------------------------------------

def respond(client: ClientHandshake, *lines: str, status: str = "101 Switching Protocols") -> None:
    client.receive_data(("\r\n".join([f"HTTP/1.1 {status}", *lines]) + "\r\n\r\n").encode())


def ok_lines(client: ClientHandshake) -> list[str]:
    return ["Upgrade: websocket", "Connection: Upgrade",
            f"Sec-WebSocket-Accept: {accept_key(client.key)}"]


def test_client_accepts_a_minimal_response() -> None:
    client = ClientHandshake("ws://a/")
    respond(client, *ok_lines(client))
    assert client.response is not None and client.response.headers.get("upgrade") == "websocket"


@pytest.mark.parametrize("mutate, words", [
    (lambda lines: lines[1:], "Upgrade: websocket"),
    (lambda lines: [lines[0], lines[2]], "Connection: Upgrade"),
    (lambda lines: lines[:2], "no Sec-WebSocket-Accept"),
    (lambda lines: lines[:2] + ["Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
     "does not match"),
    (lambda lines: lines + ["Sec-WebSocket-Protocol: chat"], "did not offer"),
    (lambda lines: lines + ["Sec-WebSocket-Extensions: permessage-deflate"], "did not offer"),
    (lambda lines: lines + ["Sec-WebSocket-Extensions: x-foo"], "did not offer"),
])
def test_client_refuses_bad_response(mutate, words: str) -> None:  # type: ignore[no-untyped-def]
    client = ClientHandshake("ws://a/")
    with pytest.raises(HandshakeError) as info:
        respond(client, *mutate(ok_lines(client)))
    assert info.value.status == 101 and words in info.value.reason


def test_client_refuses_subprotocol_it_did_not_offer_or_two() -> None:
    client = ClientHandshake("ws://a/", subprotocols=["a", "b"])
    with pytest.raises(HandshakeError, match="did not offer"):
        respond(client, *ok_lines(client), "Sec-WebSocket-Protocol: c")
    client = ClientHandshake("ws://a/", subprotocols=["a", "b"])
    with pytest.raises(HandshakeError, match="more than one"):
        respond(client, *ok_lines(client), "Sec-WebSocket-Protocol: a, b")


def test_client_reports_refusal_status() -> None:
    client = ClientHandshake("ws://a/")
    with pytest.raises(HandshakeError) as info:
        respond(client, "Content-Length: 0", status="403 Forbidden")
    assert info.value.status == 403 and "403 Forbidden" in info.value.reason
    with pytest.raises(HandshakeError):  # the error sticks
        client.receive_data(b"")


def test_client_skips_100_continue() -> None:
    client = ClientHandshake("ws://a/")
    client.receive_data(b"HTTP/1.1 100 Continue\r\n\r\n")
    respond(client, *ok_lines(client))
    assert client.response is not None


def test_client_eof_and_oversize_response() -> None:
    client = ClientHandshake("ws://a/")
    assert client.receive_data(b"HTTP/1.1 101 Switching") is None
    with pytest.raises(HandshakeError, match="closed"):
        client.receive_data(b"")
    client = ClientHandshake("ws://a/")
    with pytest.raises(HandshakeError) as info:
        for _ in range(100):
            client.receive_data(b"HTTP/1.1 101 OK\r\n" + b"X: " + b"a" * 1000)
    assert info.value.status == 431


# -- helpers -------------------------------------------------------------------

def test_headers_get_is_case_insensitive() -> None:
    headers = Headers([("Host", "a"), ("X-A", "1"), ("x-a", "2")])
    assert headers.get("HOST") == "a" and headers.get("missing") is None
    assert headers.get("missing", "d") == "d"
    assert headers.get_all("X-a") == ["1", "2"]
    assert headers == [("Host", "a"), ("X-A", "1"), ("x-a", "2")]


def test_parse_extensions_grammar() -> None:
    # RFC 6455 section 9.1 grammar, including quoted values and repeated fields.
    assert parse_extensions(["permessage-deflate; client_max_window_bits, foo",
                             'bar; a=1; b="2"']) == [
        ("permessage-deflate", [("client_max_window_bits", None)]),
        ("foo", []), ("bar", [("a", "1"), ("b", "2")])]
    assert parse_extensions(["a ; b = c ,, d"]) == [("a", [("b", "c")]), ("d", [])]
    for bad in ["a; b=", 'a; b="x y"', 'a; b="unterminated', "a b", "a; =1", "a;;"]:
        with pytest.raises(ValueError):
            parse_extensions([bad])


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.binary(max_size=2000), st.integers(1, 50))
def test_junk_request_only_raises_handshake_error(junk: bytes, step: int) -> None:
    server = ServerHandshake()
    data = request(*GOOD)[:step] + junk
    try:
        server.receive_data(data)
        server.receive_data(b"")
    except HandshakeError as exc:
        assert 400 <= exc.status < 500
        assert parse_response(server.reject(exc)).status_code == exc.status


@given(st.binary(max_size=2000))
def test_junk_response_only_raises_handshake_error(junk: bytes) -> None:
    client = ClientHandshake("ws://a/")
    try:
        client.receive_data(b"HTTP/1.1 " + junk)
        client.receive_data(b"")
    except HandshakeError:
        pass


@pytest.mark.parametrize("side", [ServerHandshake, lambda: ClientHandshake("ws://a.example/")])
def test_data_after_an_error_is_not_kept(side: object) -> None:
    # Regression: the sticky error was re-raised as is, so each call's
    # traceback (and the data its frames hold) was chained onto it: a peer
    # that kept sending after a 400 made the server keep every byte.
    tracemalloc = pytest.importorskip(
        "tracemalloc", reason="no tracemalloc in this interpreter: memory not measurable")
    hs = side()  # type: ignore[operator]
    with pytest.raises(HandshakeError):
        hs.receive_data(b"\x00" * 100 + b"\r\n\r\n")
    tracemalloc.start()
    try:
        for _ in range(200):  # 12.5 MiB
            with pytest.raises(HandshakeError):
                hs.receive_data(b"x" * 65536)
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept < 1 << 20, kept  # at most the last chunk, not 12.5 MiB
