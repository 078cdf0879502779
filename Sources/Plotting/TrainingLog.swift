import Foundation
import RunLog

/// The perplexity history in a model folder's `log.jsonl`, as `seq2seq train` writes it: one
/// `RunLog.LogLine` per line (Foundation's `JSONDecoder`), with an `event` of `train` (`step`,
/// fractional `epoch`, `ppl`, and `lr` when present), `valid` (`step`, completed `epoch`,
/// `valid_ppl`, and `valid_bleu` when present) or `skipped_batch` (`step`). Other events (`checkpoint`) and fields are ignored, so older readers survive newer logs. Non-finite values are written as `null`; they are
/// kept as nil here and drawn as gaps.
///
/// A resumed run appends to the same file, starting from its checkpoint's step. Whatever the
/// interrupted run logged after that step belongs to a timeline that was thrown away, so a line
/// whose step is below the largest step seen so far drops every earlier record at or after its
/// step; an equal step replaces the earlier record of the same event (later lines win).
public struct TrainingLog: Equatable {
    /// One logged perplexity. For validations `epoch` is the estimated fractional progress (see
    /// `completedEpochs`), so a mid-epoch validation sits where it happened on the epoch axis.
    public struct Point: Equatable {
        public var step: Int
        public var epoch: Double
        /// nil where the log holds `null` (NaN or infinity).
        public var perplexity: Double?
        /// Training points: the learning rate of the logged steps (`lr`); nil when absent or not finite.
        public var learningRate: Double?
        /// Validation points: the greedy validation BLEU (`valid_bleu`, 0…100); nil when absent
        /// or not finite.
        public var bleu: Double?

        public init(step: Int, epoch: Double, perplexity: Double?, learningRate: Double? = nil, bleu: Double? = nil) {
            self.step = step
            self.epoch = epoch
            self.perplexity = perplexity
            self.learningRate = learningRate
            self.bleu = bleu
        }
    }

    /// `train` events in step order.
    public var training: [Point]
    /// `valid` events in step order.
    public var validation: [Point]
    /// Steps of `skipped_batch` events (non-finite loss or gradient) that survived resume pruning.
    public var skippedBatchSteps: [Int]
    /// `gradient_flow` events (`train --log-gradient-flow`) in step order: the mean ‖∂L/∂h_t‖ of the
    /// encoder by source position (element p for 0-based position p; nil where the log holds null).
    public var gradientFlow: [(step: Int, epoch: Double, norms: [Double?])] = []

    public static func == (a: TrainingLog, b: TrainingLog) -> Bool {
        a.training == b.training && a.validation == b.validation && a.skippedBatchSteps == b.skippedBatchSteps
            && a.gradientFlow.elementsEqual(b.gradientFlow) { $0.step == $1.step && $0.epoch == $1.epoch && $0.norms == $1.norms }
    }

    public init(training: [Point], validation: [Point], skippedBatchSteps: [Int] = []) {
        self.training = training
        self.validation = validation
        self.skippedBatchSteps = skippedBatchSteps
    }

