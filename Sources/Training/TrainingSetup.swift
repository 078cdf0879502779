import Basics
import Corpus
import Foundation
import Model
import ModelFolder
import Text

/// What a training run is asked to do, as `seq2seq train` gives it and as a library caller of
/// training would: the corpus and the model folder, for a new run its vocabularies, subword models
/// and options, validation files, and how to treat what is already at the output. Every check made
/// before the first step is `TrainingSetup.prepare`'s, with the same error texts for every caller.
public struct TrainingRequest {
    /// Shard folder made by `seq2seq shard`.
    public var shards: String
    /// Model folder to write (or, with `resume`, to continue).
    public var output: String
    /// Vocabulary files of a new run (required for one; with `resume` the folder's are used).
    public var sourceVocabulary: String?
    public var targetVocabulary: String?
    /// Validation text files, line i with line i (both or neither).
    public var validSource: String?
    public var validTarget: String?
    /// BPE codes the vocabularies record (one joint file or one per side), and SentencePiece models.
    public var bpeCodes: [String] = []
    public var sentencePieceModels: [String] = []
    /// Continue the run in `output` (only its length may change: `epochs`, `maxSteps`, `maxMinutes`).
    public var resume = false
    /// Replace a trained model in `output` (never a folder that is not a model).
    public var overwrite = false
    /// Start although more than half of the sampled tokens are `<unk>` (`CorpusCheck`).
    public var allowUnknown = false
    /// Write nothing: the folder is described, not made (`train --dry-run`).
    public var dryRun = false
    /// `--accumulate K` as given (nil: not given). On resume it may change with the number of
    /// processes, as long as ranks × K stays the recorded number of data parts.
    public var accumulate: Int?
    /// New lengths for a resumed run.
    public var epochs: Int?
    public var maxSteps: Int?
    public var maxMinutes: Double?
    /// Recorded in `config.json` as the tool that made the folder.
    public var toolVersion: String
    /// The options of a new run; called only when a new run is set up, so the caller's own option
    /// errors come in the same order as before.
    public var newRunOptions: () throws -> TrainingOptions
    /// On `resume`, throws when an option the caller was given disagrees with the recorded config
    /// (the command line names its flags); the default accepts everything.
    public var checkResume: (ModelFolderConfig) throws -> Void = { _ in }

    public init(shards: String, output: String, toolVersion: String, newRunOptions: @escaping () throws -> TrainingOptions) {
        self.shards = shards
        self.output = output
        self.toolVersion = toolVersion
        self.newRunOptions = newRunOptions
    }
}

/// A run ready for its first step: the model folder (made, opened or, for a dry run, only
/// described), the corpus, the validation set, and lines to print; it holds the folder's
/// `RunLock` until it is released.
public final class PreparedTraining {
    public let directory: ModelDirectory
    public let shards: ShardSet
    public let validation: ValidationSet?
    /// The resumed run's length changed: `config.json` is to be written once training starts.
    public let configChanged: Bool
    /// What the corpus check found and warnings (`train: …` lines), to print before training.
    public let notes: [String]
    /// This preparation made the folder at `output` (so it may remove it again).
    let createdHere: Bool
    let output: String
    private let lock: RunLock?

    init(directory: ModelDirectory, shards: ShardSet, validation: ValidationSet?, configChanged: Bool,
         notes: [String], createdHere: Bool, output: String, lock: RunLock?) {
        self.output = output
        self.directory = directory
        self.shards = shards
        self.validation = validation
        self.configChanged = configChanged
        self.notes = notes
        self.createdHere = createdHere
        self.lock = lock
    }

    /// Call when training failed: a folder this preparation made is removed again if it never got
    /// a checkpoint, so a failed start leaves nothing behind.
    public func discardIfUntrained() {
        if createdHere && !directory.hasCheckpoint { try? FileManager.default.removeItem(atPath: output) }
    }
}

