import Corpus
import Foundation
import Model
import Text

/// `config.json` of a model folder: everything `translate` needs to reapply the training-time
/// transforms (normalization, case, tokenization, source reversal) and rebuild the network.
public struct ModelFolderConfig: Codable, Equatable, Sendable {
    public static let formatName = "seq2seq-model"
    public static let currentVersion = 1

    public var format = ModelFolderConfig.formatName
    public var formatVersion = ModelFolderConfig.currentVersion
    /// The seq2seq version that wrote the folder (informational).
    public var toolVersion: String
    public var model: ModelConfig
    public var training: TrainingOptions
    public var sourceTokenizer: TokenizerOptions
    public var targetTokenizer: TokenizerOptions

    public init(toolVersion: String, model: ModelConfig, training: TrainingOptions,
                sourceTokenizer: TokenizerOptions, targetTokenizer: TokenizerOptions) {
        self.toolVersion = toolVersion
        self.model = model
        self.training = training
        self.sourceTokenizer = sourceTokenizer
        self.targetTokenizer = targetTokenizer
    }
}

/// Where training stands: saved inside every checkpoint so `--resume` continues exactly.
public struct TrainingState: Codable, Equatable, Sendable {
    /// Epoch in progress, from 0.
    public var epoch = 0
    /// Optimizer steps taken so far (all epochs).
    public var step = 0
    /// Pairs consumed in the current epoch (drives the fractional-epoch learning-rate schedule).
    public var pairsInEpoch = 0
    /// Corpus position after the last batch trained on; nil at the start of an epoch.
    public var position: StreamPosition?
    public var bestValidPerplexity: Double?
    public var bestStep: Int?
    /// Steps whose gradient norm exceeded the clipping threshold.
    public var clippedSteps = 0
    /// Batches skipped for a non-finite loss or gradient.
    public var skippedBatches = 0
    /// Validation perplexity after each epoch, in order.
    public var epochValidPerplexities: [Double] = []
    /// Wall-clock seconds spent training, summed over resumes.
    public var trainingSeconds: Double = 0

    public init() {}
}

/// Which weights `translate` loads.
public enum CheckpointChoice: String, Codable, Sendable, CaseIterable {
    case best, last
}

/// A model folder on disk:
///
/// - `config.json`: ``ModelFolderConfig`` (format name and version first).
/// - `source.vocab`, `target.vocab`: copies of the vocabularies trained with.
/// - `last.safetensors`: weights, optimizer moments (tensors named `optimizer/…`) and, in the
///   safetensors metadata, the ``TrainingState`` as JSON: one file, written to a temporary name and
///   renamed, so a crash leaves either the previous checkpoint or the new one, never a mix.
/// - `best.safetensors`: the weights with the lowest validation perplexity so far.
/// - `log.jsonl`: one JSON object per log line and per validation.
///
/// Weight tensors keep the model's own names, so Python's `safetensors` reads them directly.
public final class ModelDirectory {
    public let path: String
    public let config: ModelFolderConfig
    public let sourceVocabulary: Vocabulary
    public let targetVocabulary: Vocabulary

    public var configPath: String { path + "/config.json" }
    public var lastCheckpointPath: String { path + "/last.safetensors" }
    public var bestCheckpointPath: String { path + "/best.safetensors" }
    public var logPath: String { path + "/log.jsonl" }

