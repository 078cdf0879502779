import Kernels
@testable import Model
import Testing

// The gradient checks of issue 13 in double precision: the Model module's own code (compiled here
// with `Scalar = Double`) against central differences, to a relative error of 1e-6. The Float
// build keeps its own, looser checks in the main suite.

/// The main suite's checker (GradientCheck.swift, linked here) with its double-precision settings.
func mismatches(_ label: String, values: UnsafeMutablePointer<Double>, analytic: [Double], indices: [Int],
                loss: () -> Double) -> [String] {
    GradientCheck.double.compare(label: label, values: values, analytic: analytic, indices: indices, loss: loss)
        .map(\.description)
}


/// One recurrent stack of every cell, one-way and bidirectional, masked or not, one layer or
/// three with residual connections, from non-zero initial states: L = Σ w1·out + Σ w2·h_N
/// (+ Σ w3·c_N), checked for every parameter, every input and every initial-state value.
@Test(arguments: CellType.allCases, [(false, false, 1, false), (true, false, 1, false), (false, true, 1, false),
                                     (true, true, 1, false), (true, false, 3, true), (true, true, 3, true)])
func stackGradientsInDouble(cell: CellType, shape: (masked: Bool, bidirectional: Bool, layers: Int, residual: Bool)) {
    let (n, b, input, hidden) = (4, 3, 5, 4)
    let layout = RecurrentStack.layout(cell: cell, layers: shape.layers, inputSize: input, hidden: hidden,
                                       bidirectional: shape.bidirectional, prefix: "s")
    let store = ParameterStore(layout: layout)
    var rng = SeededGenerator(seed: 17)
    for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.6, 0.6) }
    if cell == .irnn { for i in 0..<store.count { store.values[i] += 0.05 } }   // away from ReLU's kink at 0
    let stack = RecurrentStack(cell: cell, layers: shape.layers, inputSize: input, hidden: hidden,
                               bidirectional: shape.bidirectional, residual: shape.residual, dropout: 0, store: store, prefix: "s")
    let memory = stack.hasMemory
    var x = randomFloats(n * b * input, scale: 1, &rng)
    var h0 = randomFloats(shape.layers * b * hidden, scale: 0.5, &rng), c0 = randomFloats(shape.layers * b * hidden, scale: 0.5, &rng)
    let lengths = [4, 2, 1]
    let mask: [Double] = (0..<(n * b)).map { shape.masked ? ($0 / b < lengths[$0 % b] ? 1 : 0) : 1 }
    let w1 = randomFloats(n * b * hidden, scale: 1, &rng), w2 = randomFloats(shape.layers * b * hidden, scale: 1, &rng), w3 = randomFloats(shape.layers * b * hidden, scale: 1, &rng)
    var unused = SeededGenerator(seed: 0)
    x.withUnsafeMutableBufferPointer { xp in
        h0.withUnsafeMutableBufferPointer { hp in
            c0.withUnsafeMutableBufferPointer { cp in
                mask.withUnsafeBufferPointer { mp in
                    let initial = (0..<shape.layers).map { l in
                        (h: UnsafePointer(hp.baseAddress! + l * b * hidden), c: memory ? UnsafePointer(cp.baseAddress! + l * b * hidden) : nil)
                    }
                    func loss() -> Double {
                        let out = stack.forward(input: xp.baseAddress!, steps: n, batch: b, mask: mp.baseAddress!, initial: initial,
                                                applyDropout: false, dropTop: false, rng: &unused)
                        var total = 0.0
                        for i in 0..<(n * b * hidden) where mp[i / hidden] == 1 { total += w1[i] * out[i] }
                        for l in 0..<shape.layers {
                            let fh = stack.finalHidden(layer: l)
                            for i in 0..<(b * hidden) { total += w2[l * b * hidden + i] * fh[i] }
                            if let fc = stack.finalCell(layer: l) { for i in 0..<(b * hidden) { total += w3[l * b * hidden + i] * fc[i] } }
                        }
                        return total
                    }
                    _ = loss()
                    store.zeroGradients()
                    var g = (0..<(n * b * hidden)).map { mp[$0 / hidden] == 1 ? w1[$0] : 0 }
                    let dx: [Double] = g.withUnsafeMutableBufferPointer { gp in
                        w2.withUnsafeBufferPointer { w2p in
                            w3.withUnsafeBufferPointer { w3p in
                                let dh = (0..<shape.layers).map { UnsafePointer(w2p.baseAddress! + $0 * b * hidden) as UnsafePointer<Double>? }
                                let dc = (0..<shape.layers).map { memory ? UnsafePointer(w3p.baseAddress! + $0 * b * hidden) : nil }
                                let d = stack.backward(outputGradient: gp.baseAddress!, finalHiddenGradients: dh, finalCellGradients: dc)
                                return Array(UnsafeBufferPointer(start: d, count: n * b * input))
                            }
                        }
                    }
                    let dh0 = (0..<shape.layers).flatMap { Array(UnsafeBufferPointer(start: stack.initialHiddenGradient(layer: $0), count: b * hidden)) }
                    let dc0 = memory ? (0..<shape.layers).flatMap { Array(UnsafeBufferPointer(start: stack.initialCellGradient(layer: $0)!, count: b * hidden)) } : []
                    var bad = mismatches("parameters", values: store.values.baseAddress!, analytic: Array(store.gradients),
                                         indices: Array(0..<store.count), loss: loss)
                    bad += mismatches("x", values: xp.baseAddress!, analytic: dx, indices: Array(0..<dx.count), loss: loss)
                    bad += mismatches("h0", values: hp.baseAddress!, analytic: dh0, indices: Array(0..<dh0.count), loss: loss)
                    if memory { bad += mismatches("c0", values: cp.baseAddress!, analytic: dc0, indices: Array(0..<dc0.count), loss: loss) }
                    #expect(bad.isEmpty, "\(bad.count) mismatches: \(bad.prefix(4))")
                }
            }
        }
    }
}

