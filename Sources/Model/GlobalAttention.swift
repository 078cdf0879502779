import Kernels

/// Global attention over the encoder's outputs (Luong, Pham & Manning 2015), the peer's
/// `Attention` module: for each query h_t (a decoder top output) and each source position s,
///
///     score(t, s) = h_s · h_t                        (dot)
///     score(t, s) = h_s · (W_a h_t) = (h_s W_a) · h_t  (general; keys K = M·W_a, once per sentence)
///     a_t = softmax over the sentence's real positions of score(t, ·)   (the alignment)
///     c_t = Σ_s a_t(s) h_s                           (the context)
///     h̃_t = tanh(W_c [c_t; h_t])                     (the attentional hidden state)
///
/// Tensors (PyTorch's `nn.Linear` layouts, no biases): `PREFIX.w_a.weight` W_a [H, H] (general
/// only), `PREFIX.w_c.weight` W_c [H, 2H] with the context's columns first.
///
/// Shapes, time-major like the recurrent layers: memory M [S·B, H] (row s·B+b is position s of
/// sentence b), queries Q [T·B, H], alignments [B, T, S], output [T·B, H]. Each sentence's
/// products are strided GEMMs over its rows (leading dimension B·H), so no copy is made. T = 1 is
/// one decoding step. `forward` keeps what `backward` needs; `backward` adds into the parameter
/// gradients and leaves dL/dQ and dL/dM in the layer.
///
/// Not yet wired into the decoder (issue 14: the input-feeding decoder steps through it).
final class GlobalAttention {
    enum Score: String, Sendable { case dot, general }

    let score: Score
    let hidden: Int
    /// W_a [H, H] (general) and W_c [H, 2H], with their gradients, inside a ParameterStore.
    let wa, gradWa: UnsafeMutablePointer<Scalar>?
    let wc, gradWc: UnsafeMutablePointer<Scalar>

    // Cache of the last forward pass.
    private(set) var steps = 0, sourceSteps = 0, batch = 0
    private var memory: UnsafePointer<Scalar>?, queries: UnsafePointer<Scalar>?
    private var lengths: [Int] = []
    /// [S·B, H]: the keys (M·W_a for general; unused for dot, whose keys are M itself).
    let keys = FloatBuffer()
    /// [B, T, S]: the alignments a_t(s), 0 at padded positions.
    let alignments = FloatBuffer()
    /// [T·B, 2H]: [c_t | h_t] per row.
    let joined = FloatBuffer()
    /// [T·B, H]: h̃_t, then (in backward) dL/d(pre-activation).
    let output = FloatBuffer()
    /// [T·B, H] dL/dQ and [S·B, H] dL/dM after `backward`.
    let queryGradient = FloatBuffer(), memoryGradient = FloatBuffer()
    private let joinedGradient = FloatBuffer(), alignmentGradient = FloatBuffer(), keyGradient = FloatBuffer()

    init(score: Score, hidden: Int, store: ParameterStore, prefix: String) {
        self.score = score
        self.hidden = hidden
        if score == .general {
            let a = store.view("\(prefix).w_a.weight")
            precondition(a.count == hidden * hidden, "\(prefix).w_a.weight holds \(a.count) floats, expected \(hidden)×\(hidden)")
            (wa, gradWa) = (a.values, a.gradients)
        } else {
            (wa, gradWa) = (nil, nil)
        }
        let c = store.view("\(prefix).w_c.weight")
        precondition(c.count == 2 * hidden * hidden, "\(prefix).w_c.weight holds \(c.count) floats, expected \(hidden)×\(2 * hidden)")
        (wc, gradWc) = (c.values, c.gradients)
    }

    /// Names and shapes of the layer's tensors, in store order.
    static func layout(score: Score, hidden: Int, prefix: String) -> [(name: String, shape: [Int])] {
        (score == .general ? [("\(prefix).w_a.weight", [hidden, hidden])] : []) + [("\(prefix).w_c.weight", [hidden, 2 * hidden])]
    }

