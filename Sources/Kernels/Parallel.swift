import Dispatch

/// Splits elementwise work that is not a GEMM (softmax rows, optimizer loops) across the same
/// number of threads as BLAS, so the second core is not idle between GEMMs. Work is cut into
/// fixed parts that do not depend on timing, so results are deterministic.
public enum Parallel {
    /// Worker count; `BLAS.setThreads` keeps it equal to the BLAS thread count.
    nonisolated(unsafe) public static var threads = 1

    /// Below this many elements a split costs more than it saves (a dispatch is ~10 µs).
    public static let minimumElements = 1 << 16

    /// Calls `body(range)` for `threads` contiguous parts of 0..<columns (16-aligned bounds),
    /// when the work of `elements` is large enough to be worth splitting.
    public static func forEachPart(_ elements: Int, columns: Int, _ body: (Range<Int>) -> Void) {
        let parts = elements >= minimumElements && columns >= 32 ? threads : 1
        if parts <= 1 {
            body(0..<columns)
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = p == 0 ? 0 : min(columns, columns * p / parts / 16 * 16)
            let hi = p == parts - 1 ? columns : min(columns, columns * (p + 1) / parts / 16 * 16)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Calls `body(range)` for `threads` contiguous parts of 0..<count (once when small).
    public static func forEachPart(_ count: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = count >= minimumElements ? threads : 1
        if parts <= 1 {
            body(0..<count)
            return
        }
        // Part boundaries are multiples of `granularity` (rows, or reduction chunks).
        let units = (count + granularity - 1) / granularity
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = min(count, units * p / parts * granularity)
            let hi = min(count, units * (p + 1) / parts * granularity)
            if lo < hi { body(lo..<hi) }
        }
    }
}
