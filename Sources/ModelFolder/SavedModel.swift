import Foundation
import Lexicon
import Model
import Text

/// The read side of a model folder, everything inference needs:
///
/// - `config.json`: ``SavedModelConfig`` (format name and version first; the Training module adds
///   its own `training` section to the same file).
/// - `source.vocab`, `target.vocab`: copies of the vocabularies trained with.
/// - `source.bpe`, `target.bpe`: the BPE codes of a side whose vocabulary was built with codes
///   (subword-nmt's format); the vocabulary header records their checksum, checked on opening.
/// - `source.spm`, `target.spm`: the SentencePiece model of a side whose vocabulary was built with
///   one (a copy of the `.model` file), checked the same way.
/// - `last.safetensors`, `best.safetensors`: weights (``CheckpointFile``).
/// - `log.jsonl`: the training log (read by the Plotting module).
/// - `shortlist.bin`: the lexical shortlist `seq2seq shortlist` builds (Lexicon's ``Shortlist``),
///   optional; read by ``loadShortlist()``.
///
/// Opening checks the config (format, version, types, ``ModelConfig/validate()``) and that the
/// vocabularies match its sizes; loading weights checks them against the config before the
/// network is built. Every failure is one ``ModelFolderError`` line naming the file.
public final class SavedModel {
    public let path: String
    public let config: SavedModelConfig
    public let sourceVocabulary: Vocabulary
    public let targetVocabulary: Vocabulary
    /// The BPE codes of each side, when its vocabulary records codes (`TokenizerOptions.bpeCodes`).
    public let sourceCodes: BPECodes?
    public let targetCodes: BPECodes?
    /// The SentencePiece model of each side, when its vocabulary records one.
    public let sourceSentencePiece: SentencePieceModel?
    public let targetSentencePiece: SentencePieceModel?
    /// The bytes of `config.json` as read (Training decodes its own section from them); empty for
    /// a folder described in memory.
    public let configJSON: Data

    public var configPath: String { path + "/config.json" }
    public var sourceVocabularyPath: String { path + "/source.vocab" }
    public var targetVocabularyPath: String { path + "/target.vocab" }
    public var sourceCodesPath: String { path + "/source.bpe" }
    public var targetCodesPath: String { path + "/target.bpe" }
    public var sourceSentencePiecePath: String { path + "/source.spm" }
    public var targetSentencePiecePath: String { path + "/target.spm" }
    public var lastCheckpointPath: String { path + "/last.safetensors" }
    public var bestCheckpointPath: String { path + "/best.safetensors" }
    public var logPath: String { path + "/log.jsonl" }
    public var shortlistPath: String { path + "/" + Shortlist.fileName }

    /// A folder described in memory (the writer's side, before or after writing it). Throws a
    /// ``ModelFolderError`` naming `config.json` when the network config is invalid.
    /// `sourceCodes`/`targetCodes` must be given exactly for the sides whose vocabulary records
    /// codes, and be those codes; otherwise a ``ModelFolderError`` names the codes file.
    public init(path: String, config: SavedModelConfig, sourceVocabulary: Vocabulary, targetVocabulary: Vocabulary,
                sourceCodes: BPECodes? = nil, targetCodes: BPECodes? = nil,
                sourceSentencePiece: SentencePieceModel? = nil, targetSentencePiece: SentencePieceModel? = nil) throws {
        self.path = path
        self.config = config
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
        self.sourceCodes = sourceCodes
        self.targetCodes = targetCodes
        self.sourceSentencePiece = sourceSentencePiece
        self.targetSentencePiece = targetSentencePiece
        configJSON = Data()
        try Self.check(config.model, path: path + "/config.json")
        try Self.check(sourceCodes, against: sourceVocabulary, path: path + "/source.bpe")
        try Self.check(targetCodes, against: targetVocabulary, path: path + "/target.bpe")
        try Self.check(sourceSentencePiece, against: sourceVocabulary, path: path + "/source.spm")
        try Self.check(targetSentencePiece, against: targetVocabulary, path: path + "/target.spm")
    }

    /// The tokenizer plus BPE of the source side (a new one per thread).
    public func sourceSegmenter() throws -> TextSegmenter {
        try TextSegmenter(options: sourceVocabulary.options, codes: sourceCodes, codesPath: sourceCodesPath,
                          sentencePiece: sourceSentencePiece, sentencePiecePath: sourceSentencePiecePath)
    }

    /// The tokenizer plus BPE of the target side (a new one per thread).
    public func targetSegmenter() throws -> TextSegmenter {
        try TextSegmenter(options: targetVocabulary.options, codes: targetCodes, codesPath: targetCodesPath,
                          sentencePiece: targetSentencePiece, sentencePiecePath: targetSentencePiecePath)
    }

