import Foundation

/// Figures of one moment of training, as shown by the progress bar and written to `log.jsonl`.
public struct ProgressFigures: Sendable {
    public var epoch: Int            // from 1 for display
    public var epochs: Int
    public var step: Int
    public var totalSteps: Int       // estimate
    public var loss: Double          // mean NLL per target token over the last interval
    public var tokensPerSecond: Double
    public var gradientNorm: Double
    public var learningRate: Double
    public var clippedFraction: Double
    public var etaSeconds: Double?
    /// Mean milliseconds per step spent exchanging gradients and counts between MPI ranks over the
    /// last interval; nil in a single process.
    public var exchangeMilliseconds: Double?
    /// The per-token loss smoothed over steps (`RunMeter.smoothedLoss`), shown on the live bar
    /// instead of the interval mean, which jumps when an interval restarts.
    public var smoothedLoss: Double?

    public var perplexity: Double { exp(loss) }
}

/// Time and loss figures of a run in progress, one owner for both training loops: the ETA from the
/// mean step time after a warm-up window plus the validations still to come at their measured cost,
/// a smoothed loss for the live bar, and when a log line is due (every `logEvery` steps, and at
/// least every `logEverySeconds`, so a slow run without a terminal still shows progress).
public struct RunMeter: Sendable {
    /// Steps not timed at the start of a run or resume (allocations, oneDNN's kernel generation,
    /// cold caches): the first ETA was 5× too long when they were counted.
    public static let warmupSteps = 5
    /// Timed steps after the warm-up before `train` prints its estimate of the run.
    public static let estimateSteps = 20
    /// Weight of the newest step in the smoothed loss (an exponential moving average over about 50 steps).
    static let smoothing = 0.02

    public let logEvery: Int
    public let logEverySeconds: Double
    private var stepsSeen = 0
    private var timedSteps = 0
    private var timedSeconds = 0.0
    private var timedTokens = 0
    private var validations = 0
    private var validationSeconds = 0.0
    private var lastLog: Double
    public private(set) var smoothedLoss: Double?

    public init(logEvery: Int, logEverySeconds: Double, now: Double = monotonicSeconds()) {
        self.logEvery = logEvery
        self.logEverySeconds = logEverySeconds
        lastLog = now
    }

    /// Records one applied step: its wall time (data, forward, backward, update; not validation
    /// or checkpoints), its source+target tokens, and its summed loss over `lossTokens` target tokens.
    public mutating func recordStep(seconds: Double, tokens: Int, lossSum: Double, lossTokens: Int) {
        stepsSeen += 1
        if stepsSeen > Self.warmupSteps {
            timedSteps += 1
            timedSeconds += seconds
            timedTokens += tokens
        }
        if lossTokens > 0 && lossSum.isFinite {
            let loss = lossSum / Double(lossTokens)
            smoothedLoss = smoothedLoss.map { $0 + Self.smoothing * (loss - $0) } ?? loss
        }
    }

    /// Records one validation pass and its wall time.
    public mutating func recordValidation(seconds: Double) {
        validations += 1
        validationSeconds += seconds
    }

    /// Mean seconds per step after the warm-up; nil until one such step is timed.
    public var secondsPerStep: Double? { timedSteps == 0 ? nil : timedSeconds / Double(timedSteps) }
    /// Source+target tokens per second after the warm-up.
    public var tokensPerSecond: Double? { timedSeconds > 0 ? Double(timedTokens) / timedSeconds : nil }
    /// Mean seconds per validation pass; nil before the first.
    public var secondsPerValidation: Double? { validations == 0 ? nil : validationSeconds / Double(validations) }
    /// Whether exactly `estimateSteps` steps have been timed (the moment to print the estimate).
    public var estimateIsDue: Bool { timedSteps == Self.estimateSteps }

    /// Seconds still to go: `remainingSteps` at the mean step time and `remainingValidations` at the
    /// mean validation time; nil during the warm-up.
    public func eta(remainingSteps: Int, remainingValidations: Int) -> Double? {
        guard let perStep = secondsPerStep else { return nil }
        return Double(max(0, remainingSteps)) * perStep + Double(max(0, remainingValidations)) * (secondsPerValidation ?? 0)
    }

    /// Whether a log line is due at `step`: every `logEvery` steps, or `logEverySeconds` after the
    /// last one. Call `logged(now:)` when one is written.
    public func logDue(step: Int, now: Double = monotonicSeconds()) -> Bool {
        step % logEvery == 0 || now - lastLog >= logEverySeconds
    }

    /// Records that a log line was written now.
    public mutating func logged(now: Double = monotonicSeconds()) { lastLog = now }
}