/// The checks and decisions before a run's first step (`seq2seq train` calls this, and so can a
/// library caller), in this order: the folder's lock, the corpus (present, non-empty, checksums),
/// what is at the output (resume, replace or refuse), the vocabularies and their BPE codes or
/// SentencePiece models, the options and their memory, the `<unk>` rate and length order of the
/// corpus's first pairs, the validation set; only then is anything written.
public enum TrainingSetup {
    /// - Parameters:
    ///   - ranks: processes training together (MPI ranks; 1 alone). A resumed run needs the count it
    ///     was trained with.
    ///   - writes: whether this process writes the folder (rank 0); the others only read.
    /// - Throws: `TrainingError` naming the file or option (the texts `train` prints), and the
    ///   errors of reading the corpus, vocabularies, codes and checkpoint.
    public static func prepare(_ request: TrainingRequest, ranks: Int = 1, writes: Bool = true) throws -> PreparedTraining {
        let output = request.output
        func refuse(_ message: String) -> TrainingError { .invalidOption(message) }
        // One run per model folder: a second `train` on the same output (new or resumed) is
        // refused while this one runs. (Without a parent folder there is nothing to race for yet.)
        let parent = URL(fileURLWithPath: output).standardizedFileURL.deletingLastPathComponent().path
        let lock = writes && FileManager.default.fileExists(atPath: parent) ? try RunLock(modelFolder: output) : nil
        let shardSet = try ShardSet(directory: request.shards)
        guard shardSet.pairCount > 0 else {
            throw refuse("\(request.shards): the shard folder holds no pairs; nothing to train on")
        }
        // Before anything is written: every shard is there, whole and unaltered (CRC-32 of its
        // compressed bytes, no decompression), so a bad corpus fails now, not mid-epoch.
        try shardSet.checkChecksums()
        let directory: ModelDirectory
        var validation: ValidationSet?
        var configChanged = false
        var notes: [String] = []
        // Set when this run made the folder: if it then fails before its first checkpoint, the
        // folder is removed again, so a failed start leaves nothing behind.
        var createdHere = false
        // The other ranks do not inspect the folder: rank 0 may be making it meanwhile.
        let existing = writes || request.resume ? ModelFolderKind.inspect(output) : .absent
        if request.resume && request.overwrite {
            throw refuse("--resume continues the model in \(output) and --overwrite replaces it: give one of them")
        }
        if request.resume {
            switch existing {
            case .absent:
                throw refuse("\(output): no model folder to resume; run without --resume to start one")
            case .other(let reason):
                throw refuse("\(output): \(reason); --resume needs a model folder made by `seq2seq train`")
            case .untrainedModel, .trainedModel:
                break
            }
            if !FileManager.default.fileExists(atPath: output + "/last.safetensors")
                && FileManager.default.fileExists(atPath: output + "/best.safetensors") {
                throw refuse("\(output) holds best.safetensors but no last.safetensors (the optimizer state): there is no run to resume; train into a new folder")
            }
            var opened = try ModelDirectory(opening: output)
            try request.checkResume(opened.config)
            // Elastic resume: the corpus is read as P = ranks × K data parts, and a checkpoint holds
            // every part's position, so any M ranks × K' with M·K' = P continue the same parts in
            // the same order (N ranks sum exactly what --accumulate N sums: the same bits).
            let recordedTraining = opened.config.training
            let recordedRanks = recordedTraining.processCount, recordedK = recordedTraining.accumulateSteps
            let parts = recordedRanks * recordedK
            let accumulate = request.accumulate ?? (ranks == recordedRanks ? recordedK : (parts % ranks == 0 ? parts / ranks : 0))
            if ranks * accumulate != parts {
                let split = "\(recordedRanks) MPI rank(s) × --accumulate \(recordedK) = \(parts) data part(s)"
                throw refuse("\(output) was trained by \(split); resume it with "
                             + (recordedRanks == 1 ? "one process (no mpirun, or mpirun -np 1)" : "mpirun -np \(recordedRanks)")
                             + (parts > 1 ? " or any N ranks × --accumulate K with N·K = \(parts)" : "")
                             + ", not \(ranks) × \(accumulate == 0 ? "?" : String(accumulate))")
            }
            for path in request.bpeCodes {
                let codes = try BPECodes(contentsOf: path)
                guard codes == opened.saved.sourceCodes || codes == opened.saved.targetCodes else {
                    throw refuse("\(output) was trained with other settings; --resume continues the recorded run: --bpe-codes \(path) (not the codes the model was trained with)")
                }
            }
            for path in request.sentencePieceModels {
                let model = try SentencePieceModel(contentsOf: path)
                guard model.checksum == opened.saved.sourceSentencePiece?.checksum
                        || model.checksum == opened.saved.targetSentencePiece?.checksum else {
                    throw refuse("\(output) was trained with other settings; --resume continues the recorded run: --spm-model \(path) (not the model it was trained with)")
                }
            }
            // Read the validation set before writing anything, so a bad file changes nothing. (Every
            // rank validates, taking rank 0's figure; rank 0 alone writes.)
            validation = try validationSet(request, source: opened.sourceVocabulary, target: opened.targetVocabulary,
                                           codes: (opened.saved.sourceCodes, opened.saved.targetCodes),
                                           pieces: (opened.saved.sourceSentencePiece, opened.saved.targetSentencePiece),
                                           batchSize: opened.config.training.batchSize, targetOrder: opened.config.model.targetOrder)
            // Only the length of the run may change on resume; everything else is the recorded config.
            var config = opened.config
            if let epochs = request.epochs { config.training.epochs = epochs }
            if let maxSteps = request.maxSteps { config.training.maxSteps = maxSteps }
            if let maxMinutes = request.maxMinutes { config.training.maxMinutes = maxMinutes }
            config.training.ranks = ranks > 1 ? ranks : (recordedTraining.ranks == nil ? nil : 1)
            config.training.accumulate = accumulate > 1 ? accumulate : (recordedTraining.accumulate == nil ? nil : 1)
            if config != opened.config {
                // Written by the caller once the checkpoint has loaded and only if there is training to do.
                opened = opened.replacingConfig(config)
                configChanged = true
            }
            directory = opened
        } else {
            switch existing {
            case .other(let reason):
                throw refuse("\(output): \(reason); choose another --output")
            case .trainedModel where !request.overwrite:
                throw refuse("\(output) already holds a model; pass --resume to continue it or --overwrite to replace it")
            case .absent, .untrainedModel, .trainedModel:
                break
            }
            guard let sourceVocab = request.sourceVocabulary, let targetVocab = request.targetVocabulary else {
                throw refuse("--source-vocab and --target-vocab are required for a new model")
            }
            let source = try Vocabulary(contentsOf: sourceVocab)
            let target = try Vocabulary(contentsOf: targetVocab)
            let codes = try matchCodes(request.bpeCodes, source: (sourceVocab, source), target: (targetVocab, target))
            let pieces = try matchSentencePiece(request.sentencePieceModels, source: (sourceVocab, source), target: (targetVocab, target))
            var options = try request.newRunOptions().canonical
            try options.validate()
            if ranks > 1 { options.ranks = ranks }
            if (options.bpeDropout ?? 0) > 0 && codes.source == nil && codes.target == nil {
                throw refuse("--bpe-dropout needs vocabularies built with BPE codes (vocab --bpe-codes)")
            }
            if (options.bpeDropout ?? 0) > 0 {
                for (path, vocabulary, sideCodes) in [(sourceVocab, source, codes.source), (targetVocab, target, codes.target)]
                where sideCodes != nil {
                    let missing = charactersLackingAPiece(vocabulary)
                    if let example = missing.first {
                        notes.append("train: warning: \(path) lacks the word-final or non-final piece of \(missing.count) "
                                     + "character(s) its pieces contain (e.g. \(example)); BPE-dropout pieces split down to "
                                     + "them are <unk>. `seq2seq vocab --bpe-codes` (2026-12-02 and later) keeps both forms "
                                     + "of every character seen at least --min-count times")
                    }
                }
            }
            let config = ModelFolderConfig(
                toolVersion: request.toolVersion,
                model: options.modelConfig(sourceVocabularySize: source.count, targetVocabularySize: target.count),
                training: options, sourceTokenizer: source.options, targetTokenizer: target.options)
            if config.model.tieEmbeddings == .all && source.tokens != target.tokens {
                throw refuse("--tie-embeddings all needs one joint vocabulary: \(sourceVocab) and \(targetVocab) differ (build one vocabulary from both sides, e.g. with joint BPE codes, and give it as both)")
            }
            do { try config.model.validate() } catch let error as ModelError where config.model.tieEmbeddings != .none {
                throw refuse("--tie-embeddings: \(error)")
            }
            try options.checkMemory(sourceVocabularySize: source.count, targetVocabularySize: target.count)
            notes += try checkCorpus(request, shardSet, source: source, target: target, codes: codes, pieces: pieces)
            // Read the validation set before creating the folder, so a bad file leaves no half-made
            // model behind.
            validation = try validationSet(request, source: source, target: target, codes: codes, pieces: pieces,
                                           batchSize: options.batchSize, targetOrder: config.model.targetOrder)
            if !writes || request.dryRun {
                directory = try ModelDirectory.unwritten(at: output, config: config, sourceVocabulary: source, targetVocabulary: target,
                                                         sourceCodes: codes.source, targetCodes: codes.target,
                                                         sourceSentencePiece: pieces.source, targetSentencePiece: pieces.target)
            } else if existing == .absent {
                directory = try ModelDirectory.createStaged(at: output, config: config,
                                                            sourceVocabulary: source, targetVocabulary: target,
                                                            sourceCodes: codes.source, targetCodes: codes.target,
                                                            sourceSentencePiece: pieces.source, targetSentencePiece: pieces.target)
                createdHere = true
            } else {
                // Replacing a model (--overwrite) or the leftovers of a start that never reached a
                // checkpoint. The checkpoint goes first: whatever fails after it leaves an untrained
                // folder, which a plain retry accepts.
                for file in ["last.safetensors", "best.safetensors", "log.jsonl"] {
                    try? FileManager.default.removeItem(atPath: output + "/" + file)
                }
                directory = try ModelDirectory(creating: output, config: config,
                                               sourceVocabulary: source, targetVocabulary: target,
                                               sourceCodes: codes.source, targetCodes: codes.target,
                                               sourceSentencePiece: pieces.source, targetSentencePiece: pieces.target)
            }
        }
        return PreparedTraining(directory: directory, shards: shardSet, validation: validation, configChanged: configChanged,
                                notes: notes, createdHere: createdHere, output: output, lock: lock)
    }

