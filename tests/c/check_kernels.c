/* Every kernel variant this CPU runs, checked in plain C against references
 * written here from the definitions (no Python in the loop, so it runs under
 * sanitizers and under an emulator for other architectures):
 *
 *   masking: dst[i] == src[i] ^ key[(i + phase) % 4], sizes 0..1100, every
 *   phase, misaligned source and destination, in place and out of place,
 *   with guard bytes around the destination; the non-temporal variant
 *   (wsf_mask_avx2_stream, wsf_mask_avx512_stream) for sizes 0..4200 at every
 *   destination alignment within a 64-byte line, and the dispatcher's threshold for it; sizes
 *   from 32 KiB at every source-destination distance mod 32 (step 4);
 *   UTF-8: a naive decoder of RFC 3629 (reference_utf8) against the whole-
 *   buffer validator and the streaming one, on random input, every 2-byte
 *   sequence and structured 3/4-byte sequences at every offset of a 64-byte
 *   block, truncations, and the stream split at every byte;
 *   UTF-8 to str units (utf8_transcode*.c): count, kind and the units at
 *   every width the kind allows, scalar and, where the CPU has AVX-512
 *   VBMI2, AVX-512, against a decoder of RFC 3629's table: random text of
 *   six kinds at every length 0..1100 and offset in a 64-byte block, long
 *   texts to 70000 bytes, a character at each position 0..130, all of
 *   U+0080..U+FFFF and a sample of the astral planes; the units go into a
 *   block of exactly their size, and into one with guard bytes after it.
 *
 * Each input is copied into a heap block of exactly its size, so a kernel
 * that reads past the end is caught by AddressSanitizer. Prints one line per
 * variant and a closing "N passed, N failed" line; exits 1 on any failure.
 * Usage: check_kernels [seed]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utf8_transcode.h"

static unsigned long checks, failures;
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void) {   /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

#define CHECK(cond, ...)                                       \
    do {                                                       \
        checks++;                                              \
        if (!(cond)) {                                         \
            if (failures++ < 20) {                             \
                printf("  FAIL %s:%d: ", __FILE__, __LINE__);  \
                printf(__VA_ARGS__);                           \
                printf("\n");                                  \
            }                                                  \
        }                                                      \
    } while (0)

static uint8_t *dup_exact(const uint8_t *p, size_t n) {
    uint8_t *q = (uint8_t *)malloc(n ? n : 1);
    if (!q) {
        perror("malloc");
        exit(2);
    }
    q[0] = 0;   /* a zero-length input still points at initialized memory */
    if (n)
        memcpy(q, p, n);
    return q;
}

/* ---- masking ---------------------------------------------------------- */

#define MASK_MAX 1100
#define GUARD 40

#define STREAM_MAX 4200

/* The non-temporal variant for every size 0..STREAM_MAX, every destination
 * address mod 32 (which decides where its aligned stores begin) and, across
 * those, every phase and source misalignment: through the dispatcher with
 * the threshold at 0, and called directly out of place and in place. The
 * source ends where its heap block ends (an over-read is an ASan error);
 * guard bytes around the destination catch stray writes. */
static void check_stream(wsf_mask_fn stream) {
    static uint8_t data[STREAM_MAX], want[STREAM_MAX], area[STREAM_MAX + 128 + 2 * GUARD];
    /* line: 64-byte aligned, GUARD bytes or more into area. */
    uint8_t *line = area + GUARD + (64 - ((uintptr_t)(area + GUARD) & 63u));
    size_t saved = wsf_mask_stream_threshold();
    uint8_t key[4];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)rnd();
    wsf_set_mask_stream_threshold(0);
    for (size_t len = 0; len <= STREAM_MAX; len++) {
        uint64_t r = rnd();
        memcpy(key, &r, 4);
        for (size_t align = 0; align < 64; align++) {
            size_t phase = (align + len) & 3, soff = 1 + (align * 5 + len) % 32;
            uint8_t *block = (uint8_t *)malloc(soff + len), *s, *d = line + align;
            uint8_t rot[4];
            if (!block)
                exit(2);
            s = block + soff;
            memcpy(s, data, len);
            for (size_t i = 0; i < len; i++)
                want[i] = data[i] ^ key[(i + phase) % 4];
            memset(area, 0xA5, sizeof area);
            wsf_mask_nt(d, s, len, key, phase);
            CHECK(memcmp(d, want, len) == 0, "stream dispatch len %zu phase %zu dst%%64 %zu",
                  len, phase, align);
            CHECK(d[-1] == 0xA5 && d[len] == 0xA5, "stream wrote outside len %zu dst%%64 %zu",
                  len, align);
            wsf_rotate_key(rot, key, phase);
            memset(d, 0, len);
            stream(d, s, len, rot);
            CHECK(memcmp(d, want, len) == 0, "stream direct len %zu dst%%64 %zu", len, align);
            memcpy(d, s, len);
            stream(d, d, len, rot);
            CHECK(memcmp(d, want, len) == 0, "stream direct in place len %zu dst%%64 %zu",
                  len, align);
            free(block);
        }
    }
    wsf_set_mask_stream_threshold(saved);
}

