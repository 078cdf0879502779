#if !SCALAR_DOUBLE
import CVector
#endif

/// Flat loops over Scalar buffers: the parameter store, its gradients and optimizer moments are
/// single contiguous buffers, so clipping and updates are these loops.
public enum Vector {
    /// Elements per chunk of `sumOfSquares` (the gradient norm sums in the same order).
    public static let sumOfSquaresChunk = 4096

    /// Σ x²: 8-wide Scalar partial sums per 4096-element chunk (Swift never reassociates a scalar
    /// reduction, so explicit lanes are what make it vectorize), chunk sums added in Double in
    /// chunk order, so the result does not depend on how many threads computed the chunks.
    public static func sumOfSquares(_ x: UnsafePointer<Scalar>, count: Int) -> Double {
        let chunk = sumOfSquaresChunk
        let chunks = (count + chunk - 1) / chunk
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, chunks)) { partial in
            let partial = partial.baseAddress!
            Parallel.forEachPart(count, granularity: chunk) { range in
                var i = range.lowerBound
                while i < range.upperBound {
                    let end = min(range.upperBound, i &+ chunk)
                    var acc = SIMD8<Scalar>()
                    var j = i
                    while j &+ 8 <= end {
                        let v = SIMD8<Scalar>(UnsafeBufferPointer(start: x + j, count: 8))
                        acc += v * v
                        j &+= 8
                    }
                    var tail: Scalar = 0
                    while j < end { tail += x[j] * x[j]; j &+= 1 }
                    partial[i / chunk] = Double(acc.sum()) + Double(tail)
                    i = end
                }
            }
            var total = 0.0
            for c in 0..<chunks { total += partial[c] }
            return total
        }
    }

    /// `output` [columns × rows] = aᵀ, the transpose of `a` [rows × columns] (row-major, packed),
    /// with `output`'s rows `outputStride` ≥ rows floats apart (default: packed), in 16×16 tiles so
    /// that both sides stay in cache (CVector's `cvector_transpose`), the columns split across
    /// `Parallel.threads` when large. A copy: the bits are a's; the padding is not written.
    public static func transpose(_ a: UnsafePointer<Scalar>, rows: Int, columns: Int, into output: UnsafeMutablePointer<Scalar>,
                                 outputStride: Int? = nil) {
        let ldy = outputStride ?? rows
        precondition(ldy >= rows, "transpose: output stride \(ldy) below \(rows) rows")
        #if SCALAR_DOUBLE
        // The gradient-check build: the same copy, in Swift.
        for i in 0..<rows { for j in 0..<columns { output[j &* ldy &+ i] = a[i &* columns &+ j] } }
        #else
        struct Context { let a: UnsafePointer<Scalar>, rows: Int, columns: Int, output: UnsafeMutablePointer<Scalar>, ldy: Int, path: Int32 }
        let context = Context(a: a, rows: rows, columns: columns, output: output, ldy: ldy, path: VectorKernels.path.code)
        Parallel.forEachPart(columns, granularity: 16, work: rows * columns, context: context) { raw, lo, hi in
            let c = raw.load(as: Context.self)
            cvector_transpose(c.path, c.a, c.rows, c.columns, lo, hi, c.output, c.ldy)
        }
        #endif
    }

    /// x = 0 over a large buffer, split across `Parallel.threads`.
    public static func zero(_ x: UnsafeMutablePointer<Scalar>, count: Int) {
        Parallel.forEachPart(count) { (x + $0.lowerBound).update(repeating: 0, count: $0.count) }
    }

    /// Every one of `rows` rows of `x` [rows × width] = `row` [width] (e.g. a bias before a product
    /// that adds into it), split across `Parallel.threads` when large. A copy: the bits are row's.
    public static func fillRows(_ x: UnsafeMutablePointer<Scalar>, rows: Int, width: Int, with row: UnsafePointer<Scalar>) {
        struct Context { let x: UnsafeMutablePointer<Scalar>, width: Int, row: UnsafePointer<Scalar> }
        Parallel.forEachPart(rows, work: rows * width, context: Context(x: x, width: width, row: row)) { raw, lo, hi in
            let c = raw.load(as: Context.self)
            for r in lo..<hi { (c.x + r * c.width).update(from: c.row, count: c.width) }
        }
    }

    /// y += alpha·x.
    @inlinable
    public static func axpy(_ alpha: Scalar, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>, count: Int) {
        for i in 0..<count { y[i] += alpha * x[i] }
    }

    /// y[j] += Σ_r x[r, j] for a row-major [rows, width] x whose rows are `rowStride` apart
    /// (default: width) (bias gradients). Each column sums rows in increasing order.
    @inlinable
    public static func addColumnSums(
        of x: UnsafePointer<Scalar>, rows: Int, width: Int, rowStride: Int? = nil, into y: UnsafeMutablePointer<Scalar>
    ) {
        let stride = rowStride ?? width
        for r in 0..<rows {
            let row = x + r &* stride
            for j in 0..<width { y[j] += row[j] }
        }
    }

    /// `addColumnSums` with the columns split across `Parallel.threads` threads (each column's
    /// sum keeps its order, so the result does not depend on the thread count), cut in
    /// `Parallel.columnBlock` blocks, as the products split by rows of Aᵀ cut them.
    public static func addColumnSumsInParallel(
        of x: UnsafePointer<Scalar>, rows: Int, width: Int, rowStride: Int? = nil, into y: UnsafeMutablePointer<Scalar>
    ) {
        let stride = rowStride ?? width
        Parallel.forEachPart(width, granularity: Parallel.columnBlock, work: rows * width) { columns in
            addColumnSums(of: x + columns.lowerBound, rows: rows, width: columns.count, rowStride: stride,
                          into: y + columns.lowerBound)
        }
    }

    /// Adds `bias` [width] to every row of x [rows, width].
    @inlinable
    public static func addRowVector(
        _ bias: UnsafePointer<Scalar>, to x: UnsafeMutablePointer<Scalar>, rows: Int, width: Int
    ) {
        for r in 0..<rows {
            let row = x + r &* width
            for j in 0..<width { row[j] += bias[j] }
        }
    }

    /// Copies `width` floats of each listed row of `source` [*, width] into consecutive rows of
    /// `destination` [rows.count, width] (embedding lookup, beam reordering).
    @inlinable
    public static func gatherRows<I: BinaryInteger>(
        _ source: UnsafePointer<Scalar>, rows: UnsafeBufferPointer<I>, width: Int,
        into destination: UnsafeMutablePointer<Scalar>
    ) {
        for (r, index) in rows.enumerated() {
            (destination + r &* width).update(from: source + Int(index) &* width, count: width)
        }
    }
}

/// A growable workspace buffer: allocated once and regrown only when a larger shape arrives, so
/// a training step allocates nothing after warm-up. Contents are not preserved across growth.
public final class FloatBuffer {
    public private(set) var capacity: Int = 0
    public private(set) var pointer: UnsafeMutablePointer<Scalar>

    public init(capacity: Int = 0) {
        pointer = .allocate(capacity: max(1, capacity))
        self.capacity = capacity
        pointer.initialize(repeating: 0, count: max(1, capacity))
    }

    deinit { pointer.deallocate() }

    /// Ensures room for `count` floats and returns the base pointer.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Scalar> {
        if count > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
            capacity = count
        }
        return pointer
    }
}