    /// Creates (or overwrites the config and vocabularies of) a model folder.
    public init(creating path: String, config: ModelFolderConfig,
                sourceVocabulary: Vocabulary, targetVocabulary: Vocabulary) throws {
        self.path = path
        self.config = config
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.file(path: path, message: "cannot create the model folder (\(error.localizedDescription))")
        }
        try sourceVocabulary.write(to: path + "/source.vocab")
        try targetVocabulary.write(to: path + "/target.vocab")
        try writeAtomically(try Self.encodeJSON(config), to: configPath)
    }

    private init(path: String, config: ModelFolderConfig, sourceVocabulary: Vocabulary, targetVocabulary: Vocabulary) {
        self.path = path
        self.config = config
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
    }

    /// The same folder with another config, in memory only until ``saveConfig()``: `train --resume`
    /// raises the run length but writes it only once the checkpoint has loaded, so a failed resume
    /// leaves the folder as it was.
    public func replacingConfig(_ config: ModelFolderConfig) -> ModelDirectory {
        ModelDirectory(path: path, config: config, sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary)
    }

    /// Writes `config.json` (atomically).
    public func saveConfig() throws {
        try writeAtomically(try Self.encodeJSON(config), to: configPath)
    }

    /// Opens an existing model folder, checking its format and version.
    public init(opening path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.file(path: path, message: "no such model folder")
        }
        let configPath = path + "/config.json"
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw TrainingError.file(path: configPath, message: "missing; is \(path) a model folder made by `seq2seq train`?")
        }
        struct Header: Decodable { var format: String?; var formatVersion: Int? }
        let header = try? JSONDecoder().decode(Header.self, from: data)
        guard header?.format == ModelFolderConfig.formatName else {
            throw TrainingError.incompatibleModel(path: configPath, message: "not a seq2seq model config")
        }
        guard header?.formatVersion == ModelFolderConfig.currentVersion else {
            throw TrainingError.incompatibleModel(
                path: configPath,
                message: "model format version \(header?.formatVersion ?? -1), this seq2seq reads version \(ModelFolderConfig.currentVersion); retrain the model with this version")
        }
        do {
            config = try JSONDecoder().decode(ModelFolderConfig.self, from: data)
        } catch {
            throw TrainingError.incompatibleModel(path: configPath, message: "malformed config (\(error))")
        }
        sourceVocabulary = try Vocabulary(contentsOf: path + "/source.vocab")
        targetVocabulary = try Vocabulary(contentsOf: path + "/target.vocab")
        guard sourceVocabulary.count == config.model.sourceVocabularySize,
              targetVocabulary.count == config.model.targetVocabularySize else {
            throw TrainingError.incompatibleModel(path: path, message: "vocabulary sizes do not match config.json")
        }
    }

    public var hasCheckpoint: Bool { FileManager.default.fileExists(atPath: lastCheckpointPath) }

    // MARK: Checkpoints

    private static let checkpointFormat = "seq2seq-checkpoint"
    private static let checkpointVersion = "1"

    /// Writes weights, optimizer state and training state to `last.safetensors` atomically.
    public func saveCheckpoint(model: Seq2SeqModel, optimizer: Optimizer, state: TrainingState) throws {
        precondition(state.bestValidPerplexity.map { $0.isFinite } ?? true)
        let stateJSON = String(decoding: try Self.encodeJSON(state), as: UTF8.self)
        let optimizerState = optimizer.stateTensors()
        var metadata = Self.weightMetadata(step: state.step)
        metadata["state"] = stateJSON
        metadata["optimizer_steps"] = String(optimizer.stepCount)
        let bytes = withWeightTensors(model) { weights -> [UInt8] in
            var tensors = weights
            // Optimizer moments are copied into buffers that outlive the encode call.
            let buffers = optimizerState.map { tensor -> UnsafeMutableBufferPointer<Float> in
                let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: tensor.values.count)
                _ = buffer.initialize(from: tensor.values)
                return buffer
            }
            defer { buffers.forEach { $0.deallocate() } }
            for (i, tensor) in optimizerState.enumerated() {
                tensors.append((name: "optimizer/" + tensor.name, shape: tensor.shape, values: UnsafeBufferPointer(buffers[i])))
            }
            return SafeTensors.encode(tensors, metadata: metadata)
        }
        try writeAtomically(Data(bytes), to: lastCheckpointPath)
    }

    /// Writes the current weights as `best.safetensors`.
    public func saveBest(model: Seq2SeqModel, step: Int) throws {
        let bytes = withWeightTensors(model) { SafeTensors.encode($0, metadata: Self.weightMetadata(step: step)) }
        try writeAtomically(Data(bytes), to: bestCheckpointPath)
    }

    /// Restores weights and optimizer state from `last.safetensors`; returns the training state.
    public func loadCheckpoint(model: Seq2SeqModel, optimizer: Optimizer) throws -> TrainingState {
        let (tensors, metadata) = try readSafeTensors(lastCheckpointPath)
        let weights = tensors.filter { !$0.name.hasPrefix("optimizer/") }
        let moments = tensors.filter { $0.name.hasPrefix("optimizer/") }
            .map { (name: String($0.name.dropFirst("optimizer/".count)), shape: $0.shape, values: $0.values) }
        do {
            try model.parameters.load(weights)
            try optimizer.loadState(moments, stepCount: Int(metadata["optimizer_steps"] ?? "") ?? 0)
        } catch {
            throw TrainingError.incompatibleModel(path: lastCheckpointPath, message: "\(error)")
        }
        guard let json = metadata["state"],
              let state = try? JSONDecoder().decode(TrainingState.self, from: Data(json.utf8)) else {
            throw TrainingError.incompatibleModel(path: lastCheckpointPath, message: "checkpoint has no training state")
        }
        return state
    }

    /// Loads the chosen weights into `model` (falls back to `last` when no best exists yet).
    public func loadWeights(into model: Seq2SeqModel, choice: CheckpointChoice) throws {
        var file = choice == .best ? bestCheckpointPath : lastCheckpointPath
        if !FileManager.default.fileExists(atPath: file) { file = lastCheckpointPath }
        guard FileManager.default.fileExists(atPath: file) else {
            throw TrainingError.file(path: path, message: "no checkpoint yet (train first)")
        }
        let tensors = try readSafeTensors(file).tensors.filter { !$0.name.hasPrefix("optimizer/") }
        do {
            try model.parameters.load(tensors)
        } catch {
            throw TrainingError.incompatibleModel(path: file, message: "\(error)")
        }
    }

    /// Appends one JSON object as a line to `log.jsonl`. Throws ``TrainingError/file(path:message:)``
    /// naming the log when it cannot be written (a full disk), rather than trapping as
    /// `FileHandle.write(_:)` does.
    public func appendLog(_ fields: [String: LogValue]) throws {
        let line = Data((LogValue.object(fields).json + "\n").utf8)
        do {
            if let handle = FileHandle(forWritingAtPath: logPath) {
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: line)
            } else if !FileManager.default.createFile(atPath: logPath, contents: line) {
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            throw TrainingError.file(path: logPath, message: "cannot append to the log (\(error.localizedDescription))")
        }
    }

    // MARK: Helpers

    private static func weightMetadata(step: Int) -> [String: String] {
        ["format": checkpointFormat, "version": checkpointVersion, "step": String(step)]
    }

    private func withWeightTensors<R>(_ model: Seq2SeqModel,
                                      _ body: ([(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)]) -> R) -> R {
        let values = UnsafeBufferPointer(model.parameters.values)
        let tensors = model.parameters.tensors.map { tensor in
            let size = tensor.shape.reduce(1, *)
            return (name: tensor.name, shape: tensor.shape,
                    values: UnsafeBufferPointer(rebasing: values[tensor.offset..<tensor.offset + size]))
        }
        return body(tensors)
    }

    private func readSafeTensors(_ file: String) throws
        -> (tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw TrainingError.file(path: file, message: "cannot read checkpoint")
        }
        let decoded: (tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String])
        do {
            decoded = try SafeTensors.decode([UInt8](data))
        } catch {
            throw TrainingError.incompatibleModel(path: file, message: "corrupt or truncated checkpoint (\(error))")
        }
        guard decoded.metadata["format"] == Self.checkpointFormat else {
            throw TrainingError.incompatibleModel(path: file, message: "not a seq2seq checkpoint")
        }
        guard decoded.metadata["version"] == Self.checkpointVersion else {
            throw TrainingError.incompatibleModel(
                path: file, message: "checkpoint version \(decoded.metadata["version"] ?? "?"), expected \(Self.checkpointVersion); retrain with this seq2seq")
        }
        return decoded
    }

    static func encodeJSON<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }
}

/// Writes `data` to a temporary file beside `path` and renames it over `path`.
func writeAtomically(_ data: Data, to path: String) throws {
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw TrainingError.file(path: path, message: "cannot write (\(error.localizedDescription))")
    }
}

/// A tiny JSON value for log lines with a stable key order (sorted), no Foundation encoder needed.
public enum LogValue {
    case int(Int), double(Double), string(String), bool(Bool), object([String: LogValue])

    public var json: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return v.isFinite ? String(v) : "null"
        case .bool(let v): return v ? "true" : "false"
        case .string(let s): return SafeTensors.jsonString(s)
        case .object(let fields):
            return "{" + fields.keys.sorted().map { LogValue.string($0).json + ":" + fields[$0]!.json }
                .joined(separator: ",") + "}"
        }
    }
}