/* Sizes around WSF_MASK_HALF_LOADS_MIN (mask_avx2.c), where the AVX2 loop
 * may load its source in 16-byte halves: sources 0, 1, 16 and 17 bytes into
 * a heap block that ends where they do, destinations at every
 * distance from them mod 32 in steps of 4 (multiples of 16 take the
 * halves), lengths that leave 0 to 3 32-byte stores after the 128-byte
 * loop; out of place through each variant, the non-temporal one included. */
#define LARGE_MAX 65549

static void check_mask_large(const wsf_variant *v) {
    static const size_t sizes[] = {32767, 32768, 32769, 32800, 32805, 32832, 32863, LARGE_MAX};
    static const size_t source_offsets[] = {0, 1, 16, 17};
    wsf_mask_fn fns[2] = {v->mask, v->mask_stream};
    uint8_t key[4] = {0x12, 0x9A, 0x00, 0xFF};
    uint8_t *data = (uint8_t *)malloc(LARGE_MAX), *want = (uint8_t *)malloc(LARGE_MAX);
    uint8_t *area = (uint8_t *)malloc(LARGE_MAX + 192);
    uintptr_t line = ((uintptr_t)area + 64 + 63) & ~(uintptr_t)63;
    if (!data || !want || !area)
        exit(2);
    for (size_t i = 0; i < LARGE_MAX; i++)
        data[i] = (uint8_t)rnd();
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        for (size_t i = 0; i < n; i++)
            want[i] = data[i] ^ key[i % 4];
        for (size_t o = 0; o < sizeof source_offsets / sizeof source_offsets[0]; o++) {
            /* malloc's blocks are 16-aligned: offsets 0 and 16 put the
             * source at both 0 and 16 mod 32, 1 and 17 at 1 and 17 */
            uint8_t *block = (uint8_t *)malloc(source_offsets[o] + n), *s;
            if (!block)
                exit(2);
            s = block + source_offsets[o];
            memcpy(s, data, n);
            for (size_t delta = 0; delta < 32; delta += 4) {
                /* d = s - delta (mod 32), at least 64 bytes into area */
                uint8_t *d = (uint8_t *)(line + (((uintptr_t)s - delta) & 31u));
                for (int f = 0; f < 2; f++) {
                    if (!fns[f])
                        continue;
                    memset(area, 0xA5, LARGE_MAX + 192);
                    fns[f](d, s, n, key);
                    CHECK(memcmp(d, want, n) == 0,
                          "%s%s large len %zu src%%32 %zu (src - dst) %% 32 = %zu",
                          v->name, f ? " stream" : "", n,
                          (size_t)((uintptr_t)s & 31u), delta);
                    CHECK(d[-1] == 0xA5 && d[n] == 0xA5, "%s%s large wrote outside len %zu",
                          v->name, f ? " stream" : "", n);
                }
            }
            free(block);
        }
    }
    free(data);
    free(want);
    free(area);
}

static void check_mask(const wsf_variant *v) {
    static uint8_t src[MASK_MAX + 2 * GUARD], dst[MASK_MAX + 2 * GUARD], want[MASK_MAX];
    static const size_t offsets[] = {0, 1, 3, 7, 13, 31};
    const size_t n_off = sizeof offsets / sizeof offsets[0];
    wsf_mask_fn direct = v->mask;
    uint8_t key[4];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)rnd();
    for (size_t len = 0; len <= MASK_MAX; len++) {
        uint64_t r = rnd();
        memcpy(key, &r, 4);
        for (size_t phase = 0; phase < 4; phase++) {
            for (size_t a = 0; a < n_off; a++) {
                const uint8_t *s = src + GUARD + offsets[a];
                size_t b = (a + len + phase) % n_off;   /* a spread of pairs */
                uint8_t *d = dst + GUARD + offsets[b];
                uint8_t rot[4];
                size_t next;
                for (size_t i = 0; i < len; i++)
                    want[i] = s[i] ^ key[(i + phase) % 4];
                /* Out of place, through the dispatcher. */
                memset(dst, 0xA5, sizeof dst);
                next = wsf_mask(d, s, len, key, phase);
                CHECK(next == (phase + len) % 4, "mask phase %zu len %zu: next %zu", phase, len, next);
                CHECK(memcmp(d, want, len) == 0, "mask out of place len %zu phase %zu src+%zu dst+%zu",
                      len, phase, offsets[a], offsets[b]);
                CHECK(d[-1] == 0xA5 && d[len] == 0xA5, "mask wrote outside len %zu", len);
                /* In place, through the dispatcher. */
                memcpy(d, s, len);
                wsf_mask(d, d, len, key, phase);
                CHECK(memcmp(d, want, len) == 0, "mask in place len %zu phase %zu dst+%zu",
                      len, phase, offsets[b]);
                /* The variant itself, also below the dispatcher's SIMD minimum. */
                wsf_rotate_key(rot, key, phase);
                memcpy(d, s, len);
                direct(d, d, len, rot);
                CHECK(memcmp(d, want, len) == 0, "%s direct in place len %zu phase %zu",
                      v->name, len, phase);
                memset(d, 0, len);
                direct(d, s, len, rot);
                CHECK(memcmp(d, want, len) == 0, "%s direct out of place len %zu phase %zu",
                      v->name, len, phase);
            }
        }
    }
    /* One large buffer, chunked at odd places, equals one call. */
    {
        size_t n = 1 << 20, pos = 0, phase = 0, saved;
        uint8_t *big = (uint8_t *)malloc(n), *one = (uint8_t *)malloc(n);
        if (!big || !one)
            exit(2);
        for (size_t i = 0; i < n; i++)
            big[i] = (uint8_t)rnd();
        /* Out of place with the non-temporal variant, where there is one. */
        saved = wsf_mask_stream_threshold();
        wsf_set_mask_stream_threshold(0);
        wsf_mask_nt(one, big, n, key, 0);
        wsf_set_mask_stream_threshold(saved);
        while (pos < n) {
            size_t chunk = 1 + (size_t)(rnd() % 70000);
            if (chunk > n - pos)
                chunk = n - pos;
            phase = wsf_mask(big + pos, big + pos, chunk, key, phase);
            pos += chunk;
        }
        CHECK(memcmp(big, one, n) == 0, "chunked in place differs from one call");
        for (size_t i = 0; i < n; i += 4093)
            CHECK((uint8_t)(big[i] ^ key[i % 4] ^ one[i] ^ key[i % 4]) == 0, "large at %zu", i);
        free(big);
        free(one);
    }
    if (v->mask_stream)
        check_stream(v->mask_stream);
    check_mask_large(v);
}

