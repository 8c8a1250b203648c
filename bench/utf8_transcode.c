/* UTF-8 to str units (csrc/utf8_transcode*.c): the count and the
 * transcoding, scalar and AVX-512 (where this CPU has it), on 1, 16 and 64
 * KiB of seven kinds of text, in GB/s of input: the median of 9 timings
 * with their range, the kernels taking turns run by run; memcpy of the same
 * bytes is the yardstick. Texts are valid UTF-8 made here from a fixed
 * seed, cut at a character boundary at or below the size. Each timing
 * cycles through several different texts of the kind (32 KiB of them, at
 * least 4), so that the branch predictor cannot learn one text by heart
 * (it does over repeated calls on the same 1 KiB); they stay in L1 or L2.
 * Build and run (pinned to one core):
 *   cc -O3 -std=c99 -Icsrc bench/utf8_transcode.c csrc/[a-z]*.c -o utf8-transcode
 *   taskset -c 1 ./utf8-transcode [kind ...]   (ASCII Latin-1 Cyrillic CJK emoji mixed mixed+emo)
 */
#include "timing.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utf8_transcode.h"

#define RUNS 9
#define SAMPLE_BYTES ((size_t)32 << 20)   /* input per timing */

static uint64_t rng_state = 0x2545F4914F6CDD1Du;

static uint64_t rnd(void) {   /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

enum { ASCII, LATIN1, CYRILLIC, CJK, EMOJI, MIXED, MIXED_EMOJI, N_KINDS };
static const char *const kind_name[N_KINDS] = {"ASCII", "Latin-1", "Cyrillic", "CJK",
                                               "emoji", "mixed", "mixed+emo"};

/* A letter of a word of this kind of text. Latin-1: French or German-like,
 * one letter in 8 accented (U+00C0..U+00FF); Cyrillic: U+0430..U+044F;
 * CJK: U+4E00..U+9FFF; emoji: U+1F300..U+1F64F; mixed: JSON-like, the keys
 * ASCII and the values in turn English, Latin-1, Cyrillic or CJK, and in
 * mixed+emo one value in five emoji. */
static uint32_t letter(int kind) {
    uint64_t r = rnd();
    switch (kind) {
    case LATIN1: return r % 8 == 0 ? 0xC0 + (uint32_t)(r >> 8) % 0x40 : 'a' + (uint32_t)(r >> 8) % 26;
    case CYRILLIC: return 0x430 + (uint32_t)(r >> 8) % 0x20;
    case CJK: return 0x4E00 + (uint32_t)(r >> 8) % 0x5200;
    case EMOJI: return 0x1F300 + (uint32_t)(r >> 8) % 0x350;
    default: return 'a' + (uint32_t)(r >> 8) % 26;
    }
}

/* At most cap bytes of text; returns its length. */
static size_t make_text(uint8_t *out, size_t cap, int kind) {
    size_t n = 0;
    int field = 0;
    for (;;) {
        uint8_t word[64];
        size_t w = 0, letters = 2 + (size_t)(rnd() % 8);
        int k = kind;
        if (kind == MIXED || kind == MIXED_EMOJI) {
            /* "key": "value", with the value's script by turns */
            static const int scripts[5] = {ASCII, LATIN1, CYRILLIC, CJK, EMOJI};
            k = field % 2 ? scripts[(field / 2) % (kind == MIXED ? 4 : 5)] : ASCII;
            word[w++] = field % 2 ? ' ' : '"';
        }
        for (size_t l = 0; l < letters; l++)
            w += encode_utf8(letter(k), word + w);
        if (kind == MIXED || kind == MIXED_EMOJI)
            w += (size_t)(field % 2 ? sprintf((char *)word + w, "\", ") : sprintf((char *)word + w, "\":"));
        else if (kind == CJK)
            w += encode_utf8(rnd() % 4 ? 0x3001 : 0x3002, word + w);   /* 、 。 */
        else if (kind == EMOJI)
            w += encode_utf8(rnd() % 2 ? 0x1F44D : ' ', word + w);
        else
            word[w++] = rnd() % 8 ? ' ' : '.';
        if (n + w > cap)
            return n;
        memcpy(out + n, word, w);
        n += w;
        field++;
    }
}

typedef struct {
    const char *name;
    wsf_utf8_count_fn count;
    wsf_utf8_transcode_fn transcode;
} variant;

/* The texts a timing cycles through. */
#define POOL_BYTES ((size_t)32 << 10)
#define MAX_PIECES 32

typedef struct {
    int n;
    const uint8_t *text[MAX_PIECES];
    size_t len[MAX_PIECES];
    unsigned width[MAX_PIECES];
    size_t bytes;   /* of all of them */
} pool;

enum { V_MEMCPY, V_COUNT, V_TRANSCODE };

#if defined(WSF_X86)
/* AVX-512 counts as it validates (wsf_utf8_measure_avx512): its "count"
 * column is that whole pass, validation included. */
static size_t measure_avx512(const uint8_t *src, size_t len, uint32_t *maxchar) {
    size_t count = 0;
    wsf_utf8_measure_avx512(src, len, &count, maxchar);
    return count;
}
#endif

/* Seconds per input byte, one sample. */
static double sample(int what, const variant *v, void *dst, const pool *p) {
    long rounds = (long)(SAMPLE_BYTES / p->bytes);
    volatile size_t sink = 0;
    uint32_t maxchar;
    double t0 = now();
    for (long r = 0; r < rounds; r++) {
        for (int k = 0; k < p->n; k++) {
            if (what == V_MEMCPY)
                memcpy(dst, p->text[k], p->len[k]);
            else if (what == V_COUNT)
                sink += v->count(p->text[k], p->len[k], &maxchar);
            else
                v->transcode(dst, p->width[k], p->text[k], p->len[k]);
        }
    }
    (void)sink;
    return (now() - t0) / (double)rounds / (double)p->bytes;
}

#if defined(WSF_X86) && (defined(__GNUC__) || defined(__clang__))
static int has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2");
}
#endif

