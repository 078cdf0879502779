import Kernels

/// Global attention over the encoder's top outputs, the peer's `Attention` module: for each query
/// h_t (a decoder top output) and each real source position s of its sentence,
///
///     score(t, s) = h_s · h_t                               (dot, Luong et al. 2015)
///     score(t, s) = h_s · (W_a h_t) = (h_s W_a) · h_t       (general; keys K = M·W_a once per sentence)
///     score(t, s) = v · tanh(W_k h_s + W_q h_t + b_q)       (mlp, Bahdanau et al. 2015; keys K = M·W_kᵀ once)
///     a_t = softmax of score(t, ·) over the sentence's real positions, 0 at padding   (the alignment)
///     c_t = Σ_s a_t(s) h_s                                  (the context)
///     h̃_t = tanh(W_c [c_t; h_t])                            (the attentional hidden state)
///
/// Tensors (PyTorch's `nn.Linear` layouts, as the peer's module): `PREFIX.w_a.weight` W_a [H, H]
/// (general); `PREFIX.w_q.weight` W_q [H, H], `PREFIX.w_q.bias` b_q [H], `PREFIX.w_k.weight` W_k [H, H],
/// `PREFIX.v.weight` v [1, H] (mlp); `PREFIX.w_c.weight` W_c [H, 2H], the context's columns first.
///
/// Shapes: memory M [S·B, H] time-major (row s·B+b is position s of sentence b, as the encoder
/// writes it); each step has R query rows, row r attending over sentence `rowSentence[r]` (training:
/// R = B, row r is sentence r; beam search: R hypotheses share their sentence's memory, which is
/// never copied per hypothesis). Steps are run in ranges (one step with input feeding, all T at once
/// without); every cache lives in an ``AttentionState``, so one model serves many decoders.
///
/// `backward` runs over ranges of steps in reverse order and returns dL/dQ at once (input feeding
/// needs it before the previous step); parameter gradients and dL/dM are completed by
/// `finishBackward`, which ADDS into the store's gradients.
final class GlobalAttention {
    let score: AttentionType
    let hidden: Int
    /// W_c [H, 2H]; W_a [H, H] (general); W_q [H, H], b_q [H], W_k [H, H], v [H] (mlp); with gradients.
    let wc, gradWc: UnsafeMutablePointer<Scalar>
    let wa, gradWa, wq, gradWq, bq, gradBq, wk, gradWk, v, gradV: UnsafeMutablePointer<Scalar>?
    var profiler: PhaseProfiler?

    /// The store its weight and gradient pointers point into: held, so that they stay valid as
    /// long as the layer lives (a test that dropped the store read freed memory).
    private let parameterStore: ParameterStore

    init(score: AttentionType, hidden: Int, store: ParameterStore, prefix: String) {
        parameterStore = store
        precondition(score != .none, "GlobalAttention needs a score function")
        self.score = score
        self.hidden = hidden
        func tensor(_ name: String, _ count: Int) -> (UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>) {
            let view = store.view("\(prefix).\(name)")
            precondition(view.count == count, "\(prefix).\(name) holds \(view.count) floats, expected \(count)")
            return (view.values, view.gradients)
        }
        (wc, gradWc) = tensor("w_c.weight", 2 * hidden * hidden)
        if score == .general {
            let a = tensor("w_a.weight", hidden * hidden)
            (wa, gradWa) = (a.0, a.1)
        } else {
            (wa, gradWa) = (nil, nil)
        }
        if score == .mlp {
            let q = tensor("w_q.weight", hidden * hidden), b = tensor("w_q.bias", hidden)
            let k = tensor("w_k.weight", hidden * hidden), w = tensor("v.weight", hidden)
            (wq, gradWq, bq, gradBq, wk, gradWk, v, gradV) = (q.0, q.1, b.0, b.1, k.0, k.1, w.0, w.1)
        } else {
            (wq, gradWq, bq, gradBq, wk, gradWk, v, gradV) = (nil, nil, nil, nil, nil, nil, nil, nil)
        }
    }

    /// Names and shapes of the layer's tensors, in store order.
    static func layout(score: AttentionType, hidden h: Int, prefix: String) -> [(name: String, shape: [Int])] {
        switch score {
        case .none: return []
        case .dot: return [("\(prefix).w_c.weight", [h, 2 * h])]
        case .general: return [("\(prefix).w_a.weight", [h, h]), ("\(prefix).w_c.weight", [h, 2 * h])]
        case .mlp:
            return [("\(prefix).w_q.weight", [h, h]), ("\(prefix).w_q.bias", [h]), ("\(prefix).w_k.weight", [h, h]),
                    ("\(prefix).v.weight", [1, h]), ("\(prefix).w_c.weight", [h, 2 * h])]
        }
    }