/// The whole model (embeddings, encoder, state bridge, decoder, output layer and loss), every
/// parameter, over a table of named configurations: every cell, padding, reversal, dropout,
/// bidirectional encoders and residual stacks.
@Test(arguments: [
    ("lstm", CellType.lstm, 0.0, true, false, false, 2), ("lstm natural order dropout", .lstm, 0.3, false, false, false, 2),
    ("gru", .gru, 0.0, true, false, false, 2), ("gru dropout", .gru, 0.3, true, false, false, 2),
    ("rnn-tanh", .rnnTanh, 0.0, true, false, false, 2), ("irnn", .irnn, 0.0, true, false, false, 2),
    ("bidirectional lstm", .lstm, 0.0, false, true, false, 2), ("bidirectional gru dropout", .gru, 0.2, false, true, false, 2),
    ("residual lstm 3 layers", .lstm, 0.0, true, false, true, 3),
    ("bidirectional residual irnn 3 layers", .irnn, 0.0, false, true, true, 3),
])
func wholeModelGradientsInDouble(name: String, cell: CellType, dropout: Double, reverse: Bool, bidirectional: Bool,
                                 residual: Bool, layers: Int) {
    checkWholeModel(name, ModelConfig(sourceVocabularySize: 9, targetVocabularySize: 8, embedding: 3, hidden: 4, layers: layers,
                                      dropout: Float(dropout), reverseSource: reverse, cell: cell, bidirectional: bidirectional,
                                      residual: residual))
}

/// Every parameter of a tiny model of `config` (weights U(−0.5, 0.5); for an attentional IRNN shifted off ReLU's kink, as
/// the stack test does) on a padded batch of three pairs, against central differences; dropout masks fixed by
/// the seed.
func checkWholeModel(_ name: String, _ config: ModelConfig) {
    let model = Seq2SeqModel(config: config, seed: 21)
    let store = model.parameters
    var rng = SeededGenerator(seed: 22)
    for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.5, 0.5) }
    if config.cell == .irnn && config.attention != .none { for i in 0..<store.count { store.values[i] += 0.05 } }
    let batch = Batch(sources: [[4, 5, 6, 7], [8, 4], [5]], targets: [[4, 5], [6, 7, 4, 5], []])
    store.zeroGradients()
    _ = model.trainStep(batch, dropoutSeed: 99)
    let seed: UInt64? = config.dropout > 0 ? 99 : nil
    let bad = mismatches(name, values: store.values.baseAddress!, analytic: Array(store.gradients),
                         indices: Array(0..<store.count)) { model.forward(batch, dropoutSeed: seed) }
    #expect(bad.isEmpty, "\(bad.count) of \(store.count) mismatch: \(bad.prefix(4))")
}

