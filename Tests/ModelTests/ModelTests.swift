import Foundation
import Kernels
@testable import Model
import Testing

/// A tiny config: small enough that finite differences over sampled coordinates take milliseconds.
func tinyConfig(dropout: Float = 0, reverse: Bool = true, layers: Int = 2) -> ModelConfig {
    ModelConfig(sourceVocabularySize: 9, targetVocabularySize: 8, embedding: 3, hidden: 4, layers: layers,
                dropout: dropout, reverseSource: reverse)
}

/// Three sentence pairs of different lengths, so both sides are padded.
let tinySources: [[Int32]] = [[4, 5, 6, 7], [8, 4], [5]]
let tinyTargets: [[Int32]] = [[4, 5], [6, 7, 4, 5], []]

@Suite struct WholeModelTests {
    /// Sampled coordinates of every tensor against central differences, with padding and
    /// reversal (and with dropout: the masks are a deterministic function of the seed).
    @Test(arguments: [(Float(0), true), (Float(0), false), (Float(0.3), true)])
    func wholeModelGradients(dropout: Float, reverse: Bool) {
        let model = Seq2SeqModel(config: tinyConfig(dropout: dropout, reverse: reverse), seed: 21)
        let store = model.parameters
        // Larger weights than the paper's ±0.08 make every gradient big enough to check in Float.
        var rng = SeededGenerator(seed: 22)
        for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.5, 0.5) }
        let batch = Batch(sources: tinySources, targets: tinyTargets)
        store.zeroGradients()
        _ = model.trainStep(batch, dropoutSeed: 99)
        let grads = Array(store.gradients)
        let seed: UInt64? = dropout > 0 ? 99 : nil
        var bad: [GradientCheck.Mismatch] = []
        for tensor in store.tensors {
            let n = tensor.shape.reduce(1, *)
            let local = sampledIndices(n, count: 12, rng: &rng)
            bad += GradientCheck().compare(label: tensor.name, values: store.values.baseAddress!, analytic: grads,
                                           indices: local.map { $0 + tensor.offset }) {
                model.forward(batch, dropoutSeed: seed)
            }
        }
        #expect(bad.isEmpty, "\(bad.prefix(6))")
        // The rows of ids that occur get non-zero gradients, the pad rows exactly zero.
        let e = model.config.embedding
        #expect(grads[0..<e].allSatisfy { $0 == 0 }, "source pad row")
        let target = store.tensors[store.index(of: "target_embedding")!].offset
        #expect(grads[target..<(target + e)].allSatisfy { $0 == 0 }, "target pad row")
        #expect(grads[(4 * e)..<(5 * e)].contains { $0 != 0 })
    }

    /// A padded batch gives the same loss and gradients as its sentences one at a time.
    @Test(arguments: [true, false])
    func paddingChangesNothing(reverse: Bool) {
        let model = Seq2SeqModel(config: tinyConfig(reverse: reverse), seed: 5)
        let store = model.parameters
        store.zeroGradients()
        let together = model.trainStep(Batch(sources: tinySources, targets: tinyTargets), dropoutSeed: 0)
        let batched = Array(store.gradients)
        store.zeroGradients()
        var loss = 0.0, tokens = 0
        for i in 0..<tinySources.count {
            let r = model.trainStep(Batch(sources: [tinySources[i]], targets: [tinyTargets[i]]), dropoutSeed: 0)
            loss += r.lossSum
            tokens += r.tokens
        }
        #expect(tokens == together.tokens && tokens == 2 + 4 + 0 + 3)
        #expect(abs(loss - together.lossSum) < 1e-5 * abs(loss))
        let worst = zip(batched, Array(store.gradients)).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "max gradient difference \(worst)")
    }

    /// With ±0.08 weights the output distribution is nearly uniform: loss per token ≈ ln V.
    @Test func initialLossIsLogV() {
        let config = ModelConfig(sourceVocabularySize: 50, targetVocabularySize: 40, embedding: 8, hidden: 8)
        let model = Seq2SeqModel(config: config, seed: 1)
        let r = model.evaluate(Batch(sources: tinySources, targets: tinyTargets))
        #expect(abs(r.lossSum / Double(r.tokens) - Foundation.log(40.0)) < 0.05)
    }

    @Test func initialisation() {
        let model = Seq2SeqModel(config: tinyConfig(), seed: 3)
        let values = Array(model.parameters.values)
        let h = model.config.hidden
        let bias = model.parameters.view("decoder.l1.bias")
        #expect((0..<h).allSatisfy { bias.values[h + $0] == 1 })
        let nonBias = values.enumerated().filter { i, _ in !(0..<h).contains { bias.values + h + $0 == model.parameters.values.baseAddress! + i } }
        #expect(nonBias.filter { abs($0.element) > 0.08 && $0.element != 1 }.isEmpty)
        #expect(Set(model.parameters.tensors.map(\.name)).count == model.parameters.tensors.count)
        #expect(model.parameters.tensors.map(\.name).first == "source_embedding")
        let twin = Seq2SeqModel(config: tinyConfig(), seed: 3)
        #expect(Array(twin.parameters.values) == values)
    }

    /// A few pairs are learnt to near-zero loss with Adam.
    @Test func overfitsTinyCorpus() {
        let config = ModelConfig(sourceVocabularySize: 12, targetVocabularySize: 12, embedding: 16, hidden: 32, layers: 2)
        let model = Seq2SeqModel(config: config, seed: 7)
        let sources: [[Int32]] = [[4, 5, 6], [7, 8], [9, 10, 11, 4], [5, 5]]
        let targets: [[Int32]] = [[6, 5, 4], [8, 7], [4, 11, 10, 9], [11]]
        let batch = Batch(sources: sources, targets: targets)
        let adam = Adam()
        var last = Double.infinity
        for step in 0..<300 {
            model.parameters.zeroGradients()
            let r = model.trainStep(batch, dropoutSeed: UInt64(step))
            scaleGradients(model.parameters, by: 1 / Float(r.tokens))
            _ = clipGradientNorm(model.parameters, maxNorm: 5)
            adam.step(model.parameters, learningRate: 0.01)
            last = r.lossSum / Double(r.tokens)
        }
        #expect(last < 0.02, "per-token loss after 300 steps: \(last)")
        #expect(adam.stepCount == 300)
    }

    @Test func determinism() {
        func run() -> [Float] {
            let model = Seq2SeqModel(config: tinyConfig(dropout: 0.2), seed: 8)
            let sgd = SGD()
            for step in 0..<5 {
                model.parameters.zeroGradients()
                _ = model.trainStep(Batch(sources: tinySources, targets: tinyTargets), dropoutSeed: UInt64(step))
                _ = clipGradientNorm(model.parameters, maxNorm: 1)
                sgd.step(model.parameters, learningRate: 0.5)
            }
            return Array(model.parameters.values)
        }
        #expect(run() == run())
    }

    @Test func configValidation() {
        #expect(throws: ModelError.self) { try ModelConfig(sourceVocabularySize: 2, targetVocabularySize: 8).validate() }
        #expect(throws: ModelError.self) { try tinyConfig(dropout: 1).validate() }
        #expect(throws: ModelError.self) { try tinyConfig(layers: 0).validate() }
        #expect(throws: Never.self) { try tinyConfig().validate() }
    }

    @Test func batchLayout() {
        let batch = Batch(sources: [[4, 5], [6]], targets: [[7], [8, 9]])
        #expect(batch.batchSize == 2 && batch.sourceLength == 2 && batch.targetLength == 3)
        #expect(batch.source == [4, 6, 5, 0])
        #expect(batch.sourceLengths == [2, 1])
        #expect(batch.targetInput == [2, 2, 7, 8, 0, 9])
        #expect(batch.targetOutput == [7, 8, 3, 9, 0, 3])
        #expect(batch.targetTokenCount == 5)
    }
}

