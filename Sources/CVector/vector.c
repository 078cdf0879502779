// CVector's kernels (see include/cvector.h). Each public function dispatches to one of three
// compilations of the same inline body: target("avx512f"), target("avx2") or the baseline.
#include "cvector.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)
#ifdef __FAST_MATH__
#error "the kernels' bits rest on IEEE float32 arithmetic without reassociation or contraction"
#endif

enum { LANES = 16 };
typedef float v16 __attribute__((vector_size(64), aligned(4)));

static inline __attribute__((always_inline)) float tanh1(float value) {
    const float bound = 7.90531110763549805f;
    const float x = value > bound ? bound : (value < -bound ? -bound : value);
    const float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * x;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q;
}

static inline __attribute__((always_inline)) float sigmoid1(float x) { return 0.5f + 0.5f * tanh1(0.5f * x); }

static inline __attribute__((always_inline)) float exp1(float value) {
    const float x = value > 88.3762626647949f ? 88.3762626647949f : (value < -87.3365447504f ? -87.3365447504f : value);
    const float magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
    const float shifted = x * 1.44269504088896341f + magic;
    const float n = shifted - magic;
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float e = p * r * r + r + 1.0f;
    uint32_t sbits, mbits;
    memcpy(&sbits, &shifted, 4);
    memcpy(&mbits, &magic, 4);
    const uint32_t power = (sbits - mbits + 127u) << 23;
    float scale;
    memcpy(&scale, &power, 4);
    return e * scale;
}

static inline __attribute__((always_inline)) void tanh_body(float *x, long n) {
    for (long i = 0; i < n; i++) x[i] = tanh1(x[i]);
}
static inline __attribute__((always_inline)) void sigmoid_body(float *x, long n) {
    for (long i = 0; i < n; i++) x[i] = sigmoid1(x[i]);
}

/// Σ row[j] in the documented order: 16 lane sums, lanes 0…15, then the tail.
static inline __attribute__((always_inline)) float row_sum(const float *row, long width) {
    v16 lanes = {0};
    long j = 0;
    for (; j + LANES <= width; j += LANES) {
        v16 v;
        memcpy(&v, row + j, sizeof v);
        lanes = lanes + v;
    }
    float s = 0.0f;
    for (int l = 0; l < LANES; l++) s = s + lanes[l];
    for (; j < width; j++) s = s + row[j];
    return s;
}

// The row's largest value (NaN ignored; -INFINITY for an empty or all-NaN row). Kept in 16 lanes,
// then lanes 0…15, then the tail: the same value as one running maximum (a maximum does not
// round), except which of +0 and -0 wins a tie, which no caller can see (x − m and m + logf(s) are
// the same for either).
static inline __attribute__((always_inline)) float row_max(const float *row, long width) {
    float lanes[LANES];
    for (int l = 0; l < LANES; l++) lanes[l] = -INFINITY;
    long j = 0;
    for (; j + LANES <= width; j += LANES)
        for (int l = 0; l < LANES; l++) lanes[l] = row[j + l] > lanes[l] ? row[j + l] : lanes[l];
    float m = -INFINITY;
    for (int l = 0; l < LANES; l++) m = lanes[l] > m ? lanes[l] : m;
    for (; j < width; j++) m = row[j] > m ? row[j] : m;
    return m;
}

// One row of exp_rows: row += bias (when not NULL), m = its max, row = exp(row − m), *sum = Σ row
// (row_sum's order); returns m.
static inline __attribute__((always_inline)) float exp_row(float *row, long width, const float *bias, float *sum) {
    if (bias)
        for (long j = 0; j < width; j++) row[j] = row[j] + bias[j];
    const float m = row_max(row, width);
    for (long j = 0; j < width; j++) row[j] = exp1(row[j] - m);
    *sum = row_sum(row, width);
    return m;
}

static inline __attribute__((always_inline)) void exp_rows_body(float *x, long rows, long width, const float *bias,
                                                                 float *log_sum_exp, float *inverse_sum) {
    for (long r = 0; r < rows; r++) {
        float s;
        const float m = exp_row(x + r * width, width, bias, &s);
        inverse_sum[r] = 1.0f / s;
        log_sum_exp[r] = m + logf(s);
    }
}