@Test func theCheckFailsOnAWrongGradient() {
    var x: [Double] = [0.3, -1.2, 2.0]
    x.withUnsafeMutableBufferPointer { p in
        let loss = { p[0] * p[0] + 3 * p[1] + p[2] * p[0] }
        #expect(mismatches("x", values: p.baseAddress!, analytic: [2.6, 3, 0.3], indices: [0, 1, 2], loss: loss).isEmpty)
        #expect(mismatches("x", values: p.baseAddress!, analytic: [2.6, 3 * (1 + 2e-6), 0.3], indices: [0, 1, 2], loss: loss).count == 1)
        #expect(GradientCheck.double.epsilon == 1e-5)
    }
}

@Test func scalarIsDouble() {
    #expect(Scalar.self == Double.self)
}

/// Global attention on its own, per score function (the score, the masked softmax, the context and
/// the h̃ layer), steps forward one at a time and backward in reverse as input feeding runs them:
/// every weight, query and memory value, with padded sentences.
@Test(arguments: [AttentionType.dot, .general, .mlp])
func attentionGradientsInDouble(score: AttentionType) {
    let (t, s, h, lengths) = (3, 4, 5, [4, 2, 1])
    let b = lengths.count, rows = b * h
    let store = ParameterStore(layout: GlobalAttention.layout(score: score, hidden: h, prefix: "att"))
    var rng = SeededGenerator(seed: 3)
    for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.5, 0.5) }
    let layer = GlobalAttention(score: score, hidden: h, store: store, prefix: "att")
    var q = randomFloats(t * rows, scale: 1, &rng), m = randomFloats(s * rows, scale: 1, &rng)
    let w = randomFloats(t * rows, scale: 1, &rng)
    let state = AttentionState()
    q.withUnsafeMutableBufferPointer { qp in
        m.withUnsafeMutableBufferPointer { mp in
            func loss() -> Double {
                layer.prepare(state, memory: mp.baseAddress!, sourceSteps: s, lengths: lengths)
                layer.begin(state, steps: t)
                var total = 0.0
                for step in 0..<t {
                    let out = layer.forward(state, steps: step..<(step + 1), queries: qp.baseAddress! + step * rows)
                    for i in 0..<rows { total += w[step * rows + i] * out[i] }
                }
                return total
            }
            _ = loss()
            store.zeroGradients()
            layer.beginBackward(state)
            var dq = [Double](repeating: 0, count: qp.count)
            for step in stride(from: t - 1, through: 0, by: -1) {
                let g = w.withUnsafeBufferPointer { layer.backward(state, steps: step..<(step + 1), outputGradient: $0.baseAddress! + step * rows) }
                for i in 0..<rows { dq[step * rows + i] = g[i] }
            }
            layer.finishBackward(state)
            let dm = Array(UnsafeBufferPointer(start: state.memoryGradient.pointer, count: mp.count))
            var bad = mismatches("weights", values: store.values.baseAddress!, analytic: Array(store.gradients),
                                 indices: Array(0..<store.count), loss: loss)
            bad += mismatches("queries", values: qp.baseAddress!, analytic: dq, indices: Array(0..<dq.count), loss: loss)
            bad += mismatches("memory", values: mp.baseAddress!, analytic: dm, indices: Array(0..<dm.count), loss: loss)
            #expect(bad.isEmpty, "\(bad.prefix(4))")
        }
    }
}

/// The whole attentional model, every parameter: each score, input feeding on and off, padding,
/// a bidirectional encoder, residual stacks and dropout.
@Test(arguments: [
    ("lstm dot", CellType.lstm, AttentionType.dot, true, false, 0.0), ("lstm general", .lstm, .general, true, false, 0.0),
    ("lstm mlp", .lstm, .mlp, true, false, 0.0), ("gru general no input feed", .gru, .general, false, false, 0.0),
    ("bidirectional lstm general", .lstm, .general, true, true, 0.0), ("bidirectional gru mlp dropout", .gru, .mlp, true, true, 0.3),
    ("rnn-tanh dot dropout", .rnnTanh, .dot, true, false, 0.3), ("irnn general", .irnn, .general, true, false, 0.0),
])
func attentionalModelGradientsInDouble(name: String, cell: CellType, attention: AttentionType, inputFeed: Bool,
                                       bidirectional: Bool, dropout: Double) {
    checkWholeModel(name, ModelConfig(sourceVocabularySize: 9, targetVocabularySize: 8, embedding: 3, hidden: 4, layers: 2,
                                      dropout: Float(dropout), reverseSource: !bidirectional, cell: cell,
                                      bidirectional: bidirectional, residual: name.hasPrefix("irnn"), attention: attention,
                                      inputFeed: inputFeed))
}

