// The reference GEMM (see include/cgemm.h for the arithmetic it defines) and cpuid.
#include "cgemm.h"
#include <cpuid.h>
#include <string.h>

#pragma clang fp contract(off)
// The 16-float vector helpers below are always inlined into functions compiled for AVX-512 or AVX2
// (target attributes), so no call ever passes a vector through the baseline ABI that -Wpsabi warns
// about; the warning is about the helpers' signatures as written, not about any call made.
#pragma clang diagnostic ignored "-Wpsabi"
#ifdef __FAST_MATH__
#error "the kernels' bits rest on IEEE float32 arithmetic without reassociation or contraction"
#endif

enum { PANEL = 16, ROWS = 6 };

/// op(A)[i][p]
static inline __attribute__((always_inline)) float a_at(int trans_a, const float *a, long lda, long i, long p) {
    return trans_a ? a[p * lda + i] : a[i * lda + p];
}

/// panel[p][l] = op(B)[p][j0 + l] for l < width, 0 past it.
static inline __attribute__((always_inline)) void pack(int trans_b, const float *b, long ldb, long k, long j0,
                                                        long width, float *panel) {
    for (long p = 0; p < k; p++) {
        float *row = panel + p * PANEL;
        for (long l = 0; l < PANEL; l++) {
            row[l] = l < width ? (trans_b ? b[(j0 + l) * ldb + p] : b[p * ldb + j0 + l]) : 0.0f;
        }
    }
}

/// 16 floats as one value: one zmm with AVX-512, two ymm with AVX2, four xmm in baseline x86-64.
/// Lane-wise `*` and `+` are separate instructions (contraction is off in this file).
typedef float v16 __attribute__((vector_size(64), aligned(4)));

/// R rows of A (starting at i0) times one packed panel, into C's columns j0..<j0+width.
/// `TRANS_A` is a constant at every call, so the load of A folds to one addressing form.
static inline __attribute__((always_inline)) void rows_times_panel(
    const int R, const int TRANS_A, const float *a, long lda, long i0, long k, const float *panel,
    float alpha, float beta, float *c, long ldc, long j0, long width) {
    v16 acc[ROWS];
#pragma clang loop unroll(full)
    for (int r = 0; r < ROWS; r++) acc[r] = (v16){0};
    for (long p = 0; p < k; p++) {
        const v16 w = *(const v16 *)(panel + p * PANEL);
#pragma clang loop unroll(full)
        for (int r = 0; r < ROWS; r++) {
            if (r < R) {
                const float x = a_at(TRANS_A, a, lda, i0 + r, p);
                acc[r] = acc[r] + x * w;
            }
        }
    }
    for (int r = 0; r < R; r++) {
        float *out = c + (i0 + r) * ldc + j0;
        float lanes[PANEL];
        memcpy(lanes, &acc[r], sizeof lanes);
        for (long l = 0; l < width; l++) {
            float s = lanes[l];
            if (alpha != 1.0f) s = alpha * s;
            if (beta == 0.0f) out[l] = s;
            else if (beta == 1.0f) out[l] = s + out[l];
            else out[l] = s + beta * out[l];
        }
    }
}

#define ROWS_CALL(R, T) rows_times_panel(R, T, a, lda, i, k, panel, alpha, beta, c, ldc, j0, width)

/// All rows of A against one packed panel, in blocks of ROWS rows.
static inline __attribute__((always_inline)) void rows_against_panel(
    const int TRANS_A, long m, long k, const float *a, long lda, const float *panel,
    float alpha, float beta, float *c, long ldc, long j0, long width) {
    long i = 0;
    for (; i + ROWS <= m; i += ROWS) ROWS_CALL(ROWS, TRANS_A);
    switch (m - i) {
    case 1: ROWS_CALL(1, TRANS_A); break;
    case 2: ROWS_CALL(2, TRANS_A); break;
    case 3: ROWS_CALL(3, TRANS_A); break;
    case 4: ROWS_CALL(4, TRANS_A); break;
    case 5: ROWS_CALL(5, TRANS_A); break;
    default: break;
    }
}

static inline __attribute__((always_inline)) void reference_body(
    int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
    const float *b, long ldb, float beta, float *c, long ldc, long column_begin, long column_end,
    float *panel) {
    (void)n;
    for (long j0 = column_begin; j0 < column_end; j0 += PANEL) {
        const long width = column_end - j0 < PANEL ? column_end - j0 : PANEL;
        pack(trans_b, b, ldb, k, j0, width, panel);
        if (trans_a) rows_against_panel(1, m, k, a, lda, panel, alpha, beta, c, ldc, j0, width);
        else rows_against_panel(0, m, k, a, lda, panel, alpha, beta, c, ldc, j0, width);
    }
}

