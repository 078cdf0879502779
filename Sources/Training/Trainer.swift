import Basics
import Corpus
import Foundation
import Kernels
import Model
import ModelFolder
import RunLog
import Text

/// What a finished (or interrupted) run reports.
public struct TrainingSummary: Sendable {
    public var state: TrainingState
    public var interrupted: Bool
    public var lastValidPerplexity: Double?
    /// The resumed run had already reached its limits: nothing was trained, validated or written.
    public var alreadyFinished = false
}

/// The training loop: shards → batches → steps, with the learning-rate schedule, clipping,
/// validation, checkpoints and exact resume.
///
/// Each step: forward+backward over the batch (summed token NLL, or the label-smoothed loss with
/// `labelSmoothing` > 0; the reported loss and perplexity are always the plain NLL's), scale the gradient by 1/B (the
/// paper averages over sentences) and take its global norm, clip by that norm (Pascanu et al.
/// 2013), update (which zeroes the gradients for the next step). A batch whose loss or gradient is not finite is skipped and counted.
public final class Trainer {
    public let directory: ModelDirectory
    public let model: Seq2SeqModel
    public let optimizer: Optimizer
    public internal(set) var state: TrainingState
    let shards: ShardSet
    let validation: ValidationSet?
    let options: TrainingOptions
    let progress: ProgressReporter
    /// The MPI ranks training together; nil in a single process.
    let group: TrainingGroup?
    /// Whether this process writes the model folder (the only process, or MPI rank 0, unless a
    /// dry run).
    public var writes: Bool { !dryRun && (group?.rank ?? 0) == 0 }
    /// `train --dry-run`: train the warm-up and estimate steps, time one validation, print the
    /// estimate of the whole run and return, writing nothing.
    public var dryRun = false
    /// `train --log-every-seconds`: a `train` log line at least this often (seconds), besides every
    /// `--log-every` steps. A property of the run, not of the model (not in `config.json`).
    public var logEverySeconds = 30.0
    /// Step and validation times, smoothed loss, log timing (see `RunMeter`).
    var meter = RunMeter(logEvery: 1, logEverySeconds: 30)
    /// The step this run (or resume) started at.
    var runStartStep = 0
    /// The live gradient blocks, packed for the exchange between MPI ranks.
    let exchangeBuffer = FloatBuffer()
    /// Under MPI: sum the gradient over the ranks in buckets while the backward pass runs
    /// (``OverlappedExchange``; the default) rather than after it. The same bits either way; a
    /// property of the run, not of the model (not in `config.json`). Without thread support in
    /// MPI the exchange runs after the backward pass.
    public var overlapsExchange = true
    /// This process's parts of the corpus (``TrainingOptions/accumulateSteps`` of them), the
    /// first being part `rank·K` of ``TrainingOptions/dataParts``.
    let partShards: [ShardSet]
    /// The stream positions of this process's parts after the last batch applied (nil: start of epoch).
    var partPositions: [StreamPosition?]
    /// Polled after every step; when it returns true the trainer checkpoints and returns.
    public var shouldStop: () -> Bool = { false }
    /// `train --log-gradient-flow`: every `logEvery` steps a `gradient_flow` log line with the mean
    /// ‖∂L/∂h_t‖ of the first encoder layer by source position (see `Seq2SeqModel.sourceGradientNorms`).
    /// A property of the run, not of the model (not in `config.json`); it changes no training numerics.
    public var logsGradientFlow = false

