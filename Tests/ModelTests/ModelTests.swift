import Foundation
import Kernels
@testable import Model
import Testing

/// A tiny config: small enough that finite differences over sampled coordinates take milliseconds.
func tinyConfig(dropout: Float = 0, reverse: Bool = true, layers: Int = 2, cell: CellType = .lstm,
                bidirectional: Bool = false, residual: Bool = false, attention: AttentionType = .none,
                inputFeed: Bool = true, layerNorm: Bool = false, tie: TiedEmbeddings = .none) -> ModelConfig {
    ModelConfig(sourceVocabularySize: 9, targetVocabularySize: 8, embedding: 3, hidden: 4, layers: layers,
                dropout: dropout, reverseSource: reverse, cell: cell, bidirectional: bidirectional, residual: residual,
                attention: attention, inputFeed: inputFeed, tieEmbeddings: tie, layerNorm: layerNorm)
}

/// Named whole-model configurations for the gradient and decoding tests: every cell, padding,
/// reversal, dropout, bidirectional encoders, residual stacks, attention and layer normalization.
let namedConfigs: [(name: String, config: ModelConfig)] = [
    ("lstm", tinyConfig()), ("lstm natural order", tinyConfig(reverse: false)), ("lstm dropout", tinyConfig(dropout: 0.3)),
    ("gru", tinyConfig(cell: .gru)), ("gru natural order", tinyConfig(reverse: false, cell: .gru)),
    ("gru dropout", tinyConfig(dropout: 0.3, cell: .gru)),
    ("rnn-tanh", tinyConfig(cell: .rnnTanh)), ("rnn-tanh dropout", tinyConfig(dropout: 0.3, cell: .rnnTanh)),
    ("bidirectional lstm", tinyConfig(reverse: false, bidirectional: true)),
    ("bidirectional gru dropout", tinyConfig(dropout: 0.3, reverse: false, cell: .gru, bidirectional: true)),
    ("bidirectional rnn-tanh reversed", tinyConfig(cell: .rnnTanh, bidirectional: true)),
    ("residual lstm 3 layers", tinyConfig(layers: 3, residual: true)),
    ("residual gru dropout", tinyConfig(dropout: 0.3, cell: .gru, residual: true)),
    ("bidirectional residual lstm 3 layers dropout", tinyConfig(dropout: 0.2, reverse: false, layers: 3, bidirectional: true, residual: true)),
    ("lstm dot attention", tinyConfig(attention: .dot)),
    ("lstm general attention", tinyConfig(attention: .general)),
    ("lstm mlp attention", tinyConfig(attention: .mlp)),
    ("gru general attention no input feed", tinyConfig(cell: .gru, attention: .general, inputFeed: false)),
    ("rnn-tanh mlp attention dropout", tinyConfig(dropout: 0.3, cell: .rnnTanh, attention: .mlp)),
    ("bidirectional lstm general attention", tinyConfig(reverse: false, bidirectional: true, attention: .general)),
    ("bidirectional gru mlp attention dropout", tinyConfig(dropout: 0.3, reverse: false, cell: .gru, bidirectional: true, attention: .mlp)),
    ("residual lstm dot attention 3 layers dropout", tinyConfig(dropout: 0.2, layers: 3, residual: true, attention: .dot)),
    ("lstm dot attention no input feed dropout", tinyConfig(dropout: 0.3, attention: .dot, inputFeed: false)),
    ("layer-norm lstm", tinyConfig(layerNorm: true)), ("layer-norm gru dropout", tinyConfig(dropout: 0.3, cell: .gru, layerNorm: true)),
    ("layer-norm bidirectional lstm general attention", tinyConfig(reverse: false, bidirectional: true, attention: .general, layerNorm: true)),
    ("layer-norm residual gru dot attention 3 layers", tinyConfig(layers: 3, cell: .gru, residual: true, attention: .dot, layerNorm: true)),
    ("tied projected lstm general attention", tinyConfig(attention: .general, tie: .decoder)),
]

/// Three sentence pairs of different lengths, so both sides are padded.
let tinySources: [[Int32]] = [[4, 5, 6, 7], [8, 4], [5]]
let tinyTargets: [[Int32]] = [[4, 5], [6, 7, 4, 5], []]