/* ---- UTF-8 ------------------------------------------------------------ */

enum { INVALID = 0, VALID = 1, INCOMPLETE = 2 };

/* RFC 3629 by the letter: decode each character, then reject overlongs,
 * surrogates and code points above U+10FFFF. INCOMPLETE when the input ends
 * inside a character that some continuation could still make valid. */
static int reference_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t need, k;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            need = 1; cp = b & 0x1Fu; min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            need = 2; cp = b & 0x0Fu; min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            need = 3; cp = b & 0x07u; min = 0x10000;
        } else {
            return INVALID;
        }
        if (n - i <= need) {
            /* Cut off: valid as a prefix if one of the completions that the
             * narrow second-byte ranges care about makes it valid. */
            static const uint8_t fill[3] = {0x80, 0x90, 0xA0};
            uint8_t seq[4];
            size_t have = n - i, missing = need + 1 - have, combos = 1;
            memcpy(seq, s + i, have);
            for (k = 0; k < missing; k++)
                combos *= 3;
            for (size_t c = 0; c < combos; c++) {
                size_t code = c;
                for (k = 0; k < missing; k++, code /= 3)
                    seq[have + k] = fill[code % 3];
                if (reference_utf8(seq, need + 1) == VALID)
                    return INCOMPLETE;
            }
            return INVALID;
        }
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return INVALID;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return INVALID;
        i += need + 1;
    }
    return VALID;
}

/* wsf_utf8_measure and wsf_utf8_transcode as dispatched (a fused SIMD pass
 * or the validator and the portable count) against the portable count and
 * transcoding, which check_transcode holds to the reference decoder. */
static void check_measure(const uint8_t *p, size_t n, int valid) {
    size_t count = 12345, want_count;
    uint32_t maxchar = 7, want_max;
    int got = wsf_utf8_measure(p, n, &count, &maxchar);
    CHECK(got == valid, "%s measure len %zu: got %d want %d", wsf_kernel_name(), n, got, valid);
    if (!got || !valid) {
        CHECK(count == 12345 && maxchar == 7, "%s measure len %zu: changed its outputs on "
              "invalid input", wsf_kernel_name(), n);
        return;
    }
    want_count = wsf_utf8_count_scalar(p, n, &want_max);
    CHECK(count == want_count && maxchar == want_max, "%s measure len %zu: %zu code points, "
          "max %X; want %zu, %X", wsf_kernel_name(), n, count, (unsigned)maxchar, want_count,
          (unsigned)want_max);
    if (count == want_count && maxchar == want_max) {
        unsigned width = wsf_utf8_width(maxchar);
        uint8_t *got_units = (uint8_t *)malloc(count * width + 1);
        uint8_t *want_units = (uint8_t *)malloc(count * width + 1);
        if (!got_units || !want_units)
            exit(2);
        wsf_utf8_transcode(got_units, width, p, n);
        wsf_utf8_transcode_scalar(want_units, width, p, n);
        CHECK(memcmp(got_units, want_units, count * width) == 0,
              "%s transcode len %zu width %u differs", wsf_kernel_name(), n, width);
        free(got_units);
        free(want_units);
    }
}

/* The whole-buffer validator, the DFA and the stream split at `split`. */
static void check_utf8_one(const uint8_t *data, size_t n, size_t split) {
    int want = reference_utf8(data, n);
    uint8_t *p = dup_exact(data, n);
    int got = wsf_utf8_valid(p, n);
    uint32_t dfa = wsf_utf8_run(WSF_UTF8_ACCEPT, p, n);
    CHECK(got == (want == VALID), "%s valid len %zu: got %d want %d (first byte %02X)",
          wsf_kernel_name(), n, got, want, n ? data[0] : 0);
    CHECK((dfa == WSF_UTF8_ACCEPT) == (want == VALID), "DFA len %zu: state %u want %d",
          n, (unsigned)dfa, want);
    check_measure(p, n, want == VALID);
    free(p);
    if (split <= n) {
        uint32_t state = WSF_UTF8_ACCEPT;
        uint8_t *a = dup_exact(data, split), *b = dup_exact(data + split, n - split);
        int ok1 = wsf_utf8_feed(&state, a, split);
        int ok2 = wsf_utf8_feed(&state, b, n - split);
        CHECK(ok1 == (reference_utf8(data, split) != INVALID),
              "%s feed first %zu of %zu: got %d", wsf_kernel_name(), split, n, ok1);
        CHECK(ok2 == (want != INVALID), "%s feed rest from %zu of %zu: got %d want %d",
              wsf_kernel_name(), split, n, ok2, want);
        CHECK((ok1 && ok2 && state == WSF_UTF8_ACCEPT) == (want == VALID),
              "%s feed split %zu of %zu: final state %u", wsf_kernel_name(), split, n,
              (unsigned)state);
        free(a);
        free(b);
    }
}

