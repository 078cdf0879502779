// CInt8: int8 matrix products for decoding, C[m×N] = bias + s_a·s_w·(qA[m×K]·qWᵀ), accumulated
// in int32. One packed weight layout serves three kernels chosen at run time:
//   reference  plain C over the row-major int8 rows (the definition every other path must equal);
//   avx2       vpmaddubsw + vpmaddwd + vpaddd with the sign trick (intgemm, FBGEMM);
//   avx512vnni vpdpbusd on a+128 (u8) × w (s8), minus 128·Σw per output row (FBGEMM, oneDNN).
// No file is compiled with global ISA flags: each fast function carries its own target attribute
// and is only called after __builtin_cpu_supports said the CPU has it.
//
// Shapes: N output rows of W (out), K reduction length (in), m rows of A. Values are in
// [-127, 127] (never -128), so |a|·w pairs summed by vpmaddubsw stay within int16.
#ifndef CINT8_H
#define CINT8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { CINT8_REFERENCE = 0, CINT8_AVX2 = 1, CINT8_AVX512VNNI = 2 };

/// 1 when this CPU can run `kernel`, else 0.
int cint8_kernel_available(int kernel);

/// Output rows per panel of the packed layout.
enum { CINT8_PANEL = 16 };

/// Weights as the kernels read them (all arrays owned by the caller).
typedef struct {
    /// [panels][K4/4][16][4]: for each panel of 16 output rows and each group of 4 k, the 4 bytes
    /// of row 0, then row 1, …; rows past N and k past K are zero.
    const int8_t *packed;
    /// [N][K] row-major, what the reference kernel reads.
    const int8_t *rows;
    /// [panels·16] s_w per output row, zero-padded.
    const float *scales;
    /// [panels·16] bias, zero-padded (zero without bias).
    const float *bias;
    /// [panels·16] 128·Σ_k w[n][k], subtracted by the VNNI kernel.
    const int32_t *compensation;
    long n, k, k4;
} cint8_weights;

/// Activations quantized per row: q = rne(a·127/max|a_r|), scale s_a = max|a_r|/127 (0 for a zero row).
typedef struct {
    /// [m][k4] q, zero-padded past K.
    const int8_t *q;
    /// [m][k4] |q| as unsigned bytes (the AVX2 kernel's first operand).
    const uint8_t *magnitude;
    /// [m][k4] q+128 as unsigned bytes (the VNNI kernel's first operand).
    const uint8_t *shifted;
    /// [m] s_a.
    const float *scales;
    long m;
} cint8_activations;

/// Quantizes rows a[r·lda + 0..<k] (r < m) into the buffers (each [m][k4]) and scales [m]
/// (AVX2 when the CPU has it; the same bytes as the scalar version).
void cint8_quantize_rows(const float *a, long lda, long m, long k, long k4,
                         int8_t *q, uint8_t *magnitude, uint8_t *shifted, float *scales);

/// The scalar definition of `cint8_quantize_rows` (for tests).
void cint8_quantize_rows_scalar(const float *a, long lda, long m, long k, long k4,
                                int8_t *q, uint8_t *magnitude, uint8_t *shifted, float *scales);

/// C[r][n] = bias[n] + (s_a[r]·s_w[n])·(float)Σ_k q[r][k]·w[n][k] for every row r of `a` and every
/// n in panels [panel_begin, panel_end) (clipped at N); c has leading dimension ldc. Every kernel
/// gives the same bits (the int32 sum is exact, the float epilogue is the same three operations).
void cint8_multiply(int kernel, const cint8_weights *w, const cint8_activations *a,
                    float *c, long ldc, long panel_begin, long panel_end);

/// The int32 sums alone, reference kernel: acc[r·N + n] = Σ_k q[r][k]·w[n][k] (for tests and for
/// checking other libraries' integer GEMMs).
void cint8_reference_sums(const cint8_weights *w, const cint8_activations *a, int32_t *acc);

#ifdef __cplusplus
}
#endif

#endif