    /// `group`: the MPI ranks training together (nil: this process alone); its size must be the
    /// config's ``TrainingOptions/processCount``. Every rank must be given the validation set if
    /// rank 0 is: every rank validates (taking rank 0's perplexity) and checkpoints at the same
    /// points; only rank 0 writes files.
    ///
    /// Throws ``TrainingError`` for an empty shard folder or validation set, a model too large for
    /// memory, fewer shards than data parts (ranks × `--accumulate`), a checkpoint that does not
    /// fit the config or was written with another number of data parts.
    public init(directory: ModelDirectory, shards: ShardSet, validation: ValidationSet?,
                resume: Bool, progress: ProgressReporter, group: TrainingGroup? = nil) throws {
        self.directory = directory
        self.shards = shards
        self.validation = validation
        self.options = directory.config.training
        self.progress = progress
        self.group = group
        try options.validate()
        guard shards.pairCount > 0 else {
            throw TrainingError.file(path: shards.directory, message: "the shard folder holds no pairs; nothing to train on")
        }
        guard options.processCount == (group?.size ?? 1) else {
            throw TrainingError.invalidOption("the model is configured for \(options.processCount) MPI rank(s) but \(group?.size ?? 1) are running")
        }
        guard let parts = options.dataParts, parts <= shards.shardCount else {
            throw TrainingError.file(
                path: shards.directory,
                message: "\(options.processCount) rank(s) × --accumulate \(options.accumulateSteps) read \(options.dataParts.map(String.init) ?? "too many") "
                    + "disjoint parts of the corpus, one or more whole shards each, but the folder holds \(shards.shardCount) shard(s); "
                    + "re-shard with a smaller --pairs-per-shard")
        }
        let first = (group?.rank ?? 0) * options.accumulateSteps
        do {
            partShards = try (0..<options.accumulateSteps).map { try shards.part(first + $0, of: parts) }
        } catch {
            throw TrainingError.file(path: shards.directory, message: "\(error)")
        }
        if let validation, validation.pairCount == 0 {
            throw TrainingError.invalidOption("the validation set holds no usable pairs")
        }
        if validation == nil {
            for (needed, option) in [(options.effectiveSchedule == .plateau, "--lr-schedule plateau"),
                                     (options.earlyStopping != nil, "--early-stopping"),
                                     (options.scoresValidationBLEU, "--valid-bleu")] where needed {
                throw TrainingError.invalidOption("\(option) needs a validation set (--valid-source and --valid-target)")
            }
        }
        if options.scoresValidationBLEU, let validation, validation.sources.isEmpty {
            throw TrainingError.invalidOption("--valid-bleu needs the validation text (a validation set read from files)")
        }
        try options.checkMemory(sourceVocabularySize: directory.config.model.sourceVocabularySize,
                                targetVocabularySize: directory.config.model.targetVocabularySize)
        do {
            try directory.config.model.validate()
        } catch {
            throw TrainingError.incompatibleModel(path: directory.configPath, message: "model section: \(error)")
        }
        // The checkpoint is read and checked against the config before the network is built.
        let checkpoint = resume && directory.hasCheckpoint ? try directory.readLastCheckpoint() : nil
        model = Seq2SeqModel(config: directory.config.model, seed: options.seed)
        model.labelSmoothing = options.effectiveLabelSmoothing
        optimizer = options.optimizer == .sgd ? SGD() : Adam()
        if let checkpoint {
            state = try directory.restore(checkpoint, model: model, optimizer: optimizer)
        } else {
            state = TrainingState()
        }
        // A checkpoint continues only with the data split it was written with.
        let recordedParts = state.partPositions?.count ?? (state.position == nil ? nil : 1)
        if let recordedParts, recordedParts != parts {
            throw TrainingError.incompatibleModel(
                path: directory.lastCheckpointPath,
                message: "the checkpoint is mid-epoch in a run that read the corpus as \(recordedParts) part(s) (MPI ranks × --accumulate), "
                    + "this run reads \(parts); resume with the same mpirun -np")
        }
        // One part (one process, no --accumulate) records its position as `position`, as the
        // single-batch runs before data parts existed did, so their checkpoints resume as before.
        let recorded = state.partPositions ?? (parts == 1 ? [state.position] : nil)
        partPositions = (0..<options.accumulateSteps).map { recorded?[first + $0] }
        // A run that starts with the plateau schedule starts it at the initial rate; a resumed
        // one continues the checkpoint's.
        if options.effectiveSchedule == .plateau && state.plateau == nil {
            state.plateau = PlateauState(learningRate: Double(options.initialLearningRate))
        }
        if options.earlyStopping != nil && state.validationsWithoutImprovement == nil {
            state.validationsWithoutImprovement = 0
        }
    }

    /// The learning rate of the next step: the plateau schedule's current rate, or the halving
    /// schedule's at `epochProgress` (fractional epochs).
    func learningRate(atEpochProgress epochProgress: Double) -> Float {
        if options.effectiveSchedule == .plateau, let plateau = state.plateau { return Float(plateau.learningRate) }
        return options.learningRate(atEpochProgress: epochProgress)
    }

    /// Batches per epoch if none is cut short by the token budget (no overflow for any batch size).
    var stepsPerEpochEstimate: Int {
        let (perStep, overflow) = options.batchSize.multipliedReportingOverflow(by: options.dataParts ?? Int.max)
        if overflow { return 1 }
        return max(1, shards.pairCount / perStep + (shards.pairCount % perStep == 0 ? 0 : 1))
    }

    var timeUp = false

    var finished: Bool {
        timeUp || state.stoppedEarly == true || state.epoch >= options.epochs || (options.maxSteps.map { state.step >= $0 } ?? false)
            || (options.maxMinutes.map { state.trainingSeconds >= $0 * 60 } ?? false)
    }

