import Foundation
import Model

/// Which update rule `train` uses.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case sgd, adam
}

/// How the learning rate changes during a run.
public enum LearningRateScheduleKind: String, Codable, Sendable, CaseIterable {
    /// The paper's: constant, then multiplied by `learningRateDecay` every half epoch after
    /// `decayStart` (never, for Adam's default).
    case halving
    /// PyTorch's `ReduceLROnPlateau` on the validation metric (see ``PlateauState``).
    case plateau
}

/// The validation figure that chooses `best.safetensors` and that early stopping and the
/// plateau schedule watch.
public enum SelectionMetric: String, Codable, Sendable, CaseIterable {
    /// Teacher-forced validation perplexity, lower is better ("min" mode).
    case perplexity
    /// Greedy-decoded validation BLEU, higher is better ("max" mode); needs `validBLEU`.
    case bleu
}

/// Every hyper-parameter of a training run. The training part is recorded in the model folder's
/// `config.json` (section `training`), so a resumed run continues with exactly the options it
/// started with; the architecture part (E, H, L, dropout, reversal, cell, directions, residual, attention)
/// only builds the ``ModelConfig`` (``modelConfig(sourceVocabularySize:targetVocabularySize:)``),
/// which is the one record of the architecture (section `model`): it is not written twice.
public struct TrainingOptions: Codable, Equatable, Sendable {
    public var embedding = 256
    public var hidden = 256
    public var layers = 2
    public var dropout: Float = 0
    /// Read the source backwards (Sutskever et al. 2014, §3.3).
    public var reverseSource = true
    /// The recurrent cell (nil, as in configs written before cells could be chosen: LSTM).
    public var cell: CellType?
    /// A bidirectional encoder (nil: no), see `ModelConfig.bidirectional`.
    public var bidirectional: Bool?
    /// Residual connections between stacked layers (nil: no), see `ModelConfig.residual`.
    public var residual: Bool?
    /// The decoder's attention (nil: none), see `ModelConfig.attention`.
    public var attention: AttentionType?
    /// Input feeding with attention (nil: on), see `ModelConfig.inputFeed`.
    public var inputFeed: Bool?
    /// The order the decoder writes targets in (nil: left to right), see `ModelConfig.targetOrder`.
    public var targetOrder: TargetOrder?
    /// Layer normalization in the cells (nil: off), see `ModelConfig.layerNorm`.
    public var layerNorm: Bool?
    /// Tied embeddings (nil: none), see `ModelConfig.tieEmbeddings`.
    public var tieEmbeddings: TiedEmbeddings?
    /// Sentences per batch (an upper bound when `tokenBudget` is set).
    public var batchSize = 64
    /// If set, batches are cut at this many padded source+target tokens instead.
    public var tokenBudget: Int?
    /// Pairs shuffled together and sorted by length before batches are cut.
    public var windowSize = 100 * 64
    public var epochs = 10
    /// Stop after this many optimizer steps in total (across resumes), if set.
    public var maxSteps: Int?
    public var seed: UInt64 = 1
    public var optimizer: OptimizerKind = .sgd
    /// nil: 0.7 for SGD (the paper), 1e-3 for Adam.
    public var learningRate: Float?
    /// Multiplier applied every half epoch once `decayStart` epochs have passed.
    public var learningRateDecay: Float = 0.5
    /// nil: 5 for SGD (the paper), never for Adam.
    public var decayStart: Double?
    /// Global-norm clipping threshold (Pascanu et al. 2013); 0 disables clipping.
    public var clipNorm: Float = 5
    /// Validate (and checkpoint) every this many steps as well as after each epoch; nil: epochs only.
    public var validEvery: Int?
    /// Write a checkpoint every this many steps (so a killed run loses little); nil: only at
    /// validation points and the end.
    public var saveEvery: Int? = 500
    /// Plain log line every this many steps when stderr is not a terminal.
    public var logEvery = 100
    /// Pairs with more tokens than this on either side are left out of training.
    public var maxLength = 80
    /// Stop (validate, checkpoint) once this much training time has passed, summed over resumes.
    /// A wall-clock limit: runs stopped by it are not bit-reproducible, runs stopped by steps are.
    public var maxMinutes: Double?
    /// Consecutive non-finite batches tolerated before training stops with an error.
    public var maxBadBatches = 5
    /// Label smoothing ε in [0, 1) of the training loss (Szegedy et al. 2016); nil or 0: none.
    /// The logged perplexity stays that of the plain NLL.
    public var labelSmoothing: Float?
    /// nil: ``LearningRateScheduleKind/halving`` (configs written before the option).
    public var learningRateSchedule: LearningRateScheduleKind?
    /// The plateau schedule's factor (PyTorch's `factor`), in (0, 1); nil: 0.5.
    public var plateauFactor: Double?
    /// The plateau schedule's patience: validations without improvement tolerated before the
    /// learning rate is cut (PyTorch's `patience`); nil: 1.
    public var plateauPatience: Int?
    /// Stop training after this many consecutive validations that did not improve the selection
    /// metric (no new `best.safetensors`); nil: never.
    public var earlyStopping: Int?
    /// Greedy-decode the validation sources at every validation and score them with BLEU.
    public var validBLEU: Bool?
    /// Lowercase hypotheses and references for the validation BLEU (as `bleu --lowercase`).
    public var validBLEULowercase: Bool?
    /// nil: perplexity.
    public var selectBy: SelectionMetric?
    /// Also keep the weights of the last K checkpoints as `checkpoint-STEP.safetensors` (for
    /// `seq2seq average`); nil: none.
    public var keepCheckpoints: Int?
    /// Batches whose gradients (and sentence and token counts) are summed before one update
    /// (`--accumulate K`); nil, as in configs written before it existed: 1. Each of the K batches
    /// comes from its own part of the shards (a virtual rank), as with K MPI ranks.
    public var accumulate: Int?
    /// MPI processes training the model together (`mpirun -np N`); nil: 1. Recorded so that
    /// `--resume` continues with the same data split.
    public var ranks: Int?

