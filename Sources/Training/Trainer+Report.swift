import Foundation
import Model
import RunLog

/// Figures summed since the last `train` log line (both training loops).
struct LogInterval {
    var start = Date()
    var tokens = 0
    var lossSum = 0.0
    var lossTokens = 0
    var smoothedLossSum = 0.0
    var clipped = 0
    var steps = 0
    var exchangeSeconds = 0.0
    var exchangeBytes = 0.0
}

/// One applied step's figures, as both loops hand them to `Trainer.report`.
struct AppliedStep {
    /// Source+target tokens of the step's batches.
    var tokens: Int
    /// Summed target-token NLL and the target tokens it is over.
    var lossSum: Double
    var lossTokens: Int
    /// Summed label-smoothed loss (0 without smoothing).
    var smoothedLossSum: Double
    var clipped: Bool
    var gradientNorm: Double
    var learningRate: Float
    var epochProgress: Double
    /// Seconds spent exchanging gradients between MPI ranks; nil in a single process.
    var exchangeSeconds: Double?
    /// Bytes of gradient this rank sent in the exchange (0 in a single process).
    var exchangeBytes = 0.0
    /// Wall seconds of the step (data, forward, backward, exchange, update).
    var seconds: Double
}

extension Trainer {
    /// Validations still to come after this step: every `--valid-every` steps and each epoch's end
    /// up to `totalSteps` (an estimate, for the ETA).
    func remainingValidations(totalSteps: Int) -> Int {
        guard validation != nil else { return 0 }
        let left = max(0, totalSteps - state.step)
        let periodic = options.validEvery.map { totalSteps / $0 - state.step / $0 } ?? 0
        let epochEnds = (left + stepsPerEpochEstimate - 1) / stepsPerEpochEstimate
        return periodic + epochEnds
    }

    /// Shows and records an applied step, the same for both loops: the run meter (ETA from the
    /// steps after the warm-up, smoothed loss), the progress bar or plain line, the `train` log line
    /// when one is due (every `--log-every` steps, and at least every `logEverySeconds`), and once,
    /// after the warm-up, the estimate of the whole run. Returns whether a log line was due (the
    /// single-process loop then also writes its gradient-flow line).
    /// - Throws: the model folder's write errors.
    func report(_ step: AppliedStep, interval: inout LogInterval, totalSteps: Int) throws -> Bool {
        meter.recordStep(seconds: step.seconds, tokens: step.tokens, lossSum: step.lossSum, lossTokens: step.lossTokens)
        interval.tokens += step.tokens
        interval.lossSum += step.lossSum
        interval.lossTokens += step.lossTokens
        interval.smoothedLossSum += step.smoothedLossSum
        interval.clipped += step.clipped ? 1 : 0
        interval.steps += 1
        interval.exchangeSeconds += step.exchangeSeconds ?? 0
        interval.exchangeBytes += step.exchangeBytes
        let elapsed = Date().timeIntervalSince(interval.start)
        let figures = ProgressFigures(
            epoch: state.epoch + 1, epochs: options.epochs, step: state.step, totalSteps: totalSteps,
            loss: interval.lossSum / Double(max(1, interval.lossTokens)),
            tokensPerSecond: Double(interval.tokens) / max(elapsed, 1e-9),
            gradientNorm: step.gradientNorm, learningRate: Double(step.learningRate),
            clippedFraction: Double(interval.clipped) / Double(max(1, interval.steps)),
            etaSeconds: meter.eta(remainingSteps: totalSteps - state.step,
                                  remainingValidations: remainingValidations(totalSteps: totalSteps)),
            exchangeMilliseconds: step.exchangeSeconds == nil ? nil : 1000 * interval.exchangeSeconds / Double(max(1, interval.steps)),
            smoothedLoss: meter.smoothedLoss)
        let logDue = meter.logDue(step: state.step)
        progress.update(figures, force: logDue)
        if logDue {
            if writes {
                try directory.appendLog(LogLine(
                    event: "train", step: state.step, epoch: step.epochProgress, loss: figures.loss,
                    perplexity: figures.perplexity, tokensPerSecond: figures.tokensPerSecond,
                    gradientNorm: step.gradientNorm, learningRate: Double(step.learningRate),
                    clippedFraction: figures.clippedFraction,
                    smoothedLoss: options.effectiveLabelSmoothing > 0 ? interval.smoothedLossSum / Double(max(1, interval.lossTokens)) : nil,
                    exchangeMilliseconds: figures.exchangeMilliseconds,
                    exchangeMegabytes: step.exchangeSeconds == nil ? nil : interval.exchangeBytes / 1e6 / Double(max(1, interval.steps)),
                    stepMilliseconds: 1000 * elapsed / Double(max(1, interval.steps))))
            }
            interval = LogInterval()
            meter.logged()
        }
        if meter.estimateIsDue && !dryRun { progress.message(estimate(totalSteps: totalSteps)) }
        return logDue
    }

    /// "estimate: …": steps per epoch, tokens per second after the warm-up, time per epoch and per
    /// validation, and the whole run (what `train --dry-run` prints before it stops).
    func estimate(totalSteps: Int) -> String {
        let perStep = meter.secondsPerStep ?? 0
        var text = "estimate after \(RunMeter.warmupSteps)+\(RunMeter.estimateSteps) steps: "
            + String(format: "%.3f s/step, %.0f tok/s; ", perStep, meter.tokensPerSecond ?? 0)
            + "\(stepsPerEpochEstimate) steps per epoch ≈ \(formatDuration(Double(stepsPerEpochEstimate) * perStep))"
        if let perValidation = meter.secondsPerValidation {
            text += String(format: ", %.1f s per validation", perValidation)
        }
        // A dry run estimates the run it stands for, from where that run would start.
        let from = dryRun ? runStartStep : state.step
        let validations = remainingValidations(totalSteps: totalSteps) + (dryRun ? state.step / max(1, stepsPerEpochEstimate) : 0)
        let total = meter.eta(remainingSteps: totalSteps - from, remainingValidations: validations) ?? 0
        text += "; \(totalSteps - from) steps \(dryRun ? "in the run" : "to go") ≈ \(formatDuration(total))"
        return text
    }
}
