import Foundation
import Model

/// The int8 copy of a model's decoder that `seq2seq quantize` stores beside a checkpoint:
/// `best.int8.safetensors` next to `best.safetensors` (or `last.…`). It holds, for each product of
/// ``DecoderWeights`` (named as ``DecoderWeights/products`` names them), the quantized rows
/// `NAME.weight` (I8 [N, K], row-major, in −127…127) and the per-row scales `NAME.scale` (F32 [N]).
/// Biases, the encoder and the embeddings stay in the float checkpoint, which is loaded as always.
///
/// Metadata: `format` `seq2seq-int8`, `version` 1, `checkpoint` (the float file's name) and
/// `weights_checksum`, the FNV-1a fingerprint of the float weights it was quantized from
/// (`ParameterStore.checksum`), so a copy left over from other weights is refused rather than used.
/// Read back, it gives bit for bit the decoder that quantizing at load time gives.
public enum Int8Copy {
    static let formatName = "seq2seq-int8"
    static let version = "1"
    static let checksumKey = "weights_checksum"

    /// `DIR/best.safetensors` → `DIR/best.int8.safetensors`.
    public static func path(for checkpointPath: String) -> String {
        let stem = checkpointPath.hasSuffix(".safetensors") ? String(checkpointPath.dropLast(".safetensors".count)) : checkpointPath
        return stem + ".int8.safetensors"
    }

    /// Writes `weights` (int8, prepared from `model`'s current weights) to `path` atomically
    /// (temporary name, then rename). Throws `FileError` naming `path`.
    public static func write(_ weights: DecoderWeights, of model: Seq2SeqModel, checkpointName: String, to path: String) throws {
        precondition(weights.precision == .int8, "Int8Copy.write: the decoder weights are \(weights.precision)")
        var tensors: [(name: String, shape: [Int], values: SafeTensors.Values)] = []
        for product in weights.storedInt8Form() {
            tensors.append((product.name + ".weight", [product.n, product.k], .int8(product.rows)))
            tensors.append((product.name + ".scale", [product.n], .array(product.scales)))
        }
        let metadata = ["format": formatName, "version": version, "checkpoint": checkpointName,
                        checksumKey: hex(model.parameters.checksum())]
        try SafeTensors.write(tensors, metadata: metadata, to: path, sync: true)
    }

    /// Reads the copy at `path` for `model` (the float weights it must have been quantized from).
    /// Throws ``ModelFolderError`` naming `path`: unreadable or corrupt file, wrong format or
    /// version, other weights (checksum), a missing, extra or misshapen tensor, or int8 values
    /// outside −127…127 and scales that are not finite and ≥ 0.
    public static func read(_ path: String, model: Seq2SeqModel) throws -> DecoderWeights {
        func fail(_ message: String) -> ModelFolderError { ModelFolderError(path: path, message: message) }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read the int8 copy") }
        let decoded: (tensors: [(name: String, shape: [Int], values: SafeTensors.Storage)], metadata: [String: String])
        do {
            decoded = try SafeTensors.decodeMixed([UInt8](data))
        } catch {
            throw fail("corrupt or truncated int8 copy (\(oneLine("\(error)")))")
        }
        guard decoded.metadata["format"] == formatName else { throw fail("not an int8 copy made by `seq2seq quantize` (no format \(formatName))") }
        guard decoded.metadata["version"] == version else {
            throw fail("int8 copy version \(SafeTensors.quoted(decoded.metadata["version"] ?? "?")), expected \(version); run `seq2seq quantize` again")
        }
        guard decoded.metadata[checksumKey] == hex(model.parameters.checksum()) else {
            throw fail("was quantized from other weights than the checkpoint beside it; run `seq2seq quantize` again")
        }
        var byName: [String: (shape: [Int], values: SafeTensors.Storage)] = [:]
        for tensor in decoded.tensors { byName[tensor.name] = (tensor.shape, tensor.values) }
        let build = { try DecoderWeights(model: model) { name, n, k in
            guard let w = byName.removeValue(forKey: name + ".weight"), let s = byName.removeValue(forKey: name + ".scale") else {
                throw fail("lacks the int8 tensors of \(name) (\(name).weight, \(name).scale)")
            }
            guard w.shape == [n, k], case .i8(let rows) = w.values else {
                throw fail("tensor \(name).weight must be I8 of shape [\(n), \(k)], it is \(w.shape)")
            }
            guard s.shape == [n], case .f32(let scales) = s.values else {
                throw fail("tensor \(name).scale must be F32 of shape [\(n)], it is \(s.shape)")
            }
            return (rows, scales)
        } }
        let weights: DecoderWeights
        do {
            weights = try build()
        } catch let error as ModelFolderError {
            throw error
        } catch {
            throw fail(oneLineDescription(of: error))
        }
        if let extra = byName.keys.sorted().first {
            throw fail("holds a tensor the model of config.json does not have: \(SafeTensors.quoted(extra))")
        }
        return weights
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