/* Random text of 1-4 byte characters, `ascii_pct` percent ASCII. */
static size_t random_text(uint8_t *out, size_t max, unsigned ascii_pct) {
    size_t n = 0;
    while (n + 4 <= max) {
        uint64_t r = rnd();
        uint32_t cp;
        if (r % 100 < ascii_pct) {
            out[n++] = (uint8_t)(0x20 + (r >> 8) % 0x5F);
            continue;
        }
        switch ((r >> 8) % 3) {
        case 0: cp = 0x80 + (uint32_t)((r >> 16) % 0x780); break;
        case 1:
            cp = 0x800 + (uint32_t)((r >> 16) % 0xF800);
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xE000;
            break;
        default: cp = 0x10000 + (uint32_t)((r >> 16) % 0x100000); break;
        }
        if (cp < 0x800) {
            out[n++] = (uint8_t)(0xC0 | cp >> 6);
        } else if (cp < 0x10000) {
            out[n++] = (uint8_t)(0xE0 | cp >> 12);
            out[n++] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        } else {
            out[n++] = (uint8_t)(0xF0 | cp >> 18);
            out[n++] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
            out[n++] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        }
        out[n++] = (uint8_t)(0x80 | (cp & 0x3F));
    }
    return n;
}

/* Long inputs (the AVX-512 validator starts those with the rest of their
 * first cache line, loaded from the line's start) at every offset within a
 * 64-byte line, valid and with one bad byte near the start, around the
 * first line boundary and near the end. */
static void check_utf8_line_starts(void) {
    static const char unit[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\x89z";  /* a é € 🎉 z */
    static const uint8_t bad[] = {0xFF, 0x80, 0xE2, 0xC0};
    size_t n = 0, len = 4096 + 77;
    uint8_t *block = (uint8_t *)malloc(len + 128), *base, *text = (uint8_t *)malloc(len);
    if (!block || !text)
        exit(2);
    while (n + sizeof unit - 1 <= len) {
        memcpy(text + n, unit, sizeof unit - 1);
        n += sizeof unit - 1;
    }
    base = (uint8_t *)(((uintptr_t)block + 63) & ~(uintptr_t)63);
    for (size_t off = 0; off < 64; off++) {
        uint8_t *p = base + off;
        size_t edge = 64 - off;   /* the first line boundary after p: 1..64 */
        size_t spots[] = {0, 1, 2, edge - 1, edge, edge + 1, edge + 2, edge + 63, n - 1, n - 3};
        memcpy(p, text, n);
        CHECK(wsf_utf8_valid(p, n) == (reference_utf8(p, n) == VALID),
              "%s line start %zu: valid text", wsf_kernel_name(), off);
        check_measure(p, n, reference_utf8(p, n) == VALID);
        for (size_t k = 0; k < sizeof spots / sizeof spots[0]; k++) {
            for (size_t b = 0; b < sizeof bad; b++) {
                uint8_t keep = p[spots[k]];
                int want;
                p[spots[k]] = bad[b];
                want = reference_utf8(p, n) == VALID;
                CHECK(wsf_utf8_valid(p, n) == want, "%s line start %zu: byte %02X at %zu",
                      wsf_kernel_name(), off, bad[b], spots[k]);
                check_measure(p, n, want);
                p[spots[k]] = keep;
            }
        }
    }
    free(block);
    free(text);
}

static void check_utf8(void) {
    static uint8_t buf[4200];
    static const uint8_t interesting[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
    const size_t n_int = sizeof interesting;
    check_utf8_line_starts();
    /* Every 2-byte sequence at every offset of a 64-byte block (and across
     * into the next), after ASCII and after a valid 3-byte character. */
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            size_t off = (a * 256 + b) % 65;
            memset(buf, 'x', off);
            buf[off] = (uint8_t)a;
            buf[off + 1] = (uint8_t)b;
            check_utf8_one(buf, off + 2, (a + b) % (off + 3));
            memcpy(buf, "\xE2\x82\xAC", 3);
            check_utf8_one(buf, off + 2 > 3 ? off + 2 : 5, (size_t)-1);
        }
    }
    for (size_t off = 0; off < 67; off++) {
        for (unsigned a = 0xC0; a < 0x100; a++) {
            memset(buf, 'y', off);
            buf[off] = (uint8_t)a;
            check_utf8_one(buf, off + 1, off);
            for (size_t i = 0; i < n_int; i++) {
                buf[off + 1] = interesting[i];
                check_utf8_one(buf, off + 2, off + 1);
                for (size_t j = 0; j < n_int; j++) {
                    buf[off + 2] = interesting[j];
                    check_utf8_one(buf, off + 3, off + 1 + (i + j) % 2);
                    for (size_t k = 0; k < n_int && a >= 0xF0; k++) {
                        buf[off + 3] = interesting[k];
                        memset(buf + off + 4, 'z', 5);
                        check_utf8_one(buf, off + 4 + (i + k) % 6, off + (i + j + k) % 4);
                    }
                }
            }
        }
    }
    /* Random text, clean, corrupted and truncated, split at every byte. */
    for (int round = 0; round < 300; round++) {
        size_t n = random_text(buf, 16 + (size_t)(rnd() % 300), (unsigned)(rnd() % 101));
        size_t cut = n ? (size_t)(rnd() % n) : 0;
        for (size_t split = 0; split <= n; split++)
            check_utf8_one(buf, n, split);
        for (size_t end = 0; end <= n; end++)
            check_utf8_one(buf, end, end / 2);
        if (n) {
            buf[cut] = (uint8_t)rnd();
            for (size_t split = 0; split <= n; split += 3)
                check_utf8_one(buf, n, split);
        }
    }
    /* Long texts: errors far from the start and in the SIMD tails. */
    for (int round = 0; round < 60; round++) {
        size_t n = random_text(buf, sizeof buf, round % 2 ? 95 : 20);
        check_utf8_one(buf, n, n / 3);
        for (int e = 0; e < 4; e++) {
            size_t at = (size_t)(rnd() % n);
            uint8_t old = buf[at];
            buf[at] = (uint8_t)(0x80 + rnd() % 0x80);
            check_utf8_one(buf, n, at);
            buf[at] = old;
        }
    }
    /* Random bytes. */
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(rnd() % 80);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)(rnd() % 4 ? rnd() : 'a');
        check_utf8_one(buf, n, (size_t)(rnd() % (n + 1)));
    }
}