#define REFERENCE_ARGS int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda, \
    const float *b, long ldb, float beta, float *c, long ldc, long column_begin, long column_end, float *panel
#define REFERENCE_CALL trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, column_begin, column_end, panel

static void reference_scalar(REFERENCE_ARGS) { reference_body(REFERENCE_CALL); }
__attribute__((target("avx2"))) static void reference_avx2(REFERENCE_ARGS) { reference_body(REFERENCE_CALL); }
__attribute__((target("avx512f"))) static void reference_avx512(REFERENCE_ARGS) { reference_body(REFERENCE_CALL); }

// MARK: the packed few-row product (FMA chains)

/// Stores 16 lanes into a C row at column `column`, clipped at n.
static inline __attribute__((always_inline)) void store16(float *row, long column, long n, v16 value) {
    if (column + PANEL <= n) {
        memcpy(row + column, &value, sizeof value);
    } else {
        float lanes[PANEL];
        memcpy(lanes, &value, sizeof lanes);
        for (long l = 0; column + l < n; l++) row[column + l] = lanes[l];
    }
}

static inline __attribute__((always_inline)) v16 splat16(float x) {
    v16 v;
#pragma clang loop unroll(full)
    for (int l = 0; l < PANEL; l++) v[l] = x;
    return v;
}

