"""What the differential checks compare (tests/test_frames_diff.py and
fuzz/fuzz_parser.py): everything a FrameParser says about a byte stream."""
from wsfast.errors import ProtocolError


def describe(item):
    """A Frame as a tuple of all its fields; a message (str, bytes) as is."""
    if type(item) in (str, bytes):
        return item
    return (item.opcode, item.fin, item.rsv1, item.rsv2, item.rsv3, item.payload)


def outcome(module, options, chunks, messages=False):
    """What each feed of chunks gave (with ``messages``, feed_messages' list
    and count), then the error (class, close code, reason, what came before
    it) if one came, and the bytes left buffered."""
    parser = module.FrameParser(**options)
    said = []
    for chunk in chunks:
        out = []
        try:
            if messages:
                count = parser.feed_messages(chunk, out)
                said.append(([describe(item) for item in out], count))
            else:
                said.append([describe(f) for f in parser.feed(chunk)])
        except ProtocolError as exc:
            said.append((type(exc).__name__, exc.close_code, exc.reason,
                         [describe(f) for f in exc.frames], [describe(f) for f in out]))
            break
    return said, parser.buffered
