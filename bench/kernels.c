/* Every kernel variant this CPU runs, side by side in C (no Python call in
 * the loop): masking out of place and in place against memcpy, and UTF-8
 * validation on ASCII, 2-, 3-, 4-byte and mixed text; GB/s, the median of
 * 15 runs with the lowest and highest, the variants interleaved within each
 * run so that a change of clock speed falls on all of them alike. Buffers
 * are warm (the same input every call), as a server's read buffer is.
 *   cc -O3 -std=c99 -Icsrc bench/kernels.c csrc/[a-z]*.c -o kernels
 *   ./kernels [SIZE ...]      (bytes; default 64 B to 1 MiB)
 */
#include "timing.h"
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

#define RUNS 15
#define MAX_ROWS 8

enum { OUT_OF_PLACE, IN_PLACE, UTF8, COPY };

typedef struct {
    const char *label;
    const wsf_variant *v;   /* NULL: memcpy */
} row;

/* len bytes of valid text of one kind, ASCII-padded at the end. */
static void text(uint8_t *p, size_t len, int kind) {
    static const uint32_t base[5] = {0x20, 0x410, 0x4E00, 0x1F600, 0};
    uint64_t r = 88172645463325252ull;
    size_t i = 0;
    while (i + 4 <= len) {
        uint32_t c;
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        c = kind == 4 ? (uint32_t[]){0x61, 0xE9, 0x416, 0x4E2D, 0x1F600}[r % 5] + (uint32_t)(r >> 8 & 15)
                      : base[kind] + (uint32_t)(r >> 8) % 64;
        i += encode_utf8(c, p + i);
    }
    while (i < len)
        p[i++] = 'x';
}

static double run_once(int op, const row *rw, uint8_t *dst, const uint8_t *src, size_t len,
                       long calls) {
    static const uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
    volatile int sink = 0;
    double t0 = now();
    for (long c = 0; c < calls; c++) {
        if (op == COPY)
            memcpy(dst, src, len);
        else if (op == OUT_OF_PLACE)
            rw->v->mask(dst, src, len, key);
        else if (op == IN_PLACE)
            rw->v->mask(dst, dst, len, key);
        else
            sink += rw->v->utf8(src, len);
    }
    (void)sink;
    return (double)len * (double)calls / (now() - t0) / 1e9;
}

/* kind: the text to validate (op UTF8), else ignored. */
static void table(const char *title, int op, int kind, const row *rows, int nrows, uint8_t *dst,
                  uint8_t *src, const size_t *sizes, int nsizes) {
    printf("\n%s: GB/s, median [lowest-highest] of %d runs\n%-8s", title, RUNS, "variant");
    for (int s = 0; s < nsizes; s++)
        printf(" %22zu", sizes[s]);
    printf("\n");
    static double res[MAX_ROWS][64][RUNS];
    for (int s = 0; s < nsizes; s++) {
        long calls = (long)(1e8 / (double)(sizes[s] + 64)) + 1;   /* a few ms */
        if (op == UTF8)
            text(src, sizes[s], kind);   /* valid to its end at this size */
        for (int k = 0; k < RUNS; k++)
            for (int r = 0; r < nrows; r++) {
                int o = op;
                if (rows[r].v == NULL)
                    o = COPY;
                res[r][s][k] = run_once(o, &rows[r], dst, src, sizes[s], calls);
        if (op == UTF8)
            for (int r = 0; r < nrows; r++)
                if (!rows[r].v->utf8(src, sizes[s]))
                    printf("(%s: %s text of %zu bytes judged invalid)\n", rows[r].label, title,
                           sizes[s]);
            }
    }
    for (int r = 0; r < nrows; r++) {
        printf("%-8s", rows[r].label);
        for (int s = 0; s < nsizes; s++) {
            qsort(res[r][s], RUNS, sizeof(double), by_value);
            printf(" %6.1f [%6.1f-%6.1f]", res[r][s][RUNS / 2], res[r][s][0], res[r][s][RUNS - 1]);
        }
        printf("\n");
    }
}

int main(int argc, char **argv) {
    static const size_t def[] = {64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};
    static const char *kinds[5] = {"ASCII", "2-byte", "3-byte", "4-byte", "mixed"};
    size_t sizes[64], max = 0;
    int nsizes = 0, nrows = 0;
    row rows[MAX_ROWS], mrows[MAX_ROWS];
    int nmrows = 0;
    uint8_t *src, *dst;
    if (argc > 1)
        for (int a = 1; a < argc && nsizes < 64; a++)
            sizes[nsizes++] = (size_t)strtoull(argv[a], NULL, 10);
    else
        for (size_t i = 0; i < sizeof def / sizeof def[0]; i++)
            sizes[nsizes++] = def[i];
    for (int s = 0; s < nsizes; s++)
        if (sizes[s] > max)
            max = sizes[s];
    wsf_init("");
    for (int k = 0; k < wsf_kernel_count() && nrows < MAX_ROWS - 1; k++)
        if (wsf_kernel_supported(k)) {
            const wsf_variant *v = wsf_variant_at(k);
            int dup = 0;
            rows[nrows++] = (row){v->name, v};
            for (int j = 0; j < nmrows; j++)
                dup |= mrows[j].v->mask == v->mask;   /* ssse3 masks with sse2's */
            if (!dup)
                mrows[nmrows++] = (row){v->name, v};
        }
    mrows[nmrows++] = (row){"memcpy", NULL};
    src = (uint8_t *)malloc(max + 64);
    dst = (uint8_t *)malloc(max + 64);
    if (!src || !dst)
        return 2;
    /* Both 64-byte aligned plus 16, as two bytes objects from malloc can be. */
    src = (uint8_t *)(((uintptr_t)src + 63) & ~(uintptr_t)63) + 16;
    dst = (uint8_t *)(((uintptr_t)dst + 63) & ~(uintptr_t)63) + 32;
    text(src, max, 0);
    memcpy(dst, src, max);
    printf("kernel variants: masking streams above %zu bytes (not used here: wsf_mask)\n",
           wsf_mask_stream_threshold());
    table("mask, out of place", OUT_OF_PLACE, 0, mrows, nmrows, dst, src, sizes, nsizes);
    table("mask, in place", IN_PLACE, 0, mrows, nmrows - 1, dst, src, sizes, nsizes);
    for (int t = 0; t < 5; t++) {
        char title[64];
        snprintf(title, sizeof title, "utf8 validate, %s", kinds[t]);
        table(title, UTF8, t, rows, nrows, dst, src, sizes, nsizes);
    }
    return 0;
}
