import Basics
import Corpus
import Foundation
import Model
import ModelFolder
import RunLog
import Text

/// `config.json` of a model folder: ``SavedModelConfig`` (what `translate` needs to reapply the
/// training-time transforms and rebuild the network) plus the `training` options a resumed run
/// continues with.
public struct ModelFolderConfig: Codable, Equatable, Sendable {
    public static let formatName = SavedModelConfig.formatName
    public static let currentVersion = SavedModelConfig.currentVersion

    // Alike on purpose: SavedModelConfig's keys plus `training`, so both read the same config.json.
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

    /// The inference part (everything but `training`).
    public var saved: SavedModelConfig {
        var config = SavedModelConfig(toolVersion: toolVersion, model: model,
                                      sourceTokenizer: sourceTokenizer, targetTokenizer: targetTokenizer)
        config.format = format
        config.formatVersion = formatVersion
        return config
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
    /// Corpus position after the last batch trained on; nil at the start of an epoch. Used when
    /// the corpus is read as one part (one process, no `--accumulate`).
    public var position: StreamPosition?
    /// With several data parts (MPI ranks × `--accumulate`), each part's position, indexed by
    /// part (rank·K + k); nil at the start of an epoch and with one part.
    public var partPositions: [StreamPosition?]?
    public var bestValidPerplexity: Double?
    public var bestStep: Int?
    /// Steps whose gradient norm exceeded the clipping threshold.
    public var clippedSteps = 0
    /// Batches skipped for a non-finite loss or gradient.
    public var skippedBatches = 0
    /// Validation perplexity after each epoch, in order.
    public var epochValidPerplexities: [Double] = []
    /// The best validation BLEU so far (`--valid-bleu`), and the step of `best.safetensors`
    /// when BLEU chooses it.
    public var bestValidBLEU: Double?
    /// The plateau schedule's state (`--lr-schedule plateau`); nil with the halving schedule.
    public var plateau: PlateauState?
    /// Consecutive watched validations without a new best (`--early-stopping`); nil without.
    public var validationsWithoutImprovement: Int?
    /// Set when early stopping ended the run: a resumed run then has nothing left to do.
    public var stoppedEarly: Bool?
    /// Wall-clock seconds spent training, summed over resumes. Kept in memory and in `log.jsonl`
    /// (`checkpoint` lines) only, never in a checkpoint, so identical runs write identical files.
    public var trainingSeconds: Double = 0

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case epoch, step, pairsInEpoch, position, partPositions, bestValidPerplexity, bestStep, clippedSteps, skippedBatches
        case epochValidPerplexities
        case bestValidBLEU, plateau, validationsWithoutImprovement, stoppedEarly
        /// Read from checkpoints written before timing moved to the log; never written.
        case trainingSeconds
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        step = try c.decode(Int.self, forKey: .step)
        pairsInEpoch = try c.decode(Int.self, forKey: .pairsInEpoch)
        position = try c.decodeIfPresent(StreamPosition.self, forKey: .position)
        partPositions = try c.decodeIfPresent([StreamPosition?].self, forKey: .partPositions)
        bestValidPerplexity = try c.decodeIfPresent(Double.self, forKey: .bestValidPerplexity)
        bestStep = try c.decodeIfPresent(Int.self, forKey: .bestStep)
        clippedSteps = try c.decode(Int.self, forKey: .clippedSteps)
        skippedBatches = try c.decode(Int.self, forKey: .skippedBatches)
        epochValidPerplexities = try c.decode([Double].self, forKey: .epochValidPerplexities)
        trainingSeconds = try c.decode(Double.self, forKey: .trainingSeconds, default: 0)
        bestValidBLEU = try c.decodeIfPresent(Double.self, forKey: .bestValidBLEU)
        plateau = try c.decodeIfPresent(PlateauState.self, forKey: .plateau)
        validationsWithoutImprovement = try c.decodeIfPresent(Int.self, forKey: .validationsWithoutImprovement)
        stoppedEarly = try c.decodeIfPresent(Bool.self, forKey: .stoppedEarly)
    }

