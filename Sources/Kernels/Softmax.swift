#if canImport(Glibc)
import Glibc
#endif
#if !SCALAR_DOUBLE
import CVector
#endif

/// Row-wise softmax and log-softmax over a row-major [rows, V] matrix, in place.
/// Max-subtracted so that large logits never overflow exp. The float32 build runs CVector's row
/// kernels (AVX-512, AVX2 or baseline, chosen at run time, the same bits; sums over 16 lanes in
/// a fixed order); the gradient-check build runs the Swift passes below (SIMD8 lane sums).
public enum Softmax {
    /// log for the element type (logf for Float, as always; log for the Double build).
    @inlinable @inline(__always)
    static func logOf(_ x: Scalar) -> Scalar {
        #if SCALAR_DOUBLE
        return log(x)
        #else
        return logf(x)
        #endif
    }

    /// Turns each row of logits into probabilities; `logSumExp[r]` receives max + log Σ exp(x − max),
    /// so that log p(j) = x_j − logSumExp[r] for the caller.
    public static func softmaxRows(
        _ x: UnsafeMutablePointer<Scalar>, rows: Int, width: Int, logSumExp: UnsafeMutablePointer<Scalar>
    ) {
        #if SCALAR_DOUBLE
        for r in 0..<rows {
            let row = x + r &* width
            let m = rowMax(row, width)
            let sum = expAndSum(row, width, subtracting: m, store: true)
            let inv = 1 / sum
            for j in 0..<width { row[j] *= inv }
            logSumExp[r] = m + logOf(sum)
        }
        #else
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows) { inverse in
            cvector_exp_rows(VectorKernels.path.code, x, rows, width, nil, logSumExp, inverse.baseAddress!)
            for r in 0..<rows {
                let row = x + r &* width, inv = inverse[r]
                for j in 0..<width { row[j] *= inv }
            }
        }
        #endif
    }

    /// Softmax cross-entropy's gradient in place, each row finished while it is in the cache: the
    /// row first replaced by x + bias (the logits of a GEMM that did not add the bias itself), then
    /// by exp(x − max) (`logSumExp[r]` = max + log Σ exp, summed as ``softmaxRows`` sums), then
    /// multiplied by 1/Σ exp and less `uniform` (when not 0), then `hit` taken from the target's
    /// column. x [rows, width], bias [width], targets [rows] (each in 0..<width), logSumExp [rows].
    /// With `hit` 1 and `uniform` 0: dz = softmax(x + b) − onehot(y); label smoothing ε (Szegedy et
    /// al. 2016, PyTorch's `label_smoothing`) passes hit 1 − ε and uniform ε/width. With
    /// `columnSums` [width], each finished row is then added to it, rows in order (a bias gradient's
    /// Σ_r dz_r, taken while the row is in the cache).
    public static func crossEntropyGradientRows(
        _ x: UnsafeMutablePointer<Scalar>, rows: Int, width: Int, adding bias: UnsafePointer<Scalar>,
        targets: UnsafePointer<Int32>, hit: Scalar, uniform: Scalar, logSumExp: UnsafeMutablePointer<Scalar>,
        columnSums: UnsafeMutablePointer<Scalar>? = nil
    ) {
        #if SCALAR_DOUBLE
        for r in 0..<rows {
            let row = x + r &* width
            let m = addAndMax(row, bias, width)
            let sum = expAndSum(row, width, subtracting: m, store: true)
            let inverse = 1 / sum
            logSumExp[r] = m + logOf(sum)
            if uniform != 0 {
                for j in 0..<width { row[j] = row[j] * inverse - uniform }
            } else {
                for j in 0..<width { row[j] *= inverse }
            }
            row[Int(targets[r])] -= hit
            if let columnSums { for j in 0..<width { columnSums[j] += row[j] } }
        }
        #else
        cvector_cross_entropy_gradient_rows(VectorKernels.path.code, x, rows, width, bias, targets, hit, uniform, logSumExp,
                                            columnSums)
        #endif
    }

    /// log-softmax of each row in place: x_j − max − log Σ exp(x − max).
    public static func logSoftmaxRows(_ x: UnsafeMutablePointer<Scalar>, rows: Int, width: Int) {
        #if SCALAR_DOUBLE
        for r in 0..<rows {
            let row = x + r &* width
            let m = rowMax(row, width)
            let sum = expAndSum(row, width, subtracting: m, store: false)
            let shift = m + logOf(sum)
            for j in 0..<width { row[j] -= shift }
        }
        #else
        cvector_log_softmax_rows(VectorKernels.path.code, x, rows, width)
        #endif
    }

    /// The weighted log-softmax of each row of `x`, [rows, width], into `y`, [rows, width]:
    /// y = weight·logsoftmax(x) when `accumulate` is false, y += weight·logsoftmax(x) otherwise
    /// (the product rounded, then the sum), one ensemble member's share of the log-linear mix.
    /// `x` is left as it is; the row's shift is ``logSoftmaxRows(_:rows:width:)``'s, so weight 1
    /// without accumulating gives its bits. `weight` must be finite and > 0 (0·(−∞) would be NaN).
    public static func weightedLogSoftmaxRows(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>,
                                              rows: Int, width: Int, weight: Scalar, accumulate: Bool) {
        #if SCALAR_DOUBLE
        for r in 0..<rows {
            let row = x + r &* width, out = y + r &* width
            let m = rowMax(row, width)
            let sum = expAndSum(UnsafeMutablePointer(mutating: row), width, subtracting: m, store: false)
            let shift = m + logOf(sum)
            if accumulate {
                for j in 0..<width { out[j] = out[j] + weight * (row[j] - shift) }
            } else {
                for j in 0..<width { out[j] = weight * (row[j] - shift) }
            }
        }
        #else
        cvector_weighted_log_softmax_rows(VectorKernels.path.code, x, y, rows, width, weight, accumulate ? 1 : 0)
        #endif
    }

    @inlinable @inline(__always)
    static func rowMax(_ row: UnsafePointer<Scalar>, _ width: Int) -> Scalar {
        var lanes = SIMD8<Scalar>(repeating: -.infinity)
        var j = 0
        while j &+ 8 <= width {
            let v = SIMD8<Scalar>(UnsafeBufferPointer(start: row + j, count: 8))
            lanes = lanes.replacing(with: v, where: v .> lanes)
            j &+= 8
        }
        var m = lanes.max()
        while j < width { if row[j] > m { m = row[j] }; j &+= 1 }
        return m
    }

    /// row += bias, returning the new row's max.
    @inlinable @inline(__always)
    static func addAndMax(_ row: UnsafeMutablePointer<Scalar>, _ bias: UnsafePointer<Scalar>, _ width: Int) -> Scalar {
        var lanes = SIMD8<Scalar>(repeating: -.infinity)
        var j = 0
        while j &+ 8 <= width {
            let p = UnsafeMutableRawPointer(row + j)
            let v = p.loadUnaligned(as: SIMD8<Scalar>.self) + UnsafeRawPointer(bias + j).loadUnaligned(as: SIMD8<Scalar>.self)
            p.storeBytes(of: v, as: SIMD8<Scalar>.self)
            lanes = lanes.replacing(with: v, where: v .> lanes)
            j &+= 8
        }
        var m = lanes.max()
        while j < width {
            row[j] += bias[j]
            if row[j] > m { m = row[j] }
            j &+= 1
        }
        return m
    }

    /// Σ exp(x − m) over the row, optionally writing exp(x − m) back into it.
    @inlinable @inline(__always)
    static func expAndSum(_ row: UnsafeMutablePointer<Scalar>, _ width: Int, subtracting m: Scalar, store: Bool) -> Scalar {
        var lanes = SIMD8<Scalar>()
        let shift = SIMD8<Scalar>(repeating: m)
        var j = 0
        while j &+ 8 <= width {
            let e = Activation.exp(SIMD8<Scalar>(UnsafeBufferPointer(start: row + j, count: 8)) - shift)
            lanes += e
            if store { UnsafeMutableRawPointer(row + j).storeBytes(of: e, as: SIMD8<Scalar>.self) }
            j &+= 8
        }
        var s = lanes.sum()
        while j < width {
            let e = Activation.exp(row[j] - m)
            if store { row[j] = e }
            s += e
            j &+= 1
        }
        return s
    }

    @inlinable @inline(__always)
    static func rowSum(_ row: UnsafePointer<Scalar>, _ width: Int) -> Scalar {
        var lanes = SIMD8<Scalar>()
        var j = 0
        while j &+ 8 <= width {
            lanes += SIMD8<Scalar>(UnsafeBufferPointer(start: row + j, count: 8))
            j &+= 8
        }
        var s = lanes.sum()
        while j < width { s += row[j]; j &+= 1 }
        return s
    }
}
