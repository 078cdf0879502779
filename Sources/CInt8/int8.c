// int8 products with int32 accumulation: a scalar reference, an AVX2 kernel and an AVX512-VNNI
// kernel over one packed layout (see include/cint8.h). Papers and tools followed: intgemm
// (Kenneth Heafield's AVX2 `vpmaddubsw` + sign trick), FBGEMM (row-offset compensation for u8×s8),
// PyTorch's quantize_dynamic (per-row weight scales, activations quantized per call).
#include "cint8.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

// The dequantizing epilogue must be the same three roundings in every kernel: no a·b+c fused.
#pragma clang fp contract(off)

int cint8_kernel_available(int kernel) {
    __builtin_cpu_init();
    switch (kernel) {
    case CINT8_REFERENCE: return 1;
    case CINT8_AVX2: return __builtin_cpu_supports("avx2") ? 1 : 0;
    case CINT8_AVX512VNNI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") ? 1 : 0;
    default: return 0;
    }
}

__attribute__((target("avx2"))) static void quantize_rows_avx2(const float *a, long lda, long m, long k, long k4,
                                                               int8_t *q, uint8_t *magnitude, uint8_t *shifted, float *scales);

// A row whose largest |a| is `largest`: its scale s_a = largest/127 into *scale, returning 127/largest;
// or, for a zero row (or one with no finite maximum), which contributes nothing (C row = bias),
// zero bytes, s_a = 0 and a return of 0.
static inline float row_scale(float largest, long k4, int8_t *qr, uint8_t *mr, uint8_t *sr, float *scale) {
    if (!(largest > 0) || !(largest <= 3.4e38f)) {
        memset(qr, 0, (size_t)k4);
        memset(mr, 0, (size_t)k4);
        memset(sr, 128, (size_t)k4);
        *scale = 0;
        return 0;
    }
    *scale = largest / 127.0f;
    return 127.0f / largest;
}

// The definition, element by element: q = rne(clamp(a·inverse, ±127)) (NaN → 0) for j in
// from..<k, then zero padding (q 0, |q| 0, q+128 = 128) up to k4.
static inline void quantize_span(const float *row, float inverse, long from, long k, long k4,
                                 int8_t *qr, uint8_t *mr, uint8_t *sr) {
    for (long j = from; j < k; j++) {
        float x = row[j] * inverse;
        x = x > 127.0f ? 127.0f : x;
        x = x < -127.0f ? -127.0f : x;
        if (x != x) x = 0;
        // Round to nearest even: adding and subtracting 1.5·2^23 leaves the integer part (|x| ≤ 127).
        x = (x + 12582912.0f) - 12582912.0f;
        int v = (int)x;
        qr[j] = (int8_t)v;
        mr[j] = (uint8_t)(v < 0 ? -v : v);
        sr[j] = (uint8_t)(v + 128);
    }
    for (long j = k > from ? k : from; j < k4; j++) {
        qr[j] = 0;
        mr[j] = 0;
        sr[j] = 128;
    }
}

// The scalar definition; `quantize_rows_avx2` gives the same bytes and scales.
static void quantize_rows_scalar(const float *a, long lda, long m, long k, long k4,
                                 int8_t *q, uint8_t *magnitude, uint8_t *shifted, float *scales) {
    for (long r = 0; r < m; r++) {
        const float *row = a + r * lda;
        float largest = 0;
        for (long j = 0; j < k; j++) {
            float v = fabsf(row[j]);
            if (v > largest) largest = v;
        }
        int8_t *qr = q + r * k4;
        uint8_t *mr = magnitude + r * k4, *sr = shifted + r * k4;
        const float inverse = row_scale(largest, k4, qr, mr, sr, scales + r);
        if (inverse > 0) quantize_span(row, inverse, 0, k, k4, qr, mr, sr);
    }
}

void cint8_quantize_rows(const float *a, long lda, long m, long k, long k4,
                         int8_t *q, uint8_t *magnitude, uint8_t *shifted, float *scales) {
    if (cint8_kernel_available(CINT8_AVX2)) quantize_rows_avx2(a, lda, m, k, k4, q, magnitude, shifted, scales);
    else quantize_rows_scalar(a, lda, m, k, k4, q, magnitude, shifted, scales);
}

void cint8_quantize_rows_scalar(const float *a, long lda, long m, long k, long k4,
                                int8_t *q, uint8_t *magnitude, uint8_t *shifted, float *scales) {
    quantize_rows_scalar(a, lda, m, k, k4, q, magnitude, shifted, scales);
}

