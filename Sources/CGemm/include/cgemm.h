// CGemm: the reference float32 GEMM and the CPU identification behind seq2seq's GEMM backends.
//
// The reference GEMM defines the bits every x86-64 CPU must produce:
//   C[i][j] = alpha·S + beta·C[i][j],  S = (((0 + a_i0·b_0j) + a_i1·b_1j) + …) + a_i,k-1·b_k-1,j
// with every product and every sum rounded to float32 (no FMA contraction), summed over k in
// increasing order, then `alpha·S` only when alpha ≠ 1 and `+ beta·C` only when beta ≠ 0
// (`+ C` when beta = 1; C is not read when beta = 0). Column j's result does not depend on any other
// column, so the vector paths (16 columns in one AVX-512 register, two AVX2 registers, or four
// SSE2 registers on the baseline path) give the same bits, and so does any split of the columns
// across threads. Contraction is off by pragma in the source; a build with -ffast-math or
// -ffp-contract=fast would override it, and the file refuses to compile under -ffast-math.
//
// No file is compiled with global ISA flags: each vector path carries its own target attribute and
// runs only when the caller says the CPU has it (Kernels' `VectorPath`, from cpuid: the one check
// behind every path of CGemm and CVector).
#ifndef CGEMM_H
#define CGEMM_H

#ifdef __cplusplus
extern "C" {
#endif

enum { CGEMM_PATH_SCALAR = 0, CGEMM_PATH_AVX2 = 1, CGEMM_PATH_AVX512 = 2 };

/// Floats of workspace `cgemm_reference` needs for reduction length k (one packed panel).
long cgemm_reference_workspace(long k);

/// The reference product on output columns [column_begin, column_end) of C[m×n]:
/// op(A) is [m×k] (stored [k×m] with lda ≥ m when trans_a, else [m×k] with lda ≥ k), op(B) is
/// [k×n] (stored [n×k] with ldb ≥ k when trans_b, else [k×n] with ldb ≥ n), C has ldc ≥ n.
/// `workspace` holds cgemm_reference_workspace(k) floats. `path` must be available.
void cgemm_reference(int path, int trans_a, int trans_b, long m, long n, long k, float alpha,
                     const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc,
                     long column_begin, long column_end, float *workspace);

/// The packed few-row product of decoding (Swift's `PackedWeights`):
///   C[m×N] = bias + A[m×K]·Wᵀ, W packed as panels of 16 output columns, panel p = [K][16]
///   contiguous (zero-padded past N), `bias` [panels·16] zero-padded.
/// Every output is one float32 FMA chain: bias, then + a[i][k]·w[k][j] for k in increasing order,
/// each step one fused multiply-add (vfmadd on AVX2/AVX-512, C's fmaf in the scalar path: the same
/// correctly rounded operation), so a result depends neither on the path nor on how many rows or
/// which panels are computed with it. Panels [panel_begin, panel_end) only (threads split panels).
/// `rows` holds m row pointers of A. `path` must be available (the AVX2 path also needs FMA).
void cgemm_packed(int path, const float *panels, long k, long n, const float *bias,
                  const float *const *rows, long m, float *c, long ldc, long panel_begin, long panel_end);

/// What cpuid (and xgetbv, for the operating system's register support) says of this CPU.
typedef struct {
    char vendor[13];
    /// The brand string (cpuid 0x80000002–4), trimmed; what lscpu calls "Model name".
    char brand[49];
    int family, model, stepping;
    int avx, avx2, fma, avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16, avx512fp16,
        avxvnni, amx_tile, amx_bf16, amx_int8;
} cgemm_cpu;

/// Fills `cpu` from cpuid; vector features are reported only when the OS saves their registers.
void cgemm_cpu_read(cgemm_cpu *cpu);

#ifdef __cplusplus
}
#endif
#endif
