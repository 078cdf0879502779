import Basics
import Foundation
import Kernels
@testable import Model
import Testing

/// `InferenceSession.restrictOutput`: the output layer and log-softmax over a subset of ids.
@Suite struct RestrictedOutputTests {
    /// A model with attention and a 40-word target vocabulary, random weights.
    static func model() -> Seq2SeqModel {
        let config = ModelConfig(sourceVocabularySize: 30, targetVocabularySize: 40, embedding: 6, hidden: 8, layers: 2,
                                 dropout: 0, reverseSource: true, attention: .general)
        let model = Seq2SeqModel(config: config, seed: 3)
        var rng = SeededGenerator(seed: 9)
        for i in 0..<model.parameters.count { model.parameters.values[i] = rng.nextFloat(in: -0.8, 0.8) }
        return model
    }

    static let sources: [[Int32]] = [[4, 5, 6, 7, 9], [12, 4], [29, 28, 27]]

    /// Runs `steps` steps on `rows` rows (the sources' rows repeated by a reorder, so that a step
    /// has more rows than `PackedWeights.maximumRows` when asked), restricted to `ids`; returns
    /// every step's log-probabilities, [rows, V], or compact [rows, U] when restricted. The
    /// buffer is V wide and starts as NaN at every step, so an entry the step did not write reads NaN.
    /// `weights`: "blas" (none), "float32" (packed) or "int8".
    /// `mix`: each step as an ensemble member's weighted step, adding to `start` (accumulating)
    /// or, when nil, writing into the NaN buffer.
    static func run(_ model: Seq2SeqModel, weights: String, rows: Int, ids: [Int32]?, steps: Int = 3,
                    mix: (weight: Float, start: [Float]?)? = nil) -> [[Float]] {
        let prepared = weights == "blas" ? nil : DecoderWeights(model: model, precision: weights == "int8" ? .int8 : .float32)
        let session = InferenceSession(model: model, packed: prepared)
        session.encode(sources)
        session.reorder((0..<rows).map { Int32($0 % sources.count) })
        session.restrictOutput(to: ids)
        let v = model.config.targetVocabularySize
        var out: [[Float]] = []
        var previous = [Int32](repeating: TokenID.start, count: rows)
        for t in 0..<steps {
            var logProbs = mix?.start ?? [Float](repeating: .nan, count: rows * v)
            logProbs.withUnsafeMutableBufferPointer {
                if let mix {
                    session.step(previousTokens: previous, weightedInto: $0, weight: mix.weight, accumulate: mix.start != nil)
                } else {
                    session.step(previousTokens: previous, logProbs: $0)
                }
            }
            out.append(logProbs)
            previous = (0..<rows).map { Int32(4 + (t * 7 + $0) % 30) }
        }
        return out
    }

    /// Few rows take the packed path, 30 rows the BLAS path (float32) or int8 again; all must hold.
    @Test(arguments: ["blas", "float32", "int8"], [3, 30])
    func wholeVocabularyIsBitIdenticalToNoRestriction(weights: String, rows: Int) {
        let model = Self.model()
        let all = (0..<Int32(model.config.targetVocabularySize)).map { $0 }
        let full = Self.run(model, weights: weights, rows: rows, ids: nil)
        let restricted = Self.run(model, weights: weights, rows: rows, ids: all)
        for (a, b) in zip(full, restricted) {
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        }
    }

