"""The opening handshake (RFC 6455 section 4), sans-IO, for both roles.

h11 parses and frames the HTTP; this module only checks what RFC 6455 asks
of the request and the response, negotiates the subprotocol and extensions,
and hands back the bytes that followed the handshake (``leftover``: frames
that arrived in the same read). Both sides bound what they buffer: 16 KiB of
header block and 128 header fields; past either the server answers 431
(Request Header Fields Too Large, RFC 6585) rather than a bare 400.

Server, for a caller that owns the socket::

    hs = ServerHandshake(subprotocols=["chat"])
    request = hs.receive_data(data)        # None until the request is complete
    ...                                    # HandshakeError -> send hs.reject(err)
    sock.send(hs.accept(request))
    conn = Connection("server", compression=hs.compression)
    if hs.leftover:                        # b"" would mean EOF
        conn.receive_data(hs.leftover)

Client::

    hs = ClientHandshake("ws://example.com/chat")
    sock.send(hs.request_bytes())
    response = hs.receive_data(data)       # None until complete; HandshakeError
    conn = Connection("client", compression=hs.compression)
    if hs.leftover:                        # b"" would mean EOF
        conn.receive_data(hs.leftover)
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import http
import os
import re
from typing import TYPE_CHECKING, Iterable, NamedTuple, Sequence, Union
from urllib.parse import urlsplit

import h11

from wsfast.errors import HandshakeError

if TYPE_CHECKING:
    from wsfast.deflate import NegotiatedDeflate, PerMessageDeflate

__all__ = ["ClientHandshake", "Headers", "Request", "Response", "ServerHandshake",
           "WebSocketURL", "accept_key", "parse_extensions", "parse_url"]

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADER_COUNT = 128

HeaderList = Iterable[tuple[str, str]]
OriginPolicy = Union[None, str, Sequence[Union[str, None]]]


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID))
    (RFC 6455 section 4.2.2, step 5.4)."""
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


class Headers(list):  # type: ignore[type-arg]
    """HTTP header fields as a list of ``(name, value)`` str pairs, in the
    order received; ``get`` and ``get_all`` match names case-insensitively."""

    __slots__ = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of the field ``name``, or ``default``."""
        name = name.lower()
        for key, value in self:
            if key.lower() == name:
                return value  # type: ignore[no-any-return]
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of the field ``name``, in order."""
        name = name.lower()
        return [value for key, value in self if key.lower() == name]


def _headers(raw: h11._headers.Headers) -> Headers:
    return Headers((name.decode("ascii"), value.decode("latin-1"))
                   for name, value in raw.raw_items())


def _items(values: list[str]) -> list[str]:
    """Comma-separated items of every line of a list header (RFC 7230
    section 7: a list may span repeated fields; empty items are ignored)."""
    return [t.strip() for value in values for t in value.split(",") if t.strip()]


def _tokens(values: list[str]) -> list[str]:
    """``_items`` lowercased, for tokens compared case-insensitively."""
    return [t.lower() for t in _items(values)]


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_RE = re.compile(_TOKEN)
_PARAM_RE = re.compile(rf'\s*({_TOKEN})\s*(?:=\s*(?:({_TOKEN})|"((?:[^"\\]|\\.)*)"))?\s*')