    /// Reads the log's bytes; `file` only names the input in errors. Blank lines are skipped, and
    /// so is a malformed last line without a newline (the trainer may be writing it right now).
    public init(parsing bytes: [UInt8], file: String) throws {
        // Records stay sorted by step: each one is appended after everything at or beyond its
        // step has been dropped or replaced, so pruning only ever looks at the tail.
        var records: [Record] = []
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let parsed: Record?
            do {
                parsed = try Record(line: Array(line), file: file, lineNumber: index + 1)
            } catch TrainingLogError.malformedLine where index == lines.count - 1 {
                // The trainer ends every line with a newline, so an unterminated last line is
                // one still being written by a running training (or cut by a crash): skip it.
                continue
            }
            guard let record = parsed else { continue }
            if let last = records.last, record.step < last.step {
                while let tail = records.last, tail.step >= record.step { records.removeLast() }
            } else {
                var k = records.count - 1
                while k >= 0, records[k].step == record.step {
                    if records[k].kind == record.kind { records.remove(at: k) }
                    k -= 1
                }
            }
            records.append(record)
        }
        var training: [Point] = [], validation: [Point] = [], skipped: [Int] = []
        var flow: [(step: Int, epoch: Double, norms: [Double?])] = []
        for record in records {
            switch record.kind {
            case .gradientFlow: flow.append((record.step, record.epoch, record.norms))
            case .train: training.append(Point(step: record.step, epoch: record.epoch, perplexity: record.perplexity,
                                               learningRate: record.learningRate))
            case .valid: validation.append(Point(step: record.step, epoch: record.epoch, perplexity: record.perplexity,
                                                 bleu: record.bleu))
            case .skippedBatch: skipped.append(record.step)
            }
        }
        // Validations log completed epochs (an Int); place each one by its step on the training
        // points' step -> epoch line, kept within [completed, completed + 1].
        for k in validation.indices {
            let completed = validation[k].epoch
            let estimate = TrainingLog.epochEstimate(step: validation[k].step, training: training) ?? completed
            validation[k].epoch = min(max(estimate, completed), completed + 1)
        }
        self.init(training: training, validation: validation, skippedBatchSteps: skipped)
        gradientFlow = flow
    }

    /// Convenience for text already in memory.
    public init(parsing text: String, file: String) throws {
        try self.init(parsing: Array(text.utf8), file: file)
    }

    /// Fractional epoch at `step`, interpolated (or extrapolated from the nearest segment)
    /// through the training points; nil without training points.
    static func epochEstimate(step: Int, training: [Point]) -> Double? {
        guard let last = training.last else { return nil }
        if training.count == 1 {
            return last.step > 0 ? last.epoch * Double(step) / Double(last.step) : last.epoch
        }
        var upper = training.firstIndex { $0.step >= step } ?? training.count - 1
        upper = max(upper, 1)
        let a = training[upper - 1], b = training[upper]
        guard b.step != a.step else { return b.epoch }
        return a.epoch + (b.epoch - a.epoch) * Double(step - a.step) / Double(b.step - a.step)
    }

    /// One line that matters for the plot.
    private struct Record {
        enum Kind { case train, valid, skippedBatch, gradientFlow }
        var kind: Kind
        var step: Int
        var epoch: Double
        var perplexity: Double?
        var learningRate: Double?
        var bleu: Double?
        var norms: [Double?] = []

        /// nil for events the plot does not use.
        init?(line: [UInt8], file: String, lineNumber: Int) throws {
            let record: LogLine
            do {
                record = try JSONDecoder().decode(LogLine.self, from: Data(line))
            } catch {
                throw TrainingLogError.malformedLine(file: file, line: lineNumber, reason: Self.reason(error))
            }
            let event = record.event
            let perplexity: Double??
            switch event {
            case "train": kind = .train; perplexity = .some(record.perplexity)
            case "valid": kind = .valid; perplexity = .some(record.validPerplexity)
            case "skipped_batch": kind = .skippedBatch; perplexity = nil
            case "gradient_flow":
                kind = .gradientFlow
                perplexity = nil
                guard let values = record.gradientByPosition else {
                    throw TrainingLogError.missingField(file: file, line: lineNumber, event: event, field: "grad_by_position")
                }
                norms = values.map { $0.isFinite ? $0 : nil }
            default: return nil
            }
            guard let step = record.step else {
                throw TrainingLogError.missingField(file: file, line: lineNumber, event: event, field: "step")
            }
            self.step = step
            epoch = record.epoch.flatMap { $0.isFinite ? $0 : nil } ?? 0
            self.perplexity = nil
            guard let perplexity else { return }
            guard let epoch = record.epoch, !epoch.isNaN else {
                throw TrainingLogError.missingField(file: file, line: lineNumber, event: event, field: "epoch")
            }
            self.epoch = epoch
            guard let ppl = perplexity else {
                throw TrainingLogError.missingField(file: file, line: lineNumber, event: event,
                                                    field: kind == .train ? "ppl" : "valid_ppl")
            }
            // `null` (NaN here) and infinities are gaps in the chart.
            self.perplexity = ppl.isFinite ? ppl : nil
            learningRate = kind == .train ? record.learningRate.flatMap { $0.isFinite ? $0 : nil } : nil
            bleu = kind == .valid ? record.validBLEU.flatMap { $0.isFinite ? $0 : nil } : nil
        }

        /// One line saying why JSON decoding failed (the key, where there is one).
        static func reason(_ error: Error) -> String {
            let text: String
            switch error as? DecodingError {
            case .dataCorrupted(let context)?, .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
                let key = context.codingPath.map(\.stringValue).joined(separator: ".")
                let underlying = (context.underlyingError as NSError?).map { " (\($0.localizedDescription))" } ?? ""
                text = (key.isEmpty ? "" : "'\(key)': ") + context.debugDescription + underlying
            default:
                text = "\(error)"
            }
            return String(text.map { $0.isNewline ? " " : $0 })
        }
    }
}