    /// Keys of the score function, [S·B, H] in memory's layout: M itself (dot), M·W_a (general), M·W_kᵀ (mlp).
    func keys(_ state: AttentionState) -> UnsafePointer<Scalar> {
        score == .dot ? state.memory! : UnsafePointer(state.keys.pointer)
    }

    /// Takes the memory M [S·B, H] of B sentences (`lengths[b]` real positions each, 1...S, the rest
    /// padding; M must stay alive while the state is used) and computes its keys once.
    func prepare(_ state: AttentionState, memory: UnsafePointer<Scalar>, sourceSteps s: Int, lengths: [Int]) {
        precondition(lengths.allSatisfy { $0 >= 1 && $0 <= s }, "attention: source lengths \(lengths) outside 1...\(s)")
        let b = lengths.count, h = hidden
        state.memory = memory
        (state.sourceSteps, state.sentences, state.lengths) = (s, b, lengths)
        timed(profiler, "attention: keys") {
            if let wa {
                BLAS.gemm(m: s * b, n: h, k: h, a: memory, lda: h, b: wa, ldb: h, beta: 0, c: state.keys.reserve(s * b * h), ldc: h)
            } else if let wk {
                BLAS.gemm(transB: true, m: s * b, n: h, k: h, a: memory, lda: h, b: wk, ldb: h, beta: 0,
                          c: state.keys.reserve(s * b * h), ldc: h)
            }
        }
    }

    /// Reserves the caches for `steps` steps of R rows; `rowSentence` [R] gives each row's sentence
    /// (nil: R = B, row r is sentence r).
    func begin(_ state: AttentionState, steps: Int, rowSentence: [Int32]? = nil) {
        let h = hidden
        if let rowSentence {
            precondition(rowSentence.allSatisfy { $0 >= 0 && Int($0) < state.sentences }, "attention: row sentence outside 0..<\(state.sentences)")
            state.rowSentence = rowSentence
        } else {
            state.rowSentence = (0..<state.sentences).map { Int32($0) }
        }
        let rows = steps * state.rowSentence.count
        (state.steps, state.rows) = (steps, state.rowSentence.count)
        state.alignments.reserve(rows * state.sourceSteps)
        state.joined.reserve(rows * 2 * h)
        state.output.reserve(rows * h)
        if score == .mlp { state.projectedQueries.reserve(rows * h) }
    }

    /// h̃ for the queries of `steps` (a range within the begun steps), Q [n·R, H] → [n·R, H]
    /// (inside the state, valid until the state is begun again). Fills the alignments of those steps.
    /// `packed` (decoding steps): W_c and, for mlp, W_q with b_q prepared in the decoder's
    /// precision (see ``DecoderWeights``), used instead of BLAS.
    func forward(_ state: AttentionState, steps: Range<Int>, queries q: UnsafePointer<Scalar>,
                 packed: PackedAttention? = nil) -> UnsafePointer<Scalar> {
        let h = hidden, r = state.rows, s = state.sourceSteps, b = state.sentences
        let first = steps.lowerBound * r, count = steps.count * r
        let joined = state.joined.pointer + first * 2 * h
        let m = state.memory!, k = keys(state)
        for i in 0..<count { (joined + i * 2 * h + h).update(from: q + i * h, count: h) }
        var u: UnsafeMutablePointer<Scalar>?
        if let wq, let bq {
            // u = Q·W_qᵀ + b_q, [n·R, H].
            let p = state.projectedQueries.pointer + first * h
            if let query = packed?.query {
                query.multiply(q, lda: h, rows: count, into: p, ldc: h)
            } else {
                for i in 0..<count { (p + i * h).update(from: bq, count: h) }
                BLAS.gemm(transB: true, m: count, n: h, k: h, a: q, lda: h, b: wq, ldb: h, beta: 1, c: p, ldc: h)
            }
            u = p
        }
        timed(profiler, "attention: scores and contexts") {
            // Rows are independent: split them across the threads BLAS uses (same bits either way).
            // Read once here as pointers: the parts share no reference counting or exclusivity
            // checks. A plain function of a struct of arguments, not a closure: nothing allocated.
            state.rowSentence.withUnsafeBufferPointer { rowSentence in state.lengths.withUnsafeBufferPointer { lengths in
            let scores = ScoresPart(rowSentence: rowSentence.baseAddress!, lengths: lengths.baseAddress!,
                                    alignments: state.alignments.pointer, first: first, joined: joined, keys: k, memory: m,
                                    u: u, v: v, r: r, s: s, h: h, b: b)
            Parallel.forEachPart(count, work: count * s * h, context: scores) { raw, lo, hi in
                let p = raw.load(as: ScoresPart.self)
                let (s, h, b) = (p.s, p.h, p.b)
                for i in lo..<hi {
                    let sentence = Int(p.rowSentence[i % p.r]), n = p.lengths[sentence]
                    let a = p.alignments + (p.first + i) * s
                    let query = UnsafePointer(p.joined + i * 2 * h + h)
                    for position in 0..<n {
                        let key = p.keys + (position * b + sentence) * h
                        if let u = p.u, let v = p.v {
                            a[position] = GlobalAttention.additiveScore(key, u + i * h, v, count: h)
                        } else {
                            a[position] = GlobalAttention.dot(key, query, count: h)
                        }
                    }
                    GlobalAttention.softmax(a, count: n)
                    for position in n..<s { a[position] = 0 }
                    let context = p.joined + i * 2 * h
                    context.update(repeating: 0, count: h)
                    for position in 0..<n { Vector.axpy(a[position], p.memory + (position * b + sentence) * h, context, count: h) }
                }
            }
            } }
        }
        let out = state.output.pointer + first * h
        timed(profiler, "attention: output projection") {
            if let packed {
                packed.output.multiply(joined, lda: 2 * h, rows: count, into: out, ldc: h)
            } else {
                BLAS.gemm(transB: true, m: count, n: h, k: 2 * h, a: joined, lda: 2 * h, b: wc, ldb: 2 * h, beta: 0, c: out, ldc: h)
            }
            Parallel.forEachPart(count * h, granularity: h, context: out) { raw, lo, hi in
                let out = raw.load(as: UnsafeMutablePointer<Scalar>.self)
                for j in lo..<hi { out[j] = Activation.tanh(out[j]) }
            }
        }
        return UnsafePointer(out)
    }