def parse_extensions(values: list[str]) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Parse Sec-WebSocket-Extensions values (RFC 6455 section 9.1) into
    ``[(name, [(param, value or None), ...]), ...]``; ValueError if malformed."""
    result: list[tuple[str, list[tuple[str, str | None]]]] = []
    for value in values:
        for item in _split_outside_quotes(value, ","):
            if not item.strip():
                continue  # RFC 7230 section 7: empty list elements are ignored
            parts = _split_outside_quotes(item, ";")
            name = parts[0].strip()
            if not _TOKEN_RE.fullmatch(name):
                raise ValueError(f"malformed extension name {name[:40]!r}")
            params: list[tuple[str, str | None]] = []
            for part in parts[1:]:
                m = _PARAM_RE.fullmatch(part)
                if m is None:
                    raise ValueError(f"malformed parameter {part.strip()[:40]!r} of {name}")
                pname, token, quoted = m.groups()
                pvalue = token
                if quoted is not None:
                    # Section 9.1: an unquoted quoted-string must itself be a token.
                    pvalue = re.sub(r"\\(.)", r"\1", quoted)
                    if not _TOKEN_RE.fullmatch(pvalue):
                        raise ValueError(f"malformed parameter value {quoted[:40]!r} of {name}")
                params.append((pname, pvalue))
            result.append((name, params))
    return result


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts, start, quoted, i = [], 0, False, 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif ch == "\\" and quoted:
            i += 1
        elif ch == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quoted:
        raise ValueError("unterminated quoted string in extension header")
    parts.append(text[start:])
    return parts


class WebSocketURL(NamedTuple):
    """A parsed ws:// or wss:// URL (RFC 6455 section 3)."""

    host: str
    port: int
    path: str  # path and query, as sent in the request line
    secure: bool

    @property
    def host_header(self) -> str:
        """The Host header: the port only when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.secure else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> WebSocketURL:
    """Split a ws:// or wss:// URL; ValueError says what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid WebSocket URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss"):
        raise ValueError(f"invalid WebSocket URL {url!r}: the scheme must be ws:// or wss://")
    if not parts.hostname:
        raise ValueError(f"invalid WebSocket URL {url!r}: no host")
    if parts.fragment or url.endswith("#"):
        # Section 3: fragment identifiers MUST NOT be used in WebSocket URIs.
        raise ValueError(f"invalid WebSocket URL {url!r}: a fragment (#...) is not allowed")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"invalid WebSocket URL {url!r}: credentials in the URL are not "
                         "supported; send an Authorization header in extra_headers")
    if any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in url):
        raise ValueError(f"invalid WebSocket URL {url!r}: spaces, control and non-ASCII "
                         "characters must be percent-encoded")
    secure = scheme == "wss"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return WebSocketURL(parts.hostname, port or (443 if secure else 80), path, secure)


class Request:
    """A validated opening handshake request, as the server received it.

    ``subprotocol`` is the one the server will choose (None when none is
    shared); ``compression`` the negotiated permessage-deflate (or None).
    """

    __slots__ = ("path", "headers", "subprotocols", "subprotocol", "key", "origin",
                 "extensions", "_extension_header", "compression")

    def __init__(self, path: str, headers: Headers, key: str, origin: str | None,
                 subprotocols: list[str], subprotocol: str | None) -> None:
        self.path = path
        self.headers = headers
        self.key = key
        self.origin = origin
        self.subprotocols = subprotocols
        self.subprotocol = subprotocol
        self.extensions: list[NegotiatedDeflate] = []
        self.compression: NegotiatedDeflate | None = None
        self._extension_header: str | None = None

    def __repr__(self) -> str:
        return f"<Request {self.path!r} subprotocol={self.subprotocol!r}>"


class Response:
    """The server's 101 answer, as the client validated it; ``path`` is the
    resource the client asked for."""

    __slots__ = ("status", "path", "headers", "subprotocol", "extensions", "compression")

    def __init__(self, status: int, path: str, headers: Headers, subprotocol: str | None,
                 compression: NegotiatedDeflate | None) -> None:
        self.status = status
        self.path = path
        self.headers = headers
        self.subprotocol = subprotocol
        self.compression = compression
        self.extensions = [compression] if compression is not None else []

    def __repr__(self) -> str:
        return f"<Response {self.status} subprotocol={self.subprotocol!r}>"


def _check_header_count(headers: Headers, status: int) -> None:
    if len(headers) > MAX_HEADER_COUNT:
        raise HandshakeError(status, f"too many header fields ({len(headers)}; "
                                     f"the limit is {MAX_HEADER_COUNT})")


def _h11_error(exc: h11.RemoteProtocolError, what: str) -> HandshakeError:
    # h11 hints 431 when the header block passes max_incomplete_event_size.
    if exc.error_status_hint == 431:
        return HandshakeError(431, f"the {what} header block is larger than "
                                   f"{MAX_HEADER_BYTES} bytes")
    message = str(exc)
    if "Host" in message and "Missing" in message:
        return HandshakeError(400, "missing Host header")
    return HandshakeError(400, f"malformed HTTP {what}: {message}")


