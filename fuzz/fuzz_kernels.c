/* libFuzzer harness over the masking and UTF-8 kernels (csrc/mask_*.c,
 * csrc/utf8_*.c, csrc/dispatch.c), every variant this CPU runs.
 *
 * Input: byte 0 picks the operation and a phase, bytes 1-4 are a mask key,
 * byte 5 seeds the chunking, the rest is the payload. Each variant is
 * checked against a reference written here, independently of csrc/:
 *   - mask: every variant entry point (key pre-rotated) and the public
 *     wsf_mask (any phase, in place and out of place, through the
 *     dispatcher for each selected variant) against a byte-by-byte XOR;
 *     no byte outside [dst, dst+len) is written (guard bytes, plus ASan on
 *     exactly sized heap buffers);
 *   - utf8_valid: every variant against a naive RFC 3629 decoder;
 *   - utf8_feed: the payload cut into chunks; after each chunk the return
 *     value says exactly whether some valid UTF-8 can still start with the
 *     bytes so far (fail-fast, never early), and at the end the state is
 *     ACCEPT exactly when the whole is valid;
 *   - UTF-8 to str units (utf8_transcode*.c), scalar and, where the CPU has
 *     it, AVX-512: on valid payloads the count, the kind and the units at
 *     every width the kind allows equal a naive decoder's; on any payload
 *     the units fit in a buffer of exactly the count's size (ASan on an
 *     exactly sized heap buffer, plus guard bytes) and no input byte past
 *     the end is read.
 * Build: see scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8_transcode.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* Variant v is row v of the table in dispatch.c; which of them the CPU
 * runs is asked once, not per input. */
static int nvariants;
static int *supported;

/* The transcoding kernels this CPU runs. */
typedef struct {
    wsf_utf8_count_fn count;
    wsf_utf8_transcode_fn transcode;
} transcoder;
static transcoder transcoders[2] = {{wsf_utf8_count_scalar, wsf_utf8_transcode_scalar}};
static int ntranscoders = 1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
#if defined(WSF_X86) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
        __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("popcnt")) {
        /* Its count is the validator's (wsf_utf8_measure_avx512, checked
         * in check_utf8); the scalar one sizes the output. */
        transcoders[ntranscoders].count = wsf_utf8_count_scalar;
        transcoders[ntranscoders].transcode = wsf_utf8_transcode_avx512;
        ntranscoders++;
    } else {
        fprintf(stderr, "fuzz_kernels: transcode avx512 skipped: no AVX-512 (VBMI2)\n");
    }
#endif
    CHECK(wsf_init("") == 0);
    nvariants = wsf_kernel_count();
    supported = calloc((size_t)nvariants, sizeof *supported);
    CHECK(nvariants >= 1 && supported);
    for (int v = 0; v < nvariants; v++)
        supported[v] = wsf_kernel_supported(v);
    return 0;
}

/* ---- the references --------------------------------------------------- */

static void mask_reference(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                           size_t phase) {
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i] ^ key[(i + phase) % 4];
}

/* Naive RFC 3629 decoding of one character at buf[i]: its length, 0 when
 * the bytes there are not valid, or -1 when they are a valid but cut-off
 * beginning (the input ends inside the character). */