@Suite struct WholeModelTests {
    /// Sampled coordinates of every tensor against central differences, with padding and
    /// reversal (and with dropout: the masks are a deterministic function of the seed).
    ///
    /// The Float check kept beside the double-precision ones (Tests/DoubleCheck, every cell and
    /// configuration to 1e-6): every cell but the IRNN, whose ReLU kinks a Float step of 1e-2
    /// crosses in a 2-layer model (the Double check covers it).
    @Test(arguments: namedConfigs.map(\.name))
    func wholeModelGradients(name: String) {
        let config = namedConfigs.first { $0.name == name }!.config
        let dropout = config.dropout
        let model = Seq2SeqModel(config: config, seed: 21)
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
        // Tied, the target table is also the output layer's weight, whose pad row (a softmax class)
        // has a gradient; the pad embedding only feeds steps after the end, whose outputs are unused.
        if config.tieEmbeddings == .none { #expect(grads[target..<(target + e)].allSatisfy { $0 == 0 }, "target pad row") }
        #expect(grads[(4 * e)..<(5 * e)].contains { $0 != 0 })
    }

    /// A padded batch gives the same loss and gradients as its sentences one at a time, for every
    /// dropout-free named configuration (bidirectional encoders: each direction reads only the
    /// sentence's real tokens; residual stacks; every cell).
    @Test(arguments: namedConfigs.filter { $0.config.dropout == 0 }.map(\.name) + ["irnn", "irnn bidirectional"])
    func paddingChangesNothing(name: String) {
        let extra = [("irnn", tinyConfig(cell: .irnn)), ("irnn bidirectional", tinyConfig(reverse: false, cell: .irnn, bidirectional: true))]
        let config = (namedConfigs + extra).first { $0.name == name }!.config
        let model = Seq2SeqModel(config: config, seed: 5)
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

    /// Le, Jaitly & Hinton (2015), in every recurrent layer and direction: Wh the identity, bias 0,
    /// Wx small (N(0, 0.001²): all within 6σ); the LSTM's forget quarter of every bias is 1, with H/2
    /// per direction when bidirectional.
    @Test(arguments: [false, true], [false, true])
    func cellInitialisation(bidirectional: Bool, residual: Bool) {
        let irnn = Seq2SeqModel(config: tinyConfig(reverse: !bidirectional, layers: 2, cell: .irnn,
                                                   bidirectional: bidirectional, residual: residual), seed: 5)
        let lstm = Seq2SeqModel(config: tinyConfig(reverse: !bidirectional, layers: 2, cell: .lstm,
                                                   bidirectional: bidirectional, residual: residual), seed: 5)
        var checked = 0
        for tensor in irnn.parameters.tensors where tensor.name.contains(".l") {
            let view = irnn.parameters.view(tensor.name)
            let values = Array(UnsafeBufferPointer(start: view.values, count: view.count))
            if tensor.name.hasSuffix("weight_hh") {
                let u = tensor.shape[1]
                #expect(values == (0..<(u * u)).map { $0 / u == $0 % u ? 1 : 0 }, "\(tensor.name)")
            } else if tensor.name.hasSuffix("bias") {
                #expect(values.allSatisfy { $0 == 0 }, "\(tensor.name)")
            } else {
                #expect(values.allSatisfy { abs($0) < 0.006 } && values.contains { $0 != 0 }, "\(tensor.name)")
            }
            checked += 1
        }
        #expect(checked == (bidirectional ? 3 : 2) * 2 * 3)
        for tensor in lstm.parameters.tensors where tensor.name.contains(".l") && tensor.name.hasSuffix(".bias") {
            let u = tensor.shape[0] / 4
            let view = lstm.parameters.view(tensor.name)
            #expect((0..<u).allSatisfy { view.values[u + $0] == 1 }, "\(tensor.name)")
            #expect((0..<u).allSatisfy { abs(view.values[$0]) <= 0.08 && abs(view.values[2 * u + $0]) <= 0.08 })
        }
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
            let r = model.trainStep(batch, dropoutSeed: UInt64(step))
            let norm = scaleGradients(model.parameters, by: 1 / Float(r.tokens))
            adam.step(model.parameters, learningRate: 0.01, gradientScale: clipFactor(norm: norm, maxNorm: 5))
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
                _ = model.trainStep(Batch(sources: tinySources, targets: tinyTargets), dropoutSeed: UInt64(step))
                let norm = gradientNorm(model.parameters)
                sgd.step(model.parameters, learningRate: 0.5, gradientScale: clipFactor(norm: norm, maxNorm: 1))
            }
            return Array(model.parameters.values)
        }
        #expect(run() == run())
    }