    // Alike on purpose: Codable's encode, one line per key of this type.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(step, forKey: .step)
        try c.encode(pairsInEpoch, forKey: .pairsInEpoch)
        try c.encodeIfPresent(position, forKey: .position)
        try c.encodeIfPresent(partPositions, forKey: .partPositions)
        try c.encodeIfPresent(bestValidPerplexity, forKey: .bestValidPerplexity)
        try c.encodeIfPresent(bestStep, forKey: .bestStep)
        try c.encode(clippedSteps, forKey: .clippedSteps)
        try c.encode(skippedBatches, forKey: .skippedBatches)
        try c.encode(epochValidPerplexities, forKey: .epochValidPerplexities)
        // Written only when in use, so a run without these options writes the state it always did.
        try c.encodeIfPresent(bestValidBLEU, forKey: .bestValidBLEU)
        try c.encodeIfPresent(plateau, forKey: .plateau)
        try c.encodeIfPresent(validationsWithoutImprovement, forKey: .validationsWithoutImprovement)
        try c.encodeIfPresent(stoppedEarly, forKey: .stoppedEarly)
    }
}

/// A model folder on disk, the training side (the read side is ``SavedModel``, which this wraps):
///
/// - `config.json`: ``ModelFolderConfig`` (format name and version first).
/// - `source.vocab`, `target.vocab`: copies of the vocabularies trained with.
/// - `source.bpe`, `target.bpe`: copies of the BPE codes of a side whose vocabulary records codes.
/// - `source.spm`, `target.spm`: copies of the SentencePiece model of a side whose vocabulary records one.
/// - `last.safetensors`: weights, optimizer moments (tensors named `optimizer/…`) and, in the
///   safetensors metadata, the ``TrainingState`` as JSON: one file, written to a temporary name and
///   renamed, so a crash leaves either the previous checkpoint or the new one, never a mix.
/// - `best.safetensors`: the weights with the lowest validation perplexity so far.
/// - `log.jsonl`: one ``LogLine`` per log line, validation and checkpoint (the only place that
///   holds wall-clock time).
///
/// Weight tensors keep the model's own names, so Python's `safetensors` reads them directly.
public final class ModelDirectory {
    /// The read side: config, vocabularies, checked weight loading.
    public let saved: SavedModel
    public let config: ModelFolderConfig

    public var path: String { saved.path }
    public var sourceVocabulary: Vocabulary { saved.sourceVocabulary }
    public var targetVocabulary: Vocabulary { saved.targetVocabulary }
    public var configPath: String { saved.configPath }
    public var lastCheckpointPath: String { saved.lastCheckpointPath }
    public var bestCheckpointPath: String { saved.bestCheckpointPath }
    public var logPath: String { saved.logPath }

