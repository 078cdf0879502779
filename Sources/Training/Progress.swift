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

    public var perplexity: Double { exp(loss) }
}

/// Shows training progress on stderr: a live one-line bar on a terminal, plain log lines
/// every `logEvery` steps otherwise (so redirected logs stay readable).
public final class ProgressReporter {
    public let isTerminal: Bool
    private let logEvery: Int
    private var lastDraw = 0.0
    private var barVisible = false
    /// When set, nothing is printed (the MPI ranks other than 0).
    public var isSilent = false

    public init(logEvery: Int, isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.logEvery = logEvery
        self.isTerminal = isTerminal
    }

    public func update(_ f: ProgressFigures, force: Bool = false) {
        if isSilent { return }
        if isTerminal {
            let now = Date().timeIntervalSinceReferenceDate
            if !force && now - lastDraw < 0.2 { return }
            lastDraw = now
            let width = 24
            let done = f.totalSteps > 0 ? min(1, Double(f.step) / Double(f.totalSteps)) : 0
            let filled = Int(done * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            write("\r\u{1B}[2K" + "epoch \(f.epoch)/\(f.epochs) [\(bar)] step \(f.step) " + figures(f))
            barVisible = true
        } else if force || f.step % logEvery == 0 {
            write("epoch \(f.epoch)/\(f.epochs) step \(f.step)/\(f.totalSteps) " + figures(f) + "\n")
        }
    }

    /// Prints a full line (validation results, warnings) without garbling the bar.
    public func message(_ text: String) {
        if isSilent { return }
        if barVisible { write("\r\u{1B}[2K"); barVisible = false }
        write(text + "\n")
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
