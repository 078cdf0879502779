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
/// Each step: forward+backward over the batch (summed token NLL), scale the gradient by 1/B (the
/// paper averages over sentences) and take its global norm, clip by that norm (Pascanu et al.
/// 2013), update (which zeroes the gradients for the next step). A batch whose loss or gradient is not finite is skipped and counted.
public final class Trainer {
    public let directory: ModelDirectory
    public let model: Seq2SeqModel
    public let optimizer: Optimizer
    public private(set) var state: TrainingState
    private let shards: ShardSet
    private let validation: ValidationSet?
    private let options: TrainingOptions
    private let progress: ProgressReporter
    /// Polled after every step; when it returns true the trainer checkpoints and returns.
    public var shouldStop: () -> Bool = { false }
    /// `train --log-gradient-flow`: every `logEvery` steps a `gradient_flow` log line with the mean
    /// ‖∂L/∂h_t‖ of the first encoder layer by source position (see `Seq2SeqModel.sourceGradientNorms`).
    /// A property of the run, not of the model (not in `config.json`); it changes no training numerics.
    public var logsGradientFlow = false

    public init(directory: ModelDirectory, shards: ShardSet, validation: ValidationSet?,
                resume: Bool, progress: ProgressReporter) throws {
        self.directory = directory
        self.shards = shards
        self.validation = validation
        self.options = directory.config.training
        self.progress = progress
        try options.validate()
        guard shards.pairCount > 0 else {
            throw TrainingError.file(path: shards.directory, message: "the shard folder holds no pairs; nothing to train on")
        }
        if let validation, validation.pairCount == 0 {
            throw TrainingError.invalidOption("the validation set holds no usable pairs")
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
        optimizer = options.optimizer == .sgd ? SGD() : Adam()
        if let checkpoint {
            state = try directory.restore(checkpoint, model: model, optimizer: optimizer)
        } else {
            state = TrainingState()
        }
    }

    /// Batches per epoch if none is cut short by the token budget (no overflow for any batch size).
    private var stepsPerEpochEstimate: Int {
        max(1, shards.pairCount / options.batchSize + (shards.pairCount % options.batchSize == 0 ? 0 : 1))
    }

    private var timeUp = false

    private var finished: Bool {
        timeUp || state.epoch >= options.epochs || (options.maxSteps.map { state.step >= $0 } ?? false)
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
        let sourceVocabulary = directory.sourceVocabulary, targetVocabulary = directory.targetVocabulary
        let maxLength = options.maxLength
        var lastValid: Double?
        let (allEpochSteps, overflow) = stepsPerEpochEstimate.multipliedReportingOverflow(by: options.epochs)
        let epochSteps = overflow ? Int.max : allEpochSteps
        let totalSteps = options.maxSteps.map { min($0, epochSteps) } ?? epochSteps
        let runStart = Date()
        let secondsBefore = state.trainingSeconds
        var intervalStart = Date(), intervalTokens = 0, intervalLoss = 0.0, intervalLossTokens = 0
        var intervalClipped = 0, intervalSteps = 0
        // Per source position: summed norms and the number of sentences that have the position.
        var flowSums: [Double] = [], flowCounts: [Int] = []
        model.recordsGradientFlow = logsGradientFlow
        var consecutiveBad = 0
        var lastNorm = 0.0

        if state.step == 0 && state.epoch == 0, let validation {
            let ppl = evaluate(validation)
            progress.message("step 0: validation perplexity \(fmt(ppl, 2)) (untrained; ln V = \(fmt(log(Double(targetVocabulary.count)), 2)))")
        }

        epochs: while !finished {
            let epochStartsAtItsBeginning = state.position == nil && state.pairsInEpoch == 0
            // The preparer lives on the stream's reader thread only (ICU iterators are not shared).
            let preparer = try PairPreparer(sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary,
                                            maxLength: maxLength)
            let stream = try BatchStream<PreparedPair>(
                shards: shards,
                options: BatchingOptions(batchSize: options.batchSize, tokenBudget: options.tokenBudget,
                                         windowSize: options.windowSize, seed: options.seed),
                epoch: state.epoch, resumeFrom: state.position,
                prepare: { preparer.prepare($0) }, length: { $0.length })

            while let items = try stream.next() {
                // Also here, so a stop request is answered after a skipped batch too.
                if shouldStop() {
                    try saveCheckpoint()
                    progress.message("interrupted at step \(state.step); checkpoint saved, continue with --resume")
                    return TrainingSummary(state: state, interrupted: true, lastValidPerplexity: lastValid)
                }
                let batch = Batch(sources: items.map(\.source), targets: items.map(\.target))
                let epochProgress = Double(state.epoch) + Double(state.pairsInEpoch) / Double(max(1, shards.pairCount))
                let lr = options.learningRate(atEpochProgress: epochProgress)

                // The gradients are zero here: initially, after an optimizer step and after a skip.
                let (lossSum, tokens) = model.trainStep(batch, dropoutSeed: dropoutSeed(step: state.step))
                let norm = scaleGradients(model.parameters, by: 1 / Float(batch.batchSize))
                if logsGradientFlow {
                    for sentence in model.sourceGradientNorms() {
                        if sentence.count > flowSums.count {
                            flowSums += repeatElement(0, count: sentence.count - flowSums.count)
                            flowCounts += repeatElement(0, count: sentence.count - flowCounts.count)
                        }
                        for (p, value) in sentence.enumerated() { flowSums[p] += value; flowCounts[p] += 1 }
                    }
                }
                state.pairsInEpoch += items.count
                state.position = stream.position

                if !lossSum.isFinite || !norm.isFinite {
                    consecutiveBad += 1
                    state.skippedBatches += 1
                    model.parameters.zeroGradients()
                    progress.message("step \(state.step): non-finite loss or gradient (loss \(lossSum), norm \(norm)); batch skipped")
                    try directory.appendLog(LogLine(event: "skipped_batch", step: state.step))
                    if consecutiveBad >= options.maxBadBatches {
                        throw TrainingError.tooManyBadBatches(count: consecutiveBad, step: state.step)
                    }
                    continue
                }
                consecutiveBad = 0
                if options.clipNorm > 0 && norm > options.clipNorm { state.clippedSteps += 1; intervalClipped += 1 }
                optimizer.step(model.parameters, learningRate: lr,
                               gradientScale: options.clipNorm > 0 ? clipFactor(norm: norm, maxNorm: options.clipNorm) : 1)
                state.step += 1
                lastNorm = Double(norm)

                intervalTokens += batch.targetTokenCount + Int(batch.sourceLengths.reduce(0) { $0 + Int($1) })
                intervalLoss += lossSum
                intervalLossTokens += tokens
                intervalSteps += 1
                let elapsed = Date().timeIntervalSince(intervalStart)
                let figures = ProgressFigures(
                    epoch: state.epoch + 1, epochs: options.epochs, step: state.step, totalSteps: totalSteps,
                    loss: intervalLoss / Double(max(1, intervalLossTokens)),
                    tokensPerSecond: Double(intervalTokens) / max(elapsed, 1e-9),
                    gradientNorm: lastNorm, learningRate: Double(lr),
                    clippedFraction: Double(intervalClipped) / Double(max(1, intervalSteps)),
                    etaSeconds: Double(totalSteps - state.step) * elapsed / Double(max(1, intervalSteps)))
                progress.update(figures)
                if state.step % options.logEvery == 0 {
                    try directory.appendLog(LogLine(
                        event: "train", step: state.step, epoch: epochProgress, loss: figures.loss,
                        perplexity: figures.perplexity, tokensPerSecond: figures.tokensPerSecond,
                        gradientNorm: lastNorm, learningRate: Double(lr), clippedFraction: figures.clippedFraction))
                    intervalStart = Date(); intervalTokens = 0; intervalLoss = 0; intervalLossTokens = 0
                    intervalClipped = 0; intervalSteps = 0
                    if logsGradientFlow && !flowSums.isEmpty {
                        try directory.appendLog(LogLine(event: "gradient_flow", step: state.step, epoch: epochProgress,
                                                        gradientByPosition: zip(flowSums, flowCounts).map { $0 / Double($1) }))
                        flowSums = []; flowCounts = []
                    }
                }

                state.trainingSeconds = secondsBefore + Date().timeIntervalSince(runStart)
                if let every = options.validEvery, state.step % every == 0, let validation {
                    lastValid = try validate(validation, label: "step \(state.step)")
                    try saveCheckpoint()
                } else if let every = options.saveEvery, state.step % every == 0 {
                    try saveCheckpoint()
                }
                if options.maxSteps.map({ state.step >= $0 }) ?? false { break epochs }
                if options.maxMinutes.map({ state.trainingSeconds >= $0 * 60 }) ?? false {
                    progress.message("time limit of \(options.maxMinutes!) minutes reached at step \(state.step)")
                    timeUp = true
                    break epochs
                }
                if shouldStop() {
                    try saveCheckpoint()
                    progress.message("interrupted at step \(state.step); checkpoint saved, continue with --resume")
                    return TrainingSummary(state: state, interrupted: true, lastValidPerplexity: lastValid)
                }
            }
            if epochStartsAtItsBeginning && state.pairsInEpoch == 0 {
                throw TrainingError.file(
                    path: shards.directory,
                    message: "no training pair is usable: each of the \(shards.pairCount) pairs has a side that tokenizes "
                        + "to nothing or more than --max-length \(maxLength) tokens")
            }
            // End of epoch: validate, keep the best, checkpoint at the start of the next epoch.
            state.epoch += 1
            state.pairsInEpoch = 0
            state.position = nil
            state.trainingSeconds = secondsBefore + Date().timeIntervalSince(runStart)
            if let validation {
                let ppl = try validate(validation, label: "epoch \(state.epoch)")
                state.epochValidPerplexities.append(ppl)
                lastValid = ppl
            }
            try saveCheckpoint()
        }
        // Reached maxSteps mid-epoch (or the last epoch ended): final validation and checkpoint.
        state.trainingSeconds = secondsBefore + Date().timeIntervalSince(runStart)
        if lastValid == nil, let validation {
            lastValid = try validate(validation, label: "step \(state.step)")
        }
        if state.bestValidPerplexity == nil { try directory.saveBest(model: model, step: state.step) }
        try saveCheckpoint()
        return TrainingSummary(state: state, interrupted: false, lastValidPerplexity: lastValid)
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

    private func validate(_ validation: ValidationSet, label: String) throws -> Double {
        let ppl = evaluate(validation)
        var note = ""
        if ppl.isFinite, state.bestValidPerplexity.map({ ppl < $0 }) ?? true {
            state.bestValidPerplexity = ppl
            state.bestStep = state.step
            try directory.saveBest(model: model, step: state.step)
            note = " (best)"
        }
        progress.message("\(label): validation perplexity \(fmt(ppl, 3))\(note), step \(state.step), "
            + "clipped \(state.clippedSteps) of \(state.step) steps, \(formatDuration(state.trainingSeconds)) so far")
        try directory.appendLog(LogLine(event: "valid", step: state.step, epoch: Double(state.epoch),
                                    validPerplexity: ppl, seconds: state.trainingSeconds))
        return ppl
    }

    private func saveCheckpoint() throws {
        // Skipped batches never reach the weights, so this only fires on a real bug.
        let values = model.parameters.values
        for i in 0..<values.count where !values[i].isFinite {
            throw TrainingError.file(path: directory.lastCheckpointPath,
                                     message: "refusing to save: weights contain NaN or Inf at step \(state.step)")
        }
        try directory.saveCheckpoint(model: model, optimizer: optimizer, state: state)
    }

    /// A per-step dropout seed that depends only on the run seed and the step, so a resumed run
    /// draws the same masks as an uninterrupted one.
    private func dropoutSeed(step: Int) -> UInt64 {
        SplitMix64.mix(options.seed &+ UInt64(step) &* SplitMix64.increment)
    }
}
