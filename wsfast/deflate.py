"""permessage-deflate (RFC 7692): negotiation and per-message compression.

Two objects: ``PerMessageDeflate`` is what an endpoint is willing to do (the
client's offer, the server's acceptance policy, plus local tuning that is not
negotiated: level, memory level, size threshold); negotiation turns it into a
``NegotiatedDeflate`` that one Connection owns and that compresses and
decompresses its messages.

Memory per connection is what a busy server must bound. zlib's compressor
holds about ``2**(wbits+2) + 2**(mem_level+9)`` bytes (256 KiB at the
defaults) and the decompressor about ``2**wbits`` plus 7 KiB; without context
takeover on a side, its zlib object is dropped after each message, so an idle
connection holds nothing for it. Decompression never produces more than
``max_size + 1`` bytes per call (zlib's ``max_length``), so a decompression
bomb costs one message limit of memory and ends in MessageTooBig (close code
1009). The streams themselves are wsfast._impl.DeflateStreams.
"""
from __future__ import annotations

import re

from wsfast._impl import DeflateStreams

__all__ = ["NegotiatedDeflate", "PerMessageDeflate"]

Params = list[tuple[str, "str | None"]]

# Section 7.1.2.1: decimal 8 to 15, no leading zeros.
_BITS_RE = re.compile(r"8|9|1[0-5]")
_NAMES = ("server_no_context_takeover", "client_no_context_takeover",
          "server_max_window_bits", "client_max_window_bits")


def _check_bits(name: str, value: int | None) -> None:
    if value is not None and (type(value) is not int or not 8 <= value <= 15):
        raise ValueError(f"{name} must be an integer from 8 to 15, not {value!r}")


class PerMessageDeflate:
    """What this endpoint will negotiate for permessage-deflate, and how it
    compresses (pass it as ``compression=`` to a handshake).

    As a client the four RFC 7692 parameters are an offer:
    ``server_no_context_takeover`` / ``server_max_window_bits`` are demands
    (a response that ignores them fails the handshake),
    ``client_no_context_takeover`` / ``client_max_window_bits`` say what the
    client will do (``client_max_window_bits`` is always offered, so the
    server may lower it). As a server they are imposed on every accepted
    offer, where the client allows it.

    Not negotiated: ``compress_level`` (zlib 0-9), ``mem_level`` (zlib 1-9)
    and ``threshold``: messages shorter than this many bytes are sent
    uncompressed (RSV1 clear), where deflate would only cost CPU.
    """

    name = "permessage-deflate"

    def __init__(self, *, server_no_context_takeover: bool = False,
                 client_no_context_takeover: bool = False,
                 server_max_window_bits: int | None = None,
                 client_max_window_bits: int | None = None,
                 compress_level: int = 6, mem_level: int = 8, threshold: int = 64) -> None:
        _check_bits("server_max_window_bits", server_max_window_bits)
        _check_bits("client_max_window_bits", client_max_window_bits)
        if not -1 <= compress_level <= 9:
            raise ValueError(f"compress_level must be from -1 to 9, not {compress_level}")
        if not 1 <= mem_level <= 9:
            raise ValueError(f"mem_level must be from 1 to 9, not {mem_level}")
        if threshold < 0:
            raise ValueError(f"threshold must be 0 or more, not {threshold}")
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.server_max_window_bits = server_max_window_bits
        self.client_max_window_bits = client_max_window_bits
        self.compress_level = compress_level
        self.mem_level = mem_level
        self.threshold = threshold

    def __repr__(self) -> str:
        return f"<PerMessageDeflate {self.offer()!r}>"

    def _negotiated(self, *, is_client: bool, server_nct: bool, client_nct: bool,
                    server_bits: int, client_bits: int) -> NegotiatedDeflate:
        local_nct, remote_nct = (client_nct, server_nct) if is_client else (server_nct, client_nct)
        local_bits, remote_bits = ((client_bits, server_bits) if is_client
                                   else (server_bits, client_bits))
        return NegotiatedDeflate(
            local_no_context_takeover=local_nct, remote_no_context_takeover=remote_nct,
            local_max_window_bits=local_bits, remote_max_window_bits=remote_bits,
            compress_level=self.compress_level, mem_level=self.mem_level,
            threshold=self.threshold)

    # -- client ----------------------------------------------------------------

    def offer(self) -> str:
        """The client's Sec-WebSocket-Extensions value (RFC 7692 section 7.1)."""
        parts = [self.name]
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.server_max_window_bits is not None:
            parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        if self.client_max_window_bits is None:
            parts.append("client_max_window_bits")  # we can honour any limit
        else:
            parts.append(f"client_max_window_bits={self.client_max_window_bits}")
        return "; ".join(parts)

    def accept_response(self, params: Params) -> NegotiatedDeflate:
        """Check the server's response to ``offer()``; ValueError (a failed
        handshake, RFC 7692 section 5) when it does not answer that offer."""
        values = _parse(params, response=True)
        if values is None:
            raise ValueError("unknown, repeated or invalid parameter")
        server_nct = "server_no_context_takeover" in values
        if self.server_no_context_takeover and not server_nct:
            raise ValueError("the server did not accept server_no_context_takeover")
        server_bits = values.get("server_max_window_bits")
        if self.server_max_window_bits is not None:
            # Section 7.1.2.1: accepted with the same or a smaller value.
            if server_bits is None or server_bits > self.server_max_window_bits:
                raise ValueError("the server did not accept server_max_window_bits="
                                 f"{self.server_max_window_bits}")
        client_bits = values.get("client_max_window_bits")
        if (client_bits is not None and self.client_max_window_bits is not None
                and client_bits > self.client_max_window_bits):
            raise ValueError(f"client_max_window_bits={client_bits} is larger than offered")
        return self._negotiated(
            is_client=True, server_nct=server_nct,
            client_nct=self.client_no_context_takeover or "client_no_context_takeover" in values,
            server_bits=server_bits or 15,
            client_bits=client_bits or self.client_max_window_bits or 15)

    # -- server ----------------------------------------------------------------

    def accept_offer(self, params: Params) -> tuple[str, NegotiatedDeflate] | None:
        """The response value and the negotiated codec for one client offer,
        or None to decline it (RFC 7692 section 5.1: unknown, repeated or
        invalid parameters)."""
        values = _parse(params, response=False)
        if values is None:
            return None
        # Section 7.1.1: server_no_context_takeover in an offer must be
        # honoured; the server may add it and client_no_context_takeover.
        server_nct = self.server_no_context_takeover or "server_no_context_takeover" in values
        client_nct = self.client_no_context_takeover or "client_no_context_takeover" in values
        server_bits = min(values.get("server_max_window_bits") or 15,
                          self.server_max_window_bits or 15)
        client_bits = 15
        client_param = None
        if "client_max_window_bits" in values:
            # Section 7.1.2.2: only when offered, never above the offered value.
            offered = values["client_max_window_bits"] or 15
            client_bits = min(offered, self.client_max_window_bits or 15)
            if self.client_max_window_bits is not None or values["client_max_window_bits"]:
                client_param = client_bits
        parts = [self.name]
        if server_nct:
            parts.append("server_no_context_takeover")
        if client_nct:
            parts.append("client_no_context_takeover")
        if "server_max_window_bits" in values or self.server_max_window_bits is not None:
            parts.append(f"server_max_window_bits={server_bits}")
        if client_param is not None:
            parts.append(f"client_max_window_bits={client_param}")
        return "; ".join(parts), self._negotiated(
            is_client=False, server_nct=server_nct, client_nct=client_nct,
            server_bits=server_bits, client_bits=client_bits)


