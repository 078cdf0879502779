import Model

/// The GEMMs of one training step, for timing GEMM libraries on exactly what training runs.
extension TrainBenchmark {
    /// One GEMM shape of the step: `C[m×n] = op(A)·op(B)`, issued `count` times per step.
    public struct GemmShape: Sendable {
        public var name: String
        public var transA: Bool, transB: Bool
        public var m: Int, n: Int, k: Int
        public var count: Int
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// The products of `trainStep` (per stack: input projection of all steps, one recurrence
    /// product per step; backward: dX, dWx, the recurrent dH per step, dWh as one product over all
    /// steps; output layer forward and both gradients). Layer 0 and upper layers differ only in
    /// the input width In (merged when E = H); layer 0's dX is the embeddings' gradient. The bench
    /// writes C with beta 0 where training often accumulates (beta 1), and has no padding.
    public var gemmShapes: [GemmShape] {
        let (b, e, h, l, v) = (batchSize, model.embedding, model.hidden, model.layers, model.targetVocabularySize)
        var shapes: [GemmShape] = []
        for (side, steps) in [("encoder", sourceLength), ("decoder", targetLength)] {
            for (input, layers) in (e == h ? [(e, l)] : [(e, 1), (h, l - 1)]) where layers > 0 {
                shapes.append(GemmShape(name: "\(side) input projection, In \(input)", transA: false, transB: true,
                                        m: steps * b, n: 4 * h, k: input, count: layers))
                shapes.append(GemmShape(name: "\(side) backward dX, In \(input)", transA: false, transB: false,
                                        m: steps * b, n: input, k: 4 * h, count: layers))
                shapes.append(GemmShape(name: "\(side) backward dWx, In \(input)", transA: true, transB: false,
                                        m: 4 * h, n: input, k: steps * b, count: layers))
            }
            // Training copies Whᵀ once per sequence and runs the recurrence as h·(Whᵀ): NN.
            shapes.append(GemmShape(name: "\(side) recurrence (per step)", transA: false, transB: false,
                                    m: b, n: 4 * h, k: h, count: steps * l))
            shapes.append(GemmShape(name: "\(side) backward dH (per step)", transA: false, transB: false,
                                    m: b, n: h, k: 4 * h, count: steps * l))
            shapes.append(GemmShape(name: "\(side) backward dWh", transA: true, transB: false,
                                    m: 4 * h, n: h, k: steps * b, count: l))
        }
        let p = targetLength * b
        shapes.append(GemmShape(name: "output logits", transA: false, transB: true, m: p, n: v, k: h, count: 1))
        shapes.append(GemmShape(name: "output backward dH", transA: false, transB: false, m: p, n: h, k: v, count: 1))
        shapes.append(GemmShape(name: "output backward dW", transA: true, transB: false, m: v, n: h, k: p, count: 1))
        return shapes
    }
}
