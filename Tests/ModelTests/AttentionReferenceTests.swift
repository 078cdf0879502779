import Foundation
import Kernels
@testable import Model
import Testing

/// Global attention and whole attentional models against the PyTorch peer's own modules
/// (`Attention` and `Seq2Seq` of torch_seq2seq.py) on explicit weights, from fixtures made once by
/// `scripts/fixtures/make_attention_fixtures.py` in float64:
///
/// - `attention_reference.json`: dot, general and mlp scores over a padded batch (B = 3 sentences of
///   lengths 4, 2, 1 padded to S = 4, H = 5, T = 3 query steps): h̃, the alignments, and the
///   gradients of L = Σ G ⊙ h̃ with respect to every weight, the queries and the memory. The peer
///   has no padding; the fixture adds a −∞ mask on the scores, i.e. each sentence alone.
/// - `attention_model_reference.json`: `Seq2Seq` with input feeding, cells LSTM and GRU × general
///   and mlp scores, L = 2, E = 3, H = 4, V = 9/8, on one padded batch (run per sentence by the
///   peer and summed): the summed cross-entropy and the gradient of every parameter.
///
/// Fixture tensors carry our names (`attention.w_c.weight`, `decoder.l0.bias`, …), so weights are
/// copied by name. This file is also compiled by Tests/DoubleCheck (Scalar = Double, a link to this
/// file), where the tolerance is 1e-9 instead of Float's 1e-5 (absolute plus relative).
@Suite struct AttentionReferenceTests {
    struct Tensor: Decodable { var shape: [Int]; var data: [Double] }
    struct AttentionCase: Decodable {
        var name: String, score: String, hidden: Int, batch: Int, source_steps: Int, steps: Int, lengths: [Int]
        var weights: [String: Tensor]
        var memory: Tensor, queries: Tensor, G: Tensor, output: Tensor, alignments: Tensor
        var gradients: [String: Tensor]
    }
    struct ModelCase: Decodable {
        var name: String, cell: String, attention: String, layers: Int, embedding: Int, hidden: Int
        var source_vocabulary: Int, target_vocabulary: Int
        var sources: [[Int32]], targets: [[Int32]]
        var weights: [String: Tensor]
        var loss: Double, tokens: Int
        var gradients: [String: Tensor]
    }
    struct File<Case: Decodable>: Decodable { var cases: [Case] }