static inline __attribute__((always_inline)) v16 load16(const float *p) {
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// R rows (R constant at each call) times one panel.
static inline __attribute__((always_inline)) void packed_rows_panel(
    const int R, const float *panels, long k, long n, const float *bias, const float *const *rows,
    float *c, long ldc, long p) {
    const float *w = panels + p * k * PANEL;
    const v16 b = load16(bias + p * PANEL);
    v16 acc[ROWS];
#pragma clang loop unroll(full)
    for (int r = 0; r < ROWS; r++) acc[r] = b;
    for (long j = 0; j < k; j++) {
        const v16 wj = load16(w + j * PANEL);
#pragma clang loop unroll(full)
        for (int r = 0; r < ROWS; r++) {
            if (r < R) {
                const v16 x = splat16(rows[r][j]);
                acc[r] = __builtin_elementwise_fma(x, wj, acc[r]);
            }
        }
    }
    for (int r = 0; r < R; r++) store16(c + r * ldc, p * PANEL, n, acc[r]);
}

/// One row times four panels at once: four independent chains hide the FMA latency.
static inline __attribute__((always_inline)) void packed_row_panels4(
    const float *panels, long k, long n, const float *bias, const float *row, float *c, long p) {
    const long stride = k * PANEL;
    const float *w = panels + p * stride;
    v16 a0 = load16(bias + p * PANEL), a1 = load16(bias + (p + 1) * PANEL);
    v16 a2 = load16(bias + (p + 2) * PANEL), a3 = load16(bias + (p + 3) * PANEL);
    for (long j = 0; j < k; j++) {
        const v16 x = splat16(row[j]);
        a0 = __builtin_elementwise_fma(x, load16(w + j * PANEL), a0);
        a1 = __builtin_elementwise_fma(x, load16(w + stride + j * PANEL), a1);
        a2 = __builtin_elementwise_fma(x, load16(w + 2 * stride + j * PANEL), a2);
        a3 = __builtin_elementwise_fma(x, load16(w + 3 * stride + j * PANEL), a3);
    }
    store16(c, p * PANEL, n, a0);
    store16(c, (p + 1) * PANEL, n, a1);
    store16(c, (p + 2) * PANEL, n, a2);
    store16(c, (p + 3) * PANEL, n, a3);
}

static inline __attribute__((always_inline)) void packed_body(
    const float *panels, long k, long n, const float *bias, const float *const *rows, long m,
    float *c, long ldc, long panel_begin, long panel_end) {
    for (long first = 0; first < m; first += ROWS) {
        const long count = m - first < ROWS ? m - first : ROWS;
        const float *const *r = rows + first;
        float *out = c + first * ldc;
        long p = panel_begin;
        switch (count) {
        case 1:
            for (; p + 4 <= panel_end; p += 4) packed_row_panels4(panels, k, n, bias, r[0], out, p);
            for (; p < panel_end; p++) packed_rows_panel(1, panels, k, n, bias, r, out, ldc, p);
            break;
        case 2: for (; p < panel_end; p++) packed_rows_panel(2, panels, k, n, bias, r, out, ldc, p); break;
        case 3: for (; p < panel_end; p++) packed_rows_panel(3, panels, k, n, bias, r, out, ldc, p); break;
        case 4: for (; p < panel_end; p++) packed_rows_panel(4, panels, k, n, bias, r, out, ldc, p); break;
        case 5: for (; p < panel_end; p++) packed_rows_panel(5, panels, k, n, bias, r, out, ldc, p); break;
        default: for (; p < panel_end; p++) packed_rows_panel(6, panels, k, n, bias, r, out, ldc, p); break;
        }
    }
}

#define PACKED_ARGS const float *panels, long k, long n, const float *bias, const float *const *rows, long m, \
    float *c, long ldc, long panel_begin, long panel_end
#define PACKED_CALL panels, k, n, bias, rows, m, c, ldc, panel_begin, panel_end

static void packed_scalar(PACKED_ARGS) { packed_body(PACKED_CALL); }
__attribute__((target("avx2,fma"))) static void packed_avx2(PACKED_ARGS) { packed_body(PACKED_CALL); }
__attribute__((target("avx512f"))) static void packed_avx512(PACKED_ARGS) { packed_body(PACKED_CALL); }

void cgemm_packed(int path, PACKED_ARGS) {
    switch (path) {
    case CGEMM_PATH_AVX512: packed_avx512(PACKED_CALL); break;
    case CGEMM_PATH_AVX2: packed_avx2(PACKED_CALL); break;
    default: packed_scalar(PACKED_CALL); break;
    }
}

// MARK: dispatch and cpuid

long cgemm_reference_workspace(long k) { return (k > 0 ? k : 1) * PANEL; }

void cgemm_reference(int path, int trans_a, int trans_b, long m, long n, long k, float alpha,
                     const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc,
                     long column_begin, long column_end, float *panel) {
    switch (path) {
    case CGEMM_PATH_AVX512: reference_avx512(REFERENCE_CALL); break;
    case CGEMM_PATH_AVX2: reference_avx2(REFERENCE_CALL); break;
    default: reference_scalar(REFERENCE_CALL); break;
    }
}

void cgemm_cpu_read(cgemm_cpu *cpu) {
    memset(cpu, 0, sizeof *cpu);
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return;
    const unsigned maximum = eax;
    memcpy(cpu->vendor, &ebx, 4);
    memcpy(cpu->vendor + 4, &edx, 4);
    memcpy(cpu->vendor + 8, &ecx, 4);
    __get_cpuid(1, &eax, &ebx, &ecx, &edx);
    const unsigned base_family = (eax >> 8) & 0xf, base_model = (eax >> 4) & 0xf;
    cpu->family = (int)(base_family == 0xf ? base_family + ((eax >> 20) & 0xff) : base_family);
    cpu->model = (int)(base_family == 0x6 || base_family == 0xf ? (((eax >> 16) & 0xf) << 4) | base_model : base_model);
    cpu->stepping = (int)(eax & 0xf);
    const int osxsave = (ecx >> 27) & 1;
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    const int ymm = (xcr0 & 0x6) == 0x6, zmm = ymm && (xcr0 & 0xe0) == 0xe0, tiles = (xcr0 & 0x60000) == 0x60000;
    cpu->avx = ymm && ((ecx >> 28) & 1);
    cpu->fma = ymm && ((ecx >> 12) & 1);
    if (maximum >= 7) {
        __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
        cpu->avx2 = ymm && ((ebx >> 5) & 1);
        cpu->avx512f = zmm && ((ebx >> 16) & 1);
        cpu->avx512dq = zmm && ((ebx >> 17) & 1);
        cpu->avx512bw = zmm && ((ebx >> 30) & 1);
        cpu->avx512vl = zmm && ((ebx >> 31) & 1);
        cpu->avx512vnni = zmm && ((ecx >> 11) & 1);
        cpu->avx512fp16 = zmm && ((edx >> 23) & 1);
        cpu->amx_bf16 = tiles && ((edx >> 22) & 1);
        cpu->amx_tile = tiles && ((edx >> 24) & 1);
        cpu->amx_int8 = tiles && ((edx >> 25) & 1);
        __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx);
        cpu->avxvnni = ymm && ((eax >> 4) & 1);
        cpu->avx512bf16 = zmm && ((eax >> 5) & 1);
    }
    __get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx);
    if (eax >= 0x80000004) {
        unsigned words[12];
        for (unsigned leaf = 0; leaf < 3; leaf++)
            __get_cpuid(0x80000002 + leaf, &words[leaf * 4], &words[leaf * 4 + 1], &words[leaf * 4 + 2], &words[leaf * 4 + 3]);
        char raw[49];
        memcpy(raw, words, 48);
        raw[48] = 0;
        const char *start = raw;
        while (*start == ' ') start++;
        size_t length = strlen(start);
        while (length > 0 && start[length - 1] == ' ') length--;
        memcpy(cpu->brand, start, length);
        cpu->brand[length] = 0;
    }
}