static inline float dequantize(int32_t sum, float sa, float sw, float b) {
    const float s = sa * sw;
    const float v = (float)sum * s;
    return v + b;
}

void cint8_reference_sums(const cint8_weights *w, const cint8_activations *a, int32_t *acc) {
    for (long r = 0; r < a->m; r++) {
        const int8_t *qa = a->q + r * w->k4;
        for (long n = 0; n < w->n; n++) {
            const int8_t *qw = w->rows + n * w->k;
            int32_t sum = 0;
            for (long j = 0; j < w->k; j++) sum += (int32_t)qa[j] * (int32_t)qw[j];
            acc[r * w->n + n] = sum;
        }
    }
}

static void reference(const cint8_weights *w, const cint8_activations *a, float *c, long ldc,
                      long panel_begin, long panel_end) {
    long first = panel_begin * CINT8_PANEL, last = panel_end * CINT8_PANEL;
    if (last > w->n) last = w->n;
    for (long r = 0; r < a->m; r++) {
        const int8_t *qa = a->q + r * w->k4;
        for (long n = first; n < last; n++) {
            const int8_t *qw = w->rows + n * w->k;
            int32_t sum = 0;
            for (long j = 0; j < w->k; j++) sum += (int32_t)qa[j] * (int32_t)qw[j];
            c[r * ldc + n] = dequantize(sum, a->scales[r], w->scales[n], w->bias[n]);
        }
    }
}

// MARK: AVX2

#define AVX2 __attribute__((target("avx2")))

// The scalar quantizer's arithmetic 32 values at a time: the maximum of |a| ignoring NaN (maxps
// returns its second operand when the first is NaN), x = a·(127/max) rounded once, NaN to 0,
// clamped to ±127, then vcvtps2dq (round to nearest even under the default MXCSR, the scalar
// 1.5·2^23 trick's result for |x| ≤ 127); the int32s are packed to bytes and put back in order.
static AVX2 void quantize_rows_avx2(const float *a, long lda, long m, long k, long k4,
                                    int8_t *q, uint8_t *magnitude, uint8_t *shifted, float *scales) {
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 high = _mm256_set1_ps(127.0f), low = _mm256_set1_ps(-127.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    for (long r = 0; r < m; r++) {
        const float *row = a + r * lda;
        __m256 lanes = _mm256_setzero_ps();
        long j = 0;
        for (; j + 8 <= k; j += 8) lanes = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(row + j), absMask), lanes);
        float part[8];
        _mm256_storeu_ps(part, lanes);
        float largest = 0;
        for (int i = 0; i < 8; i++) if (part[i] > largest) largest = part[i];
        for (; j < k; j++) {
            float v = fabsf(row[j]);
            if (v > largest) largest = v;
        }
        int8_t *qr = q + r * k4;
        uint8_t *mr = magnitude + r * k4, *sr = shifted + r * k4;
        const float inverse = row_scale(largest, k4, qr, mr, sr, scales + r);
        if (!(inverse > 0)) continue;
        const __m256 scale = _mm256_set1_ps(inverse);
        j = 0;
        for (; j + 32 <= k; j += 32) {
            __m256i v[4];
            for (int i = 0; i < 4; i++) {
                __m256 x = _mm256_mul_ps(_mm256_loadu_ps(row + j + 8 * i), scale);
                x = _mm256_and_ps(x, _mm256_cmp_ps(x, x, _CMP_ORD_Q));
                x = _mm256_max_ps(_mm256_min_ps(x, high), low);
                v[i] = _mm256_cvtps_epi32(x);
            }
            const __m256i words = _mm256_packs_epi32(v[0], v[1]), words2 = _mm256_packs_epi32(v[2], v[3]);
            const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(words, words2), order);
            _mm256_storeu_si256((__m256i *)(qr + j), bytes);
            _mm256_storeu_si256((__m256i *)(mr + j), _mm256_abs_epi8(bytes));
            _mm256_storeu_si256((__m256i *)(sr + j), _mm256_xor_si256(bytes, bias));
        }
        quantize_span(row, inverse, j, k, k4, qr, mr, sr);
    }
}