    /// The keys of `score` for memory M [S·B, H]: M itself (dot) or M·W_a (general).
    private func keyRows(_ memory: UnsafePointer<Scalar>, rows: Int) -> UnsafePointer<Scalar> {
        guard let wa else { return memory }
        let k = keys.reserve(rows * hidden)
        BLAS.gemm(m: rows, n: hidden, k: hidden, a: memory, lda: hidden, b: wa, ldb: hidden, beta: 0, c: k, ldc: hidden)
        return UnsafePointer(k)
    }

    /// h̃ [T·B, H] for queries Q [T·B, H] over memory M [S·B, H]; sentence b has `lengths[b]`
    /// real positions (1...S), the rest padding. Q and M must stay alive until `backward`.
    func forward(queries q: UnsafePointer<Scalar>, steps t: Int, memory m: UnsafePointer<Scalar>, sourceSteps s: Int,
                 lengths: [Int]) -> UnsafePointer<Scalar> {
        let b = lengths.count, h = hidden
        precondition(lengths.allSatisfy { $0 >= 1 && $0 <= s }, "attention: source lengths \(lengths) outside 1...\(s)")
        (steps, sourceSteps, batch, memory, queries, self.lengths) = (t, s, b, m, q, lengths)
        let k = keyRows(m, rows: s * b)
        let a = alignments.reserve(b * t * s)
        let cq = joined.reserve(t * b * 2 * h)
        for row in 0..<b {
            let n = lengths[row], ab = a + row * t * s
            // scores [T, n] = Q_b · K_bᵀ over the sentence's real positions (strided rows).
            BLAS.gemm(transB: true, m: t, n: n, k: h, a: q + row * h, lda: b * h, b: k + row * h, ldb: b * h,
                      beta: 0, c: ab, ldc: s)
            for step in 0..<t {
                let r = ab + step * s
                var maximum = -Scalar.infinity
                for j in 0..<n { maximum = max(maximum, r[j]) }
                var sum: Scalar = 0
                for j in 0..<n { r[j] = Activation.exp(r[j] - maximum); sum += r[j] }
                let inverse = 1 / sum
                for j in 0..<n { r[j] *= inverse }
                for j in n..<s { r[j] = 0 }
            }
            // contexts [T, H] = A_b [T, n] · M_b [n, H], into the first half of [c | h].
            BLAS.gemm(m: t, n: h, k: n, a: ab, lda: s, b: m + row * h, ldb: b * h, beta: 0,
                      c: cq + row * 2 * h, ldc: b * 2 * h)
        }
        for r in 0..<(t * b) { (cq + r * 2 * h + h).update(from: q + r * h, count: h) }
        let out = output.reserve(t * b * h)
        BLAS.gemm(transB: true, m: t * b, n: h, k: 2 * h, a: cq, lda: 2 * h, b: wc, ldb: 2 * h, beta: 0, c: out, ldc: h)
        for i in 0..<(t * b * h) { out[i] = Activation.tanh(out[i]) }
        return UnsafePointer(out)
    }

    /// The alignment of query step t of sentence b over the source positions, [S] (sums to 1 over
    /// the real positions, 0 at padding).
    func alignment(step t: Int, sentence b: Int) -> [Scalar] {
        Array(UnsafeBufferPointer(start: alignments.pointer + (b * steps + t) * sourceSteps, count: sourceSteps))
    }