def _single(headers: Headers, name: str, status: int = 400) -> str | None:
    values = headers.get_all(name)
    if len(values) > 1:
        raise HandshakeError(status, f"more than one {name} header")
    return values[0] if values else None


def _check_upgrade(headers: Headers, status: int, what: str) -> None:
    # Section 4.2.1 items 3-4 (and 4.1 items 2-3 for the response): the
    # Upgrade list holds "websocket" and the Connection list holds "Upgrade",
    # both compared case-insensitively.
    if "websocket" not in _tokens(headers.get_all("Upgrade")):
        raise HandshakeError(status, f"the {what} has no 'Upgrade: websocket' header")
    if "upgrade" not in _tokens(headers.get_all("Connection")):
        raise HandshakeError(status, f"the {what} has no 'Connection: Upgrade' header")


class _HTTPSide:
    """Drives h11 for one side: feeds bytes, hands each event to ``_on_event``
    until it returns the result; keeps the first error and the leftover."""

    _what = ""  # "request" or "response": what this side receives
    _eof_error = HandshakeError(400, "")

    def __init__(self, role: type[h11._util.Sentinel]) -> None:
        self._h11 = h11.Connection(role, max_incomplete_event_size=MAX_HEADER_BYTES)
        self._result: object = None
        self._error: HandshakeError | None = None
        self.leftover = b""

    def _on_event(self, event: object) -> object:
        raise NotImplementedError

    def _receive(self, data: bytes) -> object:
        if self._error is not None:
            # A fresh traceback each time: re-raising the stored exception
            # as is would chain this call's frames, and the data they hold,
            # onto its traceback, keeping every chunk fed after the error.
            raise self._error.with_traceback(None)
        if self._result is not None:
            self.leftover += data
            return self._result
        try:
            self._h11.receive_data(bytes(data))
            while True:  # bounded: each turn consumes an h11 event
                try:
                    event = self._h11.next_event()
                except h11.RemoteProtocolError as exc:
                    raise _h11_error(exc, self._what) from None
                if event is h11.NEED_DATA:
                    if not data:
                        raise HandshakeError(self._eof_error.status, self._eof_error.reason)
                    return None
                result = self._on_event(event)
                if result is not None:
                    self._result = result
                    self.leftover = self._h11.trailing_data[0]
                    return result
        except HandshakeError as exc:
            self._error = exc
            raise