static int utf8_char(const uint8_t *buf, size_t len, size_t i) {
    uint8_t b = buf[i];
    int need;
    uint32_t cp, min;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) { need = 2; cp = b & 0x1F; min = 0x80; }
    else if (b >= 0xE0 && b <= 0xEF) { need = 3; cp = b & 0x0F; min = 0x800; }
    else if (b >= 0xF0 && b <= 0xF4) { need = 4; cp = b & 0x07; min = 0x10000; }
    else return 0;
    for (int k = 1; k < need; k++) {
        if (i + k >= len) {
            /* Cut off: still valid if the code point can stay in range.
             * Check the prefix with the smallest and largest completion. */
            uint32_t lo = cp, hi = cp;
            for (int j = k; j < need; j++) {
                lo = (lo << 6);
                hi = (hi << 6) | 0x3F;
            }
            if (hi < min || lo > 0x10FFFF)
                return 0;
            /* A surrogate prefix: ED A0..BF cannot complete validly. */
            if (lo >= 0xD800 && hi <= 0xDFFF)
                return 0;
            return -1;
        }
        if ((buf[i + k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (buf[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

/* 1 valid, 0 invalid, -1 a valid prefix cut inside its last character. */
static int utf8_reference(const uint8_t *buf, size_t len) {
    size_t i = 0;
    while (i < len) {
        int n = utf8_char(buf, len, i);
        if (n <= 0)
            return n;
        i += (size_t)n;
    }
    return 1;
}

/* The code points of valid UTF-8 (lengths from utf8_char); returns how
 * many. */
static size_t decode_reference(const uint8_t *buf, size_t len, uint32_t *cps) {
    static const uint8_t lead_bits[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    size_t i = 0, n = 0;
    while (i < len) {
        int k = utf8_char(buf, len, i);
        uint32_t cp = buf[i] & lead_bits[k];
        for (int j = 1; j < k; j++)
            cp = cp << 6 | (buf[i + j] & 0x3Fu);
        cps[n++] = cp;
        i += (size_t)k;
    }
    return n;
}

/* ---- the checks ------------------------------------------------------- */

static void check_mask(const uint8_t *data, size_t size, const uint8_t key[4], size_t phase) {
    uint8_t *want = malloc(size ? size : 1);
    uint8_t *got = malloc(size + 2);  /* one guard byte each side */
    uint8_t rotated[4];
    CHECK(want && got);
    mask_reference(want, data, size, key, phase);
    for (int k = 0; k < 4; k++)
        rotated[k] = key[(k + phase) % 4];
    for (int v = 0; v < nvariants; v++) {
        if (!supported[v])
            continue;
        /* The variant itself, at an odd offset (misaligned) in its buffer. */
        got[0] = got[size + 1] = 0xA5;
        wsf_variant_at(v)->mask(got + 1, data, size, rotated);
        CHECK(memcmp(got + 1, want, size) == 0);
        CHECK(got[0] == 0xA5 && got[size + 1] == 0xA5);
        /* The public entry point through the dispatcher, in place. */
        CHECK(wsf_init(wsf_kernel_label(v)) == 0);
        memcpy(got + 1, data, size);
        CHECK(wsf_mask(got + 1, got + 1, size, key, phase) == (phase + size) % 4);
        CHECK(memcmp(got + 1, want, size) == 0);
        CHECK(got[0] == 0xA5 && got[size + 1] == 0xA5);
    }
    /* Chunk by chunk with the returned phase gives the same as one call. */
    {
        size_t ph = phase, pos = 0, step = 1;
        uint8_t *exact = malloc(size ? size : 1);  /* exact size: ASan sees overruns */
        CHECK(exact);
        while (pos < size) {
            size_t n = size - pos < step ? size - pos : step;
            ph = wsf_mask(exact + pos, data + pos, n, key, ph);
            pos += n;
            step = step * 3 + 1;
        }
        CHECK(memcmp(exact, want, size) == 0);
        free(exact);
    }
    free(want);
    free(got);
}

static void check_transcode(const uint8_t *exact, size_t size, int valid);

static void check_utf8(const uint8_t *data, size_t size, uint8_t seed) {
    int want = utf8_reference(data, size);
    uint8_t *exact = malloc(size ? size : 1);
    CHECK(exact);
    memcpy(exact, data, size);
    for (int v = 0; v < nvariants; v++) {
        if (!supported[v])
            continue;
        CHECK(wsf_variant_at(v)->utf8(exact, size) == (want == 1));
        CHECK(wsf_init(wsf_kernel_label(v)) == 0);
        CHECK(wsf_utf8_valid(exact, size) == (want == 1));
        /* Measuring: valid exactly when valid, and then the count and kind
         * of the portable count (itself held to the reference below). */
        {
            size_t count = 0, want_count;
            uint32_t maxchar = 0, want_max = 0;
            CHECK(wsf_utf8_measure(exact, size, &count, &maxchar) == (want == 1));
            if (want == 1) {
                want_count = wsf_utf8_count_scalar(exact, size, &want_max);
                CHECK(count == want_count && maxchar == want_max);
            }
        }
        /* Streaming: cut into chunks, lengths drawn from the seed. */
        {
            uint32_t state = WSF_UTF8_ACCEPT;
            size_t pos = 0;
            unsigned rng = seed * 2654435761u + 1;
            int alive = 1;
            while (pos < size) {
                size_t n;
                rng = rng * 1103515245u + 12345u;
                n = seed == 0 ? size : 1 + (rng >> 16) % (seed < 64 ? 4u : 300u);
                if (n > size - pos)
                    n = size - pos;
                alive = wsf_utf8_feed(&state, exact + pos, n);
                pos += n;
                /* Fail-fast and never early: alive iff the bytes so far are
                 * valid or a valid prefix. */
                CHECK(alive == (utf8_reference(exact, pos) != 0));
                if (!alive)
                    break;
            }
            if (alive)
                CHECK((state == WSF_UTF8_ACCEPT) == (want == 1));
            else
                CHECK(want == 0);
        }
    }
    check_transcode(exact, size, want == 1);
    free(exact);
}

/* exact: the payload in a heap block of exactly its size. */
static void check_transcode(const uint8_t *exact, size_t size, int valid) {
    uint32_t *cps = malloc((size ? size : 1) * sizeof *cps), want_max = 0x7F, top = 0;
    size_t want = 0, first_count = 0;
    uint32_t first_max = 0;
    CHECK(cps);
    if (valid) {
        want = decode_reference(exact, size, cps);
        for (size_t k = 0; k < want; k++)
            top = cps[k] > top ? cps[k] : top;
        want_max = top < 0x80 ? 0x7F : top < 0x100 ? 0xFF : top < 0x10000 ? 0xFFFF : 0x10FFFF;
    }
    for (int t = 0; t < ntranscoders; t++) {
        uint32_t maxchar = 0;
        size_t count = transcoders[t].count(exact, size, &maxchar);
        CHECK(maxchar == 0x7F || maxchar == 0xFF || maxchar == 0xFFFF || maxchar == 0x10FFFF);
        if (valid) {
            CHECK(count == want);
            CHECK(maxchar == want_max);
        }
        /* On any input the variants agree on the count and the kind. */
        if (t == 0) {
            first_count = count;
            first_max = maxchar;
        }
        CHECK(count == first_count && maxchar == first_max);
        /* Every width, also those too narrow (values unspecified then, the
         * bounds still hold). */
        for (unsigned width = 1; width <= 4; width *= 2) {
            size_t bytes = count * width;
            uint8_t *out = malloc(bytes ? bytes : 1), *guarded = malloc(bytes + 64);
            CHECK(out && guarded);
            memset(guarded + bytes, 0xA5, 64);
            transcoders[t].transcode(guarded, width, exact, size);
            for (size_t g = 0; g < 64; g++)
                CHECK(guarded[bytes + g] == 0xA5);
            transcoders[t].transcode(out, width, exact, size);
            if (valid && width >= (maxchar <= 0xFF ? 1u : maxchar <= 0xFFFF ? 2u : 4u)) {
                for (size_t u = 0; u < count; u++) {
                    uint32_t unit;
                    if (width == 1) {
                        unit = out[u];
                    } else if (width == 2) {
                        uint16_t v;
                        memcpy(&v, out + 2 * u, 2);
                        unit = v;
                    } else {
                        memcpy(&unit, out + 4 * u, 4);
                    }
                    CHECK(unit == cps[u]);
                }
            }
            free(out);
            free(guarded);
        }
    }
    free(cps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t key[4];
    if (size < 6)
        return 0;
    memcpy(key, data + 1, 4);
    if (data[0] & 1)
        check_mask(data + 6, size - 6, key, (data[0] >> 1) & 3);
    else
        check_utf8(data + 6, size - 6, data[5]);
    return 0;
}
