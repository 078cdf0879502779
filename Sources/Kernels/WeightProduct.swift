/// A weight matrix W [N×K] (out×in) prepared once for the products of decoding steps,
/// `C[m×N] = bias + A[m×K]·Wᵀ` (overwriting C): ``PackedWeights`` in float32, ``QuantizedWeights``
/// in int8. The decoder holds its matrices through this protocol, so one decoding path serves both
/// precisions.
public protocol WeightProduct: AnyObject {
    /// N: output width (columns of C).
    var n: Int { get }
    /// K: reduction length (columns of A).
    var k: Int { get }
    /// `C[m×N] = bias + A[m×K]·Wᵀ`; A rows have leading dimension `lda` ≥ K, C rows `ldc` ≥ N; the
    /// work is split across `threads` threads when it is large. A row's result depends neither on
    /// the other rows nor on the thread count.
    func multiply(_ a: UnsafePointer<Scalar>, lda: Int, rows m: Int, into c: UnsafeMutablePointer<Scalar>, ldc: Int,
                  threads: Int)
    /// The columns `range` of W as their own product (with the bias when `bias`), for callers that
    /// multiply parts of [x | h] apart; nil when this form does not split (float32's
    /// `PackedWeights`, whose callers use BLAS instead) or `range` is empty or outside 0..<K.
    func product(columns range: Range<Int>, bias: Bool) -> (any WeightProduct)?
}

extension WeightProduct {
    /// ``multiply(_:lda:rows:into:ldc:threads:)`` on as many threads as BLAS uses.
    public func multiply(_ a: UnsafePointer<Scalar>, lda: Int, rows m: Int, into c: UnsafeMutablePointer<Scalar>, ldc: Int) {
        multiply(a, lda: lda, rows: m, into: c, ldc: ldc, threads: Parallel.threads)
    }
}

extension PackedWeights: WeightProduct {
    public func product(columns range: Range<Int>, bias: Bool) -> (any WeightProduct)? { nil }
}