    /// `accumulate`, with its default.
    public var accumulateSteps: Int { accumulate ?? 1 }
    /// `ranks`, with its default.
    public var processCount: Int { ranks ?? 1 }
    /// Data parts of the corpus: one per batch of an update, `processCount × accumulateSteps`
    /// (nil when that overflows).
    public var dataParts: Int? {
        let (parts, overflow) = processCount.multipliedReportingOverflow(by: accumulateSteps)
        return overflow ? nil : parts
    }
    /// BPE-dropout (Provilkov et al. 2020): each epoch the training pairs are segmented afresh,
    /// each merge skipped with this probability, drawn from (seed, epoch, pair index; with data
    /// parts also the part, the index counted in its stream) so a resumed run segments exactly as
    /// before; nil (or 0) for plain BPE. Needs a side with BPE codes.
    public var bpeDropout: Double?

    public init() {}

    public var effectiveSchedule: LearningRateScheduleKind { learningRateSchedule ?? .halving }
    public var effectivePlateauFactor: Double { plateauFactor ?? 0.5 }
    public var effectivePlateauPatience: Int { plateauPatience ?? 1 }
    public var effectiveSelectBy: SelectionMetric { selectBy ?? .perplexity }
    public var effectiveLabelSmoothing: Float { labelSmoothing ?? 0 }
    /// Whether each validation also decodes and scores BLEU.
    public var scoresValidationBLEU: Bool { validBLEU ?? false }

    /// Learning rate at the start of training, after applying the optimizer's default.
    public var initialLearningRate: Float {
        learningRate ?? (optimizer == .sgd ? 0.7 : 1e-3)
    }

    /// Epoch (fractional) after which halving starts, or nil for a constant rate.
    public var effectiveDecayStart: Double? {
        decayStart ?? (optimizer == .sgd ? 5 : nil)
    }

    /// The options as `config.json` records them: a value that means "not used" (left-to-right
    /// targets, no tied embeddings, `--accumulate 1`, label smoothing 0, BPE-dropout 0, flags that
    /// are off, input feeding on) is stored
    /// as absent, so a run that does not use a feature writes the config it always did, whoever
    /// made the options (the CLI or a library caller).
    public var canonical: TrainingOptions {
        var o = self
        if o.targetOrder == .leftToRight { o.targetOrder = nil }
        if o.tieEmbeddings == TiedEmbeddings.none { o.tieEmbeddings = nil }
        if o.accumulate == 1 { o.accumulate = nil }
        if o.labelSmoothing == 0 { o.labelSmoothing = nil }
        if o.bpeDropout == 0 { o.bpeDropout = nil }
        if o.layerNorm == false { o.layerNorm = nil }
        if o.bidirectional == false { o.bidirectional = nil }
        if o.residual == false { o.residual = nil }
        if o.inputFeed == true { o.inputFeed = nil }
        if o.validBLEU == false { o.validBLEU = nil }
        if o.validBLEULowercase == false { o.validBLEULowercase = nil }
        return o
    }