    /// Backpropagation from dL/dh̃ [T·B, H]: adds dL/dW_c (and dL/dW_a) into the gradients and
    /// leaves dL/dQ [T·B, H] in `queryGradient` and dL/dM [S·B, H] in `memoryGradient`.
    ///
    ///     dZ = dh̃ ⊙ (1 − h̃²);  dW_c += dZᵀ·[C|Q];  [dC | dQ] = dZ·W_c
    ///     per sentence: dA = dC·Mᵀ;  dM += Aᵀ·dC;  dS = A ⊙ (dA − Σ_s dA ⊙ A);  dQ += dS·K;  dK = dSᵀ·Q
    ///     general: dW_a += Mᵀ·dK, dM += dK·W_aᵀ;  dot: dM += dK
    func backward(outputGradient: UnsafePointer<Scalar>) {
        guard let m = memory, let q = queries else { preconditionFailure("GlobalAttention.backward before forward") }
        let (t, s, b, h) = (steps, sourceSteps, batch, hidden)
        let out = output.pointer, cq = joined.pointer, a = alignments.pointer
        for i in 0..<(t * b * h) { out[i] = outputGradient[i] * (1 - out[i] * out[i]) }
        BLAS.gemm(transA: true, m: h, n: 2 * h, k: t * b, a: out, lda: h, b: cq, ldb: 2 * h, beta: 1, c: gradWc, ldc: 2 * h)
        let dcq = joinedGradient.reserve(t * b * 2 * h)
        BLAS.gemm(m: t * b, n: 2 * h, k: h, a: out, lda: h, b: wc, ldb: 2 * h, beta: 0, c: dcq, ldc: 2 * h)
        let dq = queryGradient.reserve(t * b * h), dm = memoryGradient.reserve(s * b * h)
        for r in 0..<(t * b) { (dq + r * h).update(from: dcq + r * 2 * h + h, count: h) }
        dm.update(repeating: 0, count: s * b * h)
        let k: UnsafePointer<Scalar> = wa == nil ? m : UnsafePointer(keys.pointer)
        let dk: UnsafeMutablePointer<Scalar> = wa == nil ? dm : keyGradient.reserve(s * b * h)
        if wa != nil { dk.update(repeating: 0, count: s * b * h) }
        let da = alignmentGradient.reserve(t * s)
        for row in 0..<b {
            let n = lengths[row], ab = a + row * t * s
            // dA [T, n] = dC_b · M_bᵀ;  dM_b += A_bᵀ · dC_b.
            BLAS.gemm(transB: true, m: t, n: n, k: h, a: dcq + row * 2 * h, lda: b * 2 * h, b: m + row * h, ldb: b * h,
                      beta: 0, c: da, ldc: s)
            BLAS.gemm(transA: true, m: n, n: h, k: t, a: ab, lda: s, b: dcq + row * 2 * h, ldb: b * 2 * h, beta: 1,
                      c: dm + row * h, ldc: b * h)
            // Softmax backward, in place in dA: dS = A ⊙ (dA − Σ dA ⊙ A).
            for step in 0..<t {
                let ar = ab + step * s, dr = da + step * s
                var dot: Scalar = 0
                for j in 0..<n { dot += dr[j] * ar[j] }
                for j in 0..<n { dr[j] = ar[j] * (dr[j] - dot) }
            }
            // dQ_b += dS · K_b;  dK_b += dSᵀ · Q_b.
            BLAS.gemm(m: t, n: h, k: n, a: da, lda: s, b: k + row * h, ldb: b * h, beta: 1, c: dq + row * h, ldc: b * h)
            BLAS.gemm(transA: true, m: n, n: h, k: t, a: da, lda: s, b: q + row * h, ldb: b * h, beta: 1,
                      c: dk + row * h, ldc: b * h)
        }
        if let wa, let gradWa {
            // K = M·W_a:  dW_a += Mᵀ·dK;  dM += dK·W_aᵀ.
            BLAS.gemm(transA: true, m: h, n: h, k: s * b, a: m, lda: h, b: dk, ldb: h, beta: 1, c: gradWa, ldc: h)
            BLAS.gemm(transB: true, m: s * b, n: h, k: h, a: dk, lda: h, b: wa, ldb: h, beta: 1, c: dm, ldc: h)
        }
    }
}