/// Layer-normalized LSTM and GRU cells (Ba et al. 2016): every parameter of whole models (the
/// LN gains and biases included), with padding, a bidirectional encoder, attention with input
/// feeding, and dropout.
@Test(arguments: [
    ("ln lstm", CellType.lstm, AttentionType.none, false, 0.0), ("ln gru", .gru, .none, false, 0.0),
    ("ln lstm bidirectional general", .lstm, .general, true, 0.0), ("ln gru dot dropout", .gru, .dot, false, 0.3),
])
func layerNormModelGradientsInDouble(name: String, cell: CellType, attention: AttentionType, bidirectional: Bool, dropout: Double) {
    let config = ModelConfig(sourceVocabularySize: 9, targetVocabularySize: 8, embedding: 3, hidden: 4, layers: 2,
                             dropout: Float(dropout), reverseSource: !bidirectional, cell: cell, bidirectional: bidirectional,
                             attention: attention, layerNorm: true)
    #expect(Seq2SeqModel.layout(config).contains { $0.name == "encoder.l0.layer_norm_ih.weight" })
    checkWholeModel(name, config)
}

/// Tied embeddings: the target embedding is also the output layer's weight (and with `all` the
/// source embedding): its gradient is the sum of every use's, checked against central differences
/// of the loss with the one shared tensor perturbed; with E ≠ H through the projection P [E, H].
@Test(arguments: [("tied decoder", TiedEmbeddings.decoder, AttentionType.none, 4), ("tied decoder general", .decoder, .general, 4),
                  ("tied all dot", .all, .dot, 4), ("tied decoder projected E 3, H 4", .decoder, .general, 3),
                  ("tied all projected E 3, H 4", .all, .none, 3)])
func tiedEmbeddingGradientsInDouble(name: String, tie: TiedEmbeddings, attention: AttentionType, embedding: Int) {
    let config = ModelConfig(sourceVocabularySize: 9, targetVocabularySize: tie == .all ? 9 : 8, embedding: embedding, hidden: 4, layers: 2,
                             attention: attention, tieEmbeddings: tie)
    let names = Seq2SeqModel.layout(config).map(\.name)
    #expect(!names.contains("output.weight") && names.contains("source_embedding") == (tie != .all))
    #expect(names.contains("output.projection") == (embedding != 4))
    checkWholeModel(name, config)
}

/// The output layer's label-smoothed loss (ε = 0.1) in double precision: d(smoothed loss) with
/// respect to the weights, the bias and the input against central differences.
@Test func labelSmoothedOutputGradientsInDouble() {
    let (rows, hidden, vocabulary) = (5, 4, 7)
    var rng = SeededGenerator(seed: 23)
    let store = ParameterStore(layout: OutputLayer.layout(vocabulary: vocabulary, hidden: hidden))
    for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.8, 0.8) }
    let layer = OutputLayer(vocabulary: vocabulary, hidden: hidden, store: store)
    layer.labelSmoothing = 0.1
    var x = randomFloats(rows * hidden, scale: 1, &rng)
    let targets: [Int32] = [1, 6, 3, 3, 0]
    x.withUnsafeMutableBufferPointer { xp in
        func run(training: Bool) -> Double {
            _ = targets.withUnsafeBufferPointer { layer.forward(input: xp.baseAddress!, targets: $0, training: training) }
            return layer.smoothedLoss
        }
        func loss() -> Double { run(training: false) }
        _ = run(training: true)
        layer.backward()
        let dx = Array(UnsafeBufferPointer(start: layer.inputGradient.pointer, count: rows * hidden))
        var bad = mismatches("parameters", values: store.values.baseAddress!, analytic: Array(store.gradients),
                             indices: Array(0..<store.count), loss: loss)
        bad += mismatches("x", values: xp.baseAddress!, analytic: dx, indices: Array(0..<dx.count), loss: loss)
        #expect(bad.isEmpty, "\(bad.count) mismatches: \(bad.prefix(4))")
    }
}