/// Seconds on the monotonic clock (for durations, never for records).
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// One validation pass, as a record: what `train` prints and logs as its `valid` line.
public struct ValidationRecord: Sendable, Equatable {
    /// Optimizer steps taken when it ran.
    public var step: Int
    /// Teacher-forced perplexity on the validation pairs.
    public var perplexity: Double
    /// Greedy-decoded BLEU in [0, 100] with `--valid-bleu`; nil otherwise.
    public var bleu: Double?
    /// The selection metric improved: `best.safetensors` now holds this step's weights.
    public var isBest: Bool
}

/// What a run reports as it goes, as records rather than text: the library's training call hands
/// them to its caller; `train` prints them.
public enum TrainingRecord: Sendable {
    /// A log point (every `logEvery` steps and at least every `logEverySeconds`): the figures of
    /// the `train` log line.
    case progress(ProgressFigures)
    /// A validation pass (also printed as a line, which a `.message` record repeats).
    case validation(ValidationRecord)
    /// A checkpoint written: `last.safetensors` at this step.
    case checkpoint(step: Int)
    /// A line `train` prints (validation results, the estimate, warnings, the plateau schedule,
    /// early stopping, an interruption).
    case message(String)
}

/// Shows training progress on stderr: a live one-line bar on a terminal, plain log lines
/// every `logEvery` steps otherwise (so redirected logs stay readable). With ``onRecord`` set,
/// each log point, validation, checkpoint and line also goes there as a ``TrainingRecord``.
public final class ProgressReporter {
    public let isTerminal: Bool
    private let logEvery: Int
    private var lastDraw = 0.0
    private var barVisible = false
    /// When set, nothing is printed (the MPI ranks other than 0, a library caller).
    public var isSilent = false
    /// Receives every record, on the training thread, printed or not.
    public var onRecord: ((TrainingRecord) -> Void)?

    public init(logEvery: Int, isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.logEvery = logEvery
        self.isTerminal = isTerminal
    }

    /// Shows the figures (the bar at most every 0.2 s, or a plain line every `logEvery` steps);
    /// `force`: a log point, also handed to ``onRecord``.
    public func update(_ f: ProgressFigures, force: Bool = false) {
        if force { onRecord?(.progress(f)) }
        if isSilent { return }
        if isTerminal {
            let now = Date().timeIntervalSinceReferenceDate
            if !force && now - lastDraw < 0.2 { return }
            lastDraw = now
            let width = 24
            let done = f.totalSteps > 0 ? min(1, Double(f.step) / Double(f.totalSteps)) : 0
            let filled = Int(done * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            var shown = f
            if let smoothed = f.smoothedLoss { shown.loss = smoothed }
            write("\r\u{1B}[2K" + "epoch \(f.epoch)/\(f.epochs) [\(bar)] step \(f.step) " + figures(shown))
            barVisible = true
        } else if force || f.step % logEvery == 0 {
            write("epoch \(f.epoch)/\(f.epochs) step \(f.step)/\(f.totalSteps) " + figures(f) + "\n")
        }
    }

    /// Prints a full line (validation results, warnings) without garbling the bar.
    public func message(_ text: String) {
        onRecord?(.message(text))
        if isSilent { return }
        if barVisible { write("\r\u{1B}[2K"); barVisible = false }
        write(text + "\n")
    }

    /// Hands a record that has no printed form of its own (a validation, a checkpoint) to ``onRecord``.
    public func record(_ record: TrainingRecord) {
        onRecord?(record)
    }

    private func figures(_ f: ProgressFigures) -> String {
        var s = "loss \(fmt(f.loss, 3)) ppl \(fmt(f.perplexity, 2)) \(Int(f.tokensPerSecond)) tok/s"
            + " |g| \(fmt(f.gradientNorm, 2)) lr \(fmtLR(f.learningRate)) clip \(Int((f.clippedFraction * 100).rounded()))%"
        if let ms = f.exchangeMilliseconds, ms.isFinite { s += " allreduce \(fmt(ms, 1))ms" }
        if let eta = f.etaSeconds, eta.isFinite { s += " eta \(formatDuration(eta))" }
        return s
    }

    /// Progress is informational: when standard error cannot be written (full disk, closed pipe) the
    /// text is dropped and training goes on (the non-throwing `FileHandle.write` would trap).
    private func write(_ s: String) {
        try? FileHandle.standardError.write(contentsOf: Data(s.utf8))
    }
}

func fmt(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return String(x) }
    return String(format: "%.\(digits)f", x)
}

func fmtLR(_ x: Double) -> String { String(format: "%.3g", x) }

/// "1h02m", "4m05s", "12s".
public func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}