def _parse(params: Params, *, response: bool) -> dict[str, int | None] | None:
    """The parameters as a dict, or None when one is unknown, repeated or has
    an invalid value (RFC 7692 sections 5.1 and 7.1)."""
    values: dict[str, int | None] = {}
    for name, value in params:
        name = name.lower()
        if name not in _NAMES or name in values:
            return None
        if name.endswith("_no_context_takeover"):
            if value is not None:
                return None
            values[name] = None
        elif value is None:
            # Only an offer's client_max_window_bits may come without a value.
            if response or name != "client_max_window_bits":
                return None
            values[name] = None
        elif _BITS_RE.fullmatch(value):
            values[name] = int(value)
        else:
            return None
    return values


class NegotiatedDeflate(DeflateStreams):
    """One connection's permessage-deflate state: compresses what it sends,
    decompresses what it receives, with the negotiated parameters.

    ``local_*`` govern our compressor, ``remote_*`` the peer's (our
    decompressor). A window of 8 bits, which zlib's raw deflate cannot
    produce, is served with Huffman-only compression: no back-references,
    so valid for any window. The streams are C where the extension is
    (DeflateStreams): the parser inflates whole messages without Python.
    """

    __slots__ = ()

    def __init__(self, *, local_no_context_takeover: bool = False,
                 remote_no_context_takeover: bool = False,
                 local_max_window_bits: int = 15, remote_max_window_bits: int = 15,
                 compress_level: int = 6, mem_level: int = 8, threshold: int = 64) -> None:
        _check_bits("local_max_window_bits", local_max_window_bits)
        _check_bits("remote_max_window_bits", remote_max_window_bits)
        super().__init__(
            local_no_context_takeover=local_no_context_takeover,
            remote_no_context_takeover=remote_no_context_takeover,
            local_max_window_bits=local_max_window_bits,
            remote_max_window_bits=remote_max_window_bits,
            compress_level=compress_level, mem_level=mem_level, threshold=threshold)

    def __repr__(self) -> str:
        return (f"<NegotiatedDeflate local(no_context_takeover={self.local_no_context_takeover},"
                f" window_bits={self.local_max_window_bits}) remote(no_context_takeover="
                f"{self.remote_no_context_takeover}, window_bits={self.remote_max_window_bits})>")