    private static func check(_ codes: BPECodes?, against vocabulary: Vocabulary, path: String) throws {
        switch (vocabulary.options.bpeCodes, codes) {
        case (nil, nil): return
        case let (recorded?, codes?) where codes.checksum == recorded: return
        case let (recorded?, codes?):
            throw ModelFolderError(path: path, message: "BPE codes with checksum \(codes.checksum), but the vocabulary was built with \(recorded)")
        case let (recorded?, nil):
            throw ModelFolderError(path: path, message: "missing: the vocabulary was built with BPE codes (checksum \(recorded))")
        case (nil, _?):
            throw ModelFolderError(path: path, message: "BPE codes given for a vocabulary built without them")
        }
    }

    private static func check(_ model: SentencePieceModel?, against vocabulary: Vocabulary, path: String) throws {
        switch (vocabulary.options.sentencePiece, model) {
        case (nil, nil): return
        case let (recorded?, model?) where model.checksum == recorded: return
        case let (recorded?, model?):
            throw ModelFolderError(path: path, message: "SentencePiece model with checksum \(model.checksum), but the vocabulary was built with \(recorded)")
        case let (recorded?, nil):
            throw ModelFolderError(path: path, message: "missing: the vocabulary was built with a SentencePiece model (checksum \(recorded))")
        case (nil, _?):
            throw ModelFolderError(path: path, message: "a SentencePiece model given for a vocabulary built without one")
        }
    }

    /// Reads a side's SentencePiece model when its vocabulary records one; it must be there and match.
    private static func readSentencePiece(for vocabulary: Vocabulary, path: String) throws -> SentencePieceModel? {
        guard vocabulary.options.sentencePiece != nil else { return nil }
        guard FileManager.default.fileExists(atPath: path) else {
            try check(nil as SentencePieceModel?, against: vocabulary, path: path)
            return nil
        }
        let model = try SentencePieceModel(contentsOf: path)
        try check(model, against: vocabulary, path: path)
        return model
    }

    /// Reads a side's codes when its vocabulary records some; the file must be there and match.
    private static func readCodes(for vocabulary: Vocabulary, path: String) throws -> BPECodes? {
        guard vocabulary.options.bpeCodes != nil else { return nil }
        guard FileManager.default.fileExists(atPath: path) else {
            try check(nil as BPECodes?, against: vocabulary, path: path)
            return nil
        }
        let codes = try BPECodes(contentsOf: path)
        try check(codes, against: vocabulary, path: path)
        return codes
    }

    /// Opens an existing model folder: reads and checks `config.json` and both vocabularies.
    public init(opening path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFolderError(path: path, message: "no such model folder")
        }
        guard isDirectory.boolValue else {
            // A vocabulary, a weights file or a corpus given where the folder belongs.
            throw ModelFolderError(path: path, message: "is a file, not a model folder (give the folder `seq2seq train --output` made)")
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
        sourceCodes = try Self.readCodes(for: sourceVocabulary, path: path + "/source.bpe")
        targetCodes = try Self.readCodes(for: targetVocabulary, path: path + "/target.bpe")
        sourceSentencePiece = try Self.readSentencePiece(for: sourceVocabulary, path: path + "/source.spm")
        targetSentencePiece = try Self.readSentencePiece(for: targetVocabulary, path: path + "/target.spm")
    }

    private static func check(_ model: ModelConfig, path: String) throws {
        do {
            try model.validate()
        } catch {
            throw ModelFolderError(path: path, message: "model.\(error)")
        }
    }

    /// The folder's shortlist, nil when it has none. Throws a ``ModelFolderError`` naming
    /// `shortlist.bin` when it cannot be read, is corrupt (``Shortlist/init(decoding:)``'s checks)
    /// or was built for other vocabularies than this folder's.
    public func loadShortlist() throws -> Shortlist? {
        let file = shortlistPath
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ModelFolderError(path: file, message: "cannot be read")
        }
        let shortlist: Shortlist
        do {
            shortlist = try Shortlist(decoding: [UInt8](data))
        } catch {
            throw ModelFolderError(path: file, message: "\(error); rebuild it with `seq2seq shortlist`")
        }
        let (vs, vt) = (config.model.sourceVocabularySize, config.model.targetVocabularySize)
        guard shortlist.sourceVocabularySize == vs && shortlist.targetVocabularySize == vt else {
            throw ModelFolderError(
                path: file,
                message: "built for vocabularies of \(shortlist.sourceVocabularySize)/\(shortlist.targetVocabularySize) tokens (source/target), this model's hold \(vs)/\(vt); rebuild it with `seq2seq shortlist`")
        }
        return shortlist
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

    /// The int8 copy of the chosen checkpoint's decoder (``Int8Copy``), whether or not it exists.
    public func int8CopyPath(_ choice: CheckpointChoice) throws -> String {
        Int8Copy.path(for: try checkpointPath(choice))
    }

    /// The network with the chosen weights: built only after the file passed every check.
    public func loadModel(_ choice: CheckpointChoice) throws -> Seq2SeqModel {
        let file = try readCheckpoint(choice)
        let model = Seq2SeqModel(config: config.model, seed: 0)
        try file.load(into: model)
        return model
    }
}
