import Basics
import Foundation
import Kernels
@testable import Model
import Testing

/// Decoding with ``DecoderWeights`` in int8 (issue 16): every decoder product is a
/// ``QuantizedWeights`` at every row count, a row's log-probabilities do not depend on the rows
/// decoded with it, and they stay close to float32's.
@Suite struct Int8DecodingTests {
    /// A model with attention and input feeding whose weights have the spread of a trained one.
    func model(_ config: ModelConfig, seed: UInt64) -> Seq2SeqModel {
        let model = Seq2SeqModel(config: config, seed: seed)
        var rng = SeededGenerator(seed: seed)
        for i in 0..<model.parameters.count { model.parameters.values[i] = rng.nextFloat(in: -0.5, 0.5) }
        return model
    }

    /// Teacher-forced log-probabilities [steps][rows·V] of `sources` fed `tokens[t]` at step t.
    func logProbs(_ session: InferenceSession, sources: [[Int32]], tokens: [[Int32]], v: Int) -> [[Float]] {
        session.encode(sources)
        var out: [[Float]] = []
        for previous in tokens {
            var lp = [Float](repeating: 0, count: sources.count * v)
            lp.withUnsafeMutableBufferPointer { session.step(previousTokens: previous, logProbs: $0) }
            out.append(lp)
        }
        return out
    }

    @Test func everyProductIsInt8AtEveryRowCount() {
        for config in [tinyConfig(attention: .mlp), tinyConfig(cell: .gru, attention: .general), tinyConfig(),
                       tinyConfig(reverse: false, layers: 1, bidirectional: true)] {
            let weights = DecoderWeights(model: model(config, seed: 3), precision: .int8)
            #expect(weights.maximumRows == Int.max)
            #expect(weights.products.allSatisfy { $0.product is QuantizedWeights })
            let float = DecoderWeights(model: model(config, seed: 3))
            #expect(float.maximumRows == PackedWeights.maximumRows)
            #expect(float.products.map(\.name) == weights.products.map(\.name).filter { !$0.hasPrefix("encoder.") })
            #expect(weights.products.map(\.name).filter { $0.hasPrefix("encoder.") }.count == (config.cell == .gru ? 4 : 2))
        }
    }

    /// int8's first decoder layer looks the embedding's part of its gates up: the table is
    /// E·W_eᵀ + b (fused bias, or b_ih), and the int8 rest covers exactly the other columns, with
    /// the joint product's int8 values and row scales (LSTM with and without input feeding; GRU
    /// with input feeding, and without, where Wx has no other columns).
    @Test(arguments: ["lstm general attention", "lstm", "bidirectional gru mlp attention dropout", "gru general attention no input feed",
                      "layer-norm bidirectional lstm general attention", "layer-norm residual gru dot attention 3 layers"])
    func embeddingPartIsATableAndTheRestInt8(_ name: String) throws {
        let config = try #require(namedConfigs.first { $0.name == name }?.config)
        let m = model(config, seed: 11)
        let weights = DecoderWeights(model: m, precision: .int8)
        let first = weights.layers[0], layer = m.decoder.forwardLayers[0]
        let embedded = try #require(first.embedded)
        let (e, gw, v) = (config.embedding, layer.gateWidth, config.targetVocabularySize)
        #expect(embedded.columns == e)
        for id in 0..<v {
            for g in 0..<gw {
                var sum = Double(layer.bias[g])
                for j in 0..<e { sum += Double(m.targetEmbedding.values[id * e + j]) * Double(layer.wx[g * layer.inputSize + j]) }
                #expect(abs(Double(embedded.table.pointer[id * gw + g]) - sum) < 1e-5, "id \(id) gate \(g)")
            }
        }
        let full = try #require((first.joint ?? first.input) as? QuantizedWeights)
        if layer.inputSize == e && first.joint == nil {
            #expect(embedded.rest == nil)
        } else {
            let rest = try #require(embedded.rest as? QuantizedWeights)
            #expect(rest.k == full.k - e && rest.n == full.n && !rest.hasBias && rest.scales == full.scales)
            #expect(rest.bias.allSatisfy { $0 == 0 }, "the bias is in the table only")
            let fullRows = full.quantizedRows
            var expected: [Int8] = []
            for row in 0..<full.n { expected += fullRows[(row * full.k + e)..<((row + 1) * full.k)] }
            #expect(rest.quantizedRows == expected)
        }
        #expect(DecoderWeights(model: m).layers[0].embedded == nil, "float32 keeps the embedding in its product")
    }

