import Kernels
@testable import Model
import Testing

/// Global attention (Luong et al. 2015), not yet wired into the decoder: its gradient against
/// central differences, its alignments, and one query step equal to the same row of many.
@Suite struct AttentionTests {
    /// Sentences of lengths 4, 2 and 1 in a batch padded to S = 4; T = 3 queries.
    static let (t, s, h, lengths) = (3, 4, 5, [4, 2, 1])

    static func make(_ score: GlobalAttention.Score, seed: UInt64)
        -> (GlobalAttention, ParameterStore, q: [Float], m: [Float]) {
        let store = ParameterStore(layout: GlobalAttention.layout(score: score, hidden: h, prefix: "att"))
        var rng = SeededGenerator(seed: seed)
        for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.5, 0.5) }
        let layer = GlobalAttention(score: score, hidden: h, store: store, prefix: "att")
        let b = lengths.count
        return (layer, store, randomFloats(t * b * h, scale: 1, &rng), randomFloats(s * b * h, scale: 1, &rng))
    }

    /// L = Σ w ⊙ h̃ over every output; weights, queries and memory against central differences;
    /// padded memory rows get exactly zero gradient.
    @Test(arguments: [GlobalAttention.Score.dot, .general])
    func gradientsMatchFiniteDifferences(score: GlobalAttention.Score) {
        let (layer, store, q0, m0) = Self.make(score, seed: 3)
        var (q, m) = (q0, m0)
        let b = Self.lengths.count, h = Self.h
        var rng = SeededGenerator(seed: 4)
        let w = randomFloats(Self.t * b * h, scale: 1, &rng)
        q.withUnsafeMutableBufferPointer { qp in
            m.withUnsafeMutableBufferPointer { mp in
                func loss() -> Double {
                    let out = layer.forward(queries: qp.baseAddress!, steps: Self.t, memory: mp.baseAddress!,
                                            sourceSteps: Self.s, lengths: Self.lengths)
                    return (0..<w.count).reduce(0.0) { $0 + Double(w[$1]) * Double(out[$1]) }
                }
                _ = loss()
                store.zeroGradients()
                layer.backward(outputGradient: w)
                let grads = Array(store.gradients)
                let dq = Array(UnsafeBufferPointer(start: layer.queryGradient.pointer, count: qp.count))
                let dm = Array(UnsafeBufferPointer(start: layer.memoryGradient.pointer, count: mp.count))
                let check = GradientCheck()
                var bad = check.compare(label: "weights", values: store.values.baseAddress!, analytic: grads,
                                        indices: Array(0..<store.count), loss: loss)
                bad += check.compare(label: "queries", values: qp.baseAddress!, analytic: dq, indices: Array(0..<dq.count), loss: loss)
                bad += check.compare(label: "memory", values: mp.baseAddress!, analytic: dm, indices: Array(0..<dm.count), loss: loss)
                #expect(bad.isEmpty, "\(bad.prefix(5))")
                // Position 3 of sentence 1 and positions 1… of sentence 2 are padding.
                for (position, sentence) in [(2, 1), (3, 1), (1, 2), (2, 2), (3, 2)] {
                    let row = (position * b + sentence) * h
                    #expect(dm[row..<(row + h)].allSatisfy { $0 == 0 }, "padded memory row s=\(position) b=\(sentence)")
                }
            }
        }
    }

    /// Alignments sum to 1 over each sentence's real positions and are 0 at padding; one query
    /// step (T = 1, decoding) gives the same h̃ and alignment as that row among T steps.
    @Test(arguments: [GlobalAttention.Score.dot, .general])
    func alignmentsAndOneStepEqualTheBatch(score: GlobalAttention.Score) {
        let (layer, _, q, m) = Self.make(score, seed: 9)
        let b = Self.lengths.count, h = Self.h
        let all = Array(UnsafeBufferPointer(start: layer.forward(queries: q, steps: Self.t, memory: m, sourceSteps: Self.s,
                                                                 lengths: Self.lengths), count: Self.t * b * h))
        let aligned = (0..<b).map { sentence in (0..<Self.t).map { layer.alignment(step: $0, sentence: sentence) } }
        for sentence in 0..<b {
            for step in 0..<Self.t {
                let a = aligned[sentence][step], n = Self.lengths[sentence]
                #expect(abs(a[0..<n].reduce(0, +) - 1) < 1e-6 && a[n...].allSatisfy { $0 == 0 })
            }
        }
        for step in 0..<Self.t {
            let one = Array(q[(step * b * h)..<((step + 1) * b * h)])
            let out = Array(UnsafeBufferPointer(start: layer.forward(queries: one, steps: 1, memory: m, sourceSteps: Self.s,
                                                                     lengths: Self.lengths), count: b * h))
            let worst = zip(out, all[(step * b * h)..<((step + 1) * b * h)]).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-6, "step \(step): \(worst)")
            for sentence in 0..<b {
                let a = layer.alignment(step: 0, sentence: sentence)
                #expect(zip(a, aligned[sentence][step]).allSatisfy { abs($0 - $1) < 1e-6 })
            }
        }
    }
}
