import Foundation

/// One line of a model folder's `log.jsonl`: a flat JSON object, written by the trainer and read
/// by the plotter, through this one `Codable` type.
///
/// Events and their fields (JSON keys in brackets):
/// - `train`, every `--log-every` steps: `step`, fractional `epoch`, `loss` (nats per target
///   token of the plain NLL), `ppl` (its exponential), `tokens_per_s` (of all MPI ranks together), `grad_norm`, `lr`,
///   `clipped_fraction`; with label smoothing also `smoothed_loss` (nats per target token of the
///   smoothed loss that is trained on); under MPI also `allreduce_ms`, the mean milliseconds per step
///   spent exchanging gradients and counts between the ranks.
/// - `valid`, after each validation: `step`, completed `epoch` (a whole number), `valid_ppl`,
///   `seconds` (training wall-clock time so far), `lr` (the rate the next step uses, before a
///   plateau cut this validation may make); with
///   `--valid-bleu` also `valid_bleu` (greedy decoding, 0…100).
/// - `lr_reduced`: the plateau schedule cut the learning rate after the validation at `step`;
///   `lr` is the new rate.
/// - `early_stop`: training stopped after the validation at `step`; `best_step` is the step of
///   `best.safetensors`.
/// - `checkpoint`, after each `last.safetensors` is written: `step`, `seconds`. Timing lives only
///   here, never in the weights files, so identical runs write identical weights files; a resumed
///   run takes its starting time from the last `checkpoint` line of its step.
/// - `skipped_batch`: `step` of a batch with a non-finite loss or gradient.
/// - `gradient_flow` (`train --log-gradient-flow`), every `--log-every` steps: `step`, `epoch`,
///   `grad_by_position`: element p is the mean over the interval's sentences that have a source
///   token p (0-based, source order) of ‖∂L/∂h‖ for the first encoder layer's state right after
///   reading that token (L the sentence's summed NLL in nats).
///
/// - `start`, when a run starts or resumes: `step`, and what computes it: `gemm` (the GEMM backend:
///   onednn, openblas or reference), `gemm_isa` (the instruction set its kernels use), `cpu` (the
///   CPU's model name), `cpu_isa` (its widest float32 vector set), `threads` (the thread budget).
///
/// Keys are written sorted and a non-finite number as `null`, as the trainer always has, so logs
/// of every version read alike; unknown keys and events are ignored by readers.
public struct LogLine: Codable, Equatable, Sendable {
    public var event: String
    /// nil when absent or not a whole number.
    public var step: Int?
    public var epoch: Double?
    /// For every number below: nil when the key is absent; NaN when the file holds `null` (and a
    /// non-finite value is written as `null`).
    public var loss: Double?
    public var perplexity: Double?
    public var tokensPerSecond: Double?
    public var gradientNorm: Double?
    public var learningRate: Double?
    public var clippedFraction: Double?
    public var validPerplexity: Double?
    public var seconds: Double?
    public var smoothedLoss: Double?
    public var validBLEU: Double?
    /// nil when absent or not a whole number.
    public var bestStep: Int?
    /// Mean milliseconds per step in the MPI gradient exchange (`allreduce_ms`).
    public var exchangeMilliseconds: Double?
    /// `train` under MPI: the mean megabytes (10⁶ bytes) of gradient each rank sent per step over the
    /// interval (only the blocks some rank touched; see the training loop).
    public var exchangeMegabytes: Double?
    /// `train` lines: mean wall milliseconds per step over the interval (`step_ms`: data, forward,
    /// backward, the exchange's wait, update, logging).
    public var stepMilliseconds: Double?
    /// `gradient_flow` lines: mean ‖∂L/∂h_t‖ by source position (a non-finite mean is `null`, NaN here).
    public var gradientByPosition: [Double]?
    /// `start` lines: the GEMM backend, its instruction set, the CPU's model name and widest vector
    /// instruction set, and the thread budget.
    public var gemm: String?
    public var gemmInstructionSet: String?
    public var cpu: String?
    public var cpuInstructionSet: String?
    public var threads: Int?

    public init(event: String, step: Int? = nil, epoch: Double? = nil, loss: Double? = nil, perplexity: Double? = nil,
                tokensPerSecond: Double? = nil, gradientNorm: Double? = nil, learningRate: Double? = nil,
                clippedFraction: Double? = nil, validPerplexity: Double? = nil, seconds: Double? = nil,
                smoothedLoss: Double? = nil, validBLEU: Double? = nil, bestStep: Int? = nil,
                exchangeMilliseconds: Double? = nil, exchangeMegabytes: Double? = nil, stepMilliseconds: Double? = nil,
                gradientByPosition: [Double]? = nil, gemm: String? = nil,
                gemmInstructionSet: String? = nil, cpu: String? = nil, cpuInstructionSet: String? = nil, threads: Int? = nil) {
        self.event = event
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.perplexity = perplexity
        self.tokensPerSecond = tokensPerSecond
        self.gradientNorm = gradientNorm
        self.learningRate = learningRate
        self.clippedFraction = clippedFraction
        self.validPerplexity = validPerplexity
        self.seconds = seconds
        self.smoothedLoss = smoothedLoss
        self.validBLEU = validBLEU
        self.bestStep = bestStep
        self.exchangeMilliseconds = exchangeMilliseconds
        self.exchangeMegabytes = exchangeMegabytes
        self.stepMilliseconds = stepMilliseconds
        self.gradientByPosition = gradientByPosition
        self.gemm = gemm
        self.gemmInstructionSet = gemmInstructionSet
        self.cpu = cpu
        self.cpuInstructionSet = cpuInstructionSet
        self.threads = threads
    }

