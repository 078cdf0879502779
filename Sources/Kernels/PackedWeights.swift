import Dispatch
#if !SCALAR_DOUBLE
import CGemm
#endif

/// A weight matrix W [N×K] (out×in) repacked once for products with few rows, the shape of
/// decoding: `C[m×N] = bias + A[m×K]·Wᵀ` with m ≤ a beam's rows.
///
/// Why: `cblas_sgemm` packs all of W on every call, and one `sgemv` per row reads all of W once
/// per row; at beam 5 over an 8000×256 output layer that is 40 MB of traffic per decoder step.
/// Here W is stored as panels of 16 output columns, panel p = [K][16] contiguous (zero-padded
/// past N), so one pass over W serves up to 6 rows of A with their 6×16 accumulators in registers.
///
/// Several blocks [N×K_i] can be packed side by side into one K = ΣK_i (an LSTM's [Wx | Wh]),
/// so that `[x | h]·[Wx | Wh]ᵀ` is one pass. The pack is a snapshot: repack after W changes.
/// Every output is one fp32 FMA chain from the bias over k in increasing order, in every kernel
/// (CGemm's `cgemm_packed`: AVX-512, AVX2+FMA, scalar fmaf, chosen at run time),
/// so a row's result does not depend on how many rows are multiplied with it nor on the thread
/// count (threads split panels, never a sum). It differs from BLAS in the last bits.
public final class PackedWeights {
    /// Output width (columns of C).
    public let n: Int
    /// Reduction length (columns of A).
    public let k: Int
    static let panelWidth = 16
    let panelCount: Int
    /// [panelCount][K][16]
    let panels: UnsafeMutablePointer<Scalar>
    /// [panelCount·16], zero-padded; zero when packed without a bias.
    let bias: UnsafeMutablePointer<Scalar>

    /// Packs `blocks` (each row-major [N×K_i], leading dimension K_i) side by side, plus an
    /// optional bias [N].
    public init(blocks: [(weights: UnsafePointer<Scalar>, columns: Int)], rows n: Int, bias b: UnsafePointer<Scalar>?) {
        precondition(n > 0 && !blocks.isEmpty && blocks.allSatisfy { $0.columns > 0 }, "PackedWeights: empty matrix")
        self.n = n
        k = blocks.reduce(0) { $0 + $1.columns }
        let w = Self.panelWidth
        panelCount = (n + w - 1) / w
        panels = .allocate(capacity: panelCount * k * w)
        panels.initialize(repeating: 0, count: panelCount * k * w)
        bias = .allocate(capacity: panelCount * w)
        bias.initialize(repeating: 0, count: panelCount * w)
        if let b { bias.update(from: b, count: n) }
        var offset = 0
        for (weights, columns) in blocks {
            for row in 0..<n {
                let (p, lane) = (row / w, row % w)
                let panel = panels + p * k * w
                for j in 0..<columns { panel[(offset + j) * w + lane] = weights[row * columns + j] }
            }
            offset += columns
        }
    }

    deinit {
        panels.deallocate()
        bias.deallocate()
    }

    /// Products with more rows than this are better served by `BLAS.gemm` (measured with `seq2seq
    /// bench translate`: sgemm wins from about this many rows on, when each pass of W serves
    /// few rows compared with sgemm's blocking).
    public static let maximumRows = 24

    /// `C[m×N] = bias + A[m×K]·Wᵀ` (overwrites C). A rows have leading dimension `lda` ≥ K, C rows
    /// `ldc` ≥ N. Panels are split across `threads` threads (default: as many as BLAS uses) when
    /// the product is large.
    public func multiply(_ a: UnsafePointer<Scalar>, lda: Int, rows m: Int, into c: UnsafeMutablePointer<Scalar>, ldc: Int,
                         threads: Int = Parallel.threads) {
        precondition(lda >= k && ldc >= n && m >= 0, "PackedWeights.multiply: bad leading dimensions")
        if m == 0 { return }
        let parts = threads > 1 && m * n * k >= 1 << 18 ? min(threads, panelCount) : 1
        if parts == 1 {
            run(a, lda: lda, rows: m, c: c, ldc: ldc, panels: 0..<panelCount)
            return
        }
        // The parts' arguments in a struct on this stack, not a closure: nothing is allocated per call.
        var job = Job(weights: Unmanaged.passUnretained(self), a: a, lda: lda, m: m, c: c, ldc: ldc, parts: parts)
        withUnsafePointer(to: &job) { job in
            WorkerPool.shared.run(parts: parts, context: job) { raw, part in
                let job = raw.load(as: Job.self)
                let weights = job.weights.takeUnretainedValue(), count = weights.panelCount
                weights.run(job.a, lda: job.lda, rows: job.m, c: job.c, ldc: job.ldc,
                            panels: count * part / job.parts..<count * (part + 1) / job.parts)
            }
        }
    }

    /// One split product's arguments (see ``multiply(_:lda:rows:into:ldc:threads:)``).
    private struct Job {
        let weights: Unmanaged<PackedWeights>
        let a: UnsafePointer<Scalar>, lda: Int, m: Int
        let c: UnsafeMutablePointer<Scalar>, ldc: Int, parts: Int
    }

    /// Rows 0..<m of A against panels `range`: CGemm's kernel for this CPU's instruction set
    /// (AVX-512, AVX2+FMA or scalar fmaf, all the same bits), chosen at run time.
    private func run(_ a: UnsafePointer<Scalar>, lda: Int, rows m: Int, c: UnsafeMutablePointer<Scalar>, ldc: Int,
                     panels range: Range<Int>) {
        #if SCALAR_DOUBLE
        // The gradient-check build: the same FMA chains in plain Swift.
        for i in 0..<m {
            for column in (range.lowerBound &* 16)..<min(n, range.upperBound &* 16) {
                let panel = panels + (column / 16) &* k &* 16, lane = column % 16
                var sum = bias[column]
                for j in 0..<k { sum = sum.addingProduct(a[i &* lda &+ j], panel[j &* 16 &+ lane]) }
                c[i &* ldc &+ column] = sum
            }
        }
        #else
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: m) { rows in
            for i in 0..<m { rows[i] = a + i &* lda }
            cgemm_packed(Self.path.code, panels, k, n, bias, rows.baseAddress!, m, c, ldc, range.lowerBound, range.upperBound)
        }
        #endif
    }

    #if !SCALAR_DOUBLE
    /// The kernel every product runs (default: the widest this CPU has). Tests set the others to
    /// show they give the same bits; one this CPU lacks is refused.
    public nonisolated(unsafe) static var path: VectorPath = .best {
        didSet { precondition(path.isAvailable, "packed product path \(path) is not available on this CPU") }
    }
    #endif
}
