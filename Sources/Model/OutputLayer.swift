import Kernels

/// Linear output layer plus softmax cross-entropy, over the P rows that have a real target.
///
/// `W` [V, H], `b` [V]: logits z = h·Wᵀ + b [P, V]; loss = Σ_r (logsumexp(z_r) − z_r[y_r]) in nats.
/// `forward` leaves dz = softmax(z) − onehot(y) (each row finished while in the cache) and, when
/// training, adds the rows of its part that starts at row 0 to db; `backward` then implements
/// dW += dzᵀ·h, db += Σ dz over the other rows (so db is one sum over all rows, in row order),
/// dh = dz·W.
///
/// With label smoothing ε > 0 (Szegedy et al. 2016, as PyTorch's
/// `CrossEntropyLoss(label_smoothing: ε)`), the loss trained on is
/// Σ_r [(1−ε)·(logsumexp(z_r) − z_r[y_r]) + ε·mean_j(logsumexp(z_r) − z_r[j])] over the V classes,
/// kept in ``smoothedLoss``; dz is then softmax(z) − ((1−ε)·onehot(y) + ε/V).
/// `forward` still returns the plain NLL (what perplexity is made of). ε = 0 (or any ε ≤ 0) gives
/// the unsmoothed loss and dz, unchanged to the bit.
final class OutputLayer {
    let vocabulary: Int
    let hidden: Int
    let weight, bias, gradWeight, gradBias: UnsafeMutablePointer<Scalar>

    private(set) var rows = 0
    private var input: UnsafePointer<Scalar>?
    private var targets: [Int32] = []
    /// Rows 0..<biasGradientRows of dz: already in the bias gradient (see `forward`'s `training`).
    private(set) var biasGradientRows = 0
    /// A training `forward` added rows to db that its `backward` has not yet completed.
    private var biasGradientPending = false
    /// [P, V]: logits, then dz = softmax(z) − target after `forward` (what `backward` multiplies).
    let logits = FloatBuffer()
    /// [P]: log Σ exp of each row.
    let logSumExp = FloatBuffer()
    /// [P, H]: dL/dh after `backward`.
    let inputGradient = FloatBuffer()
    /// Label smoothing ε in [0, 1): the weight of the uniform distribution in the target.
    var labelSmoothing: Scalar = 0
    /// The summed smoothed loss (nats) of the last `forward`: equal to its NLL when ε = 0.
    private(set) var smoothedLoss = 0.0
    /// [P]: mean over the V classes of each row's logits z + b (only computed when ε > 0).
    private var logitMeans: [Double] = []
    var profiler: PhaseProfiler?

    /// The store its weight and gradient pointers point into: held, so that they stay valid as
    /// long as the layer lives (a test that dropped the store read freed memory).
    private let parameterStore: ParameterStore

    init(vocabulary: Int, hidden: Int, store: ParameterStore) {
        parameterStore = store
        self.vocabulary = vocabulary
        self.hidden = hidden
        let w = store.view("output.weight"), b = store.view("output.bias")
        precondition(w.count == vocabulary * hidden && b.count == vocabulary)
        (weight, gradWeight, bias, gradBias) = (w.values, w.gradients, b.values, b.gradients)
    }

    static func layout(vocabulary: Int, hidden: Int) -> [(name: String, shape: [Int])] {
        [("output.weight", [vocabulary, hidden]), ("output.bias", [vocabulary])]
    }

    /// z = h·Wᵀ + b for `rows` rows of `input` [rows, H] into `out` [rows, V]. Without
    /// `addingBias`, h·Wᵀ only: training's softmax adds the bias in its first pass over the row,
    /// the same addition, so training and inference logits agree bit for bit.
    func logits(input: UnsafePointer<Scalar>, rows: Int, into out: UnsafeMutablePointer<Scalar>, addingBias: Bool = true) {
        BLAS.gemm(transB: true, m: rows, n: vocabulary, k: hidden, a: input, lda: hidden,
                  b: weight, ldb: hidden, beta: 0, c: out, ldc: vocabulary)
        if addingBias { Vector.addRowVector(bias, to: out, rows: rows, width: vocabulary) }
    }

