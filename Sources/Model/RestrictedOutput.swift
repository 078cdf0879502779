import Kernels

/// The output layer cut down to a subset U of the target vocabulary for one batch (a lexical
/// shortlist): the rows of W [V, H] and b [V] of the ids in U, so that a decoder step's logits are
/// z_U = h·W_Uᵀ + b_U [rows, U] instead of [rows, V].
///
/// ``logits(input:rows:into:)`` is the one place the subset's product happens, in the session's
/// precision and exactly as the full output layer does it: float32 gathers W_U [U, H] and b_U [U]
/// once and runs a step with few rows on W_U packed as ``PackedWeights`` (when the session packs),
/// a step with many rows through BLAS; int8 selects the rows of the quantized output layer
/// (``DecoderWeights/output(selecting:)``) for steps of every size. With U = all V ids the logits
/// are the full layer's bit for bit.
final class RestrictedOutput {
    /// U: the ascending target ids scored.
    let ids: [Int32]
    let hidden: Int
    /// float32: [U, H] and [U], the gathered rows of W and b (nil in int8).
    private let weight: FloatBuffer?, bias: FloatBuffer?
    /// float32 with prepared weights: W_Uᵀ [H, U], for steps of many rows in the NN form, as the
    /// full layer runs them on ``DecoderWeights``' transposed copy (so U = V stays bit-identical).
    private let transposedWeight: FloatBuffer?
    /// W_U prepared as the session's weights are (packed float32 or int8); nil when the session
    /// never packs. Used for steps of at most `maximumRows` rows.
    private let product: (any WeightProduct)?
    private let maximumRows: Int

    init(_ layer: OutputLayer, ids: [Int32], weights: DecoderWeights?) {
        let h = layer.hidden, u = ids.count
        self.ids = ids
        hidden = h
        maximumRows = weights?.maximumRows ?? 0
        if let weights, weights.precision == .int8 {
            (weight, bias, transposedWeight) = (nil, nil, nil)
            product = weights.output(selecting: ids)
            return
        }
        let weight = FloatBuffer(capacity: u * h), bias = FloatBuffer(capacity: u)
        ids.withUnsafeBufferPointer {
            Vector.gatherRows(layer.weight, rows: $0, width: h, into: weight.pointer)
            Vector.gatherRows(layer.bias, rows: $0, width: 1, into: bias.pointer)
        }
        (self.weight, self.bias) = (weight, bias)
        if weights != nil {
            let transposed = FloatBuffer(capacity: h * u)
            Vector.transpose(weight.pointer, rows: u, columns: h, into: transposed.pointer)
            transposedWeight = transposed
        } else {
            transposedWeight = nil
        }
        product = weights != nil ? PackedWeights(blocks: [(UnsafePointer(weight.pointer), h)], rows: u, bias: bias.pointer) : nil
    }

    /// z_U = h·W_Uᵀ + b_U for `rows` rows of `input` [rows, H] into `out` [rows, U].
    func logits(input: UnsafePointer<Scalar>, rows: Int, into out: UnsafeMutablePointer<Scalar>) {
        let u = ids.count
        if let product, rows <= maximumRows {
            product.multiply(input, lda: hidden, rows: rows, into: out, ldc: u)
        } else if let transposedWeight, let bias {
            BLAS.gemm(m: rows, n: u, k: hidden, a: input, lda: hidden, b: transposedWeight.pointer, ldb: u, beta: 0, c: out, ldc: u)
            Vector.addRowVector(bias.pointer, to: out, rows: rows, width: u)
        } else if let weight, let bias {
            BLAS.gemm(transB: true, m: rows, n: u, k: hidden, a: input, lda: hidden,
                      b: weight.pointer, ldb: hidden, beta: 0, c: out, ldc: u)
            Vector.addRowVector(bias.pointer, to: out, rows: rows, width: u)
        } else {
            preconditionFailure("RestrictedOutput: int8 weights serve every row count")
        }
    }
}