    /// The embedding backward marks every row it writes: after `trainStep`, every gradient block the
    /// store does not list as live is zero (so the norm and SGD may skip it), and the blocks of
    /// the rows the batch used are live.
    @Test func untouchedEmbeddingBlocksHoldZeroGradients() {
        let config = ModelConfig(sourceVocabularySize: 300, targetVocabularySize: 300, embedding: 16, hidden: 8, layers: 1)
        let model = Seq2SeqModel(config: config, seed: 3)
        let p = model.parameters
        _ = model.trainStep(Batch(sources: [[4, 290, 5], [150]], targets: [[7, 8], [299]]), dropoutSeed: 0)
        let live = Set(p.liveBlocks())
        #expect(live.count < (p.count + ParameterStore.blockSize - 1) / ParameterStore.blockSize - 20)
        for block in 0..<((p.count + ParameterStore.blockSize - 1) / ParameterStore.blockSize) where !live.contains(block) {
            #expect(p.range(ofBlock: block).allSatisfy { p.gradients[$0] == 0 }, "block \(block)")
        }
        #expect(live.contains(290 * 16 / ParameterStore.blockSize))   // source row 290 was used
        let targetTable = p.tensors[p.index(of: "target_embedding")!].offset
        #expect(live.contains((targetTable + 299 * 16) / ParameterStore.blockSize))   // target row 299 (a decoder input after <s>)
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
        #expect(gradientNorm(s) == 13)
        #expect(clipFactor(norm: 13, maxNorm: 5) == Float(5) / 13)
        SGD().step(s, learningRate: 1, gradientScale: clipFactor(norm: 13, maxNorm: 5))
        #expect(abs(s.values[2] + 12 * 5 / 13) < 1e-6)
        #expect(abs((s.values.map { $0 * $0 }.reduce(0, +)).squareRoot() - 5) < 1e-5)
        // Below the threshold, and for a non-finite norm (whose batch is skipped), nothing is scaled.
        #expect(clipFactor(norm: 0.5, maxNorm: 5) == 1)
        #expect(clipFactor(norm: .nan, maxNorm: 5) == 1 && clipFactor(norm: .infinity, maxNorm: 5) == 1)
    }

    @Test func scaleGradientsReturnsTheNormOfTheScaledGradients() {
        let s = store(values: [0, 0, 0], gradients: [6, 8, 24])
        #expect(scaleGradients(s, by: 0.5) == 13)
        #expect(Array(s.gradients) == [3, 4, 12])
    }

    /// The norm visits live blocks only, yet adds in `Vector.sumOfSquares`'s order: on a store with
    /// a sparse table and a few touched rows it equals the dense sum bit for bit.
    @Test func normOfLiveBlocksEqualsTheDenseSumExactly() {
        let rows = 700, width = 24
        let s = ParameterStore(layout: [("dense", [1003]), ("table", [rows, width]), ("tail", [13])], sparse: ["table"])
        var rng = SeededGenerator(seed: 11)
        let table = s.view("table").gradients
        for i in 0..<1003 { s.gradients[i] = rng.nextFloat(in: -1, 1) }
        for i in (s.count - 13)..<s.count { s.gradients[i] = rng.nextFloat(in: -1, 1) }
        for row in [3, 170, 171, 400, 699] {
            for j in 0..<width { table[row * width + j] = rng.nextFloat(in: -1, 1) }
            s.markGradientsTouched(table + row * width, count: width)
        }
        #expect(s.liveBlocks().count < (s.count + 255) / 256 - 30)
        let dense = Float(Vector.sumOfSquares(s.gradients.baseAddress!, count: s.count).squareRoot())
        #expect(gradientNorm(s) == dense)
        #expect(scaleGradients(s, by: 1) == dense)
    }

    /// Norm, clipping and SGD give the same bits with 1 and 2 threads (the parts split blocks,
    /// never a sum).
    @Test func optimizerStepIndependentOfThreadCount() {
        func run(_ threads: Int) -> (Float, [Float]) {
            let before = Parallel.threads
            defer { Parallel.threads = before }
            Parallel.threads = threads
            let s = ParameterStore(layout: [("a", [300_001])])
            var rng = SeededGenerator(seed: 10)
            for i in 0..<s.count { s.values[i] = rng.nextFloat(in: -1, 1); s.gradients[i] = rng.nextFloat(in: -1, 1) }
            let norm = scaleGradients(s, by: 0.5)
            SGD().step(s, learningRate: 0.7, gradientScale: clipFactor(norm: norm, maxNorm: 5))
            return (norm, Array(s.values))
        }
        let one = run(1), two = run(2)
        #expect(one.0 == two.0 && one.1 == two.1)
    }