/* With arguments, only the kinds of text named. */
static int wanted(int argc, char **argv, int kind) {
    if (argc < 2)
        return 1;
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], kind_name[kind]) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv) {
    static const size_t sizes[] = {1024, 16384, 65536};
    variant vs[2] = {{"scalar", wsf_utf8_count_scalar, wsf_utf8_transcode_scalar}};
    int nv = 1;
    uint8_t *area = (uint8_t *)malloc(4 * 65536);
    void *dst = malloc(4 * 65536);
    if (!area || !dst)
        return 2;
#if defined(WSF_X86) && (defined(__GNUC__) || defined(__clang__))
    if (has_avx512()) {
        vs[nv].name = "avx512";
        vs[nv].count = measure_avx512;
        vs[nv].transcode = wsf_utf8_transcode_avx512;
        nv++;
    } else {
        printf("avx512: skipped, not supported by this CPU\n");
    }
#endif
    printf("GB/s of UTF-8 input, median of %d (min-max); width: bytes per unit\n", RUNS);
    printf("%-9s %6s %5s %17s", "text", "bytes", "width", "memcpy");
    for (int v = 0; v < nv; v++)
        printf(" %17s %17s", "count", "transcode");
    printf("\n%-9s %6s %5s %17s", "", "", "", "");
    for (int v = 0; v < nv; v++)
        printf(" %17s %17s", vs[v].name, vs[v].name);
    printf("\n");
    for (int kind = 0; kind < N_KINDS; kind++) {
        if (!wanted(argc, argv, kind))
            continue;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            pool p;
            size_t at = 0;
            double t[1 + 2 * 2][RUNS];
            int cols = 1 + 2 * nv;
            rng_state = 0x2545F4914F6CDD1Du + (uint64_t)kind;
            p.n = (int)(POOL_BYTES / sizes[s] < 4 ? 4 : POOL_BYTES / sizes[s]);
            p.bytes = 0;
            for (int k = 0; k < p.n; k++) {
                uint32_t maxchar;
                p.text[k] = area + at;
                p.len[k] = make_text(area + at, sizes[s], kind);
                vs[0].count(p.text[k], p.len[k], &maxchar);
                p.width[k] = wsf_utf8_width(maxchar);
                p.bytes += p.len[k];
                at += sizes[s];
            }
            for (int run = 0; run < RUNS; run++) {
                t[0][run] = sample(V_MEMCPY, NULL, dst, &p);
                for (int v = 0; v < nv; v++) {
                    t[1 + 2 * v][run] = sample(V_COUNT, &vs[v], dst, &p);
                    t[2 + 2 * v][run] = sample(V_TRANSCODE, &vs[v], dst, &p);
                }
            }
            printf("%-9s %6zu %5u", kind_name[kind], p.bytes / (size_t)p.n, p.width[0]);
            for (int c = 0; c < cols; c++) {
                char cell[32];
                qsort(t[c], RUNS, sizeof t[c][0], by_value);
                snprintf(cell, sizeof cell, "%.1f (%.1f-%.1f)", 1e-9 / t[c][RUNS / 2],
                         1e-9 / t[c][RUNS - 1], 1e-9 / t[c][0]);
                printf(" %17s", cell);
            }
            printf("\n");
        }
    }
    free(area);
    free(dst);
    return 0;
}