    enum CodingKeys: String, CodingKey {
        case event, step, epoch, loss, perplexity = "ppl", tokensPerSecond = "tokens_per_s", gradientNorm = "grad_norm"
        case learningRate = "lr", clippedFraction = "clipped_fraction", validPerplexity = "valid_ppl", seconds
        case smoothedLoss = "smoothed_loss", validBLEU = "valid_bleu", bestStep = "best_step", exchangeMilliseconds = "allreduce_ms", exchangeMegabytes = "exchange_mb", stepMilliseconds = "step_ms", gradientByPosition = "grad_by_position"
        case gemm, gemmInstructionSet = "gemm_isa", cpu, cpuInstructionSet = "cpu_isa", threads
    }

    /// Reads a line; throws `DecodingError` when it is not an object with a string `event`, or a
    /// known number field holds something other than a number or `null`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let event = try? c.decode(String.self, forKey: .event) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.event], debugDescription: "no string 'event' field"))
        }
        self.event = event
        func number(_ key: CodingKeys) throws -> Double? {
            guard c.contains(key) else { return nil }
            if try c.decodeNil(forKey: key) { return .nan }
            return try c.decode(Double.self, forKey: key)
        }
        func whole(_ key: CodingKeys) throws -> Int? {
            guard let value = try number(key), value.rounded(.towardZero) == value, abs(value) <= 9.0e15 else { return nil }
            return Int(value)
        }
        step = try whole(.step)
        bestStep = try whole(.bestStep)
        epoch = try number(.epoch)
        loss = try number(.loss)
        perplexity = try number(.perplexity)
        tokensPerSecond = try number(.tokensPerSecond)
        gradientNorm = try number(.gradientNorm)
        learningRate = try number(.learningRate)
        clippedFraction = try number(.clippedFraction)
        validPerplexity = try number(.validPerplexity)
        seconds = try number(.seconds)
        smoothedLoss = try number(.smoothedLoss)
        validBLEU = try number(.validBLEU)
        exchangeMilliseconds = try number(.exchangeMilliseconds)
        exchangeMegabytes = try number(.exchangeMegabytes)
        stepMilliseconds = try number(.stepMilliseconds)
        if c.contains(.gradientByPosition) {
            gradientByPosition = try c.decode([Double?].self, forKey: .gradientByPosition).map { $0 ?? .nan }
        }
        gemm = try c.decodeIfPresent(String.self, forKey: .gemm)
        gemmInstructionSet = try c.decodeIfPresent(String.self, forKey: .gemmInstructionSet)
        cpu = try c.decodeIfPresent(String.self, forKey: .cpu)
        cpuInstructionSet = try c.decodeIfPresent(String.self, forKey: .cpuInstructionSet)
        threads = try whole(.threads)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(event, forKey: .event)
        try c.encodeIfPresent(step, forKey: .step)
        func number(_ value: Double?, _ key: CodingKeys) throws {
            guard let value else { return }
            if value.isFinite { try c.encode(value, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
        try number(epoch, .epoch)
        try number(loss, .loss)
        try number(perplexity, .perplexity)
        try number(tokensPerSecond, .tokensPerSecond)
        try number(gradientNorm, .gradientNorm)
        try number(learningRate, .learningRate)
        try number(clippedFraction, .clippedFraction)
        try number(validPerplexity, .validPerplexity)
        try number(seconds, .seconds)
        try number(smoothedLoss, .smoothedLoss)
        try number(validBLEU, .validBLEU)
        try c.encodeIfPresent(bestStep, forKey: .bestStep)
        try number(exchangeMilliseconds, .exchangeMilliseconds)
        try number(exchangeMegabytes, .exchangeMegabytes)
        try number(stepMilliseconds, .stepMilliseconds)
        if let gradientByPosition {
            try c.encode(gradientByPosition.map { $0.isFinite ? $0 : nil }, forKey: .gradientByPosition)
        }
        try c.encodeIfPresent(gemm, forKey: .gemm)
        try c.encodeIfPresent(gemmInstructionSet, forKey: .gemmInstructionSet)
        try c.encodeIfPresent(cpu, forKey: .cpu)
        try c.encodeIfPresent(cpuInstructionSet, forKey: .cpuInstructionSet)
        try c.encodeIfPresent(threads, forKey: .threads)
    }

    /// The line as written to `log.jsonl`: compact JSON, keys sorted, ending in a newline.
    public func jsonLine() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of strings and finite numbers cannot fail.
        var data = (try? encoder.encode(self)) ?? Data(#"{"event":"unencodable"}"#.utf8)
        data.append(0x0A)
        return data
    }
}
