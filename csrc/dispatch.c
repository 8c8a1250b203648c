/* Run-time choice of kernel variant, and the public entry points.
 *
 * The variants are the rows of VARIANTS below. One is picked once by
 * wsf_init() from CPUID (x86) or the build target (aarch64 always has NEON)
 * and its kernels stored in function pointers; after that the kernels only
 * read shared state, so they are safe to call from any number of threads. */
#include "internal.h"
#include "utf8_transcode.h"

#if defined(WSF_X86)
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

#if defined(WSF_X86)
static void cpuid(int leaf, int sub, unsigned regs[4]) {
#if defined(_MSC_VER)
    int r[4];
    __cpuidex(r, leaf, sub);
    for (int i = 0; i < 4; i++)
        regs[i] = (unsigned)r[i];
#else
    __cpuid_count(leaf, sub, regs[0], regs[1], regs[2], regs[3]);
#endif
}

static unsigned long long xcr0(void) {
#if defined(_MSC_VER)
    return _xgetbv(0);
#else
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
#endif
}

/* The CPU's leaf 7 flags (EBX, ECX) when the OS saves every register state
 * in `state` (XCR0 bits), else zeros: a flag alone does not make the
 * instructions usable. */
static void leaf7_if_saved(unsigned long long state, unsigned *ebx, unsigned *ecx) {
    unsigned r[4];
    *ebx = *ecx = 0;
    cpuid(0, 0, r);
    if (r[0] < 7)
        return;
    cpuid(1, 0, r);
    if (!(r[2] & (1u << 27)))   /* OSXSAVE */
        return;
    if ((xcr0() & state) != state)
        return;
    cpuid(7, 0, r);
    *ebx = r[1];
    *ecx = r[2];
}

/* AVX2: XCR0 bits 1-2 (XMM, YMM state); leaf 7 EBX bit 5. */
static int has_avx2(void) {
    unsigned ebx, ecx;
    leaf7_if_saved(0x6, &ebx, &ecx);
    return (ebx & (1u << 5)) != 0;
}

/* AVX-512 as WSF_AVX512_TARGET: XCR0 bits 5-7 too (opmask, the upper
 * halves of ZMM0-15, ZMM16-31); EBX bits 16 (F), 30 (BW), 31 (VL); ECX
 * bits 1 (VBMI), 6 (VBMI2); BMI1 and BMI2 (EBX bits 3, 8) and POPCNT
 * (leaf 1 ECX bit 23). */
static int has_avx512(void) {
    const unsigned need_ebx = (1u << 3) | (1u << 8) | (1u << 16) | (1u << 30) | (1u << 31);
    const unsigned need_ecx = (1u << 1) | (1u << 6);
    unsigned r[4], ebx, ecx;
    leaf7_if_saved(0xE6, &ebx, &ecx);
    cpuid(1, 0, r);
    return (ebx & need_ebx) == need_ebx && (ecx & need_ecx) == need_ecx &&
           (r[2] & (1u << 23)) && has_avx2();
}

static int has_sse2(void) {
    unsigned r[4];
    cpuid(1, 0, r);
    return (r[3] & (1u << 26)) != 0;  /* EDX bit 26 */
}

static int has_ssse3(void) {
    unsigned r[4];
    cpuid(1, 0, r);
    return (r[2] & (1u << 9)) != 0;   /* ECX bit 9 */
}

/* Bytes of the highest-level data or unified cache, from CPUID's
 * deterministic cache parameters: leaf 4 (Intel and others), or 0x8000001D
 * on AMD and Hygon, which has the same layout and needs TOPOEXT. 0 when
 * neither is there. Leaf 0x80000006's L3 size is not used: under KVM on
 * AMD EPYC it has been seen to report the whole package's L3 (320 MiB)
 * where leaf 0x8000001D gives the 32 MiB this core shares. */
