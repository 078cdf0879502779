import Dispatch

/// A weight matrix W [N×K] (out×in) repacked once for products with few rows, the shape of
/// decoding: `C[m×N] = bias + A[m×K]·Wᵀ` with m ≤ a beam's rows.
///
/// Why: `cblas_sgemm` packs all of W on every call, and one `sgemv` per row reads all of W once
/// per row; at beam 5 over an 8000×256 output layer that is 40 MB of traffic per decoder step.
/// Here W is stored as panels of 16 output columns, panel p = [K][16] contiguous (zero-padded
/// past N), so one pass over W serves up to 6 rows of A with 12 SIMD8 accumulators in registers.
///
/// Several blocks [N×K_i] can be packed side by side into one K = ΣK_i (an LSTM's [Wx | Wh]),
/// so that `[x | h]·[Wx | Wh]ᵀ` is one pass. The pack is a snapshot: repack after W changes.
/// Every output is one fp32 FMA chain from the bias over k in increasing order, in both kernels,
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
        WorkerPool.shared.run(parts: parts) { part in
            let lo = panelCount * part / parts, hi = panelCount * (part + 1) / parts
            run(a, lda: lda, rows: m, c: c, ldc: ldc, panels: lo..<hi)
        }
    }

    private func run(_ a: UnsafePointer<Scalar>, lda: Int, rows m: Int, c: UnsafeMutablePointer<Scalar>, ldc: Int,
                     panels range: Range<Int>) {
        var first = 0
        while first < m {
            let count = min(6, m - first)
            if count == 1 {
                var p = range.lowerBound
                while p + 2 <= range.upperBound {
                    panels2(p, a + first * lda, c + first * ldc)
                    p += 2
                }
                if p < range.upperBound {
                    let rowsA = [UnsafePointer<Scalar>](repeating: a + first * lda, count: 6)
                    rowsA.withUnsafeBufferPointer { panelRows(p, $0.baseAddress!, 1, c + first * ldc, ldc) }
                }
            } else {
                // Fewer than 6 rows reuse the last one: the arithmetic is wasted, the pass over W is not.
                var rowsA = [UnsafePointer<Scalar>](repeating: a + (first + count - 1) * lda, count: 6)
                for r in 0..<count { rowsA[r] = a + (first + r) * lda }
                rowsA.withUnsafeBufferPointer { rowsA in
                    let a = rowsA.baseAddress!, cc = c + first * ldc
                    // A constant row count per call site: inlined, the unused accumulators of
                    // `panelRows` fold away (beam 5 does 5 rows of FMAs, not 6).
                    switch count {
                    case 2: for p in range { panelRows(p, a, 2, cc, ldc) }
                    case 3: for p in range { panelRows(p, a, 3, cc, ldc) }
                    case 4: for p in range { panelRows(p, a, 4, cc, ldc) }
                    case 5: for p in range { panelRows(p, a, 5, cc, ldc) }
                    default: for p in range { panelRows(p, a, 6, cc, ldc) }
                    }
                }
            }
            first += count
        }
    }

    /// Writes `values` (16 lanes as two halves) into C's row at panel p, clipped at N.
    @inline(__always)
    private func store(_ lo: SIMD8<Scalar>, _ hi: SIMD8<Scalar>, panel p: Int, row: UnsafeMutablePointer<Scalar>) {
        let column = p &* 16
        if column &+ 16 <= n {
            UnsafeMutableRawPointer(row + column).storeBytes(of: lo, as: SIMD8<Scalar>.self)
            UnsafeMutableRawPointer(row + (column &+ 8)).storeBytes(of: hi, as: SIMD8<Scalar>.self)
        } else {
            for j in 0..<(n &- column) { row[column &+ j] = j < 8 ? lo[j] : hi[j &- 8] }
        }
    }

    @inline(__always)
    private func load(_ p: UnsafePointer<Scalar>) -> SIMD8<Scalar> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Scalar>.self)
    }

    /// One row, two panels at once: four independent FMA chains hide the FMA latency, each the
    /// same chain (bias, then k in increasing order) as in `panelRows`.
    private func panels2(_ p: Int, _ a: UnsafePointer<Scalar>, _ c: UnsafeMutablePointer<Scalar>) {
        var w = UnsafePointer(panels + p &* k &* 16)
        let stride = k &* 16
        var lo0 = load(bias + p &* 16), hi0 = load(bias + (p &* 16 &+ 8))
        var lo1 = load(bias + (p &* 16 &+ 16)), hi1 = load(bias + (p &* 16 &+ 24))
        for j in 0..<k {
            let x = SIMD8<Scalar>(repeating: a[j])
            lo0.addProduct(load(w), x); hi0.addProduct(load(w + 8), x)
            lo1.addProduct(load(w + stride), x); hi1.addProduct(load(w + (stride &+ 8)), x)
            w += 16
        }
        store(lo0, hi0, panel: p, row: c)
        store(lo1, hi1, panel: p &+ 1, row: c)
    }

    /// Up to six rows (`a` holds six row pointers); `count` should be a constant at the call site
    /// so that the rows past it cost nothing.
    @inline(__always)
    private func panelRows(_ p: Int, _ a: UnsafePointer<UnsafePointer<Scalar>>, _ count: Int,
                           _ c: UnsafeMutablePointer<Scalar>, _ ldc: Int) {
        var w = UnsafePointer(panels + p &* k &* 16)
        let b0 = load(bias + p &* 16), b1 = load(bias + (p &* 16 &+ 8))
        var l0 = b0, h0 = b1, l1 = b0, h1 = b1, l2 = b0, h2 = b1
        var l3 = b0, h3 = b1, l4 = b0, h4 = b1, l5 = b0, h5 = b1
        let (a0, a1, a2, a3, a4, a5) = (a[0], a[1], a[2], a[3], a[4], a[5])
        for j in 0..<k {
            let lo = load(w), hi = load(w + 8)
            var x = SIMD8<Scalar>(repeating: a0[j]); l0.addProduct(lo, x); h0.addProduct(hi, x)
            if count > 1 { x = SIMD8<Scalar>(repeating: a1[j]); l1.addProduct(lo, x); h1.addProduct(hi, x) }
            if count > 2 { x = SIMD8<Scalar>(repeating: a2[j]); l2.addProduct(lo, x); h2.addProduct(hi, x) }
            if count > 3 { x = SIMD8<Scalar>(repeating: a3[j]); l3.addProduct(lo, x); h3.addProduct(hi, x) }
            if count > 4 { x = SIMD8<Scalar>(repeating: a4[j]); l4.addProduct(lo, x); h4.addProduct(hi, x) }
            if count > 5 { x = SIMD8<Scalar>(repeating: a5[j]); l5.addProduct(lo, x); h5.addProduct(hi, x) }
            w += 16
        }
        store(l0, h0, panel: p, row: c)
        if count > 1 { store(l1, h1, panel: p, row: c + ldc) }
        if count > 2 { store(l2, h2, panel: p, row: c + 2 &* ldc) }
        if count > 3 { store(l3, h3, panel: p, row: c + 3 &* ldc) }
        if count > 4 { store(l4, h4, panel: p, row: c + 4 &* ldc) }
        if count > 5 { store(l5, h5, panel: p, row: c + 5 &* ldc) }
    }
}