    /// The arguments of ``forward(_:steps:queries:packed:)``'s scores and contexts, for its parts.
    private struct ScoresPart {
        let rowSentence: UnsafePointer<Int32>, lengths: UnsafePointer<Int>, alignments: UnsafeMutablePointer<Scalar>, first: Int
        let joined: UnsafeMutablePointer<Scalar>, keys: UnsafePointer<Scalar>, memory: UnsafePointer<Scalar>
        let u: UnsafeMutablePointer<Scalar>?, v: UnsafeMutablePointer<Scalar>?
        let r: Int, s: Int, h: Int, b: Int
    }

    /// The alignment a_t of row r at step t, [S] over the memory positions (reading order), after `forward`.
    func alignment(_ state: AttentionState, step t: Int, row r: Int) -> UnsafeBufferPointer<Scalar> {
        UnsafeBufferPointer(start: state.alignments.pointer + (t * state.rows + r) * state.sourceSteps, count: state.sourceSteps)
    }

    /// Starts backpropagation over the begun steps (zeroes the memory and key gradients).
    func beginBackward(_ state: AttentionState) {
        let h = hidden, rows = state.steps * state.rows, memoryRows = state.sourceSteps * state.sentences
        state.memoryGradient.reserve(memoryRows * h).update(repeating: 0, count: memoryRows * h)
        if score != .dot { state.keyGradient.reserve(memoryRows * h).update(repeating: 0, count: memoryRows * h) }
        state.preactivationGradient.reserve(rows * h)
        state.queryGradient.reserve(rows * h)
        if score == .mlp { state.projectedQueryGradient.reserve(rows * h) }
    }

