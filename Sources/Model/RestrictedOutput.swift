import Kernels

/// The output layer cut down to a subset U of the target vocabulary for one batch (a lexical
/// shortlist): the rows of W [V, H] and b [V] of the ids in U, gathered once into W_U [U, H] and
/// b_U [U], so that a decoder step's logits are z_U = h·W_Uᵀ + b_U [rows, U] instead of [rows, V].
///
/// ``logits(input:rows:packed:into:)`` is the one place the subset's product happens: a step with
/// few rows runs it on W_U packed as ``PackedWeights`` (when the session packs), a step with many
/// rows through BLAS, exactly as the full output layer does, so with U = all V ids the logits are
/// the full layer's bit for bit. (An int8 W_U would replace this type's two products.)
final class RestrictedOutput {
    /// U: the ascending target ids scored.
    let ids: [Int32]
    let hidden: Int
    /// [U, H] and [U]: the gathered rows of W and b.
    private let weight: FloatBuffer, bias: FloatBuffer
    /// W_U and b_U packed for steps with few rows; nil when the session never packs.
    private let packedWeights: PackedWeights?

    init(_ layer: OutputLayer, ids: [Int32], packing: Bool) {
        let h = layer.hidden, u = ids.count
        self.ids = ids
        hidden = h
        let weight = FloatBuffer(capacity: u * h), bias = FloatBuffer(capacity: u)
        ids.withUnsafeBufferPointer {
            Vector.gatherRows(layer.weight, rows: $0, width: h, into: weight.pointer)
            Vector.gatherRows(layer.bias, rows: $0, width: 1, into: bias.pointer)
        }
        (self.weight, self.bias) = (weight, bias)
        packedWeights = packing ? PackedWeights(blocks: [(UnsafePointer(weight.pointer), h)], rows: u, bias: bias.pointer) : nil
    }

    /// z_U = h·W_Uᵀ + b_U for `rows` rows of `input` [rows, H] into `out` [rows, U]; on the packed
    /// W_U when `packed` (and packing was asked for), else through BLAS.
    func logits(input: UnsafePointer<Scalar>, rows: Int, packed: Bool, into out: UnsafeMutablePointer<Scalar>) {
        let u = ids.count
        if packed, let packedWeights {
            packedWeights.multiply(input, lda: hidden, rows: rows, into: out, ldc: u)
        } else {
            BLAS.gemm(transB: true, m: rows, n: u, k: hidden, a: input, lda: hidden,
                      b: weight.pointer, ldb: hidden, beta: 0, c: out, ldc: u)
            Vector.addRowVector(bias.pointer, to: out, rows: rows, width: u)
        }
    }
}