    /// The validation pair of text files tokenized with the model's vocabularies, or nil when none is given.
    static func validationSet(_ request: TrainingRequest, source: Vocabulary, target: Vocabulary,
                              codes: (source: BPECodes?, target: BPECodes?),
                              pieces: (source: SentencePieceModel?, target: SentencePieceModel?),
                              batchSize: Int, targetOrder: TargetOrder) throws -> ValidationSet? {
        switch (request.validSource, request.validTarget) {
        case let (sourcePath?, targetPath?):
            let preparer = try PairPreparer(sourceVocabulary: source, targetVocabulary: target, maxLength: nil,
                                            sourceCodes: codes.source, targetCodes: codes.target,
                                            sourceSentencePiece: pieces.source, targetSentencePiece: pieces.target,
                                            targetOrder: targetOrder)
            return try ValidationSet(sourcePath: sourcePath, targetPath: targetPath, preparer: preparer, batchSize: batchSize)
        case (nil, nil):
            return nil
        default:
            throw TrainingError.invalidOption("give both --valid-source and --valid-target, or neither")
        }
    }

    /// The `<unk>` rate of each side on the corpus's first pairs, as lines to print once every
    /// other check has passed, with a warning above `CorpusCheck.warningUnknownRate` and when the
    /// pairs look sorted by length. Refuses above `CorpusCheck.refusalUnknownRate` unless
    /// `allowUnknown`.
    /// - Throws: `TrainingError.invalidOption` naming the side's vocabulary and the shard folder;
    ///   shard read errors.
    static func checkCorpus(_ request: TrainingRequest, _ shards: ShardSet, source: Vocabulary, target: Vocabulary,
                            codes: (source: BPECodes?, target: BPECodes?),
                            pieces: (source: SentencePieceModel?, target: SentencePieceModel?)) throws -> [String] {
        let preparer = try PairPreparer(sourceVocabulary: source, targetVocabulary: target, maxLength: nil,
                                        sourceCodes: codes.source, targetCodes: codes.target,
                                        sourceSentencePiece: pieces.source, targetSentencePiece: pieces.target)
        let check = try CorpusCheck(shards: shards, preparer: preparer)
        let (side, rate) = check.worstSide
        let vocabulary = side == "source" ? request.sourceVocabulary ?? "" : request.targetVocabulary ?? ""
        if rate > CorpusCheck.refusalUnknownRate && !request.allowUnknown {
            throw TrainingError.invalidOption(String(
                format: "%@: %.0f %% of the %@ tokens in the first %d pairs of %@ are <unk>: "
                    + "is it the %@ vocabulary, built from this side of the corpus? (--allow-unk to train anyway)",
                vocabulary, 100 * rate, side, check.pairsSampled, shards.directory, side))
        }
        var notes = ["train: " + check.summary]
        if rate > CorpusCheck.warningUnknownRate {
            notes.append(String(format: "train: warning: %.0f %% of the %@ tokens are <unk> under %@; "
                                + "the model will learn little (a vocabulary from this side of the training corpus?)",
                                100 * rate, side, vocabulary))
        }
        if check.looksSortedByLength {
            notes.append("train: warning: the first \(check.pairsSampled) pairs of \(shards.directory) are ordered by length, "
                         + "and train shuffles only within windows; repack with `seq2seq shard --shuffle SEED` "
                         + "so that the first steps see sentences of every length")
        }
        return notes
    }