    /// Whether the (resumed) state has already reached the epoch, step or time limit, so that
    /// ``run()`` would do nothing.
    public var isFinished: Bool { finished }

    /// Runs until the epochs or `maxSteps` are done, or `shouldStop` says so. A resumed run that
    /// has already reached its limits returns at once with `alreadyFinished` set, writing
    /// nothing (no validation, checkpoint or log line), so running it again changes no file.
    ///
    /// Throws ``TrainingError`` when an epoch that starts at its beginning yields no batch (every
    /// pair filtered out), before anything of that epoch is written; and the model folder's
    /// write errors.
    public func run() throws -> TrainingSummary {
        if finished {
            return TrainingSummary(state: state, interrupted: false,
                                   lastValidPerplexity: state.epochValidPerplexities.last, alreadyFinished: true)
        }
        if writes {
            // What computes this run (the GEMM backend and the CPU), once per start or resume,
            // written with the run's first log line.
            let backend = GemmBackend.inUse, cpu = CPUInfo.current
            directory.pendingLogLine = LogLine(event: "start", step: state.step, gemm: backend.rawValue,
                                               gemmInstructionSet: backend.instructionSet, cpu: cpu.modelName,
                                               cpuInstructionSet: cpu.vectorISA, threads: BLAS.budget)
        }
        return try runLoop()
    }

    /// A preparer for this epoch's training pairs: the folder's BPE codes or SentencePiece models,
    /// `--max-length`, and BPE-dropout drawn from `dropoutSeed` (see `PairPreparer`).
    func pairPreparer(dropoutSeed: UInt64) throws -> PairPreparer {
        try PairPreparer(sourceVocabulary: directory.sourceVocabulary, targetVocabulary: directory.targetVocabulary,
                         maxLength: options.maxLength, sourceCodes: directory.saved.sourceCodes,
                         targetCodes: directory.saved.targetCodes,
                         codesPaths: (directory.saved.sourceCodesPath, directory.saved.targetCodesPath),
                         sourceSentencePiece: directory.saved.sourceSentencePiece,
                         targetSentencePiece: directory.saved.targetSentencePiece,
                         dropout: options.bpeDropout ?? 0, seed: dropoutSeed, epoch: state.epoch,
                         targetOrder: model.config.targetOrder)
    }

    /// Batches per epoch (estimated) times the epochs, capped by `--max-steps`.
    var totalStepsEstimate: Int {
        let (allEpochSteps, overflow) = stepsPerEpochEstimate.multipliedReportingOverflow(by: options.epochs)
        let epochSteps = overflow ? Int.max : allEpochSteps
        return options.maxSteps.map { min($0, epochSteps) } ?? epochSteps
    }

    /// Ends a dry run: times one validation pass (with `--valid-bleu`'s decoding) if the run has
    /// validation and none was timed yet, prints the estimate of the whole run when the warm-up
    /// was not reached before, and returns without writing anything.
    func finishDryRun(totalSteps: Int) throws -> TrainingSummary {
        if let validation, meter.secondsPerValidation == nil {
            let started = monotonicSeconds()
            _ = evaluate(validation)
            if options.scoresValidationBLEU { _ = try validationBLEU(validation) }
            meter.recordValidation(seconds: monotonicSeconds() - started)
        }
        progress.message((meter.estimateIsDue ? "" : "(fewer steps than the warm-up: rough) ") + estimate(totalSteps: totalSteps))
        return TrainingSummary(state: state, interrupted: false, lastValidPerplexity: nil)
    }

    /// Teacher-forced perplexity on the validation set (no dropout).
    public func evaluate(_ validation: ValidationSet) -> Double {
        var loss = 0.0, tokens = 0
        for batch in validation.batches {
            let result = model.evaluate(batch)
            loss += result.lossSum
            tokens += result.tokens
        }
        return exp(loss / Double(max(1, tokens)))
    }

