#!/usr/bin/env python3
"""atheris harness for the server's opening-handshake parser: whatever the
bytes and however they are cut, ``ServerHandshake.receive_data`` returns a
Request or None or raises HandshakeError (nothing else); an error is
sticky; the bytes held while waiting stay within the header limit plus the
last chunk; a rejection formats to an HTTP response with the error's status
and an accepted request to a 101 with the right Sec-WebSocket-Accept.

Inputs are mostly requests assembled here from fuzzed parts (request line,
known and random header fields, extension offers, Origin) so that coverage
reaches the RFC 6455 checks behind h11; sometimes raw bytes.
Run: python fuzz/fuzz_handshake.py [libFuzzer options] [corpus dirs]
(see scripts/fuzz.sh).
"""
from __future__ import annotations

import random
import sys

import atheris

with atheris.instrument_imports():
    import h11  # noqa: F401
    from wsfast import deflate, handshake  # noqa: F401

from wsfast.deflate import PerMessageDeflate
from wsfast.errors import HandshakeError
from wsfast.handshake import MAX_HEADER_BYTES, ServerHandshake, accept_key

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
FIELDS = [
    b"Host: example.com", b"Host: 127.0.0.1:8000", b"Upgrade: websocket", b"Upgrade: WebSocket, h2c",
    b"Connection: Upgrade", b"Connection: keep-alive, upgrade", b"Sec-WebSocket-Version: 13",
    b"Sec-WebSocket-Version: 8", b"Sec-WebSocket-Key: " + KEY.encode(),
    b"Sec-WebSocket-Key: c2hvcnQ=", b"Origin: http://example.com", b"Origin: https://evil.example",
    b"Origin: null", b"Sec-WebSocket-Protocol: chat, superchat", b"Content-Length: 5",
    b"Transfer-Encoding: chunked", b"Sec-WebSocket-Extensions: permessage-deflate",
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
    b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8; "
    b"client_no_context_takeover, x-webkit-deflate-frame",
    b'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits="10"',
]
LINES = [b"GET / HTTP/1.1", b"GET /chat?x=1 HTTP/1.1", b"GET ws://example.com/a HTTP/1.1",
         b"POST / HTTP/1.1", b"GET / HTTP/1.0", b"GET http:/// HTTP/1.1", b"GET * HTTP/1.1"]


def request(fdp: atheris.FuzzedDataProvider) -> bytes:
    lines = [fdp.PickValueInList(LINES) if fdp.ConsumeIntInRange(0, 7)
             else fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 40))]
    for _ in range(fdp.ConsumeIntInRange(0, 14)):
        choice = fdp.ConsumeIntInRange(0, 9)
        if choice == 0:  # a random field
            lines.append(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 20)) + b": "
                         + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 60)))
        elif choice == 1:  # a random extension offer
            lines.append(b"Sec-WebSocket-Extensions: "
                         + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 60)))
        else:
            lines.append(fdp.PickValueInList(FIELDS))
    if fdp.ConsumeIntInRange(0, 30) == 0:  # past the header limits
        lines += [b"X-Pad: " + b"a" * 100] * fdp.ConsumeIntInRange(100, 200)
    body = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 10))
    end = b"\r\n\r\n" if fdp.ConsumeIntInRange(0, 7) else b"\n\n" if fdp.ConsumeBool() else b""
    return b"\r\n".join(lines) + end + body


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    hs = ServerHandshake(
        subprotocols=fdp.PickValueInList([None, ["chat"], ["superchat", "chat"]]),
        origins=fdp.PickValueInList([None, "*", ["http://example.com"], [None]]),
        compression=PerMessageDeflate() if fdp.ConsumeBool() else None,
        path=fdp.PickValueInList([None, "/", "/chat"]))
    seed = fdp.ConsumeInt(1)
    stream = request(fdp) if fdp.ConsumeIntInRange(0, 3) else \
        fdp.ConsumeBytes(fdp.remaining_bytes())
    rng = random.Random(seed)
    cuts = sorted(rng.randrange(len(stream) + 1) for _ in range(rng.randrange(6)))
    chunks = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
    error: HandshakeError | None = None
    for chunk in chunks + [b""]:  # b"": EOF
        try:
            result = hs.receive_data(chunk)
        except HandshakeError as exc:
            if error is not None:  # sticky: the same error again
                assert (exc.status, exc.reason) == (error.status, error.reason)
            error = exc
            response = hs.reject(exc)
            assert response.startswith(b"HTTP/1.1 %d " % exc.status), response[:40]
            assert 400 <= exc.status < 500, exc.status
            continue
        assert error is None, "a handshake accepted bytes after an error"
        if result is None:
            # Waiting for more: what is held is bounded by the limit.
            held = len(hs._h11._receive_buffer)  # h11 internals, for the check only
            assert held <= MAX_HEADER_BYTES + len(chunk), held
            assert chunk, "EOF must not leave the handshake waiting"
            continue
        response = hs.accept(result)
        assert response.startswith(b"HTTP/1.1 101 ")
        assert b"Sec-WebSocket-Accept: " + accept_key(result.key).encode() in response
        break


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