/* ---- UTF-8 to str units ----------------------------------------------- */

/* The count and transcoding kernels of csrc/utf8_transcode*.c against a
 * decoder written here from RFC 3629's table (section 3), on valid UTF-8
 * only (each generated text also passes reference_utf8). */
typedef struct {
    const char *name;
    wsf_utf8_count_fn count;
    wsf_utf8_transcode_fn transcode;
} transcoder;

static transcoder transcoders[2];
static int n_transcoders;

#define MAX_TEXT (1 << 18)
static uint32_t want_cps[MAX_TEXT];

/* 0xxxxxxx, 110xxxxx 10xxxxxx, 1110xxxx 10xxxxxx 10xxxxxx,
 * 11110xxx 10xxxxxx 10xxxxxx 10xxxxxx: the x bits, in order, are the code
 * point. */
static size_t reference_decode(const uint8_t *s, size_t n, uint32_t *cps) {
    size_t i = 0, count = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t extra;
        uint32_t cp;
        if ((b & 0x80) == 0) { extra = 0; cp = b; }
        else if ((b & 0xE0) == 0xC0) { extra = 1; cp = b & 0x1Fu; }
        else if ((b & 0xF0) == 0xE0) { extra = 2; cp = b & 0x0Fu; }
        else { extra = 3; cp = b & 0x07u; }
        for (size_t k = 1; k <= extra; k++)
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        cps[count++] = cp;
        i += extra + 1;
    }
    return count;
}

/* The PyUnicode kind's bound for the largest code point. */
static uint32_t reference_maxchar(const uint32_t *cps, size_t count) {
    uint32_t top = 0;
    for (size_t k = 0; k < count; k++)
        top = cps[k] > top ? cps[k] : top;
    return top < 0x80 ? 0x7F : top < 0x100 ? 0xFF : top < 0x10000 ? 0xFFFF : 0x10FFFF;
}