class ClientHandshake(_HTTPSide):
    """The client side: builds the request, validates the server's response.

    ``compression`` is a :class:`wsfast.deflate.PerMessageDeflate` to offer,
    or None. After ``receive_data`` returns a Response, ``subprotocol``,
    ``compression`` (the negotiated deflate, for ``Connection``) and
    ``leftover`` (bytes after the response) are set.
    """

    _what = "response"
    _eof_error = HandshakeError(502, "the server closed the connection before the "
                                     "handshake completed")

    def __init__(self, url: str, *, origin: str | None = None,
                 subprotocols: Sequence[str] | None = None,
                 compression: PerMessageDeflate | None = None,
                 extra_headers: HeaderList | None = None) -> None:
        self.url = parse_url(url)
        self.key = base64.b64encode(os.urandom(16)).decode("ascii")
        self.subprotocols = list(subprotocols or [])
        for proto in self.subprotocols:
            if not _TOKEN_RE.fullmatch(proto):
                raise ValueError(f"subprotocol {proto!r} is not an HTTP token (RFC 6455 4.1)")
        self._offer = compression
        headers = [("Host", self.url.host_header), ("Upgrade", "websocket"),
                   ("Connection", "Upgrade"), ("Sec-WebSocket-Key", self.key),
                   ("Sec-WebSocket-Version", "13")]
        if origin is not None:
            headers.append(("Origin", origin))
        if self.subprotocols:
            headers.append(("Sec-WebSocket-Protocol", ", ".join(self.subprotocols)))
        if compression is not None:
            headers.append(("Sec-WebSocket-Extensions", compression.offer()))
        headers.extend(extra_headers or ())
        super().__init__(h11.CLIENT)
        try:
            self._request = (self._h11.send(h11.Request(method="GET", target=self.url.path,
                                                        headers=headers))
                             + (self._h11.send(h11.EndOfMessage()) or b""))
        except h11.LocalProtocolError as exc:
            raise ValueError(f"invalid handshake request: {exc}") from None
        self.request_headers = Headers(headers)
        self.response: Response | None = None
        self.subprotocol: str | None = None
        self.compression: NegotiatedDeflate | None = None

    @property
    def extensions(self) -> list[NegotiatedDeflate]:
        """The negotiated extensions (empty before the response)."""
        return [self.compression] if self.compression is not None else []

    def request_bytes(self) -> bytes:
        """The GET request to send first (the same bytes on every call)."""
        return self._request

    def receive_data(self, data: bytes) -> Response | None:
        """Feed bytes from the server; the Response once the whole response
        has arrived and checks out, None while it is incomplete.

        Raises HandshakeError(status, reason, headers) when the server refused
        (``status`` is its answer, ``headers`` its header fields, say for a
        redirect's Location) or sent a 101 that RFC 6455 section 4.1 says to
        fail (status 101), 431 for an oversize header block, and 502 when the
        connection ended before a response.
        """
        return self._receive(data)  # type: ignore[return-value]

    def _on_event(self, event: object) -> Response | None:
        if isinstance(event, h11.InformationalResponse) and event.status_code != 101:
            return None  # 1xx such as 100 Continue: the real answer follows
        if isinstance(event, (h11.InformationalResponse, h11.Response)):
            self.response = self._check(event)
            return self.response
        raise HandshakeError(502, f"unexpected HTTP event {type(event).__name__}")

    def _check(self, event: h11.InformationalResponse | h11.Response) -> Response:
        headers = _headers(event.headers)
        status = event.status_code
        if status != 101:
            reason = event.reason.decode("latin-1")[:100]
            raise HandshakeError(status, f"the server refused the handshake: {status} {reason}"
                                 .rstrip(), headers)
        _check_header_count(headers, status)
        _check_upgrade(headers, status, "response")
        got = _single(headers, "Sec-WebSocket-Accept", status)
        if got is None:
            raise HandshakeError(status, "the response has no Sec-WebSocket-Accept header")
        if got.strip() != accept_key(self.key):
            raise HandshakeError(status, "Sec-WebSocket-Accept does not match the key sent")
        # Section 4.1 item 6: a subprotocol the client did not offer fails.
        protocols = _items(headers.get_all("Sec-WebSocket-Protocol"))
        subprotocol = None
        if protocols:
            if len(protocols) > 1:
                raise HandshakeError(status, "the server chose more than one subprotocol")
            subprotocol = protocols[0]
            if subprotocol not in self.subprotocols:
                raise HandshakeError(status, f"the server chose subprotocol "
                                             f"{subprotocol[:60]!r}, which the client did "
                                             "not offer")
        # Section 4.1 item 5: an extension the client did not offer fails.
        try:
            extensions = parse_extensions(headers.get_all("Sec-WebSocket-Extensions"))
        except ValueError as exc:
            raise HandshakeError(status, f"invalid Sec-WebSocket-Extensions: {exc}") from None
        compression = None
        for name, params in extensions:
            if self._offer is None or name.lower() != self._offer.name:
                raise HandshakeError(status, f"the server accepted extension {name[:60]!r}, "
                                             "which the client did not offer")
            if compression is not None:
                raise HandshakeError(status, f"the server accepted {name} twice")
            try:
                compression = self._offer.accept_response(params)
            except ValueError as exc:
                raise HandshakeError(status, f"invalid {name} response: {exc}") from None
        self.subprotocol = subprotocol
        self.compression = compression
        return Response(status, self.url.path, headers, subprotocol, compression)