// exp_rows_body's row, then finished into the cross-entropy gradient while it is still in the
// cache: x = exp(x − m)·(1/s) (− uniform when uniform ≠ 0), then x[target] = x[target] − hit, then
// (when column_sums is not NULL) column_sums += x.
static inline __attribute__((always_inline)) void cross_entropy_gradient_body(
    float *x, long rows, long width, const float *bias, const int32_t *targets, float hit, float uniform,
    float *log_sum_exp, float *column_sums) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * width;
        float s;
        const float m = exp_row(row, width, bias, &s);
        const float inverse = 1.0f / s;
        log_sum_exp[r] = m + logf(s);
        if (uniform != 0.0f)
            for (long j = 0; j < width; j++) row[j] = row[j] * inverse - uniform;
        else
            for (long j = 0; j < width; j++) row[j] = row[j] * inverse;
        const long t = targets[r];
        row[t] = row[t] - hit;
        if (column_sums)
            for (long j = 0; j < width; j++) column_sums[j] = column_sums[j] + row[j];
    }
}

// The log-softmax shift of one row, m + logf(Σ exp(x − m)), summed as log_softmax_body sums it.
static inline __attribute__((always_inline)) float log_softmax_shift(const float *row, long width, float *scratch) {
    const float m = row_max(row, width);
    float s = 0.0f;
    v16 lanes = {0};
    long j = 0;
    for (; j + LANES <= width; j += LANES) {
        for (int l = 0; l < LANES; l++) scratch[l] = exp1(row[j + l] - m);
        v16 v;
        memcpy(&v, scratch, sizeof v);
        lanes = lanes + v;
    }
    for (int l = 0; l < LANES; l++) s = s + lanes[l];
    for (; j < width; j++) s = s + exp1(row[j] - m);
    return m + logf(s);
}

static inline __attribute__((always_inline)) void log_softmax_body(float *x, long rows, long width, float *scratch) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * width;
        const float shift = log_softmax_shift(row, width, scratch);
        for (long k = 0; k < width; k++) row[k] = row[k] - shift;
    }
}

static inline __attribute__((always_inline)) void weighted_log_softmax_body(
    const float *x, float *y, long rows, long width, float weight, int accumulate, float *scratch) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * width;
        float *out = y + r * width;
        const float shift = log_softmax_shift(row, width, scratch);
        if (accumulate) {
            for (long k = 0; k < width; k++) out[k] = out[k] + weight * (row[k] - shift);
        } else {
            for (long k = 0; k < width; k++) out[k] = weight * (row[k] - shift);
        }
    }
}

static inline __attribute__((always_inline)) void lstm_backward_body(
    float *restrict gi, float *restrict gf, float *restrict gg, float *restrict go, const float *restrict tc,
    const float *restrict cp, const float *restrict dh, float *restrict dc, long width) {
    for (long j = 0; j < width; j++) {
        const float i = gi[j], f = gf[j], u = gg[j], o = go[j], tau = tc[j];
        const float dhv = dh[j];
        const float dcv = dc[j] + dhv * o * (1.0f - tau * tau);
        gi[j] = dcv * u * i * (1.0f - i);
        gf[j] = dcv * cp[j] * f * (1.0f - f);
        gg[j] = dcv * i * (1.0f - u * u);
        go[j] = dhv * tau * o * (1.0f - o);
        dc[j] = dcv * f;
    }
}

static inline __attribute__((always_inline)) void transpose_body(const float *restrict x, long rows, long columns,
                                                                  long first, long end, float *restrict y, long ldy) {
    enum { TILE = 16 };
    for (long j0 = first; j0 < end; j0 += TILE) {
        const long j1 = j0 + TILE < end ? j0 + TILE : end;
        long i0 = 0;
        if (j1 - j0 == TILE) {
            // Full tiles: fixed trip counts, which the compiler turns into vector shuffles.
            for (; i0 + TILE <= rows; i0 += TILE)
                for (long j = 0; j < TILE; j++)
                    for (long i = 0; i < TILE; i++) y[(j0 + j) * ldy + i0 + i] = x[(i0 + i) * columns + j0 + j];
        }
        for (; i0 < rows; i0 += TILE) {
            const long i1 = i0 + TILE < rows ? i0 + TILE : rows;
            for (long j = j0; j < j1; j++)
                for (long i = i0; i < i1; i++) y[j * ldy + i] = x[i * columns + j];
        }
    }
}

