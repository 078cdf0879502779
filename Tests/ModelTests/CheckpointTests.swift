import Basics
import Foundation
import Kernels
@testable import Model
import Testing

@Suite struct SafeTensorsTests {
    @Test func roundTripThroughTheModelStore() throws {
        let model = Seq2SeqModel(config: tinyConfig(), seed: 31)
        let bytes = SafeTensors.encode(model.parameters.valueTensors, metadata: ["format": "seq2seq", "version": "1", "quote\"": "a\nb"])
        let decoded = try SafeTensors.decode(bytes)
        #expect(decoded.metadata == ["format": "seq2seq", "version": "1", "quote\"": "a\nb"])
        #expect(decoded.tensors.map(\.name) == model.parameters.tensors.map(\.name))
        #expect(decoded.tensors.map(\.shape) == model.parameters.tensors.map(\.shape))
        let other = Seq2SeqModel(config: tinyConfig(), seed: 32)
        #expect(Array(other.parameters.values) != Array(model.parameters.values))
        try other.parameters.load(decoded.tensors)
        #expect(Array(other.parameters.values) == Array(model.parameters.values))
        // Header length is a multiple of 8 and the data follows it exactly.
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0)
        #expect(bytes.count == 8 + n + 4 * model.parameters.count)
    }

    /// A header written by hand the way Python's safetensors writes it.
    @Test func handBuiltFile() throws {
        let header = #"{"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"\u00e9"}}"#
        var bytes = [UInt8]()
        let h = Array(header.utf8)
        bytes += (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xFF) }
        bytes += h
        for v: Float in [1.5, -2, 0.25] { bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
        let decoded = try SafeTensors.decode(bytes)
        #expect(decoded.metadata == ["k": "é"])
        #expect(decoded.tensors.map(\.name) == ["a", "b"])
        #expect(decoded.tensors[0].values == [1.5, -2])
        #expect(decoded.tensors[1].values == [0.25])
        #expect(decoded.tensors[1].shape == [1])
        // And our encoder writes exactly that layout for the same tensors (sorted metadata, data order).
        let a: [Float] = [1.5, -2], b: [Float] = [0.25]
        let encoded = a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in SafeTensors.encode([("a", [2], ap), ("b", [1], bp)], metadata: [:]) }
        }
        let length = encoded[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let text = String(decoding: encoded[8..<(8 + length)], as: UTF8.self)
        #expect(encoded.count == 8 + length + 12)
        #expect(text == #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"# + "    ")
    }

    /// Bytes written by Python's safetensors 0.8.0 (`save_file({"x": arange(6).reshape(2, 3),
    /// "a": ones(2)}, metadata={"m": "ü"})`); Python also read our files back in a manual check.
    @Test func readsPythonWrittenFile() throws {
        let bytes: [UInt8] = [136, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 109, 34, 58, 34, 195, 188, 34, 125, 44, 34, 97, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 50, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 56, 93, 125, 44, 34, 120, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 56, 44, 51, 50, 93, 125, 125, 0, 0, 128, 63, 0, 0, 128, 63, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64]
        let decoded = try SafeTensors.decode(bytes)
        #expect(decoded.metadata == ["m": "ü"])
        #expect(decoded.tensors.map(\.name) == ["a", "x"])
        #expect(decoded.tensors[0].values == [1, 1])
        #expect(decoded.tensors[1].shape == [2, 3])
        #expect(decoded.tensors[1].values == [0, 1, 2, 3, 4, 5])
    }

    @Test func arrayOverload() throws {
        let arrays: [(name: String, shape: [Int], values: [Float])] = [("adam.m", [3], [1, 2, 3]), ("adam.v", [0], []), ("z", [1], [9])]
        let decoded = try SafeTensors.decode(SafeTensors.encode(arrays: arrays, metadata: ["step": "7"]))
        #expect(decoded.tensors.map(\.name) == ["adam.m", "adam.v", "z"])
        #expect(decoded.tensors.map(\.values) == [[1, 2, 3], [], [9]])
        #expect(decoded.metadata["step"] == "7")
    }

    @Test func badInputGivesClearErrors() {
        #expect(throws: ModelError.self) { try SafeTensors.decode([1, 2, 3]) }
        #expect(throws: ModelError.self) { try SafeTensors.decode([200, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)) }
        let bad = #"{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#
        let bytes = (0..<8).map { UInt8((bad.utf8.count >> (8 * $0)) & 0xFF) } + Array(bad.utf8) + [0, 0]
        do {
            _ = try SafeTensors.decode(bytes)
            Issue.record("F16 accepted")
        } catch {
            #expect("\(error)".contains("F16"))
        }
    }

    @Test func loadRejectsMismatches() throws {
        let model = Seq2SeqModel(config: tinyConfig(), seed: 1)
        var tensors = try SafeTensors.decode(SafeTensors.encode(model.parameters.valueTensors, metadata: [:])).tensors
        let before = Array(model.parameters.values)
        var wrongShape = tensors
        wrongShape[0].shape = [1, wrongShape[0].values.count]
        #expect(throws: ModelError.self) { try model.parameters.load(wrongShape) }
        tensors.removeLast()
        do {
            try model.parameters.load(tensors)
            Issue.record("missing tensor accepted")
        } catch {
            #expect("\(error)".contains("output.bias"))
        }
        #expect(Array(model.parameters.values) == before)
    }
}

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
    @Test(arguments: [true, false], [[2 * InferenceSession.encoderChunkSteps, 3, InferenceSession.encoderChunkSteps],
                                     [2 * InferenceSession.encoderChunkSteps + 37, 1, InferenceSession.encoderChunkSteps + 1]])
    func chunkedEncodingEqualsOnePass(reverse: Bool, lengths: [Int]) {
        let model = Seq2SeqModel(config: tinyConfig(reverse: reverse), seed: 43)
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
                let whole = (Array(UnsafeBufferPointer(start: model.encoder.finalHidden(layer: l) + r * h, count: h)),
                             Array(UnsafeBufferPointer(start: model.encoder.finalCell(layer: l)! + r * h, count: h)))
                let chunked = (session.hiddenState(layer: l, row: r), session.cellState(layer: l, row: r))
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