    /// Validates: perplexity (and BLEU with `--valid-bleu`), a new `best.safetensors` when the
    /// selection metric improved, the `valid` log line. A `watched` validation (every
    /// `--valid-every` steps and each epoch's end, not the extra one that closes a run cut short
    /// mid-epoch) also steps the plateau schedule and early stopping, so that an interrupted and
    /// resumed run sees exactly the validations of an uninterrupted one.
    ///
    /// Under MPI every rank validates (the others would only wait for rank 0 meanwhile) and takes
    /// rank 0's perplexity and BLEU, so every decision drawn from them (the best step, the plateau
    /// learning rate, early stopping) is the same on every rank; rank 0 alone writes
    /// `best.safetensors` and the log lines.
    func validate(_ validation: ValidationSet, label: String, watched: Bool) throws -> Double {
        let started = monotonicSeconds()
        let ppl = try agreed(evaluate(validation))
        let bleu: Double? = options.scoresValidationBLEU ? try agreed(validationBLEU(validation)) : nil
        meter.recordValidation(seconds: monotonicSeconds() - started)
        let lr = learningRate(atEpochProgress: Double(state.epoch) + Double(state.pairsInEpoch) / Double(max(1, shards.pairCount)))
        // Both bests are kept (reported); the selection metric's decides best.safetensors.
        let lowerPerplexity = ppl.isFinite && (state.bestValidPerplexity.map { ppl < $0 } ?? true)
        if lowerPerplexity { state.bestValidPerplexity = ppl }
        let higherBLEU = bleu.map { bleu in state.bestValidBLEU.map { bleu > $0 } ?? true } ?? false
        if higherBLEU { state.bestValidBLEU = bleu }
        let improved = options.effectiveSelectBy == .bleu ? higherBLEU : lowerPerplexity
        var note = ""
        if improved {
            state.bestStep = state.step
            if writes { try directory.saveBest(model: model, step: state.step) }
            note = " (best)"
        }
        progress.record(.validation(ValidationRecord(step: state.step, perplexity: ppl, bleu: bleu, isBest: improved)))
        progress.message("\(label): validation perplexity \(fmt(ppl, 3))"
            + (bleu.map { ", BLEU \(fmt($0, 2))" } ?? "") + "\(note), step \(state.step), "
            + "clipped \(state.clippedSteps) of \(state.step) steps, \(formatDuration(state.trainingSeconds)) so far")
        if writes {
            try directory.appendLog(LogLine(event: "valid", step: state.step, epoch: Double(state.epoch), learningRate: Double(lr),
                                            validPerplexity: ppl, seconds: state.trainingSeconds, validBLEU: bleu))
        }
        guard watched else { return ppl }
        let metric = options.effectiveSelectBy == .bleu ? (bleu ?? 0) : ppl
        if var plateau = state.plateau {
            if plateau.step(metric: metric, higherIsBetter: options.effectiveSelectBy == .bleu,
                            factor: options.effectivePlateauFactor, patience: options.effectivePlateauPatience) {
                progress.message("\(label): no improvement in \(options.effectivePlateauPatience + 1) validations; "
                    + "learning rate \(fmtLR(Double(lr))) → \(fmtLR(plateau.learningRate))")
                if writes { try directory.appendLog(LogLine(event: "lr_reduced", step: state.step, learningRate: plateau.learningRate)) }
            }
            state.plateau = plateau
        }
        if let patience = options.earlyStopping, let count = state.validationsWithoutImprovement {
            let now = improved ? 0 : count + 1
            state.validationsWithoutImprovement = now
            if now >= patience {
                state.stoppedEarly = true
                progress.message("\(label): no new best in \(now) validations; stopping early "
                    + "(best at step \(state.bestStep.map(String.init) ?? "none"))")
                if writes { try directory.appendLog(LogLine(event: "early_stop", step: state.step, bestStep: state.bestStep)) }
            }
        }
        return ppl
    }

    /// Rank 0's `value` on every rank (the value itself in one process).
    func agreed(_ value: Double) throws -> Double {
        guard let group else { return value }
        return try group.allgather([value])[0][0]
    }

    /// Writes `last.safetensors`; with `--keep-checkpoints` also the numbered weights, except at an
    /// interruption (`numbered` false), so an interrupted and resumed run keeps the same numbered
    /// files as an uninterrupted one. Under MPI every rank records its part positions; rank 0 writes.
    func saveCheckpoint(numbered: Bool = true) throws {
        if options.dataParts != 1 { try recordPartPositions() } else { state.position = partPositions[0] }
        guard writes else { return }
        // Skipped batches never reach the weights, so this only fires on a real bug.
        let values = model.parameters.values
        for i in 0..<values.count where !values[i].isFinite {
            throw TrainingError.file(path: directory.lastCheckpointPath,
                                     message: "refusing to save: weights contain NaN or Inf at step \(state.step)")
        }
        try directory.saveCheckpoint(model: model, optimizer: optimizer, state: state)
        if numbered, let keep = options.keepCheckpoints {
            try directory.saveNumberedCheckpoint(model: model, step: state.step, keep: keep)
        }
        progress.record(.checkpoint(step: state.step))
    }

    /// A per-step dropout seed that depends only on the run seed and the step, so a resumed run
    /// draws the same masks as an uninterrupted one.
    func dropoutSeed(step: Int) -> UInt64 {
        SplitMix64.mix(options.seed &+ UInt64(step) &* SplitMix64.increment)
    }
}
