"""What the differential checks compare (tests/test_frames_diff.py and
fuzz/fuzz_parser.py): everything a FrameParser says about a byte stream."""
from wsfast.errors import ProtocolError


def outcome(module, options, chunks):
    """Frames from each feed of chunks, then the error (class, close code,
    reason, frames before it) if one came, and the bytes left buffered."""
    parser = module.FrameParser(**options)
    said = []
    for chunk in chunks:
        try:
            said.append([(f.opcode, f.fin, f.rsv1, f.rsv2, f.rsv3, f.payload)
                         for f in parser.feed(chunk)])
        except ProtocolError as exc:
            said.append((type(exc).__name__, exc.close_code, exc.reason,
                         [(f.opcode, f.payload) for f in exc.frames]))
            break
    return said, parser.buffered