    @Test func sgdUpdateZeroesTheGradients() {
        let s = store(values: [1, 2, 3], gradients: [0.5, -1, 0])
        let sgd = SGD()
        sgd.step(s, learningRate: 0.1, gradientScale: 1)
        let expected: [Float] = [1 - 0.05, 2 + 0.1, 3]
        #expect(Array(s.values) == expected)
        #expect(Array(s.gradients) == [0, 0, 0])
        #expect(sgd.stepCount == 1)
    }

    /// A sparse tensor's untouched blocks are skipped by the norm and SGD; touched ones are not,
    /// and the result is bit for bit that of the same store without sparse tensors.
    @Test func sparseBlocksAreSkippedOnlyWhenUntouched() {
        let n = 3 * ParameterStore.blockSize + 40
        func make(sparse: Set<String>) -> ParameterStore {
            let s = ParameterStore(layout: [("dense", [40]), ("table", [3 * ParameterStore.blockSize])], sparse: sparse)
            for i in 0..<n { s.values[i] = Float(i % 7) * 0.25 }
            return s
        }
        let sparse = make(sparse: ["table"]), dense = make(sparse: [])
        // The table starts at 40, so only its blocks 1 and 2 lie wholly inside it.
        #expect(sparse.liveBlocks() == [0, 3] && dense.liveBlocks() == [0, 1, 2, 3])
        for s in [sparse, dense] {
            for i in 0..<40 { s.gradients[i] = Float(i) * 0.01 }
            let row = s.gradients.baseAddress! + 300
            for j in 0..<16 { row[j] = Float(j + 1) * 0.1 }
            s.markGradientsTouched(row, count: 16)
        }
        #expect(sparse.liveBlocks() == [0, 1, 3])
        let norms = [sparse, dense].map { scaleGradients($0, by: 0.5) }
        #expect(norms[0] == norms[1])
        for s in [sparse, dense] { SGD().step(s, learningRate: 0.7, gradientScale: clipFactor(norm: norms[0], maxNorm: 1)) }
        #expect(Array(sparse.values) == Array(dense.values))
        #expect(sparse.values[300] != Float(300 % 7) * 0.25 && sparse.liveBlocks() == [0, 3])
        // A write the store was not told about is not applied: marking is what makes it live.
        // (It stays pending in the buffer; the norm's debug assertion reports exactly this.)
        sparse.gradients[600] = 1
        let before = sparse.values[600]
        SGD().step(sparse, learningRate: 1, gradientScale: 1)
        #expect(sparse.values[600] == before && sparse.gradients[600] == 1)
    }

    @Test func adamUpdateMatchesHandComputation() throws {
        let s = store(values: [1, 2, 3], gradients: [0.5, -1, 0])
        let adam = Adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        adam.step(s, learningRate: 0.1, gradientScale: 1)
        // Step 1: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) = ±lr.
        #expect(abs(s.values[0] - 0.9) < 1e-6 && abs(s.values[1] - 2.1) < 1e-6 && s.values[2] == 3)
        // The step zeroed the gradients. Step 2 with g = [0.5, 1, 0]: by hand in Double.
        #expect(Array(s.gradients) == [0, 0, 0])
        s.gradients[0] = 0.5
        s.gradients[1] = 1
        adam.step(s, learningRate: 0.1, gradientScale: 1)
        let m = 0.9 * (0.1 * -1.0) + 0.1 * 1.0, v = 0.999 * (0.001 * 1.0) + 0.001 * 1.0
        let expected = 2.1 - 0.1 * (m / (1 - 0.81)) / ((v / (1 - 0.999 * 0.999)).squareRoot() + 1e-8)
        #expect(abs(Double(s.values[1]) - expected) < 1e-5)
        // State round trip.
        let restored = Adam()
        try restored.loadState(adam.stateTensors(), stepCount: adam.stepCount)
        let twin = store(values: Array(s.values), gradients: [0.2, 0.2, 0.2])
        s.gradients.update(repeating: 0.2)
        adam.step(s, learningRate: 0.1, gradientScale: 1)
        restored.step(twin, learningRate: 0.1, gradientScale: 1)
        #expect(Array(s.values) == Array(twin.values))
        #expect(throws: ModelError.self) { try restored.loadState([("x", [1], [0])], stepCount: 1) }
    }
}
