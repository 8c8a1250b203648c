#!/usr/bin/env python3
"""atheris harness: the sans-IO Connection over the C kernels and over the
pure-Python twins must say the same about every byte stream, in both roles,
with and without permessage-deflate, however the stream is cut: the same
events, or the same error class and close code, the same frames owed to the
peer (bytes_to_send, unmasked), the same state. Nothing but ProtocolError
may escape receive_data, and no message may pass max_message_size. The
asyncio layer's MessagePump (C) must do what the WebSocket's general path
(Python) does with the same chunks: the same messages delivered or queued,
frames written, reading paused, close codes (tests/helpers/pump_outcome.py).

The fuzzer's bytes drive a FuzzedDataProvider: options first, then either
raw bytes or (more often) a list of frames encoded here by hand, valid or
not, masked or not, text, binary, control, compressed, so that coverage goes
past the frame header checks into the message, deflate and close paths.
Run: python fuzz/fuzz_connection.py [libFuzzer options] [corpus dirs]
(see scripts/fuzz.sh); needs the C extension built.
"""
from __future__ import annotations

import asyncio
import os
import random
import sys
import zlib
from typing import Any

import atheris

with atheris.instrument_imports():
    from wsfast import connection, deflate, frames, _contract, _pure  # noqa: F401
    from wsfast.asyncio import connection as aio_connection  # noqa: F401

from wsfast import _speedups  # noqa: F401  (the C backend must be there)
from wsfast.connection import Connection

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from helpers.connection_outcome import outcome, pure_twin  # noqa: E402  (shared with the tests)
from helpers.pump_outcome import run as pump_run  # noqa: E402

LOOP = asyncio.new_event_loop()  # one for every input: WebSockets need a running loop

PureConnection = pure_twin()
LIMITS = (1 << 20, 0, 125, 1000)
TEXTS = ("", "a", "héllo", "κόσμε", "🎉", "\x00", "x" * 200)


def header(opcode: int, fin: bool, rsv: int, n: int, key: bytes | None, wide: int) -> bytes:
    """A frame header, any bits, with the shortest length encoding or (wide)
    a longer one."""
    b0 = (fin << 7) | (rsv << 4) | opcode
    mask = 0x80 if key is not None else 0
    if n < 126 and not wide:
        out = bytes([b0, mask | n])
    elif n < 65536 and wide < 2:
        out = bytes([b0, mask | 126]) + n.to_bytes(2, "big")
    else:
        out = bytes([b0, mask | 127]) + n.to_bytes(8, "big")
    return out + (key or b"")


def payload(fdp: atheris.FuzzedDataProvider, compress: Any) -> tuple[bytes, bool]:
    kind = fdp.ConsumeIntInRange(0, 4)
    if kind == 0:
        data = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 300))
    elif kind == 1:
        data = fdp.PickValueInList(list(TEXTS)).encode() * fdp.ConsumeIntInRange(0, 3)
    elif kind == 2:  # a close payload
        code = fdp.PickValueInList([1000, 1001, 1002, 1005, 1006, 1007, 1009, 1015, 2999,
                                    3000, 4999, 5000, 0])
        data = code.to_bytes(2, "big") + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 130))
    elif kind == 3 and compress is not None:  # real deflate, RSV1 wanted
        text = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200)) * fdp.ConsumeIntInRange(1, 40)
        out = compress.compress(text) + compress.flush(zlib.Z_SYNC_FLUSH)
        return (out[:-4] if fdp.ConsumeBool() else out), True
    else:
        data = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 20))
    return data, False


def frames_stream(fdp: atheris.FuzzedDataProvider, role: str, bits: int) -> bytes:
    compress = zlib.compressobj(6, zlib.DEFLATED, -max(bits, 9))
    out = []
    for _ in range(fdp.ConsumeIntInRange(0, 12)):
        opcode = fdp.PickValueInList([0, 1, 2, 8, 9, 10, 0, 1, 2, 3, 11])
        fin = fdp.ConsumeIntInRange(0, 3) != 0
        data, compressed = payload(fdp, compress)
        rsv = 4 if compressed else fdp.PickValueInList([0, 0, 0, 0, 4, 2, 1])
        masked = (role == "server") != (fdp.ConsumeIntInRange(0, 30) == 0)
        key = fdp.ConsumeBytes(4).ljust(4, b"\0") if masked else None
        if key is not None:
            data = bytes(b ^ key[i & 3] for i, b in enumerate(data))
        wide = fdp.PickValueInList([0, 0, 0, 0, 0, 1, 2])
        out.append(header(opcode, fin, rsv, len(data), key, wide) + data)
    if fdp.ConsumeIntInRange(0, 20) == 0:  # a claimed length far past the data
        out.append(header(2, True, 0, fdp.PickValueInList([1 << 20, 1 << 62, 1 << 63]),
                          b"abcd" if role == "server" else None, 2))
    return b"".join(out)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    role = "server" if fdp.ConsumeBool() else "client"
    bits = fdp.ConsumeIntInRange(8, 15)
    deflate = None
    if fdp.ConsumeBool():
        deflate = dict(remote_no_context_takeover=fdp.ConsumeBool(), remote_max_window_bits=bits,
                       local_no_context_takeover=fdp.ConsumeBool(), local_max_window_bits=bits)
    options = dict(max_message_size=fdp.PickValueInList(list(LIMITS)),
                   stream_fragments=fdp.ConsumeBool())
    seed = fdp.ConsumeInt(1)
    stream = frames_stream(fdp, role, bits) if fdp.ConsumeIntInRange(0, 3) else \
        fdp.ConsumeBytes(fdp.remaining_bytes())
    rng = random.Random(seed)
    cuts = sorted(rng.randrange(len(stream) + 1) for _ in range(rng.randrange(8)))
    chunks = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
    if seed == 255:  # one byte at a time
        chunks = [stream[i:i + 1] for i in range(len(stream))]
    c = outcome(Connection, role, chunks, deflate, **options)
    pure = outcome(PureConnection, role, chunks, deflate, **options)
    if c != pure:
        raise AssertionError(f"C and pure Python disagree ({role}, deflate={deflate}, "
                             f"{options}):\nC:    {c!r}\npure: {pure!r}")
    limit = options["max_message_size"]
    if not options["stream_fragments"]:  # the asyncio layer never streams fragments
        args = (role, chunks + [b""], deflate is not None, fdp.ConsumeBool(),
                fdp.PickValueInList([1, 2, 16]), limit)
        pumped = LOOP.run_until_complete(pump_run(*args, through_pump=True))
        general = LOOP.run_until_complete(pump_run(*args, through_pump=False))
        if pumped != general:
            raise AssertionError(f"MessagePump and general path disagree {args!r}:\n"
                                 f"pump:    {pumped!r}\ngeneral: {general!r}")
    for result, _, _, _ in c:
        events = result if isinstance(result, list) else result[2]
        for event in events:
            if event[-1] in ("TextMessage", "BinaryMessage", "TextFragment", "BinaryFragment"):
                size = len(event[0].encode() if isinstance(event[0], str) else event[0])
                assert size <= limit, f"{event[-1]} of {size} bytes passed the limit {limit}"


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