static size_t encode(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* The first of count units of `width` bytes at out that differs from
 * want_cps, or count; *unit is its value. */
static size_t first_wrong_unit(const uint8_t *out, unsigned width, size_t count, uint32_t *unit) {
    for (size_t u = 0; u < count; u++) {
        if (width == 1) {
            *unit = out[u];
        } else if (width == 2) {
            uint16_t v;
            memcpy(&v, out + 2 * u, 2);
            *unit = v;
        } else {
            memcpy(unit, out + 4 * u, 4);
        }
        if (*unit != want_cps[u])
            return u;
    }
    return count;
}

/* Every kernel on data[0..n) placed `offset` bytes into a heap block that
 * ends where the data does: the count and maxchar, then the units at the
 * width maxchar picks and at every wider one, into a block followed by
 * GUARD guard bytes (at a unit offset that varies, so the destination's
 * alignment does too) and, unless that overran, into a heap block of
 * exactly count * width bytes (for AddressSanitizer; GCC's does not see
 * masked stores, the guard bytes do). */
static void check_transcode_one(const uint8_t *data, size_t n, size_t offset) {
    size_t want = reference_decode(data, n, want_cps);
    uint32_t want_max = reference_maxchar(want_cps, want);
    uint8_t *block = (uint8_t *)malloc(offset + n ? offset + n : 1), *src = block + offset;
    if (!block)
        exit(2);
    memcpy(src, data, n);
    for (int t = 0; t < n_transcoders; t++) {
        const transcoder *k = &transcoders[t];
        uint32_t maxchar = 12345;
        size_t got = k->count(src, n, &maxchar);
        CHECK(got == want, "%s count len %zu offset %zu: got %zu want %zu", k->name, n, offset,
              got, want);
        CHECK(maxchar == want_max, "%s maxchar len %zu offset %zu: got %lX want %lX", k->name, n,
              offset, (unsigned long)maxchar, (unsigned long)want_max);
        if (got != want)
            continue;
        for (unsigned width = wsf_utf8_width(want_max); width <= 4; width *= 2) {
            size_t bytes = want * width, bad, past = 0;
            size_t skew = (offset * 5 + n) % 64 * width;
            uint32_t unit = 0;
            uint8_t *out = (uint8_t *)malloc(skew + bytes + GUARD);
            if (!out)
                exit(2);
            memset(out + skew + bytes, 0xA5, GUARD);
            k->transcode(out + skew, width, src, n);
            for (size_t g = 0; g < GUARD && !past; g++)
                past = out[skew + bytes + g] != 0xA5 ? g + 1 : 0;
            bad = first_wrong_unit(out + skew, width, want, &unit);
            free(out);
            CHECK(!past, "%s width %u len %zu offset %zu: wrote into byte %zu past the units",
                  k->name, width, n, offset, past);
            CHECK(bad == want, "%s width %u len %zu offset %zu skew %zu: unit %zu is %lX, want %lX",
                  k->name, width, n, offset, skew, bad, (unsigned long)unit,
                  bad < want ? (unsigned long)want_cps[bad] : 0ul);
            if (past)
                continue;
            out = (uint8_t *)malloc(bytes ? bytes : 1);
            if (!out)
                exit(2);
            k->transcode(out, width, src, n);
            bad = first_wrong_unit(out, width, want, &unit);
            CHECK(bad == want, "%s width %u len %zu offset %zu: unit %zu is %lX, want %lX",
                  k->name, width, n, offset, bad, (unsigned long)unit,
                  bad < want ? (unsigned long)want_cps[bad] : 0ul);
            free(out);
        }
    }
    free(block);
}

enum { T_ASCII, T_LATIN1, T_TWO, T_THREE, T_FOUR, T_MIXED, N_TEXT_KINDS };
static const char *const text_kind[N_TEXT_KINDS] = {"ASCII", "Latin-1", "2-byte", "3-byte",
                                                    "4-byte", "mixed"};

static uint32_t random_cp(int kind, unsigned ascii_pct) {
    uint64_t r = rnd();
    uint32_t cp;
    if (kind == T_ASCII || r % 100 < ascii_pct)
        return (uint32_t)((r >> 8) % 0x80);
    if (kind == T_MIXED)
        kind = T_LATIN1 + (int)((r >> 8) % 4);
    r >>= 16;
    switch (kind) {
    case T_LATIN1: return 0x80 + (uint32_t)(r % 0x80);
    case T_TWO: return 0x80 + (uint32_t)(r % 0x780);
    case T_THREE:
        cp = 0x800 + (uint32_t)(r % (0x10000 - 0x800 - 0x800));
        return cp >= 0xD800 ? cp + 0x800 : cp;   /* no surrogates */
    default: return 0x10000 + (uint32_t)(r % 0x100000);
    }
}

/* Exactly n bytes of random valid text of one kind (ASCII fills the end
 * where the next character would not fit). */
static void random_kind(uint8_t *out, size_t n, int kind, unsigned ascii_pct) {
    size_t pos = 0;
    while (pos < n) {
        uint8_t seq[4];
        size_t len = encode(random_cp(kind, ascii_pct), seq);
        if (len > n - pos)
            len = encode((uint32_t)('a' + rnd() % 26), seq);
        memcpy(out + pos, seq, len);
        pos += len;
    }
}

static size_t encode_all(uint8_t *out, uint32_t first, uint32_t last, uint32_t step) {
    size_t n = 0;
    for (uint32_t cp = first; cp <= last; cp += step)
        if (cp < 0xD800 || cp > 0xDFFF)
            n += encode(cp, out + n);
    return n;
}

#if defined(WSF_X86) && (defined(__GNUC__) || defined(__clang__))
/* The AVX-512 kernels' instruction sets, with the OS saving their state
 * (the compiler's runtime checks XCR0 for AVX-512). */
static int has_avx512_transcode(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
}
#endif

static void check_transcode(void) {
    static const unsigned ascii_pcts[] = {0, 5, 30, 70, 97};
    static const uint32_t straddlers[] = {0x80, 0xE9, 0xFF, 0x100, 0x3A9, 0x7FF, 0x800, 0x20AC,
                                          0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F600,
                                          0x10FFFF};
    static const struct { const char *s; uint32_t maxchar; } kinds[] = {
        {"", 0x7F}, {"abc", 0x7F}, {"\x7F", 0x7F}, {"\xC2\x80", 0xFF}, {"a\xC3\xBF", 0xFF},
        {"\xC3\xBF\xC3\xBF", 0xFF}, {"\xC4\x80", 0xFFFF}, {"\xC3\xBF\xC4\x80", 0xFFFF},
        {"\xDF\xBF", 0xFFFF}, {"\xE0\xA0\x80", 0xFFFF}, {"\xEF\xBF\xBF", 0xFFFF},
        {"\xF0\x90\x80\x80", 0x10FFFF}, {"\xC3\xBF\xF4\x8F\xBF\xBF", 0x10FFFF},
    };
    uint8_t *buf = (uint8_t *)malloc(MAX_TEXT);
    unsigned long before = failures, checks_before = checks;
    size_t n;
    if (!buf)
        exit(2);
    n_transcoders = 0;
    transcoders[n_transcoders++] = (transcoder){"scalar", wsf_utf8_count_scalar,
                                                wsf_utf8_transcode_scalar};
#if defined(WSF_X86) && (defined(__GNUC__) || defined(__clang__))
    if (has_avx512_transcode())
        /* Its count is the validator's, wsf_utf8_measure_avx512 (check_measure). */
        transcoders[n_transcoders++] = (transcoder){"avx512", wsf_utf8_count_scalar,
                                                    wsf_utf8_transcode_avx512};
    else
        printf("  transcode avx512 skipped: no AVX-512 (VBMI2) on this CPU\n");
#elif defined(WSF_X86)
    printf("  transcode avx512 skipped: no CPU check for this compiler\n");
#endif
    /* The kinds, by hand; then the reference agrees with them. */
    for (size_t c = 0; c < sizeof kinds / sizeof kinds[0]; c++) {
        size_t len = strlen(kinds[c].s), count = reference_decode((const uint8_t *)kinds[c].s,
                                                                  len, want_cps);
        CHECK(reference_maxchar(want_cps, count) == kinds[c].maxchar, "reference kind case %zu",
              c);
        for (int t = 0; t < n_transcoders; t++) {
            uint32_t maxchar = 0;
            transcoders[t].count((const uint8_t *)kinds[c].s, len, &maxchar);
            CHECK(maxchar == kinds[c].maxchar, "%s kind case %zu: %lX", transcoders[t].name, c,
                  (unsigned long)maxchar);
        }
    }
    /* Random text of each kind, every length to 1100 at every offset in a
     * 64-byte block. */
    for (size_t len = 0; len <= 1100; len++) {
        for (int kind = 0; kind < N_TEXT_KINDS; kind++) {
            random_kind(buf, len, kind, ascii_pcts[(len + (size_t)kind) % 5]);
            CHECK(reference_utf8(buf, len) == VALID, "generated %s text invalid", text_kind[kind]);
            for (size_t offset = 0; offset < 64; offset++)
                check_transcode_one(buf, len, offset);
        }
    }
    for (int kind = 0; kind < N_TEXT_KINDS; kind++) {
        for (int round = 0; round < 8; round++) {
            size_t len = 1100 + (size_t)(rnd() % (70000 - 1100));
            random_kind(buf, len, kind, ascii_pcts[round % 5]);
            check_transcode_one(buf, len, (size_t)(rnd() % 64));
        }
    }
    /* A character at every position from 0 to 130 (each 64-byte boundary
     * falls inside it at some position), after ASCII, after 2-byte and
     * after 3-byte text, then 0 to 3 ASCII bytes or a 2-byte character. */
    for (size_t c = 0; c < sizeof straddlers / sizeof straddlers[0]; c++) {
        for (size_t pos = 0; pos <= 130; pos++) {
            for (int before_kind = 0; before_kind < 3; before_kind++) {
                size_t len = 0;
                while (len < pos) {
                    uint32_t cp = before_kind == 0 ? 'p' : before_kind == 1 ? 0x430 : 0x4E2D;
                    if (pos - len < 3)
                        cp = pos - len == 2 ? 0xE9 : 'q';
                    len += encode(cp, buf + len);
                }
                len += encode(straddlers[c], buf + len);
                for (size_t k = 0; k < pos % 4; k++)
                    buf[len++] = 'z';
                if (pos % 5 == 4)
                    len += encode(0xE9, buf + len);
                check_transcode_one(buf, len, 0);
                check_transcode_one(buf, len, (pos * 7 + c) % 64);
            }
        }
    }
    /* Runs of ASCII after 0 to 63 non-ASCII characters (which leave the
     * output at any alignment), and between them. */
    for (size_t r = 0; r < 64; r++) {
        for (int wide = 0; wide < 3; wide++) {
            static const uint32_t cp[3] = {0xE9, 0x430, 0x4E2D};
            size_t len = 0;
            for (size_t k = 0; k < r; k++)
                len += encode(cp[wide], buf + len);
            memset(buf + len, 'r', 700 + r);
            len += 700 + r;
            len += encode(cp[wide], buf + len);
            memset(buf + len, 's', 257 + r * 3);
            len += 257 + r * 3;
            check_transcode_one(buf, len, r);
        }
    }
    /* Every 2-byte and 3-byte code point (surrogates excluded) and a sample
     * of the astral planes, in order. */
    n = encode_all(buf, 0x80, 0xFF, 1);
    for (size_t offset = 0; offset < 64; offset++)
        check_transcode_one(buf, n, offset);
    n = encode_all(buf, 0x80, 0x7FF, 1);
    for (size_t offset = 0; offset < 64; offset++)
        check_transcode_one(buf, n, offset);
    n = encode_all(buf, 0x800, 0xFFFF, 1);
    for (size_t offset = 0; offset < 64; offset += 7)
        check_transcode_one(buf, n, offset);
    n = encode_all(buf, 0x10000, 0x10FFFF, 251);
    n += encode(0x10FFFF, buf + n);
    for (size_t offset = 0; offset < 64; offset += 3)
        check_transcode_one(buf, n, offset);
    /* One character of a wider kind anywhere in 200 bytes decides it. */
    for (size_t pos = 0; pos <= 200; pos += 2) {
        for (int wide = 0; wide < 3; wide++) {
            static const uint32_t narrow_cp[3] = {'a', 0xFF, 0x7FF};
            static const uint32_t wide_cp[3] = {0x80, 0x100, 0x10000};
            size_t len = 0;
            while (len < pos)
                len += encode(narrow_cp[wide], buf + len);
            len += encode(wide_cp[wide], buf + len);
            while (len < 200)
                len += encode(narrow_cp[wide], buf + len);
            check_transcode_one(buf, len, pos % 64);
        }
    }
    free(buf);
    for (int t = 0; t < n_transcoders; t++)
        printf("  transcode %s checked\n", transcoders[t].name);
    printf("  transcode: %lu checks, %lu failed\n", checks - checks_before, failures - before);
}

/* Checks the reference itself on known answers, so it is not merely
 * agreeing with the DFA it tests. */
static void check_reference(void) {
    static const struct { const char *s; size_t n; int want; } cases[] = {
        {"", 0, VALID}, {"Hello", 5, VALID}, {"\xCE\xBA\xE1\xBD\xB9", 5, VALID},
        {"\xF0\x9F\x8E\x89", 4, VALID}, {"\xF4\x8F\xBF\xBF", 4, VALID},
        {"\xEF\xBF\xBF", 3, VALID}, {"\xED\x9F\xBF", 3, VALID},
        {"\xC0\xAF", 2, INVALID}, {"\xE0\x80\xAF", 3, INVALID}, {"\xF0\x8F\xBF\xBF", 4, INVALID},
        {"\xED\xA0\x80", 3, INVALID}, {"\xF4\x90\x80\x80", 4, INVALID}, {"\xF5", 1, INVALID},
        {"\x80", 1, INVALID}, {"\xFF", 1, INVALID}, {"\xE2\x82", 2, INCOMPLETE},
        {"\xF0\x9F", 2, INCOMPLETE}, {"\xED\xA0", 2, INVALID}, {"\xF4\x90", 2, INVALID},
        {"\xE0\x80", 2, INVALID}, {"\xC2", 1, INCOMPLETE}, {"\xE1\x80\xC0", 3, INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(reference_utf8((const uint8_t *)cases[i].s, cases[i].n) == cases[i].want,
              "reference case %zu", i);
}

int main(int argc, char **argv) {
    int ran = 0;
    if (argc > 1)
        rng_state = strtoull(argv[1], NULL, 0) | 1u;
    printf("check_kernels: seed 0x%llx\n", (unsigned long long)rng_state);
    check_reference();
    for (int k = 0; k < wsf_kernel_count(); k++) {
        const wsf_variant *v = wsf_variant_at(k);
        unsigned long before = failures, checks_before = checks;
        if (!wsf_kernel_supported(k)) {
            printf("  %-6s skipped: not supported by this CPU\n", v->name);
            continue;
        }
        if (wsf_init(v->name) != 0) {
            CHECK(0, "wsf_init(%s) failed", v->name);
            continue;
        }
        CHECK(strcmp(wsf_kernel_name(), v->name) == 0 && strcmp(wsf_kernel_label(k), v->name) == 0,
              "variant %d: selected %s, label %s, row %s", k, wsf_kernel_name(),
              wsf_kernel_label(k), v->name);
        check_mask(v);
        check_utf8();
        ran++;
        printf("  %-6s %lu checks, %lu failed\n", wsf_kernel_name(), checks - checks_before,
               failures - before);
    }
    /* wsf_init() replaces an override with the threshold from the cache
     * size: 5/16 of a plausible last-level cache, or never. */
    {
        size_t t;
        wsf_set_mask_stream_threshold(12345);
        wsf_init(NULL);
        t = wsf_mask_stream_threshold();
        CHECK(t == SIZE_MAX || (t >= ((size_t)64 << 10) && t <= ((size_t)1 << 30)),
              "stream threshold %zu", t);
        if (t == SIZE_MAX)
            printf("  masking streams: never (cache size unknown)\n");
        else
            printf("  masking streams above %zu KiB out of place\n", t >> 10);
    }
    /* With no name, the last row this CPU runs; out of range, no row. */
    {
        int n = wsf_kernel_count(), best = n - 1;
        while (best > 0 && !wsf_kernel_supported(best))
            best--;
        CHECK(wsf_init("") == 0 && strcmp(wsf_kernel_name(), wsf_kernel_label(best)) == 0,
              "default variant %s, best supported %s", wsf_kernel_name(), wsf_kernel_label(best));
        CHECK(wsf_variant_at(-1) == NULL && wsf_variant_at(n) == NULL, "row out of range");
        CHECK(!wsf_kernel_supported(-1) && !wsf_kernel_supported(n), "supported out of range");
        CHECK(strcmp(wsf_kernel_label(-1), "unknown") == 0 &&
                  strcmp(wsf_kernel_label(n), "unknown") == 0,
              "label out of range");
    }
    check_transcode();
    CHECK(wsf_init("no-such-kernel") == -1, "unknown kernel name accepted");
    CHECK(ran >= 2, "fewer than two variants ran (%d)", ran);
    printf("%lu passed, %lu failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