// Writes 8 outputs of one row: bias + (s_a·s_w)·(float)sum, clipped at N.
static inline __attribute__((always_inline)) AVX2 void store8(__m256i sum, float sa, const cint8_weights *w,
                                                               long column, float *row) {
    const __m256 s = _mm256_mul_ps(_mm256_set1_ps(sa), _mm256_loadu_ps(w->scales + column));
    const __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sum), s), _mm256_loadu_ps(w->bias + column));
    if (column + 8 <= w->n) {
        _mm256_storeu_ps(row + column, v);
    } else if (column < w->n) {
        float lanes[8];
        _mm256_storeu_ps(lanes, v);
        for (long j = 0; column + j < w->n; j++) row[column + j] = lanes[j];
    }
}

// One panel (16 outputs) times R rows of A. Per group of 4 k and per row: |a|'s 4 bytes and a's 4
// bytes broadcast to every int32 lane, w's bytes take a's sign (vpsignb), vpmaddubsw sums pairs
// |a_j|·(±w_j) into int16 (|·| ≤ 2·127·127 = 32258 < 32767: never saturates), vpmaddwd by 1 sums
// those pairs into int32 lanes, vpaddd accumulates. The int32 sum is exact, so equal to the reference.
static inline __attribute__((always_inline)) AVX2 void avx2_panel(const cint8_weights *w, const cint8_activations *a,
                                                                   long p, long r0, const int R, float *c, long ldc) {
    const long groups = w->k4 / 4;
    const int8_t *wp = w->packed + p * groups * 64;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i lo[6], hi[6];
    const int8_t *q[6];
    const uint8_t *mag[6];
    for (int r = 0; r < R; r++) {
        lo[r] = _mm256_setzero_si256();
        hi[r] = _mm256_setzero_si256();
        q[r] = a->q + (r0 + r) * w->k4;
        mag[r] = a->magnitude + (r0 + r) * w->k4;
    }
    for (long g = 0; g < groups; g++) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(wp + g * 64));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wp + g * 64 + 32));
        for (int r = 0; r < R; r++) {
            int32_t qs, ms;
            memcpy(&qs, q[r] + 4 * g, 4);
            memcpy(&ms, mag[r] + 4 * g, 4);
            const __m256i av = _mm256_set1_epi32(qs), am = _mm256_set1_epi32(ms);
            const __m256i p0 = _mm256_maddubs_epi16(am, _mm256_sign_epi8(w0, av));
            const __m256i p1 = _mm256_maddubs_epi16(am, _mm256_sign_epi8(w1, av));
            lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(p0, ones));
            hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(p1, ones));
        }
    }
    const long column = p * CINT8_PANEL;
    for (int r = 0; r < R; r++) {
        float *row = c + (r0 + r) * ldc;
        store8(lo[r], a->scales[r0 + r], w, column, row);
        store8(hi[r], a->scales[r0 + r], w, column + 8, row);
    }
}

// Panels per block: as many as fit in about 128 KiB (half a Zen L2), at least one.
static long panels_per_block(const cint8_weights *w) {
    long block = (128L << 10) / (CINT8_PANEL * w->k4);
    return block < 1 ? 1 : block;
}

// Rows are taken 4 at a time (8 accumulators, 2 weight registers, the broadcasts: 16 ymm), so one
// pass over a panel serves 4 rows; up to 6 rows (beam 5) go in one pass, a few spills being cheaper
// than a second pass over W when W does not fit in cache (16000×512: 390 vs 670 µs at m = 5). Panels go in blocks that stay in L2 while every block of rows
// passes over them (W is read from memory once per call for any m), and each block of rows
// writes C along its rows (row-major C is not walked down 320 pages per panel).
static AVX2 void avx2(const cint8_weights *w, const cint8_activations *a, float *c, long ldc,
                      long panel_begin, long panel_end) {
    const long block = panels_per_block(w);
    for (long first = panel_begin; first < panel_end; first += block) {
        const long last = first + block < panel_end ? first + block : panel_end;
        long r0 = 0;
        for (; r0 + 4 <= a->m && a->m > 6; r0 += 4)
            for (long p = first; p < last; p++) avx2_panel(w, a, p, r0, 4, c, ldc);
        const long rest = a->m - r0;
        for (long p = first; p < last; p++) {
            switch (rest) {
            case 6: avx2_panel(w, a, p, r0, 6, c, ldc); break;
            case 5: avx2_panel(w, a, p, r0, 5, c, ldc); break;
            case 4: avx2_panel(w, a, p, r0, 4, c, ldc); break;
            case 3: avx2_panel(w, a, p, r0, 3, c, ldc); break;
            case 2: avx2_panel(w, a, p, r0, 2, c, ldc); break;
            case 1: avx2_panel(w, a, p, r0, 1, c, ldc); break;
            default: break;
            }
        }
    }
}