    /// From dL/dh̃ [n·R, H] of `steps` (ranges in decreasing order over the begun steps) to dL/dQ
    /// [n·R, H] of those steps (returned, inside the state); accumulates what `finishBackward` needs.
    ///
    ///     dZ = dh̃ ⊙ (1 − h̃²);  [dC | dQ] = dZ·W_c
    ///     per row: dA = dC·Mᵀ;  dS = A ⊙ (dA − Σ_s A ⊙ dA);  dM_s += A_s dC
    ///       dot: dQ += Σ_s dS_s h_s, dM_s += dS_s q;  general: dQ += Σ_s dS_s k_s, dK_s += dS_s q
    ///       mlp: e_s = tanh(k_s + u), dv += Σ_s dS_s e_s, dP_s = dS_s v ⊙ (1 − e_s²), dU += Σ_s dP_s, dK_s += dP_s
    ///     mlp: dQ += dU·W_q
    func backward(_ state: AttentionState, steps: Range<Int>, outputGradient: UnsafePointer<Scalar>) -> UnsafePointer<Scalar> {
        let h = hidden, r = state.rows, s = state.sourceSteps, b = state.sentences
        let first = steps.lowerBound * r, count = steps.count * r
        let out = state.output.pointer + first * h, dz = state.preactivationGradient.pointer + first * h
        for j in 0..<(count * h) { dz[j] = outputGradient[j] * (1 - out[j] * out[j]) }
        let dj = state.joinedGradient.reserve(count * 2 * h)
        timed(profiler, "attention: output projection backward") {
            BLAS.gemm(m: count, n: 2 * h, k: h, a: dz, lda: h, b: wc, ldb: 2 * h, beta: 0, c: dj, ldc: 2 * h)
        }
        let dq = state.queryGradient.pointer + first * h
        for i in 0..<count { (dq + i * h).update(from: dj + i * 2 * h + h, count: h) }
        let m = state.memory!, k = keys(state), dm = state.memoryGradient.pointer
        let dk = score == .dot ? dm : state.keyGradient.pointer
        let du: UnsafeMutablePointer<Scalar>? = score == .mlp ? state.projectedQueryGradient.pointer + first * h : nil
        let da = state.scoreGradient.reserve(s), e = state.scratch.reserve(h)
        timed(profiler, "attention: scores and contexts backward") {
            for i in 0..<count {
                let sentence = Int(state.rowSentence[i % r]), n = state.lengths[sentence]
                let a = state.alignments.pointer + (first + i) * s
                let dc = UnsafePointer(dj + i * 2 * h), query = UnsafePointer(state.joined.pointer + (first + i) * 2 * h + h)
                var weighted: Scalar = 0
                for position in 0..<n {
                    let row = (position * b + sentence) * h
                    da[position] = Self.dot(dc, m + row, count: h)
                    weighted += a[position] * da[position]
                    Vector.axpy(a[position], dc, dm + row, count: h)
                }
                if let du, let v, let gradV {
                    let u = state.projectedQueries.pointer + (first + i) * h, dui = du + i * h
                    dui.update(repeating: 0, count: h)
                    for position in 0..<n {
                        let ds = a[position] * (da[position] - weighted)
                        let key = k + (position * b + sentence) * h, dkey = dk + (position * b + sentence) * h
                        for j in 0..<h { e[j] = Activation.tanh(key[j] + u[j]) }
                        Vector.axpy(ds, e, gradV, count: h)
                        for j in 0..<h {
                            let dp = ds * v[j] * (1 - e[j] * e[j])
                            dui[j] += dp
                            dkey[j] += dp
                        }
                    }
                } else {
                    let dqi = dq + i * h
                    for position in 0..<n {
                        let ds = a[position] * (da[position] - weighted)
                        let row = (position * b + sentence) * h
                        Vector.axpy(ds, k + row, dqi, count: h)
                        Vector.axpy(ds, query, dk + row, count: h)
                    }
                }
            }
            if let du, let wq {
                BLAS.gemm(m: count, n: h, k: h, a: du, lda: h, b: wq, ldb: h, beta: 1, c: dq, ldc: h)
            }
        }
        return UnsafePointer(dq)
    }

    /// Completes the backward pass over every begun step: ADDS dL/dW_c (and dL/dW_a, or dL/dW_q,
    /// dL/db_q, dL/dW_k) into the gradients; leaves dL/dM [S·B, H] in `state.memoryGradient`.
    func finishBackward(_ state: AttentionState) {
        let h = hidden, rows = state.steps * state.rows, memoryRows = state.sourceSteps * state.sentences
        let m = state.memory!, dm = state.memoryGradient.pointer, dk = state.keyGradient.pointer
        timed(profiler, "attention: weight gradients") {
            BLAS.gemm(transA: true, m: h, n: 2 * h, k: rows, a: state.preactivationGradient.pointer, lda: h,
                      b: state.joined.pointer, ldb: 2 * h, beta: 1, c: gradWc, ldc: 2 * h)
            if let wa, let gradWa {
                // K = M·W_a:  dW_a += Mᵀ·dK;  dM += dK·W_aᵀ.
                BLAS.gemm(transA: true, m: h, n: h, k: memoryRows, a: m, lda: h, b: dk, ldb: h, beta: 1, c: gradWa, ldc: h)
                BLAS.gemm(transB: true, m: memoryRows, n: h, k: h, a: dk, lda: h, b: wa, ldb: h, beta: 1, c: dm, ldc: h)
            }
            if let wk, let gradWk, let gradWq, let gradBq {
                // K = M·W_kᵀ:  dW_k += dKᵀ·M;  dM += dK·W_k.  u = Q·W_qᵀ + b_q:  dW_q += dUᵀ·Q;  db_q += Σ dU.
                let du = state.projectedQueryGradient.pointer
                BLAS.gemm(transA: true, m: h, n: h, k: memoryRows, a: dk, lda: h, b: m, ldb: h, beta: 1, c: gradWk, ldc: h)
                BLAS.gemm(m: memoryRows, n: h, k: h, a: dk, lda: h, b: wk, ldb: h, beta: 1, c: dm, ldc: h)
                BLAS.gemm(transA: true, m: h, n: h, k: rows, a: du, lda: h, b: state.joined.pointer + h, ldb: 2 * h,
                          beta: 1, c: gradWq, ldc: h)
                Vector.addColumnSums(of: du, rows: rows, width: h, into: gradBq)
            }
        }
    }

