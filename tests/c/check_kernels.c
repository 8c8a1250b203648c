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
 *   block, truncations, and the stream split at every byte.
 *
 * Each input is copied into a heap block of exactly its size, so a kernel
 * that reads past the end is caught by AddressSanitizer. Prints one line per
 * variant and a closing "N passed, N failed" line; exits 1 on any failure.
 * Usage: check_kernels [seed]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

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

static void check_utf8(void) {
    static uint8_t buf[4200];
    static const uint8_t interesting[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
    const size_t n_int = sizeof interesting;
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
    CHECK(wsf_init("no-such-kernel") == -1, "unknown kernel name accepted");
    CHECK(ran >= 2, "fewer than two variants ran (%d)", ran);
    printf("%lu passed, %lu failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
