import Foundation
import Model
import Text

/// The read side of a model folder, everything inference needs:
///
/// - `config.json`: ``SavedModelConfig`` (format name and version first; the Training module adds
///   its own `training` section to the same file).
/// - `source.vocab`, `target.vocab`: copies of the vocabularies trained with.
/// - `last.safetensors`, `best.safetensors`: weights (``CheckpointFile``).
/// - `log.jsonl`: the training log (read by the Plotting module).
///
/// Opening checks the config (format, version, types, ``ModelConfig/validate()``) and that the
/// vocabularies match its sizes; loading weights checks them against the config before the
/// network is built. Every failure is one ``ModelFolderError`` line naming the file.
public final class SavedModel {
    public let path: String
    public let config: SavedModelConfig
    public let sourceVocabulary: Vocabulary
    public let targetVocabulary: Vocabulary
    /// The bytes of `config.json` as read (Training decodes its own section from them); empty for
    /// a folder described in memory.
    public let configJSON: Data

    public var configPath: String { path + "/config.json" }
    public var sourceVocabularyPath: String { path + "/source.vocab" }
    public var targetVocabularyPath: String { path + "/target.vocab" }
    public var lastCheckpointPath: String { path + "/last.safetensors" }
    public var bestCheckpointPath: String { path + "/best.safetensors" }
    public var logPath: String { path + "/log.jsonl" }

    /// A folder described in memory (the writer's side, before or after writing it). Throws a
    /// ``ModelFolderError`` naming `config.json` when the network config is invalid.
    public init(path: String, config: SavedModelConfig, sourceVocabulary: Vocabulary, targetVocabulary: Vocabulary) throws {
        self.path = path
        self.config = config
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
        configJSON = Data()
        try Self.check(config.model, path: path + "/config.json")
    }

    /// Opens an existing model folder: reads and checks `config.json` and both vocabularies.
    public init(opening path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelFolderError(path: path, message: "no such model folder")
        }
        let configPath = path + "/config.json"
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw ModelFolderError(path: configPath, message: "missing; is \(path) a model folder made by `seq2seq train`?")
        }
        struct Header: Decodable { var format: String?; var formatVersion: Int? }
        let header = try? JSONDecoder().decode(Header.self, from: data)
        guard header?.format == SavedModelConfig.formatName else {
            throw ModelFolderError(path: configPath, message: "not a seq2seq model config")
        }
        guard header?.formatVersion == SavedModelConfig.currentVersion else {
            throw ModelFolderError(
                path: configPath,
                message: "model format version \(header?.formatVersion ?? -1), this seq2seq reads version \(SavedModelConfig.currentVersion); retrain the model with this version")
        }
        do {
            config = try JSONDecoder().decode(SavedModelConfig.self, from: data)
        } catch {
            throw ModelFolderError(path: configPath, message: "malformed config (\(oneLineDescription(of: error)))")
        }
        configJSON = data
        try Self.check(config.model, path: configPath)
        sourceVocabulary = try Vocabulary(contentsOf: path + "/source.vocab")
        targetVocabulary = try Vocabulary(contentsOf: path + "/target.vocab")
        guard sourceVocabulary.count == config.model.sourceVocabularySize else {
            throw ModelFolderError(path: path + "/source.vocab", message: "holds \(sourceVocabulary.count) tokens, config.json says sourceVocabularySize \(config.model.sourceVocabularySize)")
        }
        guard targetVocabulary.count == config.model.targetVocabularySize else {
            throw ModelFolderError(path: path + "/target.vocab", message: "holds \(targetVocabulary.count) tokens, config.json says targetVocabularySize \(config.model.targetVocabularySize)")
        }
    }

    private static func check(_ model: ModelConfig, path: String) throws {
        do {
            try model.validate()
        } catch {
            throw ModelFolderError(path: path, message: "model.\(error)")
        }
    }

    /// Whether `last.safetensors` exists.
    public var hasCheckpoint: Bool { FileManager.default.fileExists(atPath: lastCheckpointPath) }

    /// The file `choice` names, falling back to `last` while no best exists yet.
    public func checkpointPath(_ choice: CheckpointChoice) throws -> String {
        if choice == .best && FileManager.default.fileExists(atPath: bestCheckpointPath) { return bestCheckpointPath }
        guard FileManager.default.fileExists(atPath: lastCheckpointPath) else {
            throw ModelFolderError(path: path, message: "no checkpoint yet (train first)")
        }
        return lastCheckpointPath
    }

    /// Reads and checks the chosen weights file (see ``CheckpointFile``).
    public func readCheckpoint(_ choice: CheckpointChoice) throws -> CheckpointFile {
        try CheckpointFile(path: try checkpointPath(choice), config: config.model)
    }

    /// The network with the chosen weights: built only after the file passed every check.
    public func loadModel(_ choice: CheckpointChoice) throws -> Seq2SeqModel {
        let file = try readCheckpoint(choice)
        let model = Seq2SeqModel(config: config.model, seed: 0)
        try file.load(into: model)
        return model
    }
}
