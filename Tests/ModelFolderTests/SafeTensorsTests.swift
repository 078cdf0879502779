import Foundation
import Model
@testable import ModelFolder
import Testing

/// Vocabulary 8, E 4, H 4, one layer: every tensor kind, tiny.
let tinyConfig = ModelConfig(sourceVocabularySize: 8, targetVocabularySize: 8, embedding: 4, hidden: 4, layers: 1)

@Suite struct SafeTensorsTests {
    @Test func roundTripThroughTheModelStore() throws {
        let model = Seq2SeqModel(config: tinyConfig, seed: 31)
        let bytes = SafeTensors.encode(model.parameters.valueTensors, metadata: ["format": "seq2seq", "version": "1", "quote\"": "a\nb"])
        let decoded = try SafeTensors.decode(bytes)
        #expect(decoded.metadata == ["format": "seq2seq", "version": "1", "quote\"": "a\nb"])
        #expect(decoded.tensors.map(\.name) == model.parameters.tensors.map(\.name))
        #expect(decoded.tensors.map(\.shape) == model.parameters.tensors.map(\.shape))
        let other = Seq2SeqModel(config: tinyConfig, seed: 32)
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
        // And our encoder (Foundation's JSONEncoder, sorted keys) writes that layout for the same
        // tensors, the data in the given order.
        let a: [Float] = [1.5, -2], b: [Float] = [0.25]
        let encoded = a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in SafeTensors.encode([("a", [2], ap), ("b", [1], bp)], metadata: [:]) }
        }
        let length = encoded[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let text = String(decoding: encoded[8..<(8 + length)], as: UTF8.self)
        #expect(encoded.count == 8 + length + 12)
        // The only metadata is the data checksum: FNV-1a over the three words 1.5, -2, 0.25.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for v: Float in [1.5, -2, 0.25] { hash = (hash ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 }
        let hex = String(repeating: "0", count: 16 - String(hash, radix: 16).count) + String(hash, radix: 16)
        #expect(text.trimmingCharacters(in: .whitespaces) == #"{"__metadata__":{"data_fnv1a64":""# + hex + #""},"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]},"b":{"data_offsets":[8,12],"dtype":"F32","shape":[1]}}"#)
        #expect(length % 8 == 0)
    }

    /// Streaming a file to disk (tensors from buffers and from arrays) gives exactly the bytes
    /// `encode` builds in memory.
    @Test func writeStreamsTheSameBytesAsEncode() throws {
        let a: [Float] = [1.5, -2, 0.25, 7], b: [Float] = [3, -0.5]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-write-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("w.safetensors").path
        let expected = a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in SafeTensors.encode([("a", [2, 2], ap), ("b", [2], bp)], metadata: ["m": "x"]) }
        }
        try a.withUnsafeBufferPointer { ap in
            try SafeTensors.write([("a", [2, 2], .buffer(ap)), ("b", [2], .array(b))], metadata: ["m": "x"], to: path, sync: false)
        }
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == expected)
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
        let model = Seq2SeqModel(config: tinyConfig, seed: 1)
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

    /// I8 tensors (the int8 copy of a model): written and read back in their own dtype, next to
    /// F32 ones, with an odd byte count so the checksum's last word is partial; refused by the
    /// F32-only `decode`; one flipped byte in the partial word is caught.
    @Test func int8TensorsRoundTripAndAreChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-i8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("q.safetensors").path
        let q: [Int8] = [-127, 0, 5, 127, -1, 3, 9], scales: [Float] = [0.5, 0.25]
        try SafeTensors.write([("q", [7], .int8(q)), ("s", [2], .array(scales)), ("r", [3], .int8([1, -2, 3]))],
                              metadata: ["format": "x"], to: path, sync: false)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let decoded = try SafeTensors.decodeMixed(bytes)
        #expect(decoded.metadata == ["format": "x"])
        #expect(decoded.tensors.map(\.name) == ["q", "s", "r"])
        #expect(decoded.tensors[0].values == .i8(q))
        #expect(decoded.tensors[1].values == .f32(scales))
        #expect(decoded.tensors[2].values == .i8([1, -2, 3]))
        #expect(decoded.tensors[0].shape == [7])
        #expect(bytes.count % 8 == 18 % 8)  // 8-byte length, header padded to 8 bytes, 18 data bytes
        do {
            _ = try SafeTensors.decode(bytes)
            Issue.record("I8 accepted by the F32-only decode")
        } catch {
            #expect("\(error)".contains("\"I8\"; only F32 is supported"))
        }
        var corrupt = bytes
        corrupt[corrupt.count - 1] ^= 1  // the last byte: in the final, partial checksum word
        #expect(throws: ModelError.self) { try SafeTensors.decodeMixed(corrupt) }
    }
}