def _split_host(hostport: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit("//" + hostport)
    port = parts.port  # ValueError for a bad port
    if not parts.hostname or parts.username is not None or parts.path:
        raise ValueError(hostport)
    return parts.hostname.lower(), port if port is not None else default_port


_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def _same_origin(origin: str, host: str) -> bool:
    """Whether Origin's host:port is the Host header's (RFC 6454 serialization)."""
    try:
        parts = urlsplit(origin)
        default = _DEFAULT_PORTS.get(parts.scheme.lower())
        if default is None or parts.path or parts.query or parts.fragment:
            return False
        origin_hp = _split_host(parts.netloc, default)
        # Host carries no scheme: without a port it means the origin
        # scheme's default port (the server cannot see TLS from here).
        return origin_hp == _split_host(host.strip(), default)
    except ValueError:
        return False


class ServerHandshake(_HTTPSide):
    """The server side: validates a request, builds the 101 or an HTTP error.

    - ``subprotocols``: the server's, in order of preference.
    - ``origins``: None (default) accepts requests without Origin (non-browser
      clients) and same-origin requests (Origin host:port equals Host), and
      refuses other origins, which stops cross-site WebSocket hijacking;
      a list allows exactly those origins (put None in it to allow requests
      without Origin); ``"*"`` allows every origin.
    - ``compression``: a :class:`wsfast.deflate.PerMessageDeflate` to accept
      offers with, or None to decline compression.
    - ``path``: when set, any other request path gets 404.
    """

    _what = "request"
    _eof_error = HandshakeError(400, "the connection closed before the request was complete")

    def __init__(self, *, subprotocols: Sequence[str] | None = None,
                 origins: OriginPolicy = None,
                 compression: PerMessageDeflate | None = None,
                 path: str | None = None) -> None:
        if isinstance(origins, str) and origins != "*":
            raise ValueError('origins must be None, "*" or a list of origins')
        self.subprotocols = list(subprotocols or [])
        self.origins = origins
        self._compression = compression
        self.path = path
        super().__init__(h11.SERVER)
        self.request: Request | None = None
        self.response: Response | None = None
        self.subprotocol: str | None = None
        self.compression: NegotiatedDeflate | None = None
        self._pending: Request | None = None

    @property
    def extensions(self) -> list[NegotiatedDeflate]:
        """The negotiated extensions (set by ``accept``)."""
        return [self.compression] if self.compression is not None else []

    def receive_data(self, data: bytes) -> Request | None:
        """Feed bytes from the client (b"" at EOF); the Request once it is
        complete and valid, None while incomplete.

        Raises HandshakeError(status, reason, headers); answer it with
        ``reject(error)``.
        """
        return self._receive(data)  # type: ignore[return-value]

    def _on_event(self, event: object) -> Request | None:
        if isinstance(event, h11.Request):
            self._pending = self._validate(event)  # fail before any body
            return None
        if event is h11.PAUSED and self._pending is not None:
            self.request = self._pending
            return self.request
        if isinstance(event, h11.EndOfMessage):
            return None
        raise HandshakeError(400, "the handshake request must not have a body")

    def _validate(self, event: h11.Request) -> Request:
        headers = _headers(event.headers)
        _check_header_count(headers, 431)
        # Section 4.2.1: an HTTP/1.1 (or higher) GET with these header fields.
        if event.method != b"GET":
            raise HandshakeError(400, f"the method must be GET, not "
                                      f"{event.method.decode('ascii', 'replace')[:20]}",
                                 [("Allow", "GET")])
        if event.http_version != b"1.1":
            raise HandshakeError(400, "the request must be HTTP/1.1, not HTTP/"
                                      + event.http_version.decode("ascii", "replace"))
        host = _single(headers, "Host")
        if not host:
            raise HandshakeError(400, "missing Host header")
        length = headers.get("Content-Length")
        if (length is not None and length.strip() != "0") or headers.get("Transfer-Encoding"):
            raise HandshakeError(400, "the handshake request must not have a body")
        _check_upgrade(headers, 400, "request")
        version = headers.get_all("Sec-WebSocket-Version")
        if not version:
            raise HandshakeError(400, "missing Sec-WebSocket-Version header",
                                 [("Sec-WebSocket-Version", "13")])
        if [v.strip() for v in version] != ["13"]:
            # Section 4.2.2 item 4: answer an unknown version with 426 and
            # the versions the server speaks.
            raise HandshakeError(426, "unsupported WebSocket version; this server speaks 13",
                                 [("Sec-WebSocket-Version", "13")])
        key = _single(headers, "Sec-WebSocket-Key")
        if key is None:
            raise HandshakeError(400, "missing Sec-WebSocket-Key header")
        key = key.strip()
        try:
            raw_key = base64.b64decode(key.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raw_key = b""
        if len(raw_key) != 16:
            raise HandshakeError(400, "Sec-WebSocket-Key must be 16 bytes in base64 "
                                      "(section 4.1 of RFC 6455)")
        origin = _single(headers, "Origin")
        if not self._origin_allowed(origin, host):
            raise HandshakeError(403, f"the Origin {origin[:100]!r} is not allowed" if origin
                                 else "a request without an Origin is not allowed")
        target = event.target.decode("ascii")
        if not target.startswith("/"):
            # Section 4.2.1 item 1: an absolute URI carries the resource name.
            parts = urlsplit(target)
            if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.netloc:
                raise HandshakeError(400, "the request target must be a path or an "
                                          "absolute http(s) or ws(s) URI")
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if self.path is not None and target.split("?", 1)[0] != self.path:
            raise HandshakeError(404, "no WebSocket endpoint at this path")
        # Section 4.2.2 item 5.4: the server picks one the client offered;
        # here the first of the server's own list, its order of preference.
        offered = _items(headers.get_all("Sec-WebSocket-Protocol"))
        subprotocol = next((p for p in self.subprotocols if p in offered), None)
        request = Request(target, headers, key, origin, offered, subprotocol)
        self._negotiate(request, headers)
        return request

    def _origin_allowed(self, origin: str | None, host: str) -> bool:
        if self.origins == "*":
            return True
        if self.origins is None:
            return origin is None or _same_origin(origin, host)
        return origin in self.origins

    def _negotiate(self, request: Request, headers: Headers) -> None:
        try:
            extensions = parse_extensions(headers.get_all("Sec-WebSocket-Extensions"))
        except ValueError as exc:
            raise HandshakeError(400, f"invalid Sec-WebSocket-Extensions header: {exc}") from None
        if self._compression is None:
            return
        # Section 9.1: offers come in the client's order of preference; take
        # the first permessage-deflate offer we can accept, decline the rest.
        offers = [params for name, params in extensions if name.lower() == self._compression.name]
        for params in offers:
            accepted = self._compression.accept_offer(params)
            if accepted is not None:
                request._extension_header, request.compression = accepted
                request.extensions = [accepted[1]]
                return

    def accept(self, request: Request,
               extra_headers: HeaderList | None = None) -> bytes:
        """The 101 Switching Protocols response for ``request``; sets
        ``subprotocol`` and ``compression``."""
        headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Accept", accept_key(request.key))]
        if request.subprotocol is not None:
            headers.append(("Sec-WebSocket-Protocol", request.subprotocol))
        if request._extension_header is not None:
            headers.append(("Sec-WebSocket-Extensions", request._extension_header))
        headers.extend(extra_headers or ())
        data = format_response(101, headers)
        self.subprotocol = request.subprotocol
        self.compression = request.compression
        self.response = Response(101, request.path, Headers(headers), request.subprotocol,
                                 request.compression)
        return data

    def reject(self, error: HandshakeError) -> bytes:
        """An HTTP error response for ``error``: its status, its headers and
        the reason as a short text body; the connection closes after it."""
        return reject_response(error)


_HEADER_VALUE_RE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def reject_response(error: HandshakeError) -> bytes:
    """Format ``error`` as an HTTP/1.1 response with a text/plain body."""
    body = (error.reason + "\n").encode("utf-8")
    return format_response(error.status, [
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
        ("Connection", "close"), *error.headers], body)


def format_response(status: int, headers: HeaderList, body: bytes = b"") -> bytes:
    """An HTTP/1.1 response; ValueError for a header that could split it."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}".rstrip()]
    for name, value in headers:
        # No CR/LF can reach the wire: a header value cannot split the response.
        if not _TOKEN_RE.fullmatch(name) or not _HEADER_VALUE_RE.fullmatch(value):
            raise ValueError(f"invalid header {name!r}: {value!r}")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