    /// An ensemble member's weighted step (logits in the session's scratch, mixed in as they are
    /// normalised) is its plain step scaled, or scaled and added, by hand (w·l, y + w·l), bit for
    /// bit, whole vocabulary or shortlist, on every weight path.
    @Test(arguments: ["blas", "float32", "int8"], [3, 30])
    func aWeightedStepIsThePlainStepMixedByHand(weights: String, rows: Int) {
        let model = Self.model()
        let v = model.config.targetVocabularySize
        let start = (0..<(rows * v)).map { -Float($0 % 7) * 0.37 }
        for ids in [nil, Array(stride(from: Int32(1), to: 40, by: 3))] as [[Int32]?] {
            let width = ids?.count ?? v
            let plain = Self.run(model, weights: weights, rows: rows, ids: ids)
            let scaled = Self.run(model, weights: weights, rows: rows, ids: ids, mix: (0.25, nil))
            let added = Self.run(model, weights: weights, rows: rows, ids: ids, mix: (0.25, start))
            for (p, (s, a)) in zip(plain, zip(scaled, added)) {
                let n = rows * width
                #expect(s[..<n].map(\.bitPattern) == p[..<n].map { (0.25 * $0).bitPattern }, "\(weights) \(rows) rows")
                #expect(a[..<n].map(\.bitPattern) == (0..<n).map { (start[$0] + 0.25 * p[$0]).bitPattern })
            }
        }
    }

    /// At a realistic width (V 3,000, H 64) and 30 rows, on each backend: the whole vocabulary
    /// as a shortlist gives the full layer's bits, and the prepared float32 weights (the NN form on
    /// their transposed copies) stay within 1e-4 of the model's own weights (the NT form), equal to
    /// the bit on the reference backend, whose sums do not depend on the layout.
    @Test(arguments: GemmBackend.allCases)
    func manyRowsOnTransposedCopiesKeepTheirProperties(_ backend: GemmBackend) {
        let config = ModelConfig(sourceVocabularySize: 30, targetVocabularySize: 3000, embedding: 16, hidden: 64, layers: 2,
                                 dropout: 0, reverseSource: true, attention: .general)
        let model = Seq2SeqModel(config: config, seed: 5)
        let all = (0..<Int32(config.targetVocabularySize)).map { $0 }
        GemmBackend.withBackend(backend) {
            let full = Self.run(model, weights: "float32", rows: 30, ids: nil)
            let restricted = Self.run(model, weights: "float32", rows: 30, ids: all)
            let plain = Self.run(model, weights: "blas", rows: 30, ids: nil)
            for (step, (a, b)) in zip(full, restricted).enumerated() {
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(backend) step \(step): shortlist of every id")
            }
            for (a, b) in zip(full, plain) {
                if backend == .reference {
                    #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "reference: NN and NT give the same sums")
                } else {
                    #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 }, "\(backend): prepared vs model weights")
                }
            }
        }
    }

    /// Each row's log-probabilities over the set are the full log-softmax restricted to the set and
    /// renormalised, written compactly (column j is ids[j]); nothing past rows·U is written.
    @Test(arguments: ["blas", "float32", "int8"], [3, 30])
    func subsetIsTheRenormalisedFullDistribution(weights: String, rows: Int) {
        let model = Self.model()
        let v = model.config.targetVocabularySize
        let ids: [Int32] = [1, 3, 5, 6, 11, 17, 18, 30, 39]
        let full = Self.run(model, weights: weights, rows: rows, ids: nil)
        let restricted = Self.run(model, weights: weights, rows: rows, ids: ids)
        for (step, (a, b)) in zip(full, restricted).enumerated() {
            let untouched = b[(rows * ids.count)...].allSatisfy { $0.isNaN }
            #expect(untouched, "step \(step) wrote past rows·U")
            for r in 0..<rows {
                let row = Array(a[(r * v)..<((r + 1) * v)])
                let mass = ids.reduce(0.0) { $0 + exp(Double(row[Int($1)])) }
                for (j, id) in ids.enumerated() {
                    let got = b[r * ids.count + j]
                    let expected = Double(row[Int(id)]) - log(mass)
                    #expect(abs(Double(got) - expected) < 1e-6, "step \(step) row \(r) id \(id): \(got) vs \(expected)")
                }
            }
        }
    }

    @Test func nilRestoresTheWholeVocabulary() {
        let model = Self.model()
        let session = InferenceSession(model: model)
        session.restrictOutput(to: [3, 4])
        #expect(session.outputIDs == [3, 4])
        session.restrictOutput(to: nil)
        #expect(session.outputIDs == nil)
    }
}