@Suite struct OptimizerTests {
    private func store(values: [Float], gradients: [Float]) -> ParameterStore {
        let s = ParameterStore(layout: [("a", [2]), ("b", [1])])
        for i in 0..<3 { s.values[i] = values[i]; s.gradients[i] = gradients[i] }
        return s
    }

    @Test func clippingScalesToMaxNorm() {
        let s = store(values: [0, 0, 0], gradients: [3, 4, 12])   // norm 13
        #expect(clipGradientNorm(s, maxNorm: 5) == 13)
        #expect(abs(gradientNorm(s) - 5) < 1e-5)
        #expect(abs(s.gradients[2] - 12 * 5 / 13) < 1e-6)
        let small = store(values: [0, 0, 0], gradients: [0.3, 0.4, 0])
        #expect(abs(clipGradientNorm(small, maxNorm: 5) - 0.5) < 1e-6)
        #expect(Array(small.gradients) == [0.3, 0.4, 0])
    }

    @Test func sgdUpdate() {
        let s = store(values: [1, 2, 3], gradients: [0.5, -1, 0])
        let sgd = SGD()
        sgd.step(s, learningRate: 0.1)
        let expected: [Float] = [1 - 0.05, 2 + 0.1, 3]
        #expect(Array(s.values) == expected)
        #expect(sgd.stepCount == 1)
    }

    @Test func adamUpdateMatchesHandComputation() throws {
        let s = store(values: [1, 2, 3], gradients: [0.5, -1, 0])
        let adam = Adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        adam.step(s, learningRate: 0.1)
        // Step 1: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) = ±lr.
        #expect(abs(s.values[0] - 0.9) < 1e-6 && abs(s.values[1] - 2.1) < 1e-6 && s.values[2] == 3)
        // Step 2 with g = [0.5, 1, 0]: by hand in Double.
        s.gradients[1] = 1
        adam.step(s, learningRate: 0.1)
        let m = 0.9 * (0.1 * -1.0) + 0.1 * 1.0, v = 0.999 * (0.001 * 1.0) + 0.001 * 1.0
        let expected = 2.1 - 0.1 * (m / (1 - 0.81)) / ((v / (1 - 0.999 * 0.999)).squareRoot() + 1e-8)
        #expect(abs(Double(s.values[1]) - expected) < 1e-5)
        // State round trip.
        let restored = Adam()
        try restored.loadState(adam.stateTensors(), stepCount: adam.stepCount)
        let twin = store(values: Array(s.values), gradients: [0.2, 0.2, 0.2])
        s.gradients.update(repeating: 0.2)
        adam.step(s, learningRate: 0.1)
        restored.step(twin, learningRate: 0.1)
        #expect(Array(s.values) == Array(twin.values))
        #expect(throws: ModelError.self) { try restored.loadState([("x", [1], [0])], stepCount: 1) }
    }
}