    /// Throws ``TrainingError/invalidOption(_:)`` naming the first option out of range or
    /// inconsistent with another (the texts name `train`'s flags).
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw TrainingError.invalidOption(message) }
        }
        try check(embedding > 0 && hidden > 0 && layers > 0, "--embedding, --hidden and --layers must be positive")
        try check(dropout >= 0 && dropout < 1, "--dropout must be in [0, 1)")
        try check(batchSize > 0, "--batch-size must be positive")
        try check(tokenBudget.map { $0 > 0 } ?? true, "--token-budget must be positive")
        try check(windowSize >= batchSize, "--window must be at least the batch size")
        try check(epochs > 0, "--epochs must be positive")
        try check(maxSteps.map { $0 > 0 } ?? true, "--max-steps must be positive")
        try check(initialLearningRate > 0 && initialLearningRate.isFinite, "--lr must be positive")
        try check(learningRateDecay > 0 && learningRateDecay <= 1, "--lr-decay must be in (0, 1]")
        try check(clipNorm >= 0, "--clip must be >= 0 (0 disables clipping)")
        try check(validEvery.map { $0 > 0 } ?? true, "--valid-every must be positive")
        try check(saveEvery.map { $0 > 0 } ?? true, "--save-every must be positive")
        try check(maxMinutes.map { $0 > 0 } ?? true, "--max-minutes must be positive")
        try check(logEvery > 0, "--log-every must be positive")
        try check(maxLength > 0, "--max-length must be positive")
        try check(labelSmoothing.map { $0 >= 0 && $0 < 1 } ?? true, "--label-smoothing must be in [0, 1)")
        try check(plateauFactor.map { $0 > 0 && $0 < 1 } ?? true, "--lr-decay-factor must be in (0, 1)")
        try check(plateauPatience.map { $0 >= 0 } ?? true, "--plateau-patience must be >= 0")
        try check(earlyStopping.map { $0 > 0 } ?? true, "--early-stopping must be positive")
        try check(keepCheckpoints.map { $0 > 0 } ?? true, "--keep-checkpoints must be positive")
        try check(effectiveSelectBy != .bleu || scoresValidationBLEU, "--select-by bleu needs --valid-bleu")
        try check(accumulateSteps >= 1 && accumulateSteps <= 1 << 16, "--accumulate must be in 1...65536")
        try check(processCount >= 1 && processCount <= 1 << 20, "the number of MPI ranks must be in 1...1048576")
        try check(bpeDropout.map { $0 >= 0 && $0 < 1 } ?? true, "--bpe-dropout must be in [0, 1)")
        try check(inputFeed != false || (attention ?? AttentionType.none) != AttentionType.none,
                  "--no-input-feed needs --attention dot, general or mlp")
        try check(validBLEULowercase != true || validBLEU == true, "--valid-bleu-lowercase needs --valid-bleu")
        try check(learningRateSchedule == .plateau || (plateauFactor == nil && plateauPatience == nil),
                  "--lr-decay-factor and --plateau-patience need --lr-schedule plateau")
        try check(layerNorm != true || (cell ?? .lstm).supportsLayerNorm, "--layer-norm needs --cell lstm or gru")
    }

    /// Parameters of the network these options describe, or nil when the count does not fit in
    /// an `Int`: embeddings (V_s+V_t)·E, per LSTM layer 4H·(input+H)+4H in encoder and decoder,
    /// and the output layer V_t·(H+1).
    public func parameterCount(sourceVocabularySize: Int, targetVocabularySize: Int) -> Int? {
        func mul(_ a: Int?, _ b: Int?) -> Int? {
            guard let a, let b else { return nil }
            let (r, o) = a.multipliedReportingOverflow(by: b)
            return o ? nil : r
        }
        func add(_ values: Int?...) -> Int? {
            var total = 0
            for value in values {
                guard let value else { return nil }
                let (r, o) = total.addingReportingOverflow(value)
                if o { return nil }
                total = r
            }
            return total
        }
        let gates = mul(4, hidden)
        let firstLayer = add(mul(gates, add(embedding, hidden)), gates)
        let upperLayer = add(mul(gates, mul(2, hidden)), gates)
        let stack = add(firstLayer, mul(upperLayer, layers - 1))
        return add(mul(add(sourceVocabularySize, targetVocabularySize), embedding), mul(2, stack),
                   mul(targetVocabularySize, add(hidden, 1)))
    }

    /// Throws ``TrainingError/invalidOption(_:)`` when the weights, gradients and optimizer state
    /// (4 bytes each per parameter; Adam keeps two moments more) alone would not fit in
    /// `memoryBytes` (default: this machine's physical memory), so that a too-large
    /// `--hidden`, `--embedding` or `--layers` is refused instead of failing to allocate.
    public func checkMemory(sourceVocabularySize: Int, targetVocabularySize: Int,
                            memoryBytes: UInt64 = ProcessInfo.processInfo.physicalMemory) throws {
        // Adam keeps two moments; accumulating over several batches keeps one sum more.
        let copies = (optimizer == .adam ? 4 : 2) + (accumulateSteps > 1 ? 1 : 0)
        let gigabytes = { (bytes: Double) in String(format: "%.1f GB", bytes / 1e9) }
        guard let count = parameterCount(sourceVocabularySize: sourceVocabularySize, targetVocabularySize: targetVocabularySize),
              Double(count) * 4 * Double(copies) <= Double(memoryBytes) else {
            let count = parameterCount(sourceVocabularySize: sourceVocabularySize, targetVocabularySize: targetVocabularySize)
            let need = count.map { "needs " + gigabytes(Double($0) * 4 * Double(copies)) } ?? "is too large to count"
            throw TrainingError.invalidOption(
                "a \(layers)×\(hidden) LSTM with E=\(embedding) and vocabularies of \(sourceVocabularySize)/\(targetVocabularySize) "
                + "\(need) for its weights, gradients and optimizer state alone; this machine has \(gigabytes(Double(memoryBytes))) "
                + "(lower --hidden, --embedding or --layers)")
        }
    }

    /// The keys written to and read from `config.json`: everything but the architecture, which
    /// `ModelConfig` records (older files that still carry it here decode; the copy is ignored).
    private enum CodingKeys: String, CodingKey {
        case batchSize, tokenBudget, windowSize, epochs, maxSteps, seed, optimizer, learningRate, learningRateDecay
        case decayStart, clipNorm, validEvery, saveEvery, logEvery, maxLength, maxMinutes, maxBadBatches
        case labelSmoothing, learningRateSchedule, plateauFactor, plateauPatience, earlyStopping
        case validBLEU, validBLEULowercase, selectBy, keepCheckpoints, accumulate, ranks, bpeDropout
    }

    /// The model shape these options describe, for the given vocabulary sizes.
    public func modelConfig(sourceVocabularySize: Int, targetVocabularySize: Int) -> ModelConfig {
        ModelConfig(sourceVocabularySize: sourceVocabularySize, targetVocabularySize: targetVocabularySize,
                    embedding: embedding, hidden: hidden, layers: layers, dropout: dropout,
                    reverseSource: reverseSource, cell: cell ?? .lstm, bidirectional: bidirectional ?? false,
                    residual: residual ?? false, attention: attention ?? .none, inputFeed: inputFeed ?? true,
                    targetOrder: targetOrder ?? .leftToRight, tieEmbeddings: tieEmbeddings ?? .none,
                    layerNorm: layerNorm ?? false)
    }

    /// Learning rate after `epochProgress` epochs (fractional): constant until the decay start,
    /// then multiplied by `learningRateDecay` at the start and at every half epoch after it
    /// (the paper: "after 5 epochs, we begun halving the learning rate every half epoch").
    public func learningRate(atEpochProgress epochProgress: Double) -> Float {
        let base = initialLearningRate
        guard let start = effectiveDecayStart, epochProgress >= start else { return base }
        let halvings = Int(((epochProgress - start) * 2).rounded(.down)) + 1
        var lr = base
        for _ in 0..<halvings { lr *= learningRateDecay }
        return lr
    }
}
