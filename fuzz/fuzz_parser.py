"""atheris harness: the C and pure-Python FrameParsers must agree on every
input, whatever the chunking: the same frames (or, with bit 7 of byte 0,
messages and frames from feed_messages) from each feed, or the same
error (class, close code, reason) with the same frames before it.

Input layout, shared with fuzz_frame.c and the seed corpus: byte 0 picks
the options, byte 1 seeds the chunking, the rest is the byte stream.
Run: python fuzz/fuzz_parser.py [libFuzzer options] [corpus dirs]
(see scripts/fuzz.sh); needs the C extension built.
"""
import os
import random
import sys

import atheris

with atheris.instrument_imports():
    from wsfast import _contract, _pure  # noqa: F401 (instrumented for coverage)

from wsfast import _speedups

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from helpers.frame_outcome import outcome  # noqa: E402  (shared with the tests)

LIMITS = (None, 0, 125, 1 << 16)


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    flags, seed, stream = data[0], data[1], data[2:]
    options = dict(role="server" if flags & 1 else "client", rsv1_allowed=bool(flags & 2),
                   validate_utf8=bool(flags & 4), max_frame_size=LIMITS[(flags >> 3) & 3],
                   max_message_size=LIMITS[(flags >> 5) & 3])
    rng = random.Random(seed)
    cuts = sorted(rng.randrange(len(stream) + 1) for _ in range(rng.randrange(8)))
    chunks = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
    if seed == 255:  # one byte at a time
        chunks = [stream[i:i + 1] for i in range(len(stream))]
    messages = bool(flags & 0x80)  # feed_messages rather than feed
    c = outcome(_speedups, options, chunks, messages)
    pure = outcome(_pure, options, chunks, messages)
    if c != pure:
        raise AssertionError(f"C and pure Python disagree on {options}:\n"
                             f"C:    {c!r}\npure: {pure!r}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