    // MARK: Row kernels

    /// x·y over `count` elements, eight lanes at a time (a fixed order: the same bits every run).
    @inline(__always)
    static func dot(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, count: Int) -> Scalar {
        var acc = SIMD8<Scalar>()
        var j = 0
        while j &+ 8 <= count {
            acc += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Scalar>.self) * UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Scalar>.self)
            j &+= 8
        }
        var total = acc.sum()
        while j < count { total += x[j] * y[j]; j &+= 1 }
        return total
    }

    /// v · tanh(key + u) over `count` elements.
    @inline(__always)
    static func additiveScore(_ key: UnsafePointer<Scalar>, _ u: UnsafePointer<Scalar>, _ v: UnsafePointer<Scalar>, count: Int) -> Scalar {
        var total: Scalar = 0
        for j in 0..<count { total += v[j] * Activation.tanh(key[j] + u[j]) }
        return total
    }

    /// Softmax in place over `count` ≥ 1 scores.
    @inline(__always)
    static func softmax(_ a: UnsafeMutablePointer<Scalar>, count n: Int) {
        var maximum = -Scalar.infinity
        for j in 0..<n { maximum = max(maximum, a[j]) }
        var sum: Scalar = 0
        for j in 0..<n { a[j] = Activation.exp(a[j] - maximum); sum += a[j] }
        let inverse = 1 / sum
        for j in 0..<n { a[j] *= inverse }
    }
}

/// Attention's weights prepared for decoding steps (a snapshot, like ``DecoderWeights``):
/// W_c [H, 2H] and, for mlp, W_q [H, H] with b_q.
struct PackedAttention {
    let output: any WeightProduct
    let query: (any WeightProduct)?

    /// `pack` makes one product in the decoder's precision; `name` prefixes the products' names
    /// (`.output`, `.query`).
    init(_ attention: GlobalAttention, name: String, pack: DecoderWeights.Packer) rethrows {
        let h = attention.hidden
        output = try pack("\(name).output", [(UnsafePointer(attention.wc), 2 * h)], h, nil)
        if let wq = attention.wq, let bq = attention.bq {
            query = try pack("\(name).query", [(UnsafePointer(wq), h)], h, bq)
        } else {
            query = nil
        }
    }
}

/// What one use of ``GlobalAttention`` keeps: the memory of a batch of sentences and its keys, the
/// rows' sentences, and the caches of the steps run (alignments, [c | q], h̃), with their gradients.
/// Training has one (in the model); each decoding session has its own.
final class AttentionState {
    /// M [S·B, H] (not owned), S, B and each sentence's real length.
    var memory: UnsafePointer<Scalar>?
    var sourceSteps = 0, sentences = 0
    var lengths: [Int] = []
    /// R rows per step and T steps begun; each row's sentence [R].
    var rows = 0, steps = 0
    var rowSentence: [Int32] = []
    /// [S·B, H] keys (general, mlp).
    let keys = FloatBuffer()
    /// [T·R, S] alignments; [T·R, 2H] [c | q]; [T·R, H] u = q·W_qᵀ + b_q (mlp); [T·R, H] h̃.
    let alignments = FloatBuffer(), joined = FloatBuffer(), projectedQueries = FloatBuffer(), output = FloatBuffer()
    /// Backward: [T·R, H] dZ, dQ, dU (mlp); [S·B, H] dM, dK; scratch.
    let preactivationGradient = FloatBuffer(), queryGradient = FloatBuffer(), projectedQueryGradient = FloatBuffer()
    let memoryGradient = FloatBuffer(), keyGradient = FloatBuffer()
    let joinedGradient = FloatBuffer(), scoreGradient = FloatBuffer(), scratch = FloatBuffer()
}
