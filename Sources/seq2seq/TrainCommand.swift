import ArgumentParser
import Basics
import Corpus
import Distributed
import Foundation
import Kernels
import Model
import Text
import Training

/// Set by SIGINT/SIGTERM to the signal's number; the trainer checkpoints and returns at the next
/// step, and the process exits 128 + that number (130, 143), as a shell reports a signal.
nonisolated(unsafe) var stopRequested: sig_atomic_t = 0

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a recurrent encoder-decoder (LSTM, GRU, Elman, IRNN; bidirectional, residual) on a shard folder.",
        discussion: """
        Writes models/NAME/ with config.json, both vocabularies, last.safetensors (weights, optimizer and \
        training state), best.safetensors (lowest validation perplexity, or highest validation BLEU with \
        --select-by bleu), with --keep-checkpoints K the last K checkpoints' weights \
        (checkpoint-STEP.safetensors, for `seq2seq average`) and log.jsonl. Ctrl-C saves a \
        checkpoint; --resume continues exactly where the last checkpoint left off (a finished run resumed \
        with the same limits changes nothing; raise --epochs, --max-steps or --max-minutes to go on). \
        --output must not exist, be an empty folder, or be a model folder: one with a checkpoint needs \
        --resume or --overwrite, one a failed start left without a checkpoint is simply replaced; any \
        other file or folder is refused. A new folder appears only once its config and vocabularies are \
        written, and is removed again if training fails before its first checkpoint. An empty shard \
        folder, an empty validation set, or a corpus in which no pair survives tokenization and \
        --max-length is refused. \
        --accumulate K sums K batches, each from its own part of the shards, per update. Under \
        `mpirun -np N` the N ranks train one model: each reads its own shards, gradients are summed in \
        rank order (N ranks give the weights of --accumulate N in one process, bit for bit), rank 0 \
        alone writes the folder, and --resume needs the same N. Ranks started with different \
        arguments are refused before training; a rank that dies stops the others, and one that \
        hangs does after --mpi-timeout seconds (the last checkpoint stays whole).
        """)

    @Option(help: "Shard folder made by `seq2seq shard`.") var shards: String
    @Option(help: "Source vocabulary made by `seq2seq vocab` (required for a new model; --resume uses the folder's).") var sourceVocab: String?
    @Option(help: "Target vocabulary made by `seq2seq vocab` (required for a new model; --resume uses the folder's).") var targetVocab: String?
    @Option(help: "Validation source sentences (raw text, plain/.gz/.zst).") var validSource: String?
    @Option(help: "Validation target sentences, line i with line i of --valid-source.") var validTarget: String?
    @Option(help: "Model folder to write, e.g. models/NAME.") var output: String
    @Option(parsing: .upToNextOption, help: "BPE codes the vocabularies were built with (`vocab --bpe-codes`; one file for joint codes, or one per side); copied into the model folder.")
    var bpeCodes: [String] = []
    @Option(parsing: .upToNextOption, help: "SentencePiece models the vocabularies were built with (`vocab --spm-model`; one shared file or one per side); copied into the model folder.")
    var spmModel: [String] = []
    @Option(help: "BPE-dropout (Provilkov et al. 2020): segment the training pairs afresh each epoch, skipping each merge with this probability (0 ≤ p < 1; deterministic from --seed, so --resume is exact).")
    var bpeDropout: Double?

    @Option(help: "Recurrent cell: lstm (default), gru (PyTorch's equations), rnn-tanh (Elman) or irnn (ReLU, identity-initialised).")
    var cell: CellType?
    @Flag(help: "Bidirectional encoder: H/2 units per direction, outputs and final states concatenated (the source is then read in its natural order unless --reverse-source).")
    var bidirectional = false
    @Flag(help: "Residual connections between stacked layers, from the second layer on.") var residual = false
    @Flag(help: "Read the source reversed even with --bidirectional.") var reverseSource = false
    @Option(help: "Decoder attention over the encoder's outputs: none (default; Sutskever et al. 2014), dot or general (Luong et al. 2015), mlp (Bahdanau et al. 2015).")
    var attention: AttentionType?
    @Flag(help: "With --attention: do not feed the attentional state h̃ to the next step's first layer (input feeding, Luong et al. 2015 §3.3, is on by default).")
    var noInputFeed = false
    @Option(help: "The order the decoder writes the target: left-to-right (default) or right-to-left (trained on reversed targets; translate reverses its output back), the model `translate --rescore-with` takes.")
    var targetOrder: TargetOrder?
    @Flag(help: "Layer normalization in the recurrent cells (Ba et al. 2016; lstm and gru): each side's gate pre-activations and, for the LSTM, the cell state before its tanh.")
    var layerNorm = false
    @Option(help: "Tied embeddings (Press & Wolf 2017): none (default), decoder (the output layer's weight is the target embedding; with --embedding ≠ --hidden through a learned projection H → E) or all (the source embedding too; needs one joint vocabulary, the same file for --source-vocab and --target-vocab, e.g. from a joint BPE).")
    var tieEmbeddings: TiedEmbeddings?
    // Alike on purpose: option declarations, one per flag; `bench train` declares its own.
    @Option(help: "Recurrent layers in encoder and decoder (default \(Self.defaults.layers)).") var layers: Int?
    @Option(help: "Hidden size H (default \(Self.defaults.hidden)).") var hidden: Int?
    @Option(help: "Embedding size E (default \(Self.defaults.embedding)).") var embedding: Int?
    @Option(help: "Dropout between layers and before the output layer (Zaremba et al. 2014; default \(Self.defaults.dropout)).") var dropout: Float?
    @Flag(help: "Read the source in its natural order (default: reversed, as in Sutskever et al. 2014).")
    var noReverseSource = false
    // Alike on purpose: option declarations, one per flag.
    @Option(help: "Sentences per batch (default \(Self.defaults.batchSize)).") var batchSize: Int?
    @Option(help: "Sum the gradients of K batches, each from its own part of the shards, before one update (an effective batch of K×--batch-size; needs at least K shards).")
    var accumulate: Int?
    @Option(help: "Cut batches by this many padded tokens instead of by sentence count.") var tokenBudget: Int?
    @Option(help: "Pairs shuffled and length-sorted together before batching (default \(Self.defaults.windowSize), or 100 × --batch-size if larger).") var window: Int?
    @Option(help: "Epochs to train (default \(Self.defaults.epochs); may be raised on --resume).") var epochs: Int?
    @Option(help: "Stop after this many steps in total (may be raised on --resume).") var maxSteps: Int?
    @Option(help: "Stop after this many minutes of training (summed over resumes; may be raised on --resume).")
    var maxMinutes: Double?
    @Option(help: "Random seed: the same seed and data give the same model, bit for bit (default \(Self.defaults.seed)).") var seed: UInt64?
    @Option(help: "sgd (default; lr 0.7, halved every half epoch after epoch 5, as in the paper) or adam (lr 1e-3).")
    var optimizer: OptimizerKind?
    @Option(help: "Learning rate (default: 0.7 for sgd, 0.001 for adam).") var lr: Float?
    @Option(help: "Learning-rate multiplier applied every half epoch after --decay-start (default \(Self.defaults.learningRateDecay)).") var lrDecay: Float?
    @Option(help: "Epoch after which the learning rate decays (default: 5 for sgd, never for adam).")
    var decayStart: Double?
    @Option(help: "Clip the gradient to this global L2 norm (Pascanu et al. 2013; default \(Self.defaults.clipNorm)); 0 disables.") var clip: Float?
    @Option(help: "Also validate and checkpoint every N steps (default: at each epoch's end only).") var validEvery: Int?
    @Option(help: "Checkpoint every N steps (default \(Self.defaults.saveEvery ?? 0)).") var saveEvery: Int?
    @Option(help: "A log line (log.jsonl, and stderr when it is not a terminal) every N steps (default \(Self.defaults.logEvery)).") var logEvery: Int?
    @Option(help: "Also a log line at least every this many seconds, so a slow run shows progress (0 turns it off).")
    var logEverySeconds: Double = 30
    @Flag(help: "Check everything, train \(RunMeter.warmupSteps)+\(RunMeter.estimateSteps) steps and time one validation, print the steps per epoch, parameters, tok/s and the estimated time per epoch and for the whole run, and stop; writes nothing.")
    var dryRun = false
    @Option(help: "Leave out training pairs with more tokens than this on either side (default \(Self.defaults.maxLength)).") var maxLength: Int?
    @Option(help: "Label smoothing ε in [0, 1) of the training loss (Szegedy et al. 2016; PyTorch's CrossEntropyLoss(label_smoothing=ε)); 0 = none. Logged perplexity stays the plain NLL's.")
    var labelSmoothing: Float?
    @Option(help: "Learning-rate schedule: halving (default: constant, then --lr-decay every half epoch after --decay-start) or plateau (PyTorch's ReduceLROnPlateau on the --select-by metric; needs a validation set).")
    var lrSchedule: LearningRateScheduleKind?
    @Option(help: "Plateau schedule: multiply the learning rate by this factor in (0, 1) (default 0.5).")
    var lrDecayFactor: Double?
    // Alike on purpose: option declarations, one per flag.
    @Option(help: "Plateau schedule: validations without improvement tolerated before a cut (default 1; PyTorch's patience).")
    var plateauPatience: Int?
    @Option(help: "Stop after N consecutive validations without a new best checkpoint (needs a validation set).")
    var earlyStopping: Int?
    @Flag(help: "At every validation, greedy-decode the validation sources and report their BLEU (logged as valid_bleu).")
    var validBleu = false
    @Flag(help: "Lowercase the validation BLEU (as `bleu --lowercase`); needs --valid-bleu.")
    var validBleuLowercase = false
    @Option(help: "The validation figure that picks best.safetensors and that --early-stopping and the plateau schedule watch: perplexity (default) or bleu (needs --valid-bleu).")
    var selectBy: SelectionMetric?
    @Option(help: "Also keep the weights of the last K checkpoints as checkpoint-STEP.safetensors, for `seq2seq average`.")
    var keepCheckpoints: Int?
    @Option(help: "Threads in all: the GEMM backend's and our own kernels' (the reader thread runs beside them).") var threads: Int = 2
    @OptionGroup var gemmArguments: GemmArguments
    @Option(help: "Under mpirun: stop the job when this rank has waited this many seconds for the others in one exchange (a rank that hangs without dying); 0 never.")
    var mpiTimeout: Double = 300
    @Flag(inversion: .prefixedNo, help: "Under mpirun: sum the gradient over the ranks in buckets while the backward pass runs, on a thread of its own (the same bits as after it).")
    var overlapExchange = true
    @Flag(help: "Continue from the last checkpoint of the model folder --output.") var resume = false
    @Flag(help: "Log the encoder's mean ‖∂L/∂h_t‖ by source position every --log-every steps (`gradient_flow` lines of log.jsonl, drawn by `seq2seq plot`); changes no training numerics.")
    var logGradientFlow = false
    @Flag(help: "Start even when more than half of the tokens of the corpus's first pairs are <unk> under the vocabularies (normally refused: swapped or wrong vocabularies, swapped TSV columns).")
    var allowUnk = false
    @Flag(help: "Replace a trained model in --output instead of refusing (never a folder that is not a model).")
    var overwrite = false

    /// The defaults every option falls back to (shown in `--help`).
    static let defaults = TrainingOptions()

    func validate() throws {
        guard logEverySeconds >= 0 && logEverySeconds.isFinite else {
            throw ValidationError("--log-every-seconds must be a number of seconds >= 0 (0: every --log-every steps only)")
        }
        guard mpiTimeout >= 0 && mpiTimeout.isFinite else {
            throw ValidationError("--mpi-timeout must be a number of seconds >= 0, got \(mpiTimeout)")
        }
    }

    func run() throws {
        guard Communicator.isLaunchedByMPI else {
            try train(world: nil)
            return
        }
        try runAsRank()
    }

    /// Trains in this process (`world` nil) or as one MPI rank. A rank that fails before the ranks
    /// have compared their setups tells the others (which wait for that comparison), so that
    /// every rank stops with one error line among them (``RankSetup``).
    func train(world: Communicator?) throws {
        let setup = RankSetup()
        do {
            try train(world: world, setup: setup)
        } catch {
            guard let world, !setup.compared else { throw error }
            try reportSetupFailure(world: world, setup: setup, error: error)
        }
    }

    private func train(world: Communicator?, setup: RankSetup) throws {
        try checkThreads(threads)
        try gemmArguments.apply(threads: threads, warn: true)
        // Every check before the first step is Training's (the same for a library caller); this
        // command only says what it was asked.
        var request = TrainingRequest(shards: shards, output: output, toolVersion: seq2seqVersion,
                                      newRunOptions: { try self.trainingOptions() })
        request.sourceVocabulary = sourceVocab
        request.targetVocabulary = targetVocab
        request.validSource = validSource
        request.validTarget = validTarget
        request.bpeCodes = bpeCodes
        request.sentencePieceModels = spmModel
        request.resume = resume
        request.overwrite = overwrite
        request.allowUnknown = allowUnk
        request.dryRun = dryRun
        request.accumulate = accumulate
        request.epochs = epochs
        request.maxSteps = maxSteps
        request.maxMinutes = maxMinutes
        request.checkResume = { try self.checkResumeAgrees(with: $0) }
        // Rank 0 alone writes the model folder; the other ranks only read what they need.
        let prepared = try TrainingSetup.prepare(request, ranks: world?.size ?? 1, writes: (world?.rank ?? 0) == 0)
        do {
            try train(directory: prepared.directory, shardSet: prepared.shards, validation: prepared.validation,
                      configChanged: prepared.configChanged, world: world, setup: setup, notes: prepared.notes)
        } catch {
            prepared.discardIfUntrained()
            throw error
        }
        withExtendedLifetime(prepared) {}  // holds the folder's lock until training ends
    }

    private func train(directory: ModelDirectory, shardSet: ShardSet, validation: ValidationSet?,
                       configChanged: Bool, world: Communicator?, setup: RankSetup, notes: [String]) throws {
        let training = directory.config.training
        let progress = ProgressReporter(logEvery: training.logEvery)
        progress.isSilent = (world?.rank ?? 0) != 0
        let trainer = try Trainer(directory: directory, shards: shardSet, validation: validation,
                                  resume: resume, progress: progress, group: world)
        // Every rank has read its arguments, vocabularies, shards and checkpoint: refuse a run
        // whose ranks disagree, before anything is trained or written.
        if let world {
            try checkRanksAgree(world: world, setup: setup, directory: directory, shardSet: shardSet, trainer: trainer)
        }
        trainer.logsGradientFlow = logGradientFlow
        trainer.overlapsExchange = overlapExchange
        trainer.logEverySeconds = logEverySeconds == 0 ? .infinity : logEverySeconds
        trainer.dryRun = dryRun
        if trainer.isFinished {
            // Running a finished run again changes nothing: no config, validation, checkpoint or log line.
            let s = trainer.state
            if s.stoppedEarly == true {
                progress.message("\(output) stopped early at step \(s.step) (no new best in --early-stopping "
                    + "\(training.earlyStopping ?? 0) validations; best at step \(s.bestStep.map(String.init) ?? "none")); nothing to do")
                return
            }
            progress.message("\(output) already finished: \(s.step) steps, \(s.epoch) epochs, "
                + "\(formatDuration(s.trainingSeconds)); nothing to do (raise --epochs, --max-steps or --max-minutes to train on)")
            return
        }
        if configChanged && trainer.writes { try directory.saveConfig() }
        if let world {
            installRankStopHandler(rank: world.rank)
        } else {
            // The first signal asks for a checkpoint at the next step; a second one ends the process at
            // once (files are written under temporary names, so none is left half-written).
            signal(SIGINT) { _ in if stopRequested != 0 { _exit(130) }; stopRequested = SIGINT }
            signal(SIGTERM) { _ in if stopRequested != 0 { _exit(143) }; stopRequested = SIGTERM }
        }
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
        for note in notes { progress.message(note) }
        progress.message("model: \(directory.config.model.architectureDescription), "
            + "E=\(directory.config.model.embedding), vocab \(directory.sourceVocabulary.count)/\(directory.targetVocabulary.count), "
            + String(format: "%.2fM parameters, ", Double(trainer.model.parameters.count) / 1e6) + "\(shardSet.pairCount) training pairs"
            + (validation.map { ", \($0.pairCount) validation pairs" } ?? ""))
        if let parts = training.dataParts, parts > 1 {
            progress.message("data parallel: \(training.processCount) MPI rank(s) × --accumulate \(training.accumulateSteps) = "
                + "\(parts) parts of the \(shardSet.shardCount) shards, one batch of up to \(training.batchSize) sentences from each per update")
        }
        let summary = try trainer.run()
        if dryRun {
            progress.message("dry run: nothing written (drop --dry-run to train)")
            return
        }
        let s = summary.state
        progress.message("done: \(s.step) steps, \(s.epoch) epochs, \(formatDuration(s.trainingSeconds)); "
            + "best validation perplexity \(s.bestValidPerplexity.map { String(format: "%.3f", $0) } ?? "n/a"); "
            + (s.bestValidBLEU.map { String(format: "best validation BLEU %.2f; ", $0) } ?? "")
            + (s.stoppedEarly == true ? "stopped early; " : "")
            + "clipped \(s.clippedSteps) steps, skipped \(s.skippedBatches) batches; model in \(output)")
        if summary.interrupted { throw ExitCode(128 + (stopRequested != 0 ? stopRequested : SIGINT)) }
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
        check("--attention", attention, model.attention)
        check("--no-input-feed", noInputFeed ? false : nil, model.inputFeed)
        check("--target-order", targetOrder, model.targetOrder)
        check("--tie-embeddings", tieEmbeddings, model.tieEmbeddings)
        check("--layer-norm", layerNorm ? true : nil, model.layerNorm)
        check("--no-reverse-source", noReverseSource ? false : nil, model.reverseSource)
        check("--reverse-source", reverseSource ? true : nil, model.reverseSource)
        check("--batch-size", batchSize, recorded.batchSize)
        // --accumulate may change with the number of ranks (elastic resume): Training checks it.
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
        check("--label-smoothing", labelSmoothing, recorded.effectiveLabelSmoothing)
        check("--lr-schedule", lrSchedule, recorded.effectiveSchedule)
        check("--lr-decay-factor", lrDecayFactor, recorded.effectivePlateauFactor)
        check("--plateau-patience", plateauPatience, recorded.effectivePlateauPatience)
        check("--early-stopping", earlyStopping, recorded.earlyStopping ?? -1)
        check("--valid-bleu", validBleu ? true : nil, recorded.scoresValidationBLEU)
        check("--valid-bleu-lowercase", validBleuLowercase ? true : nil, recorded.validBLEULowercase ?? false)
        check("--select-by", selectBy, recorded.effectiveSelectBy)
        check("--keep-checkpoints", keepCheckpoints, recorded.keepCheckpoints ?? -1)
        check("--bpe-dropout", bpeDropout, recorded.bpeDropout ?? 0)
        // The folder keeps copies of its vocabularies: the same files may be named again.
        for (flag, given, kept) in [("--source-vocab", sourceVocab, "source.vocab"), ("--target-vocab", targetVocab, "target.vocab")] {
            if let given, !FileManager.default.contentsEqual(atPath: given, andPath: output + "/" + kept) {
                differing.append("\(flag) \(given) (not the vocabulary the model was trained with)")
            }
        }
        if !differing.isEmpty {
            throw CLIError("\(output) was trained with other settings; --resume continues the recorded run "
                           + "(only --epochs, --max-steps and --max-minutes may change, and --accumulate with the number of ranks): \(differing.joined(separator: ", "))")
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
        o.attention = attention
        if noInputFeed { o.inputFeed = false }
        if let targetOrder, targetOrder != .leftToRight { o.targetOrder = targetOrder }
        if let tieEmbeddings, tieEmbeddings != .none { o.tieEmbeddings = tieEmbeddings }
        if layerNorm { o.layerNorm = true }
        if let batchSize {
            o.batchSize = batchSize
            let (window, overflow) = batchSize.multipliedReportingOverflow(by: 100)
            o.windowSize = overflow ? Int.max : max(o.windowSize, window)
        }
        o.tokenBudget = tokenBudget
        if let accumulate, accumulate != 1 { o.accumulate = accumulate }
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
        // 0 is recorded as absent, so a run without smoothing writes the config it always did.
        if let labelSmoothing { o.labelSmoothing = labelSmoothing == 0 ? nil : labelSmoothing }
        // Options the chosen schedule would not act on are refused rather than ignored.
        // (The plateau-only options without the plateau schedule, --no-input-feed without attention,
        // --layer-norm on another cell and --valid-bleu-lowercase alone are TrainingOptions.validate's,
        // below: the same checks for a library caller.)
        if lrSchedule == .plateau && (lrDecay != nil || decayStart != nil) {
            throw CLIError("--lr-decay and --decay-start belong to the halving schedule, not --lr-schedule plateau (use --lr-decay-factor)")
        }
        if validSource == nil {
            for (given, option) in [(lrSchedule == .plateau, "--lr-schedule plateau"), (earlyStopping != nil, "--early-stopping"),
                                    (validBleu, "--valid-bleu")] where given {
                throw CLIError("\(option) needs a validation set: give --valid-source and --valid-target")
            }
        }
        o.learningRateSchedule = lrSchedule
        o.plateauFactor = lrDecayFactor
        o.plateauPatience = plateauPatience
        o.earlyStopping = earlyStopping
        o.validBLEU = validBleu ? true : nil
        o.validBLEULowercase = validBleuLowercase ? true : nil
        o.selectBy = selectBy
        o.keepCheckpoints = keepCheckpoints
        if let bpeDropout, bpeDropout != 0 { o.bpeDropout = bpeDropout }
        try o.validate()
        return o
    }
}

extension OptimizerKind: ExpressibleByArgument {}

extension LearningRateScheduleKind: ExpressibleByArgument {}

extension SelectionMetric: ExpressibleByArgument {}

extension CellType: ExpressibleByArgument {}

extension AttentionType: ExpressibleByArgument {}

extension TargetOrder: ExpressibleByArgument {}

extension TiedEmbeddings: ExpressibleByArgument {}
