"""Adversarial UTF-8, by the categories of Markus Kuhn's UTF-8 decoder
stress test, written out here from RFC 3629's rules."""


def enc(cp):
    """Encode any code point up to 0x7FFFFFFF the pre-RFC 3629 way (so that
    surrogates and values above U+10FFFF can be produced as invalid input)."""
    if cp < 0x80:
        return bytes([cp])
    for n, limit in ((2, 0x800), (3, 0x10000), (4, 0x200000), (5, 0x4000000), (6, 0x80000000)):
        if cp < limit:
            break
    out = []
    for _ in range(n - 1):
        out.append(0x80 | (cp & 0x3F))
        cp >>= 6
    lead = (0xFF00 >> n) & 0xFF
    return bytes([lead | cp]) + bytes(reversed(out))


def overlong(cp, n):
    """cp encoded in n bytes, more than it needs."""
    out = []
    for _ in range(n - 1):
        out.append(0x80 | (cp & 0x3F))
        cp >>= 6
    return bytes([((0xFF00 >> n) & 0xFF) | cp]) + bytes(reversed(out))


CASES = {
    # 1. Correct text.
    "greek kosme": "κόσμε".encode(),
    "mixed scripts": "Ünïcödé — 日本語 — 🎉 — Ελληνικά".encode(),
    # 2. Boundaries: first and last sequence of each length, other edges.
    **{f"first {n}-byte": enc(cp) for n, cp in ((1, 0), (2, 0x80), (3, 0x800), (4, 0x10000))},
    **{f"first {n}-byte (beyond RFC 3629)": enc(cp) for n, cp in ((5, 0x200000), (6, 0x4000000))},
    **{f"last {n}-byte": enc(cp) for n, cp in ((1, 0x7F), (2, 0x7FF), (3, 0xFFFF))},
    "last 4-byte (beyond U+10FFFF)": enc(0x1FFFFF),
    **{f"edge U+{cp:04X}": enc(cp) for cp in (0xD7FF, 0xE000, 0xFFFD, 0x10FFFF, 0x110000)},
    # 3. Malformed sequences.
    **{f"lone continuation {b:02X}": bytes([b]) for b in (0x80, 0xBF)},
    "continuations 2..7": bytes(range(0x80, 0x87)),
    "all 64 continuations": bytes(range(0x80, 0xC0)),
    "lonely 2-byte starts": b" ".join(bytes([b]) for b in range(0xC0, 0xE0)),
    "lonely 3-byte starts": b" ".join(bytes([b]) for b in range(0xE0, 0xF0)),
    "lonely 4-byte starts": b" ".join(bytes([b]) for b in range(0xF0, 0xF8)),
    "lonely 5/6-byte starts": b" ".join(bytes([b]) for b in range(0xF8, 0xFE)),
    **{f"last continuation missing, U+{cp:X}": enc(cp)[:-1]
       for cp in (0, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF)},
    "incomplete sequences concatenated": b"".join(
        enc(cp)[:-1] for cp in (0x80, 0x800, 0x10000, 0x7FF, 0xFFFF, 0x10FFFF)),
    "impossible FE": b"\xfe", "impossible FF": b"\xff", "impossible FEFEFFFF": b"\xfe\xfe\xff\xff",
    # 4. Overlong forms, of "/" and NUL and of the largest value per length.
    **{f"overlong / in {n}": overlong(0x2F, n) for n in (2, 3, 4)},
    **{f"overlong NUL in {n}": overlong(0, n) for n in (2, 3, 4)},
    "max overlong 2": overlong(0x7F, 2), "max overlong 3": overlong(0x7FF, 3),
    "max overlong 4": overlong(0xFFFF, 4),
    # 5. Illegal code positions: surrogates alone and paired.
    **{f"surrogate U+{cp:04X}": enc(cp) for cp in (0xD800, 0xDB7F, 0xDB80, 0xDBFF, 0xDC00, 0xDF80, 0xDFFF)},
    **{f"surrogate pair {hi:04X} {lo:04X}": enc(hi) + enc(lo)
       for hi in (0xD800, 0xDBFF) for lo in (0xDC00, 0xDFFF)},
    # Noncharacters are valid UTF-8 (RFC 3629 does not exclude them).
    "noncharacters": enc(0xFFFE) + enc(0xFFFF) + enc(0x10FFFE) + enc(0xFDD0),
    # Beyond U+10FFFF, with a valid-looking shape.
    "F4 90 80 80": b"\xf4\x90\x80\x80", "F5 80 80 80": b"\xf5\x80\x80\x80",
    "E0 9F BF (overlong)": b"\xe0\x9f\xbf", "F0 8F BF BF (overlong)": b"\xf0\x8f\xbf\xbf",
    "ED A0 80 (surrogate)": b"\xed\xa0\x80", "C0 AF": b"\xc0\xaf", "C1 BF": b"\xc1\xbf",
}
