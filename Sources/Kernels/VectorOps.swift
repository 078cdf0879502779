/// Flat loops over Float buffers: the parameter store, its gradients and optimizer moments are
/// single contiguous buffers, so clipping and updates are these loops.
public enum Vector {
    /// Σ x², accumulated in Double over 8-wide Float partial sums (Swift never reassociates a
    /// scalar reduction, so explicit lanes are what make it vectorize).
    @inlinable
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var i = 0
        let chunk = 4096
        while i < count {
            let end = min(count, i + chunk)
            var acc = SIMD8<Float>()
            var j = i
            while j + 8 <= end {
                let v = SIMD8<Float>(UnsafeBufferPointer(start: x + j, count: 8))
                acc += v * v
                j += 8
            }
            var tail: Float = 0
            while j < end { tail += x[j] * x[j]; j += 1 }
            total += Double(acc.sum()) + Double(tail)
            i = end
        }
        return total
    }

    /// x *= alpha.
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by alpha: Float) {
        for i in 0..<count { x[i] *= alpha }
    }

    /// y += alpha·x.
    @inlinable
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += alpha * x[i] }
    }

    /// y[j] += Σ_r x[r, j] for a row-major [rows, width] x (bias gradients).
    @inlinable
    public static func addColumnSums(
        of x: UnsafePointer<Float>, rows: Int, width: Int, into y: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let row = x + r &* width
            for j in 0..<width { y[j] += row[j] }
        }
    }

    /// Adds `bias` [width] to every row of x [rows, width].
    @inlinable
    public static func addRowVector(
        _ bias: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, rows: Int, width: Int
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
        _ source: UnsafePointer<Float>, rows: UnsafeBufferPointer<I>, width: Int,
        into destination: UnsafeMutablePointer<Float>
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
    public private(set) var pointer: UnsafeMutablePointer<Float>

    public init(capacity: Int = 0) {
        pointer = .allocate(capacity: max(1, capacity))
        self.capacity = capacity
        pointer.initialize(repeating: 0, count: max(1, capacity))
    }

    deinit { pointer.deallocate() }

    /// Ensures room for `count` floats and returns the base pointer.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
            capacity = count
        }
        return pointer
    }
}
