#if canImport(Glibc)
import Glibc
#endif

/// Row-wise softmax and log-softmax over a row-major [rows, V] matrix, in place.
/// Max-subtracted so that large logits never overflow exp.
public enum Softmax {
    /// Turns each row of logits into probabilities and returns nothing else; `logSumExp[r]`
    /// receives max + log Σ exp(x − max), so that log p(j) = x_j − logSumExp[r] for the caller.
    @inlinable
    public static func softmaxRows(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, logSumExp: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let row = x + r &* width
            let m = rowMax(row, width)
            var sum: Float = 0
            for j in 0..<width {
                let e = expf(row[j] - m)
                row[j] = e
                sum += e
            }
            let inv = 1 / sum
            for j in 0..<width { row[j] *= inv }
            logSumExp[r] = m + logf(sum)
        }
    }

    /// log-softmax of each row in place: x_j − max − log Σ exp(x − max).
    @inlinable
    public static func logSoftmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let row = x + r &* width
            let m = rowMax(row, width)
            var sum: Float = 0
            for j in 0..<width { sum += expf(row[j] - m) }
            let shift = m + logf(sum)
            for j in 0..<width { row[j] -= shift }
        }
    }

    @inlinable @inline(__always)
    static func rowMax(_ row: UnsafeMutablePointer<Float>, _ width: Int) -> Float {
        var m = -Float.infinity
        for j in 0..<width where row[j] > m { m = row[j] }
        return m
    }
}
