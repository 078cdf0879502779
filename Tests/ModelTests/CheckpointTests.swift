import Basics
import Foundation
import Kernels
@testable import Model
import Testing

@Suite struct InferenceSessionTests {
    /// Step-by-step log-probs of the reference translation sum to the teacher-forced loss, through
    /// BLAS and through the packed decoder weights.
    @Test(arguments: namedConfigs.map(\.name) + ["irnn", "irnn residual"], [false, true])
    func stepMatchesTeacherForcing(name: String, packed: Bool) {
        let config = (namedConfigs + [("irnn", tinyConfig(cell: .irnn)), ("irnn residual", tinyConfig(cell: .irnn, residual: true))])
            .first { $0.name == name }!.config
        let model = Seq2SeqModel(config: config, seed: 41)
        var rng = SeededGenerator(seed: 1)
        for i in 0..<model.parameters.count { model.parameters.values[i] = rng.nextFloat(in: -0.5, 0.5) }
        let session = InferenceSession(model: model, packed: packed ? DecoderWeights(model: model) : nil)
        session.encode(tinySources)
        #expect(session.rowCount == 3)
        let v = model.config.targetVocabularySize
        var logProbs = [Float](repeating: 0, count: 3 * v)
        var previous: [Int32] = [TokenID.start, TokenID.start, TokenID.start]
        var sums = [Double](repeating: 0, count: 3)
        let references = tinyTargets.map { $0 + [TokenID.end] }
        for t in 0..<references.map(\.count).max()! {
            logProbs.withUnsafeMutableBufferPointer { session.step(previousTokens: previous, logProbs: $0) }
            for r in 0..<3 where t < references[r].count {
                sums[r] -= Double(logProbs[r * v + Int(references[r][t])])
                let total = logProbs[(r * v)..<((r + 1) * v)].reduce(0.0) { $0 + Foundation.exp(Double($1)) }
                #expect(abs(total - 1) < 1e-5)
            }
            previous = (0..<3).map { t < references[$0].count ? references[$0][t] : TokenID.pad }
        }
        for r in 0..<3 {
            let single = model.evaluate(Batch(sources: [tinySources[r]], targets: [tinyTargets[r]]))
            #expect(abs(single.lossSum - sums[r]) < 1e-4, "row \(r): \(single.lossSum) vs \(sums[r])")
        }
    }

    /// A source longer than `encoderChunkSteps` is encoded in chunks that carry the state over:
    /// the final (h, c) equal those of one pass over all steps (as training runs it), for
    /// sentences of different lengths in one batch (ending exactly at a chunk boundary, just past
    /// one, or well inside one), reversed or not.
    @Test(arguments: [(true, CellType.lstm), (false, .lstm), (true, .gru), (false, .rnnTanh), (true, .irnn)],
          [[2 * InferenceSession.encoderChunkSteps, 3, InferenceSession.encoderChunkSteps],
           [2 * InferenceSession.encoderChunkSteps + 37, 1, InferenceSession.encoderChunkSteps + 1]])
    func chunkedEncodingEqualsOnePass(settings: (reverse: Bool, cell: CellType), lengths: [Int]) {
        let model = Seq2SeqModel(config: tinyConfig(reverse: settings.reverse, cell: settings.cell), seed: 43)
        var rng = SeededGenerator(seed: 5)
        let v = Int32(model.config.sourceVocabularySize)
        let sources = lengths.map { n in (0..<n).map { _ in 4 + Int32(rng.next() % UInt64(v - 4)) } }
        let session = InferenceSession(model: model)
        session.encode(sources)

        var unused = SeededGenerator(seed: 0)
        model.encode(Batch(sources: sources, targets: sources.map { _ in [] }), dropout: false, rng: &unused)
        let h = model.config.hidden
        for r in sources.indices {
            for l in 0..<model.config.layers {
                let memory = model.encoder.finalCell(layer: l)
                let whole = (Array(UnsafeBufferPointer(start: model.encoder.finalHidden(layer: l) + r * h, count: h)),
                             memory.map { Array(UnsafeBufferPointer(start: $0 + r * h, count: h)) } ?? [0])
                let chunked = (session.hiddenState(layer: l, row: r), memory == nil ? [0] : session.cellState(layer: l, row: r))
                let worst = max(zip(whole.0, chunked.0).map { abs($0 - $1) }.max()!,
                                zip(whole.1, chunked.1).map { abs($0 - $1) }.max()!)
                #expect(worst <= 1e-6, "sentence \(r) (length \(lengths[r])) layer \(l): \(worst)")
            }
        }
    }

    @Test(arguments: [false, true])
    func reorderMovesRows(packed: Bool) {
        let model = Seq2SeqModel(config: tinyConfig(), seed: 42)
        let session = InferenceSession(model: model, packed: packed ? DecoderWeights(model: model) : nil)
        session.encode(tinySources)
        let v = model.config.targetVocabularySize
        var a = [Float](repeating: 0, count: 4 * v)
        a.withUnsafeMutableBufferPointer { session.step(previousTokens: [2, 2, 2], logProbs: $0) }
        let states = (0..<3).map { r in (0..<2).map { session.hiddenState(layer: $0, row: r) } }
        session.reorder([2, 0, 0, 1])
        #expect(session.rowCount == 4)
        for (new, old) in [2, 0, 0, 1].enumerated() {
            #expect((0..<2).map { session.hiddenState(layer: $0, row: new) } == states[old])
        }
        // Equal states, equal tokens: equal outputs.
        a.withUnsafeMutableBufferPointer { session.step(previousTokens: [5, 6, 6, 7], logProbs: $0) }
        #expect(a[(1 * v)..<(2 * v)] == a[(2 * v)..<(3 * v)])
        session.reorder([3])
        #expect(session.rowCount == 1)
    }
}