// MARK: AVX512-VNNI

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

// One panel (16 outputs, one zmm of int32) times R rows: per group of 4 k, one 64-byte load of W
// and per row a broadcast of a+128's 4 bytes; vpdpbusd adds Σ (a_j+128)·w_j into each int32 lane
// (u8×s8 products, exact; the non-saturating form). Subtracting 128·Σw (packed beside the panel)
// leaves Σ a_j·w_j exactly: the same int32 as the reference.
static inline __attribute__((always_inline)) VNNI void vnni_panel(const cint8_weights *w, const cint8_activations *a,
                                                                   long p, long r0, const int R, float *c, long ldc) {
    const long groups = w->k4 / 4;
    const int8_t *wp = w->packed + p * groups * 64;
    __m512i acc[8];
    const uint8_t *sh[8];
    for (int r = 0; r < R; r++) {
        acc[r] = _mm512_setzero_si512();
        sh[r] = a->shifted + (r0 + r) * w->k4;
    }
    for (long g = 0; g < groups; g++) {
        const __m512i wv = _mm512_loadu_si512((const void *)(wp + g * 64));
        for (int r = 0; r < R; r++) {
            int32_t s;
            memcpy(&s, sh[r] + 4 * g, 4);
            acc[r] = _mm512_dpbusd_epi32(acc[r], _mm512_set1_epi32(s), wv);
        }
    }
    const long column = p * CINT8_PANEL;
    const __m512i compensation = _mm512_loadu_si512((const void *)(w->compensation + column));
    const __m512 sw = _mm512_loadu_ps(w->scales + column), bias = _mm512_loadu_ps(w->bias + column);
    long valid = w->n - column;
    const __mmask16 mask = valid >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << valid) - 1);
    for (int r = 0; r < R; r++) {
        const __m512i sum = _mm512_sub_epi32(acc[r], compensation);
        const __m512 s = _mm512_mul_ps(_mm512_set1_ps(a->scales[r0 + r]), sw);
        const __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sum), s), bias);
        _mm512_mask_storeu_ps(c + (r0 + r) * ldc + column, mask, v);
    }
}

// Rows 8 at a time (8 accumulators of 32 zmm registers; vpdpbusd's latency is hidden by 8
// independent chains), panels in L2-sized blocks as in the AVX2 kernel.
static VNNI void vnni(const cint8_weights *w, const cint8_activations *a, float *c, long ldc,
                      long panel_begin, long panel_end) {
    const long block = panels_per_block(w);
    for (long first = panel_begin; first < panel_end; first += block) {
        const long last = first + block < panel_end ? first + block : panel_end;
        long r0 = 0;
        for (; r0 + 8 <= a->m; r0 += 8)
            for (long p = first; p < last; p++) vnni_panel(w, a, p, r0, 8, c, ldc);
        for (long p = first; p < last; p++) {
            // Alike on purpose: one kernel per instruction set; each case makes R a constant, so the panel unrolls.
            switch (a->m - r0) {
            case 7: vnni_panel(w, a, p, r0, 7, c, ldc); break;
            case 6: vnni_panel(w, a, p, r0, 6, c, ldc); break;
            case 5: vnni_panel(w, a, p, r0, 5, c, ldc); break;
            case 4: vnni_panel(w, a, p, r0, 4, c, ldc); break;
            case 3: vnni_panel(w, a, p, r0, 3, c, ldc); break;
            case 2: vnni_panel(w, a, p, r0, 2, c, ldc); break;
            case 1: vnni_panel(w, a, p, r0, 1, c, ldc); break;
            default: break;
            }
        }
    }
}

void cint8_multiply(int kernel, const cint8_weights *w, const cint8_activations *a,
                    float *c, long ldc, long panel_begin, long panel_end) {
    switch (kernel) {
    case CINT8_AVX2: avx2(w, a, c, ldc, panel_begin, panel_end); break;
    case CINT8_AVX512VNNI: vnni(w, a, c, ldc, panel_begin, panel_end); break;
    default: reference(w, a, c, ldc, panel_begin, panel_end); break;
    }
}