    /// The fixture `Fixtures/NAME.json` beside this source file, read from the source tree rather than
    /// the test bundle: Tests/DoubleCheck compiles this same file through a link, and a package's
    /// resources cannot be links (SwiftPM copies the link itself). Its Fixtures folder links the files.
    static func load<Case: Decodable>(_ name: String, as: Case.Type) throws -> [Case] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent("\(name).json")
        return try JSONDecoder().decode(File<Case>.self, from: Data(contentsOf: url)).cases
    }
    /// Empty when a fixture is missing or unreadable; `fixturesLoad` then fails with the reason.
    static let attentionCases = (try? load("attention_reference", as: AttentionCase.self)) ?? []
    static let modelCases = (try? load("attention_model_reference", as: ModelCase.self)) ?? []

    /// Both fixtures parse and hold the cases the script writes (3 scores; 2 cells × 2 scores), so
    /// the parameterized tests below cannot pass by running no case at all.
    @Test func fixturesLoad() throws {
        #expect(try Self.load("attention_reference", as: AttentionCase.self).map(\.score) == ["dot", "general", "mlp"])
        #expect(try Self.load("attention_model_reference", as: ModelCase.self).map(\.name) == ["lstm general", "lstm mlp", "gru general", "gru mlp"])
    }

    /// 1e-5 in Float, 1e-9 in the Double build: |ours − reference| ≤ tol + tol·|reference|.
    static let tolerance: Double = MemoryLayout<Scalar>.size == 8 ? 1e-9 : 1e-5
    static func close(_ ours: Scalar, _ reference: Double) -> Bool {
        abs(Double(ours) - reference) <= tolerance + tolerance * abs(reference)
    }

    /// Copies fixture tensors into `store` by name; every tensor of the store must be given, with its size.
    static func copy(_ weights: [String: Tensor], into store: ParameterStore, prefix: String = "") {
        #expect(Set(weights.keys.map { prefix + $0 }) == Set(store.tensors.map(\.name)), "fixture and store tensors differ")
        for (name, tensor) in weights {
            let view = store.view(prefix + name)
            #expect(view.count == tensor.data.count, "\(name): \(view.count) values, fixture \(tensor.data.count)")
            for i in 0..<min(view.count, tensor.data.count) { view.values[i] = Scalar(tensor.data[i]) }
        }
    }

    /// Compares `ours` with the fixture's tensor element by element; returns the number of mismatches.
    static func compare(_ label: String, _ ours: UnsafePointer<Scalar>, _ reference: Tensor) -> Int {
        var bad = 0
        for i in 0..<reference.data.count where !close(ours[i], reference.data[i]) {
            if bad < 5 { Issue.record("\(label)[\(i)]: ours \(ours[i]), PyTorch \(reference.data[i])") }
            bad += 1
        }
        return bad
    }

    /// Our GlobalAttention run as input feeding runs it (steps forward one at a time, backward in
    /// reverse) gives the peer's h̃, alignments (exactly 0 at padding) and the gradients of
    /// L = Σ G ⊙ h̃ for every weight, query and memory row (padded rows included: zero).
    @Test(arguments: attentionCases.map(\.name))
    func attentionMatchesThePeer(name: String) throws {
        let c = try #require(Self.attentionCases.first { $0.name == name })
        let score = try #require(AttentionType(rawValue: c.score))
        let (h, b, s, t) = (c.hidden, c.batch, c.source_steps, c.steps)
        let rows = b * h
        let store = ParameterStore(layout: GlobalAttention.layout(score: score, hidden: h, prefix: "att"))
        Self.copy(c.weights, into: store, prefix: "att.")
        let layer = GlobalAttention(score: score, hidden: h, store: store, prefix: "att")
        let memory = c.memory.data.map { Scalar($0) }, queries = c.queries.data.map { Scalar($0) }, g = c.G.data.map { Scalar($0) }
        try #require(memory.count == s * rows && queries.count == t * rows && g.count == t * rows)
        let state = AttentionState()
        var outputs = [Scalar](), alignments = [Scalar](), queryGradient = [Scalar](repeating: 0, count: t * rows)
        memory.withUnsafeBufferPointer { mp in
            layer.prepare(state, memory: mp.baseAddress!, sourceSteps: s, lengths: c.lengths)
            layer.begin(state, steps: t)
            for step in 0..<t {
                let out = queries.withUnsafeBufferPointer { layer.forward(state, steps: step..<(step + 1), queries: $0.baseAddress! + step * rows) }
                outputs += UnsafeBufferPointer(start: out, count: rows)
                for row in 0..<b { alignments += layer.alignment(state, step: step, row: row) }
            }
            layer.beginBackward(state)
            for step in stride(from: t - 1, through: 0, by: -1) {
                let dq = g.withUnsafeBufferPointer { layer.backward(state, steps: step..<(step + 1), outputGradient: $0.baseAddress! + step * rows) }
                for i in 0..<rows { queryGradient[step * rows + i] = dq[i] }
            }
            layer.finishBackward(state)
        }
        var bad = Self.compare("h̃", outputs, c.output) + Self.compare("alignments", alignments, c.alignments)
        bad += Self.compare("grad_queries", queryGradient, try #require(c.gradients["grad_queries"]))
        bad += Self.compare("grad_memory", state.memoryGradient.pointer, try #require(c.gradients["grad_memory"]))
        for weight in c.weights.keys.sorted() {
            bad += Self.compare("grad_\(weight)", store.view("att.\(weight)").gradients, try #require(c.gradients["grad_\(weight)"]))
        }
        #expect(bad == 0, "\(bad) values differ from PyTorch by more than \(Self.tolerance)")
        // The padding's alignment is exactly zero (not merely small).
        for step in 0..<t {
            for row in 0..<b { #expect(alignments[((step * b + row) * s + c.lengths[row])..<((step * b + row + 1) * s)].allSatisfy { $0 == 0 }) }
        }
    }

    /// A whole attentional model (input feeding, LSTM or GRU, general or mlp scores) trained one step
    /// on a padded batch gives the peer's summed cross-entropy and every parameter's gradient.
    @Test(arguments: modelCases.map(\.name))
    func attentionalModelMatchesThePeer(name: String) throws {
        let c = try #require(Self.modelCases.first { $0.name == name })
        let cell: CellType = try #require(["lstm": .lstm, "gru": .gru][c.cell])
        let config = ModelConfig(sourceVocabularySize: c.source_vocabulary, targetVocabularySize: c.target_vocabulary,
                                 embedding: c.embedding, hidden: c.hidden, layers: c.layers, dropout: 0, reverseSource: true,
                                 cell: cell, attention: try #require(AttentionType(rawValue: c.attention)), inputFeed: true)
        let model = Seq2SeqModel(config: config, seed: 1)
        let store = model.parameters
        Self.copy(c.weights, into: store)
        let batch = Batch(sources: c.sources, targets: c.targets)
        store.zeroGradients()
        let (loss, tokens) = model.trainStep(batch, dropoutSeed: 0)
        #expect(tokens == c.tokens)
        #expect(abs(loss - c.loss) <= Self.tolerance + Self.tolerance * abs(c.loss), "loss: ours \(loss), PyTorch \(c.loss)")
        var bad = 0
        for tensor in store.tensors {
            let reference = try #require(c.gradients["grad_\(tensor.name)"], "no gradient of \(tensor.name) in the fixture")
            bad += Self.compare("grad_\(tensor.name)", store.view(tensor.name).gradients, reference)
        }
        #expect(bad == 0, "\(bad) gradient values differ from PyTorch by more than \(Self.tolerance)")
    }
}
