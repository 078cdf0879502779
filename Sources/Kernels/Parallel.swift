import Dispatch

/// Splits elementwise work that is not a GEMM (softmax rows, optimizer loops) across the same
/// number of threads as BLAS, so the second core is not idle between GEMMs. Work is cut into
/// fixed parts that do not depend on timing, so results are deterministic.
public enum Parallel {
    /// Worker count; `BLAS.setThreads` keeps it equal to the BLAS thread count.
    nonisolated(unsafe) public static var threads = 1

    /// Below this many elements a split is not attempted (a job on `WorkerPool` costs 1–2 µs when
    /// its workers are spinning, ~10 µs when they have parked; tuned when splits went through
    /// Dispatch, so a beam-5 batch-1 step's pointwise parts, 5–20 k elements, stay on one thread).
    public static let minimumElements = 1 << 16

    /// The block that splits of columns (and of the rows of C that are columns of Aᵀ) are cut in:
    /// the output layer's backward pass over dz, the column sums of bias gradients, the re-strided copy
    /// of Aᵀ and oneDNN products split by us. One value, so that consecutive steps over the same
    /// columns give each thread the same ones (what the VM's far phase rewards).
    public static let columnBlock = 16

    /// Part `part` of `parts` contiguous parts of 0..<count whose boundaries are multiples of
    /// `granularity` (rows, reduction chunks, `columnBlock` blocks); empty for a part with nothing.
    /// Every split of this module uses it, so that two splits of the same count and granularity
    /// give each thread the same elements (the data it wrote stays in its cache).
    @inlinable
    public static func part(_ part: Int, of parts: Int, count: Int, granularity: Int = 1) -> Range<Int> {
        let units = (count + granularity - 1) / granularity
        let lo = min(count, units * part / parts * granularity), hi = min(count, units * (part + 1) / parts * granularity)
        return lo..<max(lo, hi)
    }

    /// Calls `body(range)` for `threads` contiguous parts of 0..<count (once when small).
    /// `work` is the number of elements the whole call touches when it is not `count` (splitting
    /// the columns of a matrix: count = columns, work = rows·columns).
    public static func forEachPart(_ count: Int, granularity: Int = 1, work: Int? = nil, _ body: (Range<Int>) -> Void) {
        let parts = (work ?? count) >= minimumElements ? threads : 1
        if parts <= 1 {
            body(0..<count)
            return
        }
        WorkerPool.shared.run(parts: parts) { p in
            let range = part(p, of: parts, count: count, granularity: granularity)
            if !range.isEmpty { body(range) }
        }
    }

    /// A part of ``forEachPart(_:granularity:work:context:_:)``: `function(context, lo, hi)`.
    public typealias RangeFunction = @convention(c) (UnsafeRawPointer, Int, Int) -> Void

    /// ``forEachPart(_:granularity:work:_:)`` (the same parts) for the steps of decoding, which
    /// must not allocate: the body is a plain function called as `body(pointer to context, lo, hi)`
    /// for each part lo..<hi, `context` being the caller's arguments (a struct, on its stack).
    /// Handing a closure to the pool's threads boxes it; this allocates nothing.
    @inlinable
    public static func forEachPart<Context>(_ count: Int, granularity: Int = 1, work: Int? = nil, context: Context,
                                            _ body: RangeFunction) {
        let parts = (work ?? count) >= minimumElements ? threads : 1
        withUnsafePointer(to: context) { context in
            if parts <= 1 {
                body(context, 0, count)
                return
            }
            var job = RangeJob(count: count, granularity: granularity, parts: parts, body: body, context: context)
            withUnsafePointer(to: &job) { job in
                WorkerPool.shared.run(parts: parts, context: job) { raw, p in
                    let job = raw.load(as: RangeJob.self)
                    let range = Parallel.part(p, of: job.parts, count: job.count, granularity: job.granularity)
                    if !range.isEmpty { job.body(job.context, range.lowerBound, range.upperBound) }
                }
            }
        }
    }

    /// One ``forEachPart(_:granularity:work:context:_:)`` call's split.
    @usableFromInline
    struct RangeJob {
        @usableFromInline let count: Int, granularity: Int, parts: Int
        @usableFromInline let body: RangeFunction
        @usableFromInline let context: UnsafeRawPointer

        @usableFromInline
        init(count: Int, granularity: Int, parts: Int, body: RangeFunction, context: UnsafeRawPointer) {
            (self.count, self.granularity, self.parts, self.body, self.context) = (count, granularity, parts, body, context)
        }
    }
}