    /// Past the table's limit int8 keeps the embedding columns in its product (the path a large
    /// vocabulary takes): no table, rows still independent of their companions, close to float32,
    /// and close to, but not the bits of, int8 with the table.
    @Test(arguments: ["lstm general attention", "gru general attention no input feed"])
    func withoutTheTableTheEmbeddingStaysInTheInt8Product(_ name: String) throws {
        let config = try #require(namedConfigs.first { $0.name == name }?.config)
        let m = model(config, seed: 13)
        let v = config.targetVocabularySize
        let plain = DecoderWeights(model: m, precision: .int8, embeddingTableLimit: 0)
        #expect(plain.layers[0].embedded == nil)
        let steps: [[Int32]] = [[2, 2, 2], [4, 5, 6], [7, 4, 5]]
        let without = logProbs(InferenceSession(model: m, packed: plain), sources: tinySources, tokens: steps, v: v)
        let with = logProbs(InferenceSession(model: m, packed: DecoderWeights(model: m, precision: .int8)),
                            sources: tinySources, tokens: steps, v: v)
        let float = logProbs(InferenceSession(model: m, packed: DecoderWeights(model: m)), sources: tinySources, tokens: steps, v: v)
        for t in steps.indices {
            for i in float[t].indices {
                #expect(abs(without[t][i] - float[t][i]) < 0.05 && abs(with[t][i] - float[t][i]) < 0.05)
            }
        }
        for r in tinySources.indices {
            let alone = logProbs(InferenceSession(model: m, packed: plain), sources: [tinySources[r]], tokens: steps.map { [$0[r]] }, v: v)
            for t in steps.indices { #expect(Array(without[t][(r * v)..<((r + 1) * v)]) == alone[t], "row \(r) step \(t)") }
        }
        #expect(steps.indices.contains { without[$0] != with[$0] }, "the table changed nothing")
    }

    /// The table is built up to 64 MiB (V·G·H floats) and not past it.
    @Test func embeddingTableHasAMemoryLimit() {
        #expect(DecoderWeights.usesEmbeddingTable(vocabulary: 16_000, gateWidth: 1024))
        #expect(DecoderWeights.usesEmbeddingTable(vocabulary: 16_384, gateWidth: 1024))
        #expect(!DecoderWeights.usesEmbeddingTable(vocabulary: 16_385, gateWidth: 1024))
        #expect(!DecoderWeights.usesEmbeddingTable(vocabulary: 32_000, gateWidth: 2048))
        #expect(!DecoderWeights.usesEmbeddingTable(vocabulary: Int.max / 2, gateWidth: 1024))
    }

    /// 30 rows (more than the float32 packed path's 24, so float32 would switch to BLAS): row r's
    /// int8 log-probabilities equal, bit for bit, those of its sentence decoded alone.
    @Test(arguments: ["lstm general attention", "gru general attention no input feed", "lstm mlp attention", "lstm",
                      "bidirectional lstm general attention"])
    func aRowDoesNotDependOnItsCompanions(_ name: String) {
        let config = namedConfigs.first { $0.name == name }?.config ?? tinyConfig()
        let m = model(config, seed: 5)
        let weights = DecoderWeights(model: m, precision: .int8)
        let v = config.targetVocabularySize
        let sources = (0..<30).map { i in (0..<(1 + i % 5)).map { Int32(4 + ($0 + i) % 5) } }
        let steps: [[Int32]] = [Array(repeating: TokenID.start, count: 30), (0..<30).map { Int32(4 + $0 % 4) },
                                (0..<30).map { Int32(7 - $0 % 3) }]
        let together = logProbs(InferenceSession(model: m, packed: weights), sources: sources, tokens: steps, v: v)
        for r in [0, 7, 29] {
            let alone = logProbs(InferenceSession(model: m, packed: weights), sources: [sources[r]],
                                 tokens: steps.map { [$0[r]] }, v: v)
            for t in steps.indices {
                #expect(Array(together[t][(r * v)..<((r + 1) * v)]) == alone[t], "row \(r) step \(t)")
            }
        }
    }

    /// int8 against float32 on the same weights: each step's log-probabilities differ by little
    /// (per-row 8-bit scales keep a product's relative error near 1/127 of the largest term) and
    /// each row's most probable next token is the same.
    @Test(arguments: ["lstm general attention", "lstm dot attention", "gru general attention no input feed", "lstm",
                      "bidirectional gru mlp attention dropout", "rnn-tanh mlp attention dropout",
                      "residual lstm dot attention 3 layers dropout", "lstm dot attention no input feed dropout",
                      "layer-norm lstm", "layer-norm bidirectional lstm general attention", "tied projected lstm general attention"])
    func int8TracksFloat32(_ name: String) {
        let config = namedConfigs.first { $0.name == name }!.config
        let m = model(config, seed: 9)
        let v = config.targetVocabularySize
        let steps: [[Int32]] = [[2, 2, 2], [4, 5, 6], [7, 4, 5], [5, 6, 7]]
        let float = logProbs(InferenceSession(model: m, packed: DecoderWeights(model: m)), sources: tinySources, tokens: steps, v: v)
        let int8 = logProbs(InferenceSession(model: m, packed: DecoderWeights(model: m, precision: .int8)),
                            sources: tinySources, tokens: steps, v: v)
        var worst: Float = 0
        for t in steps.indices {
            #expect(int8[t] != float[t], "int8 gave float32's exact bits: the int8 path did not run")
            for i in float[t].indices { worst = max(worst, abs(int8[t][i] - float[t][i])) }
            for r in 0..<3 {
                let row = { (x: [Float]) in x[(r * v)..<((r + 1) * v)].indices.max { x[$0] < x[$1] }! }
                #expect(row(int8[t]) == row(float[t]), "step \(t) row \(r)")
            }
        }
        #expect(worst < 0.05, "largest log-probability difference \(worst)")
    }
}