    /// Creates (or overwrites the config and vocabularies of) a model folder. Throws when the
    /// network config is invalid (naming `config.json`) or a file cannot be written.
    public init(creating path: String, config: ModelFolderConfig,
                sourceVocabulary: Vocabulary, targetVocabulary: Vocabulary,
                sourceCodes: BPECodes? = nil, targetCodes: BPECodes? = nil,
                sourceSentencePiece: SentencePieceModel? = nil, targetSentencePiece: SentencePieceModel? = nil) throws {
        saved = try SavedModel(path: path, config: config.saved,
                               sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary,
                               sourceCodes: sourceCodes, targetCodes: targetCodes,
                               sourceSentencePiece: sourceSentencePiece, targetSentencePiece: targetSentencePiece)
        self.config = config
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.file(path: path, message: "cannot create the model folder (\(error.localizedDescription))")
        }
        try sourceVocabulary.write(to: path + "/source.vocab")
        try targetVocabulary.write(to: path + "/target.vocab")
        try sourceCodes?.write(to: path + "/source.bpe")
        try targetCodes?.write(to: path + "/target.bpe")
        if let sourceSentencePiece { try AtomicFileWriter.write(sourceSentencePiece.bytes, to: path + "/source.spm", sync: false) }
        if let targetSentencePiece { try AtomicFileWriter.write(targetSentencePiece.bytes, to: path + "/target.spm", sync: false) }
        try writeAtomically(try Self.encodeJSON(config), to: configPath)
    }

    /// A model folder that this process reads but never writes: the other MPI ranks of a run,
    /// whose rank 0 alone writes the folder at `path`. Creates nothing on disk.
    public static func unwritten(at path: String, config: ModelFolderConfig,
                                 sourceVocabulary: Vocabulary, targetVocabulary: Vocabulary,
                                 sourceCodes: BPECodes? = nil, targetCodes: BPECodes? = nil,
                                 sourceSentencePiece: SentencePieceModel? = nil,
                                 targetSentencePiece: SentencePieceModel? = nil) throws -> ModelDirectory {
        let saved = try SavedModel(path: path, config: config.saved,
                                   sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary,
                                   sourceCodes: sourceCodes, targetCodes: targetCodes,
                                   sourceSentencePiece: sourceSentencePiece, targetSentencePiece: targetSentencePiece)
        return ModelDirectory(saved: saved, config: config)
    }

    private init(saved: SavedModel, config: ModelFolderConfig) {
        self.saved = saved
        self.config = config
    }

    /// The same folder with another config, in memory only until ``saveConfig()``: `train --resume`
    /// raises the run length but writes it only once the checkpoint has loaded, so a failed resume
    /// leaves the folder as it was. Only the `training` section may differ.
    public func replacingConfig(_ config: ModelFolderConfig) -> ModelDirectory {
        precondition(config.saved == self.config.saved, "replacingConfig changes only the training options")
        return ModelDirectory(saved: saved, config: config)
    }

    /// Writes `config.json` (atomically).
    public func saveConfig() throws {
        try writeAtomically(try Self.encodeJSON(config), to: configPath)
    }

    /// Opens an existing model folder: ``SavedModel/init(opening:)``'s checks, then the `training`
    /// section of `config.json`.
    public init(opening path: String) throws {
        saved = try SavedModel(opening: path)
        struct Section: Decodable { var training: TrainingOptions }
        let training: TrainingOptions
        do {
            training = try JSONDecoder().decode(Section.self, from: saved.configJSON).training
        } catch {
            throw TrainingError.incompatibleModel(path: saved.configPath, message: "malformed training options (\(oneLineDescription(of: error)))")
        }
        // Values a hand-edited file may hold (a batch size of 0) are refused here, naming the file,
        // before anything is built from them.
        do {
            try training.validate()
        } catch {
            throw TrainingError.incompatibleModel(path: saved.configPath, message: "bad training options: \(error)")
        }
        let s = saved.config
        var config = ModelFolderConfig(toolVersion: s.toolVersion, model: s.model, training: training,
                                       sourceTokenizer: s.sourceTokenizer, targetTokenizer: s.targetTokenizer)
        config.format = s.format
        config.formatVersion = s.formatVersion
        self.config = config
    }

    public var hasCheckpoint: Bool { saved.hasCheckpoint }

    // MARK: Checkpoints

    /// Writes weights, optimizer state and training state to `last.safetensors` atomically, then
    /// a `checkpoint` line with the training time to `log.jsonl`.
    public func saveCheckpoint(model: Seq2SeqModel, optimizer: Optimizer, state: TrainingState) throws {
        precondition(state.bestValidPerplexity.map { $0.isFinite } ?? true)
        let stateJSON = String(decoding: try Self.encodeJSON(state), as: UTF8.self)
        let optimizerState = optimizer.stateTensors()
        var metadata = Self.weightMetadata(step: state.step)
        metadata["state"] = stateJSON
        metadata["optimizer_steps"] = String(optimizer.stepCount)
        // Streamed to the file from the parameter store and the optimizer's arrays: no copy of the
        // weights is built in memory.
        var tensors = model.parameters.valueTensors.map { (name: $0.name, shape: $0.shape, values: SafeTensors.Values.buffer($0.values)) }
        for tensor in optimizerState {
            tensors.append((name: CheckpointFile.optimizerPrefix + tensor.name, shape: tensor.shape, values: .array(tensor.values)))
        }
        try SafeTensors.write(tensors, metadata: metadata, to: lastCheckpointPath, sync: false)
        try appendLog(LogLine(event: "checkpoint", step: state.step, seconds: state.trainingSeconds))
    }

    /// Writes the current weights as `best.safetensors`.
    public func saveBest(model: Seq2SeqModel, step: Int) throws {
        try SafeTensors.write(model.parameters.valueTensors.map { (name: $0.name, shape: $0.shape, values: .buffer($0.values)) },
                              metadata: Self.weightMetadata(step: step), to: bestCheckpointPath, sync: false)
    }

    /// Reads `last.safetensors` and checks it against the config (``CheckpointFile``), before any
    /// network is built.
    public func readLastCheckpoint() throws -> CheckpointFile {
        try CheckpointFile(path: lastCheckpointPath, config: config.model)
    }

    /// Restores weights and optimizer state from a checked `last.safetensors`; returns the
    /// training state, with `trainingSeconds` from the log's `checkpoint` line of its step.
    /// Counters read from a checkpoint must lie in 0...2^48, so that counting on cannot overflow.
    static let maximumCounter = 1 << 48

    public func restore(_ checkpoint: CheckpointFile, model: Seq2SeqModel, optimizer: Optimizer) throws -> TrainingState {
        func fail(_ message: String) -> TrainingError { .incompatibleModel(path: checkpoint.path, message: message) }
        let counter = 0...Self.maximumCounter
        let optimizerSteps = checkpoint.metadata["optimizer_steps"].map { Int($0) } ?? 0
        guard let optimizerSteps, counter.contains(optimizerSteps) else {
            throw fail("optimizer_steps in the metadata is not a count in \(counter)")
        }
        guard let json = checkpoint.metadata["state"],
              var state = try? JSONDecoder().decode(TrainingState.self, from: Data(json.utf8)) else {
            throw fail("checkpoint has no training state")
        }
        let counters = [("epoch", state.epoch), ("step", state.step), ("pairsInEpoch", state.pairsInEpoch),
                        ("clippedSteps", state.clippedSteps), ("skippedBatches", state.skippedBatches),
                        ("bestStep", state.bestStep ?? 0)]
        if let (name, value) = counters.first(where: { !counter.contains($0.1) }) {
            throw fail("training state \(name) \(value) is not a count in \(counter)")
        }
        if let best = state.bestValidPerplexity, !(best.isFinite && best >= 1) {
            throw fail("training state bestValidPerplexity \(best) is not a perplexity")
        }
        if let best = state.bestValidBLEU, !(best >= 0 && best <= 100) {
            throw fail("training state bestValidBLEU \(best) is not a BLEU score in 0...100")
        }
        if let count = state.validationsWithoutImprovement, !counter.contains(count) {
            throw fail("training state validationsWithoutImprovement \(count) is not a count in \(counter)")
        }
        if let plateau = state.plateau {
            guard plateau.learningRate.isFinite && plateau.learningRate > 0, plateau.best.map({ $0.isFinite }) ?? true,
                  counter.contains(plateau.badValidations), counter.contains(plateau.reductions) else {
                throw fail("training state plateau \(plateau) is not a plateau schedule's state")
            }
        }
        try checkpoint.load(into: model)
        do {
            try optimizer.loadState(checkpoint.optimizerState, stepCount: optimizerSteps)
        } catch {
            throw fail("\(error)")
        }
        if let seconds = loggedTrainingSeconds(step: state.step) { state.trainingSeconds = seconds }
        return state
    }

    /// Reads, checks and restores `last.safetensors` into `model` and `optimizer`.
    public func loadCheckpoint(model: Seq2SeqModel, optimizer: Optimizer) throws -> TrainingState {
        try restore(readLastCheckpoint(), model: model, optimizer: optimizer)
    }

    /// Loads the chosen weights into `model` (falls back to `last` when no best exists yet).
    public func loadWeights(into model: Seq2SeqModel, choice: CheckpointChoice) throws {
        try saved.readCheckpoint(choice).load(into: model)
    }

    /// The `seconds` of the last `checkpoint` line at `step` in `log.jsonl`, if any (lines that
    /// do not decode are passed over: the log is informational here).
    func loggedTrainingSeconds(step: Int) -> Double? {
        guard let data = FileManager.default.contents(atPath: logPath) else { return nil }
        var seconds: Double?
        let decoder = JSONDecoder()
        for line in data.split(separator: 0x0A) {
            guard let record = try? decoder.decode(LogLine.self, from: Data(line)),
                  record.event == "checkpoint", record.step == step,
                  let value = record.seconds, value.isFinite, value >= 0 else { continue }
            seconds = value
        }
        return seconds
    }

    /// A line written just before the next `appendLog` line (the run's `start` line: a run that is
    /// refused before it writes anything leaves no log behind).
    public var pendingLogLine: LogLine?

    /// Appends one line to `log.jsonl` (after ``pendingLogLine``, if one is waiting). Throws
    /// ``TrainingError/file(path:message:)`` naming the log when it cannot be written (a full disk),
    /// rather than trapping as `FileHandle.write(_:)` does.
    public func appendLog(_ line: LogLine) throws {
        var data = line.jsonLine()
        if let pending = pendingLogLine {
            data = pending.jsonLine() + data
            pendingLogLine = nil
        }
        do {
            if let handle = FileHandle(forWritingAtPath: logPath) {
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: data)
            } else if !FileManager.default.createFile(atPath: logPath, contents: data) {
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            throw TrainingError.file(path: logPath, message: "cannot append to the log (\(error.localizedDescription))")
        }
    }

    // MARK: Helpers

    private static func weightMetadata(step: Int) -> [String: String] {
        ["format": CheckpointFile.formatName, "version": CheckpointFile.version, "step": String(step)]
    }

    static func encodeJSON<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }
}

/// Writes `data` to a temporary file beside `path` and renames it over `path` (Basics'
/// `AtomicFileWriter`, without fsync as before).
func writeAtomically(_ data: Data, to path: String) throws {
    try AtomicFileWriter.write(data, to: path, sync: false)
}