static size_t last_level_cache(void) {
    unsigned r[4], leaf = 4, best_level = 0;
    char vendor[13];
    size_t best = 0;
    cpuid(0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
    if (strcmp(vendor, "AuthenticAMD") == 0 || strcmp(vendor, "HygonGenuine") == 0) {
        leaf = 0x8000001Du;
        cpuid((int)0x80000000u, 0, r);
        if (r[0] < leaf)
            return 0;
        cpuid((int)0x80000001u, 0, r);
        if (!(r[2] & (1u << 22)))   /* ECX bit 22: TOPOEXT */
            return 0;
    } else if (r[0] < leaf) {
        return 0;
    }
    for (int sub = 0; sub < 16; sub++) {
        unsigned type, level;
        uint64_t bytes;
        cpuid((int)leaf, sub, r);
        type = r[0] & 31u;   /* 0: no more caches, 1: data, 2: instruction, 3: unified */
        level = (r[0] >> 5) & 7u;
        if (type == 0)
            break;
        /* ways x partitions x line size x sets, each stored minus one. */
        bytes = (uint64_t)((r[1] >> 22) + 1) * (((r[1] >> 12) & 0x3FFu) + 1) *
                ((r[1] & 0xFFFu) + 1) * ((uint64_t)r[2] + 1);
        if (type != 2 && level >= best_level && bytes <= SIZE_MAX) {
            best_level = level;
            best = (size_t)bytes;
        }
    }
    return best;
}
#endif

/* Out of place, non-temporal stores beat ordinary ones once the buffer is
 * about 0.27-0.31 of the last-level cache (source and destination together
 * a little over half of it): below, the ordinary stores find the lines
 * still cached from the call before and streaming them to memory is up to
 * 2x slower; above, streaming wins by up to 1.6x (AVX2, Zen 4 with a 32 MiB
 * L3: crossover between 8.5 and 10 MiB in bench/mask_stream.c; numbers in
 * docs/benchmarks.md, section 2). The threshold, 5/16 of the cache, is at
 * the top of that band. The whole cache counts, not a share per core that
 * uses it: a smaller threshold would lose on an idle machine, a larger one
 * only gives up a gain. Where the size is unknown the crossover could be
 * anywhere, and nothing streams. */
static size_t default_stream_threshold(void) {
#if defined(WSF_X86)
    size_t llc = last_level_cache();
    if (llc != 0)
        return llc / 16 * 5;
#endif
    return SIZE_MAX;
}

static int always(void) { return 1; }

/* Every variant of this build, slowest first: with no name, wsf_init()
 * takes the last one the CPU supports. A new variant is a row here and its
 * own mask_*.c and utf8_*.c (declared in internal.h). */
#define MIN WSF_MASK_SIMD_MIN
static const wsf_variant VARIANTS[] = {
    /* name    supported   mask             mask_stream             mask_min
     *         utf8                   measure                  transcode */
    {"scalar", always,     wsf_mask_scalar, NULL,                   MIN,
               wsf_utf8_valid_scalar, NULL,                    NULL},
#if defined(WSF_X86)
    {"sse2",   has_sse2,   wsf_mask_sse2,   NULL,                   MIN,
               wsf_utf8_valid_sse2,   NULL,                    NULL},
    {"ssse3",  has_ssse3,  wsf_mask_sse2,   NULL,                   MIN,
               wsf_utf8_valid_ssse3,  NULL,                    NULL},
    {"avx2",   has_avx2,   wsf_mask_avx2,   wsf_mask_avx2_stream,   MIN,
               wsf_utf8_valid_avx2,   NULL,                    NULL},
    {"avx512", has_avx512, wsf_mask_avx512, wsf_mask_avx512_stream, 0,
               wsf_utf8_valid_avx512, wsf_utf8_measure_avx512, wsf_utf8_transcode_avx512},
#endif
#if defined(WSF_NEON)
    {"neon",   always,     wsf_mask_neon,   NULL,                   MIN,
               wsf_utf8_valid_neon,   NULL,                    NULL},
#endif
};
#undef MIN
#define N_VARIANTS ((int)(sizeof VARIANTS / sizeof VARIANTS[0]))

static const wsf_variant *active = &VARIANTS[0];
static wsf_mask_fn mask_impl = wsf_mask_scalar;
static wsf_mask_fn mask_stream_impl = wsf_mask_scalar;   /* mask_impl where there is none */
static size_t mask_min = WSF_MASK_SIMD_MIN;
static wsf_utf8_fn utf8_impl = wsf_utf8_valid_scalar;
static wsf_utf8_measure_fn measure_impl = NULL;
static wsf_utf8_transcode_fn transcode_impl = NULL;
static size_t stream_above = SIZE_MAX;

int wsf_kernel_count(void) { return N_VARIANTS; }

const wsf_variant *wsf_variant_at(int k) {
    return k >= 0 && k < N_VARIANTS ? &VARIANTS[k] : NULL;
}

int wsf_kernel_supported(int k) {
    const wsf_variant *v = wsf_variant_at(k);
    return v != NULL && v->supported();
}

const char *wsf_kernel_label(int k) {
    const wsf_variant *v = wsf_variant_at(k);
    return v != NULL ? v->name : "unknown";
}

static void use(const wsf_variant *v) {
    active = v;
    mask_impl = v->mask;
    mask_stream_impl = v->mask_stream != NULL ? v->mask_stream : v->mask;
    mask_min = v->mask_min;
    utf8_impl = v->utf8;
    measure_impl = v->measure;
    transcode_impl = v->transcode;
}

int wsf_init(const char *name) {
    wsf_utf8_dfa_init();
    stream_above = default_stream_threshold();
    if (name == NULL || name[0] == '\0') {
        int k = N_VARIANTS - 1;
        while (k > 0 && !VARIANTS[k].supported())
            k--;
        use(&VARIANTS[k]);
        return 0;
    }
    for (int k = 0; k < N_VARIANTS; k++) {
        if (strcmp(name, VARIANTS[k].name) == 0) {
            if (!VARIANTS[k].supported())
                return -2;
            use(&VARIANTS[k]);
            return 0;
        }
    }
    return -1;
}

const char *wsf_kernel_name(void) { return active->name; }

size_t wsf_mask_stream_threshold(void) { return stream_above; }

void wsf_set_mask_stream_threshold(size_t bytes) { stream_above = bytes; }

static inline size_t mask_with(uint8_t *dst, const uint8_t *src, size_t len,
                               const uint8_t key[4], size_t phase, int may_stream) {
    uint8_t k[8];
    for (size_t j = 0; j < 8; j++)
        k[j] = key[(phase + j) & 3];
    if (len < mask_min || (dst == src && len < WSF_MASK_SIMD_MIN))
        wsf_mask_words(dst, src, len, k);   /* small frames: no call */
    else if (may_stream && len > stream_above && dst != src)
        mask_stream_impl(dst, src, len, k);
    else
        mask_impl(dst, src, len, k);
    return (phase + len) & 3;
}

size_t wsf_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                size_t phase) {
    return mask_with(dst, src, len, key, phase, 0);
}

size_t wsf_mask_nt(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                   size_t phase) {
    return mask_with(dst, src, len, key, phase, 1);
}

int wsf_utf8_valid(const uint8_t *buf, size_t len) { return utf8_impl(buf, len); }

int wsf_utf8_measure(const uint8_t *buf, size_t len, size_t *count, uint32_t *maxchar) {
    if (measure_impl != NULL)
        return measure_impl(buf, len, count, maxchar);
    if (!utf8_impl(buf, len))
        return 0;
    *count = wsf_utf8_count_scalar(buf, len, maxchar);
    return 1;
}

int wsf_utf8_transcodes(void) { return transcode_impl != NULL; }

void wsf_utf8_transcode(void *dst, unsigned width, const uint8_t *buf, size_t len) {
    (transcode_impl != NULL ? transcode_impl : wsf_utf8_transcode_scalar)(dst, width, buf, len);
}
