import Kernels
@testable import Model
import Testing

/// Global attention (Luong et al. 2015; Bahdanau et al. 2015's mlp score) on its own: its gradient
/// against central differences, its masked alignments, and steps run one at a time equal to one
/// range of steps. The attentional model as a whole is checked by the named configurations of
/// WholeModelTests and InferenceSessionTests.
@Suite struct AttentionTests {
    /// Sentences of lengths 4, 2 and 1 in a batch padded to S = 4; T = 3 query steps.
    static let (t, s, h, lengths) = (3, 4, 5, [4, 2, 1])
    static let scores: [AttentionType] = [.dot, .general, .mlp]

    static func make(_ score: AttentionType, seed: UInt64) -> (GlobalAttention, ParameterStore, q: [Scalar], m: [Scalar]) {
        let store = ParameterStore(layout: GlobalAttention.layout(score: score, hidden: h, prefix: "att"))
        var rng = SeededGenerator(seed: seed)
        for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.5, 0.5) }
        let layer = GlobalAttention(score: score, hidden: h, store: store, prefix: "att")
        let b = lengths.count
        return (layer, store, randomFloats(t * b * h, scale: 1, &rng), randomFloats(s * b * h, scale: 1, &rng))
    }

    /// L = Σ w ⊙ h̃ over every output, steps run forward one at a time and backward in reverse:
    /// weights, queries and memory against central differences; padded memory rows get exactly
    /// zero gradient.
    @Test(arguments: scores)
    func gradientsMatchFiniteDifferences(score: AttentionType) {
        let (layer, store, q0, m0) = Self.make(score, seed: 3)
        var (q, m) = (q0, m0)
        let b = Self.lengths.count, h = Self.h, rows = b * h
        var rng = SeededGenerator(seed: 4)
        let w = randomFloats(Self.t * rows, scale: 1, &rng)
        let state = AttentionState()
        q.withUnsafeMutableBufferPointer { qp in
            m.withUnsafeMutableBufferPointer { mp in
                func loss() -> Double {
                    layer.prepare(state, memory: mp.baseAddress!, sourceSteps: Self.s, lengths: Self.lengths)
                    layer.begin(state, steps: Self.t)
                    var total = 0.0
                    for step in 0..<Self.t {
                        let out = layer.forward(state, steps: step..<(step + 1), queries: qp.baseAddress! + step * rows)
                        for i in 0..<rows { total += Double(w[step * rows + i]) * Double(out[i]) }
                    }
                    return total
                }
                _ = loss()
                store.zeroGradients()
                layer.beginBackward(state)
                var dq = [Scalar](repeating: 0, count: qp.count)
                for step in stride(from: Self.t - 1, through: 0, by: -1) {
                    let g = w.withUnsafeBufferPointer { layer.backward(state, steps: step..<(step + 1), outputGradient: $0.baseAddress! + step * rows) }
                    for i in 0..<rows { dq[step * rows + i] = g[i] }
                }
                layer.finishBackward(state)
                let grads = Array(store.gradients)
                let dm = Array(UnsafeBufferPointer(start: state.memoryGradient.pointer, count: mp.count))
                let check = GradientCheck()
                var bad = check.compare(label: "weights", values: store.values.baseAddress!, analytic: grads,
                                        indices: Array(0..<store.count), loss: loss)
                bad += check.compare(label: "queries", values: qp.baseAddress!, analytic: dq, indices: Array(0..<dq.count), loss: loss)
                bad += check.compare(label: "memory", values: mp.baseAddress!, analytic: dm, indices: Array(0..<dm.count), loss: loss)
                #expect(bad.isEmpty, "\(bad.prefix(5))")
                // Positions 2, 3 of sentence 1 and 1… of sentence 2 are padding.
                for (position, sentence) in [(2, 1), (3, 1), (1, 2), (2, 2), (3, 2)] {
                    let row = (position * b + sentence) * h
                    #expect(dm[row..<(row + h)].allSatisfy { $0 == 0 }, "padded memory row s=\(position) b=\(sentence)")
                }
            }
        }
    }

    /// Alignments sum to 1 over each sentence's real positions and are exactly 0 at padding; the
    /// steps run one at a time give the same h̃ and alignments as all steps at once; rows mapped to
    /// sentences (beam search: several hypotheses of one sentence) equal the sentence's own row.
    @Test(arguments: scores)
    func alignmentsAndStepsEqualTheRange(score: AttentionType) {
        let (layer, _, q, m) = Self.make(score, seed: 9)
        let b = Self.lengths.count, h = Self.h, rows = b * h
        let state = AttentionState()
        // The state keeps the memory's address: it must outlive every use.
        let memory = UnsafeMutablePointer<Scalar>.allocate(capacity: m.count)
        defer { memory.deallocate() }
        memory.initialize(from: m, count: m.count)
        layer.prepare(state, memory: memory, sourceSteps: Self.s, lengths: Self.lengths)
        layer.begin(state, steps: Self.t)
        let all = Array(UnsafeBufferPointer(start: layer.forward(state, steps: 0..<Self.t, queries: q), count: Self.t * rows))
        let aligned = (0..<Self.t).map { step in (0..<b).map { Array(layer.alignment(state, step: step, row: $0)) } }
        for step in 0..<Self.t {
            for sentence in 0..<b {
                let a = aligned[step][sentence], n = Self.lengths[sentence]
                #expect(abs(a[0..<n].reduce(0, +) - 1) < 1e-6 && a[n...].allSatisfy { $0 == 0 })
            }
        }
        layer.begin(state, steps: Self.t)
        for step in 0..<Self.t {
            let out = Array(UnsafeBufferPointer(start: layer.forward(state, steps: step..<(step + 1), queries: Array(q[(step * rows)...])),
                                                count: rows))
            // The same arithmetic but for the GEMMs' blocking over more rows.
            #expect(zip(out, all[(step * rows)..<((step + 1) * rows)]).allSatisfy { abs($0 - $1) < 1e-6 }, "step \(step)")
            for sentence in 0..<b {
                #expect(zip(layer.alignment(state, step: step, row: sentence), aligned[step][sentence]).allSatisfy { abs($0 - $1) < 1e-6 })
            }
        }
        // Rows 0…3 belong to sentences 2, 0, 0, 1 (a beam's hypotheses), queried with their sentence's query.
        let mapping: [Int32] = [2, 0, 0, 1]
        layer.begin(state, steps: 1, rowSentence: mapping)
        let queries = mapping.flatMap { q[(Int($0) * h)..<((Int($0) + 1) * h)] }
        let mapped = Array(UnsafeBufferPointer(start: layer.forward(state, steps: 0..<1, queries: queries), count: mapping.count * h))
        for (r, sentence) in mapping.enumerated() {
            #expect(zip(mapped[(r * h)..<((r + 1) * h)], all[(Int(sentence) * h)..<((Int(sentence) + 1) * h)]).allSatisfy { abs($0 - $1) < 1e-6 })
            #expect(zip(layer.alignment(state, step: 0, row: r), aligned[0][Int(sentence)]).allSatisfy { abs($0 - $1) < 1e-6 })
        }
    }
}
