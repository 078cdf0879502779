import ArgumentParser
import Corpus
import Foundation
import Kernels
import Model
import Text
import Training

/// Set by SIGINT/SIGTERM; the trainer checkpoints and returns at the next step.
nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a recurrent encoder-decoder (LSTM, GRU, Elman, IRNN; bidirectional, residual) on a shard folder.",
        discussion: """
        Writes models/NAME/ with config.json, both vocabularies, last.safetensors (weights, optimizer and \
        training state), best.safetensors (lowest validation perplexity) and log.jsonl. Ctrl-C saves a \
        checkpoint; --resume continues exactly where the last checkpoint left off (a finished run resumed \
        with the same limits changes nothing; raise --epochs, --max-steps or --max-minutes to go on). \
        --output must not exist, be an empty folder, or be a model folder: one with a checkpoint needs \
        --resume or --overwrite, one a failed start left without a checkpoint is simply replaced; any \
        other file or folder is refused. A new folder appears only once its config and vocabularies are \
        written, and is removed again if training fails before its first checkpoint. An empty shard \
        folder, an empty validation set, or a corpus in which no pair survives tokenization and \
        --max-length is refused.
        """)

    @Option(help: "Shard folder made by `seq2seq shard`.") var shards: String
    @Option(help: "Source vocabulary made by `seq2seq vocab`.") var sourceVocab: String?
    @Option(help: "Target vocabulary made by `seq2seq vocab`.") var targetVocab: String?
    @Option(help: "Validation source sentences (raw text, plain/.gz/.zst).") var validSource: String?
    @Option(help: "Validation target sentences, line i with line i of --valid-source.") var validTarget: String?
    @Option(help: "Model folder to write, e.g. models/NAME.") var output: String

    @Option(help: "Recurrent cell: lstm, gru (PyTorch's equations), rnn-tanh (Elman) or irnn (ReLU, identity-initialised).")
    var cell: CellType?
    @Flag(help: "Bidirectional encoder: H/2 units per direction, outputs and final states concatenated (the source is then read in its natural order unless --reverse-source).")
    var bidirectional = false
    @Flag(help: "Residual connections between stacked layers, from the second layer on.") var residual = false
    @Flag(help: "Read the source reversed even with --bidirectional.") var reverseSource = false
    @Option(help: "Recurrent layers in encoder and decoder.") var layers: Int?
    @Option(help: "Hidden size H.") var hidden: Int?
    @Option(help: "Embedding size E.") var embedding: Int?
    @Option(help: "Dropout between layers and before the output layer (Zaremba et al. 2014).") var dropout: Float?
    @Flag(help: "Read the source in its natural order (default: reversed, as in Sutskever et al. 2014).")
    var noReverseSource = false
    @Option(help: "Sentences per batch.") var batchSize: Int?
    @Option(help: "Cut batches by this many padded tokens instead of by sentence count.") var tokenBudget: Int?
    @Option(help: "Pairs shuffled and length-sorted together before batching.") var window: Int?
    @Option(help: "Epochs to train (may be raised on --resume).") var epochs: Int?
    @Option(help: "Stop after this many steps in total (may be raised on --resume).") var maxSteps: Int?
    @Option(help: "Stop after this many minutes of training (summed over resumes; may be raised on --resume).")
    var maxMinutes: Double?
    @Option(help: "Random seed: the same seed and data give the same model, bit for bit.") var seed: UInt64?
    @Option(help: "sgd (lr 0.7, halved every half epoch after epoch 5, as in the paper) or adam (lr 1e-3).")
    var optimizer: OptimizerKind?
    @Option(help: "Learning rate (default: 0.7 for sgd, 0.001 for adam).") var lr: Float?
    @Option(help: "Learning-rate multiplier applied every half epoch after --decay-start.") var lrDecay: Float?
    @Option(help: "Epoch after which the learning rate decays (default: 5 for sgd, never for adam).")
    var decayStart: Double?
    @Option(help: "Clip the gradient to this global L2 norm (Pascanu et al. 2013); 0 disables.") var clip: Float?
    @Option(help: "Also validate and checkpoint every N steps.") var validEvery: Int?
    @Option(help: "Checkpoint every N steps.") var saveEvery: Int?
    @Option(help: "Log line every N steps when stderr is not a terminal.") var logEvery: Int?
    @Option(help: "Leave out training pairs with more tokens than this on either side.") var maxLength: Int?
    @Option(help: "BLAS threads (the reader thread runs beside them).") var threads: Int = 2
    @Flag(help: "Continue from the last checkpoint of the model folder --output.") var resume = false
    @Flag(help: "Log the encoder's mean ‖∂L/∂h_t‖ by source position every --log-every steps (`gradient_flow` lines of log.jsonl, drawn by `seq2seq plot`); changes no training numerics.")
    var logGradientFlow = false
    @Flag(help: "Replace a trained model in --output instead of refusing (never a folder that is not a model).")
    var overwrite = false

    func run() throws {
        try train()
    }

    private func train() throws {
        try checkThreads(threads)
        BLAS.setThreads(threads)
        // One run per model folder: a second `train` on the same --output (new or --resume) is
        // refused while this one runs. (Without a parent folder there is nothing to race for yet.)
        let parent = URL(fileURLWithPath: output).standardizedFileURL.deletingLastPathComponent().path
        let lock = FileManager.default.fileExists(atPath: parent) ? try RunLock(modelFolder: output) : nil
        defer { withExtendedLifetime(lock) {} }
        let shardSet = try ShardSet(directory: shards)
        guard shardSet.pairCount > 0 else {
            throw CLIError("\(shards): the shard folder holds no pairs; nothing to train on")
        }
        // Before anything is written: every shard is there, whole and unaltered (CRC-32 of its
        // compressed bytes, no decompression), so a bad corpus fails now, not mid-epoch.
        try shardSet.checkChecksums()
        let directory: ModelDirectory
        var validation: ValidationSet?
        var configChanged = false
        // Set when this run made the folder: if it then fails before its first checkpoint, the
        // folder is removed again, so a failed start leaves nothing behind.
        var createdHere = false
        let existing = ModelFolderKind.inspect(output)
        if resume && overwrite {
            throw CLIError("--resume continues the model in \(output) and --overwrite replaces it: give one of them")
        }
        if resume {
            switch existing {
            case .absent:
                throw CLIError("\(output): no model folder to resume; run without --resume to start one")
            case .other(let reason):
                throw CLIError("\(output): \(reason); --resume needs a model folder made by `seq2seq train`")
            case .untrainedModel, .trainedModel:
                break
            }
            if !FileManager.default.fileExists(atPath: output + "/last.safetensors")
                && FileManager.default.fileExists(atPath: output + "/best.safetensors") {
                throw CLIError("\(output) holds best.safetensors but no last.safetensors (the optimizer state): there is no run to resume; train into a new folder")
            }
            var opened = try ModelDirectory(opening: output)
            try checkResumeAgrees(with: opened.config)
            // Read the validation set before writing anything, so a bad file changes nothing.
            validation = try validationSet(source: opened.sourceVocabulary, target: opened.targetVocabulary,
                                           batchSize: opened.config.training.batchSize)
            // Only the length of the run may change on resume; everything else is the recorded config.
            var config = opened.config
            if let epochs { config.training.epochs = epochs }
            if let maxSteps { config.training.maxSteps = maxSteps }
            if let maxMinutes { config.training.maxMinutes = maxMinutes }
            if config != opened.config {
                // Written below, once the checkpoint has loaded and only if there is training to do.
                opened = opened.replacingConfig(config)
                configChanged = true
            }
            directory = opened
        } else {
            switch existing {
            case .other(let reason):
                throw CLIError("\(output): \(reason); choose another --output")
            case .trainedModel where !overwrite:
                throw CLIError("\(output) already holds a model; pass --resume to continue it or --overwrite to replace it")
            case .absent, .untrainedModel, .trainedModel:
                break
            }
            guard let sourceVocab, let targetVocab else {
                throw CLIError("--source-vocab and --target-vocab are required for a new model")
            }
            let source = try Vocabulary(contentsOf: sourceVocab)
            let target = try Vocabulary(contentsOf: targetVocab)
            let options = try trainingOptions()
            let config = ModelFolderConfig(
                toolVersion: seq2seqVersion,
                model: options.modelConfig(sourceVocabularySize: source.count, targetVocabularySize: target.count),
                training: options, sourceTokenizer: source.options, targetTokenizer: target.options)
            try config.model.validate()
            try options.checkMemory(sourceVocabularySize: source.count, targetVocabularySize: target.count)
            // Read the validation set before creating the folder, so a bad file leaves no half-made
            // model behind.
            validation = try validationSet(source: source, target: target, batchSize: options.batchSize)
            if existing == .absent {
                directory = try ModelDirectory.createStaged(at: output, config: config,
                                                            sourceVocabulary: source, targetVocabulary: target)
                createdHere = true
            } else {
                // Replacing a model (--overwrite) or the leftovers of a start that never reached a
                // checkpoint. The checkpoint goes first: whatever fails after it leaves an untrained
                // folder, which a plain retry accepts.
                for file in ["last.safetensors", "best.safetensors", "log.jsonl"] {
                    try? FileManager.default.removeItem(atPath: output + "/" + file)
                }
                directory = try ModelDirectory(creating: output, config: config,
                                               sourceVocabulary: source, targetVocabulary: target)
            }
        }
        do {
            try train(directory: directory, shardSet: shardSet, validation: validation, configChanged: configChanged)
        } catch {
            if createdHere && !directory.hasCheckpoint {
                try? FileManager.default.removeItem(atPath: output)
            }
            throw error
        }
    }

    private func train(directory: ModelDirectory, shardSet: ShardSet, validation: ValidationSet?,
                       configChanged: Bool) throws {
        let training = directory.config.training
        let progress = ProgressReporter(logEvery: training.logEvery)
        let trainer = try Trainer(directory: directory, shards: shardSet, validation: validation,
                                  resume: resume, progress: progress)
        trainer.logsGradientFlow = logGradientFlow
        if trainer.isFinished {
            // Running a finished run again changes nothing: no config, validation, checkpoint or log line.
            let s = trainer.state
            progress.message("\(output) already finished: \(s.step) steps, \(s.epoch) epochs, "
                + "\(formatDuration(s.trainingSeconds)); nothing to do (raise --epochs, --max-steps or --max-minutes to train on)")
            return
        }
        if configChanged { try directory.saveConfig() }
        // The first signal asks for a checkpoint at the next step; a second one ends the process at
        // once (files are written under temporary names, so none is left half-written).
        signal(SIGINT) { _ in if stopRequested != 0 { _exit(130) }; stopRequested = 1 }
        signal(SIGTERM) { _ in if stopRequested != 0 { _exit(143) }; stopRequested = 1 }
        // A blocked signal mask survives exec, and some launchers (Foundation's Process among them)
        // start children with SIGINT blocked; unblock so Ctrl-C still reaches the handler.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        trainer.shouldStop = { stopRequested != 0 }
        if trainer.state.step > 0 {
            progress.message("resuming \(output) at epoch \(trainer.state.epoch + 1), step \(trainer.state.step)")
        }
        progress.message("model: \(directory.config.model.architectureDescription), "
            + "E=\(directory.config.model.embedding), vocab \(directory.sourceVocabulary.count)/\(directory.targetVocabulary.count), "
            + String(format: "%.2fM parameters, ", Double(trainer.model.parameters.count) / 1e6) + "\(shardSet.pairCount) training pairs"
            + (validation.map { ", \($0.pairCount) validation pairs" } ?? ""))
        let summary = try trainer.run()
        let s = summary.state
        progress.message("done: \(s.step) steps, \(s.epoch) epochs, \(formatDuration(s.trainingSeconds)); "
            + "best validation perplexity \(s.bestValidPerplexity.map { String(format: "%.3f", $0) } ?? "n/a"); "
            + "clipped \(s.clippedSteps) steps, skipped \(s.skippedBatches) batches; model in \(output)")
        if summary.interrupted { throw ExitCode(130) }
    }

    /// The validation pair of text files tokenized with the model's vocabularies, or nil when none is given.
    private func validationSet(source: Vocabulary, target: Vocabulary, batchSize: Int) throws -> ValidationSet? {
        switch (validSource, validTarget) {
        case let (sourcePath?, targetPath?):
            let preparer = try PairPreparer(sourceVocabulary: source, targetVocabulary: target, maxLength: nil)
            return try ValidationSet(sourcePath: sourcePath, targetPath: targetPath, preparer: preparer,
                                     batchSize: batchSize)
        case (nil, nil):
            return nil
        default:
            throw CLIError("give both --valid-source and --valid-target, or neither")
        }
    }

    /// On `--resume` the recorded run decides everything but its length: an architecture or
    /// training option given with a value other than the recorded one is refused (naming it),
    /// rather than silently ignored; the same value (scripts repeat their flags) is accepted.
    func checkResumeAgrees(with config: ModelFolderConfig) throws {
        let recorded = config.training, model = config.model
        var differing: [String] = []
        func check<T: Equatable>(_ name: String, _ given: T?, _ actual: T) {
            if let given, given != actual { differing.append("\(name) \(given) (recorded: \(actual))") }
        }
        check("--layers", layers, model.layers)
        check("--hidden", hidden, model.hidden)
        check("--embedding", embedding, model.embedding)
        check("--dropout", dropout, model.dropout)
        check("--cell", cell, model.cell)
        check("--bidirectional", bidirectional ? true : nil, model.bidirectional)
        check("--residual", residual ? true : nil, model.residual)
        check("--no-reverse-source", noReverseSource ? false : nil, model.reverseSource)
        check("--reverse-source", reverseSource ? true : nil, model.reverseSource)
        check("--batch-size", batchSize, recorded.batchSize)
        check("--seed", seed, recorded.seed)
        check("--optimizer", optimizer, recorded.optimizer)
        check("--lr", lr, recorded.initialLearningRate)
        check("--clip", clip, recorded.clipNorm)
        check("--token-budget", tokenBudget, recorded.tokenBudget ?? -1)
        check("--window", window, recorded.windowSize)
        check("--max-length", maxLength, recorded.maxLength)
        check("--lr-decay", lrDecay, recorded.learningRateDecay)
        check("--decay-start", decayStart, recorded.effectiveDecayStart ?? -1)
        check("--valid-every", validEvery, recorded.validEvery ?? -1)
        check("--save-every", saveEvery, recorded.saveEvery ?? -1)
        check("--log-every", logEvery, recorded.logEvery)
        // The folder keeps copies of its vocabularies: the same files may be named again.
        for (flag, given, kept) in [("--source-vocab", sourceVocab, "source.vocab"), ("--target-vocab", targetVocab, "target.vocab")] {
            if let given, !FileManager.default.contentsEqual(atPath: given, andPath: output + "/" + kept) {
                differing.append("\(flag) \(given) (not the vocabulary the model was trained with)")
            }
        }
        if !differing.isEmpty {
            throw CLIError("\(output) was trained with other settings; --resume continues the recorded run "
                           + "(only --epochs, --max-steps and --max-minutes may change): \(differing.joined(separator: ", "))")
        }
    }

    func trainingOptions() throws -> TrainingOptions {
        var o = TrainingOptions()
        if let layers { o.layers = layers }
        if let hidden { o.hidden = hidden }
        if let embedding { o.embedding = embedding }
        if let dropout { o.dropout = dropout }
        if noReverseSource && reverseSource { throw CLIError("give --no-reverse-source or --reverse-source, not both") }
        // A bidirectional encoder reads both ways: reversal buys nothing, so it is off unless asked.
        o.reverseSource = bidirectional ? reverseSource : !noReverseSource
        o.cell = cell
        if bidirectional { o.bidirectional = true }
        if residual { o.residual = true }
        if let batchSize {
            o.batchSize = batchSize
            let (window, overflow) = batchSize.multipliedReportingOverflow(by: 100)
            o.windowSize = overflow ? Int.max : max(o.windowSize, window)
        }
        o.tokenBudget = tokenBudget
        if let window { o.windowSize = window }
        if let epochs { o.epochs = epochs }
        o.maxSteps = maxSteps
        o.maxMinutes = maxMinutes
        if let seed { o.seed = seed }
        if let optimizer { o.optimizer = optimizer }
        o.learningRate = lr
        if let lrDecay { o.learningRateDecay = lrDecay }
        o.decayStart = decayStart
        if let clip { o.clipNorm = clip }
        o.validEvery = validEvery
        if let saveEvery { o.saveEvery = saveEvery }
        if let logEvery { o.logEvery = logEvery }
        if let maxLength { o.maxLength = maxLength }
        try o.validate()
        return o
    }
}

extension OptimizerKind: ExpressibleByArgument {}

extension CellType: ExpressibleByArgument {}