    /// The characters (in bytes order) of `vocabulary`'s pieces whose word-final (`c`) or
    /// non-final (`c￭￭`) piece the vocabulary lacks: BPE-dropout splits down to those.
    public static func charactersLackingAPiece(_ vocabulary: Vocabulary) -> [String] {
        let separator = SubwordJoiner.tokenizerSeparator
        var characters: Set<String> = []
        for token in vocabulary.tokens.dropFirst(TokenID.reservedCount) {
            let bare = token.hasSuffix(separator) ? String(token.dropLast(separator.count)) : token
            for scalar in bare.unicodeScalars { characters.insert(String(scalar)) }
        }
        return characters.filter { !vocabulary.contains($0) || !vocabulary.contains($0 + separator) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The BPE codes for each side, matched by the checksum each vocabulary records. Throws when
    /// a vocabulary records codes that were not given, or a codes file matches neither vocabulary.
    static func matchCodes(_ paths: [String], source: (path: String, vocabulary: Vocabulary),
                           target: (path: String, vocabulary: Vocabulary)) throws -> (source: BPECodes?, target: BPECodes?) {
        guard paths.count <= 2 else { throw TrainingError.invalidOption("--bpe-codes takes one file (joint codes) or two (one per side)") }
        let given = try paths.map { (path: $0, codes: try BPECodes(contentsOf: $0)) }
        func pick(_ side: (path: String, vocabulary: Vocabulary)) throws -> BPECodes? {
            guard let recorded = side.vocabulary.options.bpeCodes else { return nil }
            guard let match = given.first(where: { $0.codes.checksum == recorded }) else {
                let tried = given.map { "\($0.path) is \($0.codes.checksum)" }.joined(separator: ", ")
                throw TrainingError.invalidOption("\(side.path): built with BPE codes \(recorded); give those codes with --bpe-codes"
                                                  + (tried.isEmpty ? "" : " (\(tried))"))
            }
            return match.codes
        }
        let codes = (source: try pick(source), target: try pick(target))
        for item in given where item.codes.checksum != source.vocabulary.options.bpeCodes
            && item.codes.checksum != target.vocabulary.options.bpeCodes {
            throw TrainingError.invalidOption("\(item.path): these BPE codes (checksum \(item.codes.checksum)) match neither vocabulary; "
                                              + "build the vocabularies with `vocab --bpe-codes \(item.path)`")
        }
        return codes
    }

    /// The SentencePiece models for each side, matched by the checksum each vocabulary records.
    /// (The same shape as `matchCodes`, kept apart on purpose: each kind of subword model has its
    /// own loader, checksum field and messages, which users' scripts match.)
    static func matchSentencePiece(_ paths: [String], source: (path: String, vocabulary: Vocabulary),
                                   target: (path: String, vocabulary: Vocabulary)) throws
        -> (source: SentencePieceModel?, target: SentencePieceModel?) {
        guard paths.count <= 2 else { throw TrainingError.invalidOption("--spm-model takes one file (shared) or two (one per side)") }
        let given = try paths.map { (path: $0, model: try SentencePieceModel(contentsOf: $0)) }
        func pick(_ side: (path: String, vocabulary: Vocabulary)) throws -> SentencePieceModel? {
            guard let recorded = side.vocabulary.options.sentencePiece else { return nil }
            guard let match = given.first(where: { $0.model.checksum == recorded }) else {
                throw TrainingError.invalidOption("\(side.path): built with a SentencePiece model (checksum \(recorded)); give it with --spm-model")
            }
            return match.model
        }
        let models = (source: try pick(source), target: try pick(target))
        for item in given where item.model.checksum != source.vocabulary.options.sentencePiece
            && item.model.checksum != target.vocabulary.options.sentencePiece {
            throw TrainingError.invalidOption("\(item.path): this SentencePiece model (checksum \(item.model.checksum)) matches neither vocabulary; "
                                              + "build the vocabularies with `vocab --spm-model \(item.path)`")
        }
        return models
    }
}
