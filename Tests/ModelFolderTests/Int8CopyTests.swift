import Foundation
import Model
@testable import ModelFolder
import Testing

/// The int8 copy `seq2seq quantize` writes beside a checkpoint (``Int8Copy``).
@Suite struct Int8CopyTests {
    func folder() throws -> (URL, SavedModel) {
        let url = makeScratchDirectory("int8-copy")
        try FolderFiles().write(to: url)
        return (url, try SavedModel(opening: url.path))
    }

    /// Written and read back, it is the decoder quantizing at load time gives, bit for bit.
    @Test func roundTripGivesTheSameInt8Weights() throws {
        let (url, saved) = try folder()
        defer { try? FileManager.default.removeItem(at: url) }
        let model = try saved.loadModel(.best)
        let quantized = DecoderWeights(model: model, precision: .int8)
        let path = try saved.int8CopyPath(.best)
        #expect(path == url.path + "/best.int8.safetensors")
        try Int8Copy.write(quantized, of: model, checkpointName: "best.safetensors", to: path)
        let read = try Int8Copy.read(path, model: model)
        #expect(read.precision == .int8)
        let (a, b) = (quantized.storedInt8Form(), read.storedInt8Form())
        #expect(a.map(\.name) == b.map(\.name))
        #expect(a.map(\.rows) == b.map(\.rows))
        #expect(a.map(\.scales) == b.map(\.scales))
        #expect(a.map(\.name) == ["encoder.layers.0.joint", "decoder.layers.0.joint", "output"])
    }

    /// A copy made from other weights, a corrupt copy and a float checkpoint in its place are each
    /// one error naming the copy.
    @Test func staleCorruptOrWrongFilesAreRefused() throws {
        let (url, saved) = try folder()
        defer { try? FileManager.default.removeItem(at: url) }
        let model = try saved.loadModel(.best)
        let path = try saved.int8CopyPath(.best)
        try Int8Copy.write(DecoderWeights(model: model, precision: .int8), of: model, checkpointName: "best.safetensors", to: path)
        let other = try saved.loadModel(.best)
        other.parameters.values[0] += 0.001
        func message(_ model: Seq2SeqModel) -> String {
            do { _ = try Int8Copy.read(path, model: model); return "" } catch { return "\(error)" }
        }
        #expect(message(other).hasPrefix(path + ": was quantized from other weights"))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 3] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(message(model).hasPrefix(path + ": corrupt or truncated int8 copy"))
        try FileManager.default.copyItem(atPath: url.path + "/best.safetensors", toPath: path + ".tmp")
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
        #expect(message(model).hasPrefix(path + ": not an int8 copy"))
        #expect(!message(model).contains("\n"))
    }
}