    /// Summed negative log-likelihood of `targets` (all non-pad) given `input` [P, H], kept alive
    /// until `backward`, and leaves dz [P, V] in `logits`. `training`: `backward` follows (before
    /// any other `forward`: precondition), and the rows of the part of the row split that starts
    /// at row 0 (all rows when P·V is too small to split) are added to the bias gradient here,
    /// while each row is in the cache (in row order; `backward` adds the rest, so db's bits are
    /// those of one sum over all rows). Without it no gradient is touched (`backward` may still
    /// follow and adds all rows). Every target must lie in 0..<V.
    func forward(input: UnsafePointer<Scalar>, targets: UnsafeBufferPointer<Int32>, training: Bool) -> Double {
        let p = targets.count, v = vocabulary
        precondition(!biasGradientPending, "OutputLayer.forward again before the training forward's backward")
        assert(targets.allSatisfy { $0 >= 0 && Int($0) < v }, "a target outside the vocabulary")
        rows = p
        biasGradientRows = 0
        biasGradientPending = training
        self.input = input
        self.targets.removeAll(keepingCapacity: true)
        self.targets.append(contentsOf: targets)
        let z = self.logits.reserve(p * v), lse = logSumExp.reserve(p)
        // h·Wᵀ without the bias: the softmax's first pass adds it, which saves a pass writing the
        // bias into every row before the GEMM.
        timed(profiler, "gemm: output") { logits(input: input, rows: p, into: z, addingBias: false) }
        return timed(profiler, "softmax") {
            var loss = 0.0
            for r in 0..<p {
                let t = Int(targets[r])
                loss -= Double(z[r &* v &+ t] + bias[t])
            }
            // Rows are independent: split them across the threads BLAS uses.
            let epsilon = labelSmoothing
            if epsilon > 0 {
                // The mean logit of each row, read before the softmax overwrites the row.
                if logitMeans.count < p { logitMeans = Array(repeating: 0, count: p) }
                logitMeans.withUnsafeMutableBufferPointer { means in
                    Parallel.forEachPart(p * v, granularity: v) { range in
                        for r in (range.lowerBound / v)..<(range.upperBound / v) {
                            let row = z + r &* v
                            var sum = 0.0
                            for j in 0..<v { sum += Double(row[j] + bias[j]) }
                            means[r] = sum / Double(v)
                        }
                    }
                }
            }
            // Each row's softmax finished into dz = softmax − target while it is in the cache (the
            // pass `backward` would otherwise make over all P·V values).
            let hit: Scalar = epsilon > 0 ? 1 - epsilon : 1, uniform = epsilon > 0 ? epsilon / Scalar(v) : 0
            // The part that starts at row 0 also adds its rows to db (in order); `backward` adds the
            // rest. Only that part writes `leading` (empty parts do not run), read after the parts
            // have joined.
            var leading = 0
            self.targets.withUnsafeBufferPointer { targets in
                Parallel.forEachPart(p * v, granularity: v) { range in
                    let first = range.lowerBound / v, count = range.count / v
                    let sums = training && first == 0 ? gradBias : nil
                    Softmax.crossEntropyGradientRows(z + range.lowerBound, rows: count, width: v, adding: bias,
                                                     targets: targets.baseAddress! + first, hit: hit, uniform: uniform,
                                                     logSumExp: lse + first, columnSums: sums)
                    if sums != nil { leading = count }
                }
            }
            biasGradientRows = leading
            for r in 0..<p { loss += Double(lse[r]) }
            if epsilon > 0 {
                // (1−ε)·NLL + ε·Σ_r (logsumexp_r − mean_j z_rj).
                var uniform = 0.0
                for r in 0..<p { uniform += Double(lse[r]) - logitMeans[r] }
                smoothedLoss = (1 - Double(epsilon)) * loss + Double(epsilon) * uniform
            } else {
                smoothedLoss = loss
            }
            return loss
        }
    }

    /// Adds dW and the rest of db (rows `biasGradientRows`..<P); leaves dL/dh in `inputGradient` [P, H].
    func backward() {
        guard let input else { preconditionFailure("OutputLayer.backward before forward") }
        biasGradientPending = false
        let p = rows, v = vocabulary
        let dz = logits.pointer
        timed(profiler, "softmax backward") {
            // db += Σ_r dz_r over the rows `forward` did not add (it left dz), columns split across
            // threads, rows in order.
            let y = gradBias, first = biasGradientRows
            Parallel.forEachPart(v, granularity: Parallel.columnBlock, work: (p - first) * v) { columns in
                for r in first..<p {
                    let row = dz + r &* v
                    for j in columns { y[j] += row[j] }
                }
            }
        }
        let dh = inputGradient.reserve(p * hidden)
        timed(profiler, "gemm: output backward") {
            BLAS.gemm(transA: true, m: v, n: hidden, k: p, a: dz, lda: v, b: input, ldb: hidden,
                      beta: 1, c: gradWeight, ldc: hidden)
            BLAS.gemm(m: p, n: hidden, k: v, a: dz, lda: v, b: weight, ldb: hidden, beta: 0, c: dh, ldc: hidden)
        }
    }
}
