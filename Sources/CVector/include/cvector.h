// CVector: the elementwise and row kernels of training and decoding (tanh, sigmoid, the softmax
// rows), compiled once per instruction set (AVX-512, AVX2, baseline x86-64) from one C source and
// chosen at run time, so one binary runs every CPU at its best. No FMA contraction (pragma in the
// file) and the same operations in the same order on every path: a result's bits do not depend on
// the CPU. The approximations are those of Swift's `Activation` (Kernels): Eigen's rational tanh,
// σ(x) = 0.5 + 0.5·tanh(x/2), Cephes' expf with 2^n from the exponent bits.
#ifndef CVECTOR_H
#define CVECTOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { CVECTOR_PATH_SCALAR = 0, CVECTOR_PATH_AVX2 = 1, CVECTOR_PATH_AVX512 = 2 };

/// x[i] = tanh(x[i]) for i < n (|error| ≤ ~3e-7).
void cvector_tanh(int path, float *x, long n);
/// x[i] = σ(x[i]) for i < n.
void cvector_sigmoid(int path, float *x, long n);

/// For each of `rows` rows of x [rows × width]: x += bias [width] (when bias is not NULL), m = the
/// row's max, x = exp(x − m), s = Σ x (16 lane sums over j in increasing order, then lanes 0…15,
/// then the tail in order), inverse_sum[r] = 1/s, log_sum_exp[r] = m + logf(s).
void cvector_exp_rows(int path, float *x, long rows, long width, const float *bias,
                      float *log_sum_exp, float *inverse_sum);

/// Softmax cross-entropy's gradient in place, one row at a time while it is in the cache: each row
/// as cvector_exp_rows leaves it (bias added when not NULL, log_sum_exp[r] = m + logf(s)), then
/// x = x·(1/s) − uniform (x·(1/s) when uniform is 0), then x[targets[r]] = x[targets[r]] − hit.
/// With hit 1 and uniform 0 that is dz = softmax(x) − onehot(target); label smoothing ε passes
/// hit 1 − ε and uniform ε/width. targets[r] must lie in 0 ..< width. When column_sums
/// [width] is not NULL, each finished row is then added to it (column_sums[j] + x[j], rows in order):
/// the bias gradient's sum over these rows, taken while the row is in the cache.
void cvector_cross_entropy_gradient_rows(int path, float *x, long rows, long width, const float *bias,
                                         const int32_t *targets, float hit, float uniform, float *log_sum_exp,
                                         float *column_sums);

/// log-softmax of each row in place: x − (m + logf(Σ exp(x − m))), with the sum of cvector_exp_rows.
void cvector_log_softmax_rows(int path, float *x, long rows, long width);

/// The weighted log-softmax of each row of x [rows × width] into y [rows × width] (an ensemble's
/// log-linear mix, one member at a time): with shift the row's m + logf(Σ exp(x − m)) summed as
/// cvector_log_softmax_rows sums it, y = weight·(x − shift) when accumulate is 0, and
/// y = y + weight·(x − shift) otherwise (the product rounded, then the sum). x is not written;
/// weight 1 without accumulating gives cvector_log_softmax_rows's bits.
void cvector_weighted_log_softmax_rows(int path, const float *x, float *y, long rows, long width, float weight,
                                       int accumulate);

/// The LSTM cell's pointwise backward over one row of `width` units, in place (Swift's
/// `LSTMCell.backward` defines it): with i, f, g, o the gate activations (in gi, gf, gg, go),
/// τ = tanh c_t, c_{t−1} in `previous_cell`, dh and dc (carried) the incoming gradients:
///   dc' = dc + dh·o·(1 − τ²); gi = dc'·g·i·(1 − i); gf = dc'·c_{t−1}·f·(1 − f);
///   gg = dc'·i·(1 − g²); go = dh·τ·o·(1 − o); dc = dc'·f (each product left to right).
void cvector_lstm_backward(int path, float *gi, float *gf, float *gg, float *go, const float *tanh_cell,
                           const float *previous_cell, const float *hidden_gradient, float *cell_gradient, long width);

/// y[j][i] = x[i][j] for rows i < `rows` and columns `first_column` ≤ j < `end_column` of x [rows ×
/// columns] (row-major, packed) into y [columns × ≥ rows] with rows `y_stride` apart: a copy in
/// 16×16 tiles, the same bits on every path. Disjoint column ranges may run on different threads.
void cvector_transpose(int path, const float *x, long rows, long columns, long first_column, long end_column, float *y,
                       long y_stride);

#ifdef __cplusplus
}
#endif
#endif
