import CBLAS

/// Row-major single-precision GEMM on the chosen ``GemmBackend`` (oneDNN, OpenBLAS or the
/// reference), plus the one thread budget.
///
/// `gemm` computes `C[m×n] = alpha · op(A) · op(B) + beta · C`, where `op(A)` is [m×k] and `op(B)` is
/// [k×n]. With `transA`, A is stored [k×m] (leading dimension ≥ m); with `transB`, B is stored [n×k].
/// Weights are stored [out×in] and used with `transB: true`, which OpenBLAS runs as fast as NN.
#if SCALAR_DOUBLE
// The gradient-check build: the same calls in double precision.
@usableFromInline let cblas_gemv = cblas_dgemv
@usableFromInline let cblas_gemm = cblas_dgemm
#else
@usableFromInline let cblas_gemv = cblas_sgemv
@usableFromInline let cblas_gemm = cblas_sgemm
#endif

public enum BLAS {
    /// Sets the process's one thread budget: `count` threads in all, never more runnable at once.
    /// The GEMM backend in use gets `count` (oneDNN's OpenMP threads or OpenBLAS's), the backend not
    /// in use gets 1 (so it keeps no spinning pool), and our own `WorkerPool` parts (`Parallel`,
    /// packed and int8 products) are cut into `count` parts, which run on oneDNN's OpenMP team
    /// when oneDNN is the backend (one set of threads) and on the pool's own workers otherwise. A GEMM and a pool job never run at the
    /// same time (both are called from the one thread that drives a step), so at most `count`
    /// threads compute at once. On a 2-core machine oversubscribed BLAS threads collapse throughput
    /// (PLATFORM.md §3).
    ///
    /// Determinism (measured with `seq2seq bench train` weight checksums): runs with the same
    /// backend and thread count give bit-identical weights (the fast backends split the output, not
    /// the sum), but 1 and 2 threads give different bits with oneDNN and OpenBLAS, because the
    /// blocking changes the summation order. The reference backend gives the same bits at any
    /// thread count. Keep the thread count fixed across a run and its resumption.
    public static func setThreads(_ count: Int) {
        let count = max(1, count)
        budget = count
        #if !SCALAR_DOUBLE
        let backend = GemmBackend.inUse
        openblas_set_num_threads(Int32(backend == .openblas ? count : 1))
        OneDNN.setThreads(backend == .onednn ? count : 1)
        WorkerPool.sharedRunsOnOpenMP = backend == .onednn
        #else
        openblas_set_num_threads(Int32(count))
        #endif
        Parallel.threads = count
    }

    /// The thread budget of the last `setThreads` (1 until then).
    public private(set) nonisolated(unsafe) static var budget = 1

    /// The thread count the current backend uses.
    public static var threads: Int { budget }

    /// The kernel family OpenBLAS chose at run time ("Haswell", "Zen", "SkylakeX", ...; the
    /// `OPENBLAS_CORETYPE` environment variable overrides it). Bit-level results depend on it, so
    /// pinned checksums are recorded per core name.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// `C = alpha·op(A)·op(B) + beta·C` (row-major). See the type's comment for the layouts.
    /// With OpenBLAS, products with at most this many rows in A skip sgemm (which packs all of B on
    /// every call) for one sgemv per row.
    public nonisolated(unsafe) static var smallRowLimit = 8

    /// The operand to pass as A to products `C = alpha·Aᵀ·op(B) + beta·C` that all read the same
    /// A [k, m] (rows `lda` apart): a copy of A at a row stride the backend in use
    /// multiplies faster, made here once (in `scratch`, valid until its next use) when that backend
    /// would otherwise copy A in every product (oneDNN with `lda` a multiple of 4 KiB:
    /// `OneDNN.restridesTransposedOperand`), else A itself. Either way the products' values are the same.
    /// - Returns: the pointer and leading dimension to pass as `a` and `lda`.
    public static func transposedOperand(_ a: UnsafePointer<Scalar>, k: Int, m: Int, lda: Int,
                                         scratch: FloatBuffer) -> (a: UnsafePointer<Scalar>, lda: Int) {
        #if !SCALAR_DOUBLE
        if GemmBackend.inUse == .onednn, OneDNN.restridesTransposedOperand(transA: true, lda: lda) {
            let copy = scratch.reserve(k * OneDNN.restridedStride(lda))
            return (UnsafePointer(copy), OneDNN.restride(a, k: k, m: m, lda: lda, into: copy))
        }
        #endif
        return (a, lda)
    }

    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Scalar = 1,
        a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int,
        beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            // An empty sum: C = beta·C (C not read when beta = 0), on every backend alike.
            for i in 0..<m {
                let row = c + i * ldc
                if beta == 0 { row.update(repeating: 0, count: n) } else if beta != 1 { for j in 0..<n { row[j] *= beta } }
            }
            return
        }
        #if !SCALAR_DOUBLE
        switch GemmBackend.inUse {
        case .reference:
            ReferenceGemm.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                               b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: Parallel.threads)
            return
        case .onednn:
            // Every shape: oneDNN has its own few-row (gemv) kernels, generated for this CPU.
            OneDNN.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        case .openblas:
            break
        }
        #endif
        if !transA && m <= smallRowLimit && k > 0 {
            // A few rows (decoding at batch 1, small beams): OpenBLAS's sgemm packs all of B
            // (8 MB for an 8000×256 output layer) on every call, which costs more than the
            // arithmetic; one sgemv per row streams B without packing. `bench translate --preset
            // small`, batch 1, 1 thread, busy machine: greedy 14.5 → 65.9 sentences/s.
            for i in 0..<m {
                if transB {
                    cblas_gemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb),
                                a + i * lda, 1, beta, c + i * ldc, 1)
                } else {
                    cblas_gemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, b, Int32(ldb),
                                a + i * lda, 1, beta, c + i * ldc, 1)
                }
            }
            return
        }
        cblas_gemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The naive triple loop with the same contract as `gemm`, kept as its reference in tests.
    /// Accumulates in Double so that it is the more exact of the two.
    public static func referenceGemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Scalar = 1,
        a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int,
        beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Scalar(Double(alpha) * sum + old)
            }
        }
    }
}
