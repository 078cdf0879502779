import Foundation
import Model

/// One weights file of a model folder (`last.safetensors` or `best.safetensors`), read and checked
/// against the model's config before any network is built.
///
/// Checked, in order, each failure a ``ModelFolderError`` naming the file: the safetensors
/// structure (``SafeTensors/decode(_:)``: sizes, offsets, coverage, checksum, F32), the metadata's
/// format name and version, one tensor for every name of `Seq2SeqModel.layout(config)` with
/// exactly that shape and no other weight tensor, optimizer tensors (`optimizer/…`) of one
/// dimension equal to the parameter count, and every value finite. A file that passes holds
/// exactly the network's parameter count of floats, so building the network allocates no more
/// than the file's own size justifies.
public struct CheckpointFile {
    /// `format` in the safetensors metadata of every checkpoint.
    public static let formatName = "seq2seq-checkpoint"
    /// `version` in the metadata.
    public static let version = "1"
    /// Name prefix of optimizer-state tensors.
    public static let optimizerPrefix = "optimizer/"

    public let path: String
    /// The network's tensors, in `Seq2SeqModel.layout` order.
    public let weights: [SafeTensors.Tensor]
    /// Optimizer moments with ``optimizerPrefix`` removed, in file order (empty in best files).
    public let optimizerState: [SafeTensors.Tensor]
    /// The safetensors metadata (format, version, step, training state, …), checksum removed.
    public let metadata: [String: String]

    /// Reads and checks `path` against `config` (which is validated first).
    public init(path: String, config: ModelConfig) throws {
        self.path = path
        func fail(_ message: String) -> ModelFolderError { ModelFolderError(path: path, message: message) }
        do { try config.validate() } catch { throw fail("cannot check weights against an invalid config: \(error)") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail(FileManager.default.fileExists(atPath: path) ? "cannot read the checkpoint" : "no such checkpoint")
        }
        let decoded: (tensors: [SafeTensors.Tensor], metadata: [String: String])
        do {
            decoded = try SafeTensors.decode([UInt8](data))
        } catch {
            throw fail("corrupt or truncated checkpoint (\(oneLine("\(error)")))")
        }
        metadata = decoded.metadata
        guard metadata["format"] == Self.formatName else { throw fail("not a seq2seq checkpoint (no format \(Self.formatName) in its metadata)") }
        guard metadata["version"] == Self.version else {
            throw fail("checkpoint version \(SafeTensors.quoted(metadata["version"] ?? "?")), expected \(Self.version); retrain with this seq2seq")
        }

        var byName: [String: SafeTensors.Tensor] = [:]
        var optimizer: [SafeTensors.Tensor] = []
        for tensor in decoded.tensors {
            if tensor.name.hasPrefix(Self.optimizerPrefix) {
                optimizer.append((String(tensor.name.dropFirst(Self.optimizerPrefix.count)), tensor.shape, tensor.values))
            } else if byName.updateValue(tensor, forKey: tensor.name) != nil {
                throw fail("holds tensor \(SafeTensors.quoted(tensor.name)) twice")
            }
        }
        var weights: [SafeTensors.Tensor] = []
        let layout = Seq2SeqModel.layout(config)
        for expected in layout {
            guard let tensor = byName.removeValue(forKey: expected.name) else {
                throw fail("lacks tensor \(expected.name) \(expected.shape); was it written for another model configuration?")
            }
            guard tensor.shape == expected.shape else {
                throw fail("tensor \(expected.name) has shape \(tensor.shape), config.json implies \(expected.shape)")
            }
            weights.append(tensor)
        }
        if !byName.isEmpty {
            let extra = byName.keys.sorted().prefix(5).map(SafeTensors.quoted).joined(separator: ", ")
            throw fail("holds tensors the model of config.json does not have: \(extra)")
        }
        let parameterCount = config.parameterCount
        for tensor in optimizer where tensor.shape != [parameterCount] {
            throw fail("optimizer tensor \(SafeTensors.quoted(tensor.name)) has shape \(tensor.shape), expected [\(parameterCount)]")
        }
        for tensor in weights + optimizer {
            if let bad = tensor.values.firstIndex(where: { !$0.isFinite }) {
                throw fail("tensor \(SafeTensors.quoted(tensor.name)) holds \(tensor.values[bad]) at index \(bad); the weights are unusable")
            }
        }
        self.weights = weights
        optimizerState = optimizer
    }

    /// Copies the weights into `model` (built from the same config).
    public func load(into model: Seq2SeqModel) throws {
        do {
            try model.parameters.load(weights)
        } catch {
            throw ModelFolderError(path: path, message: "\(error)")
        }
    }

    /// The step recorded in the metadata, if any.
    public var step: Int? { metadata["step"].flatMap { Int($0) } }
}