#define DISPATCH(name, params, args)                                                       \
    static void name##_scalar params { name##_body args; }                                 \
    __attribute__((target("avx2"))) static void name##_avx2 params { name##_body args; }   \
    __attribute__((target("avx512f"))) static void name##_avx512 params { name##_body args; }

DISPATCH(tanh, (float *x, long n), (x, n))
DISPATCH(sigmoid, (float *x, long n), (x, n))
DISPATCH(exp_rows, (float *x, long rows, long width, const float *bias, float *lse, float *inv),
         (x, rows, width, bias, lse, inv))
DISPATCH(cross_entropy_gradient, (float *x, long rows, long width, const float *bias, const int32_t *targets, float hit,
                                  float uniform, float *lse, float *sums), (x, rows, width, bias, targets, hit, uniform, lse, sums))
DISPATCH(lstm_backward, (float *gi, float *gf, float *gg, float *go, const float *tc, const float *cp, const float *dh,
                         float *dc, long width), (gi, gf, gg, go, tc, cp, dh, dc, width))
DISPATCH(transpose, (const float *x, long rows, long columns, long first, long end, float *y, long ldy),
         (x, rows, columns, first, end, y, ldy))
DISPATCH(log_softmax, (float *x, long rows, long width, float *scratch), (x, rows, width, scratch))
DISPATCH(weighted_log_softmax, (const float *x, float *y, long rows, long width, float weight, int accumulate, float *scratch),
         (x, y, rows, width, weight, accumulate, scratch))

#define CHOOSE(name, path, ...)                                  \
    switch (path) {                                              \
    case CVECTOR_PATH_AVX512: name##_avx512(__VA_ARGS__); break; \
    case CVECTOR_PATH_AVX2: name##_avx2(__VA_ARGS__); break;     \
    default: name##_scalar(__VA_ARGS__); break;                  \
    }

void cvector_tanh(int path, float *x, long n) { CHOOSE(tanh, path, x, n) }
void cvector_sigmoid(int path, float *x, long n) { CHOOSE(sigmoid, path, x, n) }
void cvector_exp_rows(int path, float *x, long rows, long width, const float *bias, float *log_sum_exp,
                      float *inverse_sum) {
    CHOOSE(exp_rows, path, x, rows, width, bias, log_sum_exp, inverse_sum)
}
void cvector_cross_entropy_gradient_rows(int path, float *x, long rows, long width, const float *bias,
                                         const int32_t *targets, float hit, float uniform, float *log_sum_exp,
                                         float *column_sums) {
    CHOOSE(cross_entropy_gradient, path, x, rows, width, bias, targets, hit, uniform, log_sum_exp, column_sums)
}
void cvector_log_softmax_rows(int path, float *x, long rows, long width) {
    float scratch[LANES];
    CHOOSE(log_softmax, path, x, rows, width, scratch)
}
void cvector_weighted_log_softmax_rows(int path, const float *x, float *y, long rows, long width, float weight,
                                       int accumulate) {
    float scratch[LANES];
    CHOOSE(weighted_log_softmax, path, x, y, rows, width, weight, accumulate, scratch)
}
void cvector_lstm_backward(int path, float *gi, float *gf, float *gg, float *go, const float *tanh_cell,
                           const float *previous_cell, const float *hidden_gradient, float *cell_gradient, long width) {
    CHOOSE(lstm_backward, path, gi, gf, gg, go, tanh_cell, previous_cell, hidden_gradient, cell_gradient, width)
}
void cvector_transpose(int path, const float *x, long rows, long columns, long first_column, long end_column, float *y,
                       long y_stride) {
    CHOOSE(transpose, path, x, rows, columns, first_column, end_column, y, y_stride)
}
