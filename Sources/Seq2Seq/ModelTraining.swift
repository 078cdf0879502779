import Basics
import Foundation
import Kernels
import Synchronization
import Training

@_exported import struct Training.TrainingOptions
@_exported import enum Training.OptimizerKind
@_exported import enum Training.LearningRateScheduleKind
@_exported import enum Training.SelectionMetric
@_exported import enum Model.CellType
@_exported import enum Model.AttentionType
@_exported import enum Model.TargetOrder
@_exported import enum Model.TiedEmbeddings

/// A training run from code: what `seq2seq train` does — the same checks before the first step
/// (with the same texts, which name `train`'s flags), the same loop, the same model folder (config,
/// vocabularies, checkpoints, `log.jsonl`), bit for bit the same weights when the options and the
/// thread count are those `train` records — with its progress handed to you as ``TrainingEvent``
/// records instead of printed.
///
/// `TrainingOptions` (re-exported from the toolkit's Training module) holds the options as
/// `config.json` records them; a few of `train`'s flags set two of them at once, which here you set
/// yourself: `train --bidirectional` also turns source reversal off (set `reverseSource = false`
/// with `bidirectional = true`), and `--batch-size B` raises `windowSize` to 100·B when that is
/// larger (set it with `batchSize`).
///
/// The corpus is a shard folder made by `seq2seq shard` and the vocabularies are files made by
/// `seq2seq vocab` (with `--bpe-codes` or `--spm-model` when the model reads subwords).
///
/// ```swift
/// var options = TrainingOptions()
/// options.attention = .general
/// options.epochs = 12
/// let run = ModelTraining(shards: URL(fileURLWithPath: "shards/de-en"), output: URL(fileURLWithPath: "models/de-en"),
///                         sourceVocabulary: URL(fileURLWithPath: "vocab/de.vocab"),
///                         targetVocabulary: URL(fileURLWithPath: "vocab/en.vocab"), options: options)
/// for try await event in run.start().events {
///     if case .validation(let v) = event { print(v.step, v.perplexity) }
/// }
/// ```
public struct ModelTraining: Sendable {
    /// Shard folder made by `seq2seq shard`.
    public var shards: URL
    /// Model folder to write (it must not exist, be empty, or be a model folder; see ``overwrite``
    /// and ``resume``).
    public var output: URL
    /// The source side's vocabulary file made by `seq2seq vocab`: required for a new run; a resumed
    /// run uses the folder's.
    public var sourceVocabulary: URL?
    /// The target side's vocabulary file (see ``sourceVocabulary``).
    public var targetVocabulary: URL?
    /// Validation sentences, line i of one with line i of the other (raw text, plain, .gz or .zst):
    /// both or neither. Without them there is no validation and no `best.safetensors`.
    public var validationSource: URL?
    /// The reference translations of ``validationSource``, line for line.
    public var validationTarget: URL?
    /// The BPE codes (one joint file, or one per side) or SentencePiece models the vocabularies
    /// were built with; copied into the model folder.
    public var bpeCodes: [URL] = []
    /// The SentencePiece models (one shared, or one per side) the vocabularies were built with.
    public var sentencePieceModels: [URL] = []
    /// Every hyper-parameter of a new run (architecture, batches, optimizer, schedule, validation
    /// BLEU, checkpoints), validated and recorded in the folder's `config.json`. Not used on
    /// ``resume``: a resumed run continues with its recorded options (only its length may change,
    /// through ``epochs``, ``maxSteps`` and ``maxMinutes``).
    public var options: TrainingOptions
    /// New limits for a resumed run (nil: the recorded one), as `train --resume --epochs N`.
    public var epochs: Int?
    /// A new total step limit for a resumed run (nil: the recorded one).
    public var maxSteps: Int?
    /// A new limit in minutes of training for a resumed run (nil: the recorded one).
    public var maxMinutes: Double?
    /// Continue the run in ``output`` exactly where its last checkpoint left off.
    public var resume = false
    /// Replace a trained model in ``output`` (never a folder that is not a model folder).
    public var overwrite = false
    /// Start although more than half of the sampled tokens are `<unk>` (swapped vocabularies).
    public var allowUnknown = false
    /// Threads for the whole process (GEMM backend and the toolkit's own parallel parts), 1...1024;
    /// `train`'s default, 2. The budget is the process's: it also applies to a ``Translator``
    /// running beside the run. The GEMM backend is the process's (`auto` unless `SEQ2SEQ_GEMM`
    /// chose another at start-up).
    public var threads = 2

    /// A run of `options` on `shards` into `output` (the other inputs as properties).
    public init(shards: URL, output: URL, sourceVocabulary: URL? = nil, targetVocabulary: URL? = nil,
                options: TrainingOptions = TrainingOptions()) {
        self.shards = shards
        self.output = output
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
        self.options = options
    }

    /// Starts the run on a thread of its own; its ``TrainingRun/events`` are the records as they
    /// happen, ending with ``TrainingEvent/finished(_:)``. ``TrainingRun/stop()`` stops the run at
    /// its next step with a checkpoint, as Ctrl-C stops `seq2seq train`; keep reading the events to
    /// its end to know the checkpoint is written (the folder stays locked until then). Cancelling
    /// the task that reads the events, or releasing the ``TrainingRun``, stops it too. A later
    /// run with ``resume`` continues it exactly.
    ///
    /// The events throw ``Seq2SeqError/training(_:)`` when the run is refused before its first
    /// step (a missing file, a folder in the way, vocabularies that do not fit the corpus, an option
    /// out of range: nothing is left behind) or fails later (a full disk: the last checkpoint stays
    /// whole), and ``Seq2SeqError/invalidOption(_:)`` for ``threads`` out of range.
    public func start() -> TrainingRun {
        let stop = StopRequest()
        let (events, continuation) = AsyncThrowingStream.makeStream(of: TrainingEvent.self)
        continuation.onTermination = { _ in stop.request() }
        let run = self
        let thread = Thread {
            do {
                let outcome = try run.train(stop: stop) { continuation.yield($0) }
                continuation.yield(.finished(outcome))
                continuation.finish()
            } catch let error as Seq2SeqError {
                continuation.finish(throwing: error)
            } catch {
                continuation.finish(throwing: Seq2SeqError.training("\(error)"))
            }
        }
        thread.name = "seq2seq-training"
        thread.stackSize = 16 << 20
        thread.start()
        return TrainingRun(events: events, stopRequest: stop)
    }

    /// Trains on the calling thread (see ``start()``); `report` gets every record.
    func train(stop: StopRequest, report: @escaping (TrainingEvent) -> Void) throws -> TrainingOutcome {
        guard threads >= 1 && threads <= 1024 else {
            throw Seq2SeqError.invalidOption("threads must be in 1...1024, got \(threads)")
        }
        BLAS.setThreads(threads)
        let options = self.options
        var request = TrainingRequest(shards: shards.path, output: output.path, toolVersion: toolkitVersion,
                                      newRunOptions: { options })
        request.sourceVocabulary = sourceVocabulary?.path
        request.targetVocabulary = targetVocabulary?.path
        request.validSource = validationSource?.path
        request.validTarget = validationTarget?.path
        request.bpeCodes = bpeCodes.map(\.path)
        request.sentencePieceModels = sentencePieceModels.map(\.path)
        request.resume = resume
        request.overwrite = overwrite
        request.allowUnknown = allowUnknown
        request.epochs = epochs
        request.maxSteps = maxSteps
        request.maxMinutes = maxMinutes
        do {
            let prepared = try TrainingSetup.prepare(request)
            defer { withExtendedLifetime(prepared) {} }  // holds the folder's lock until training ends
            do {
                return try train(prepared, stop: stop, report: report)
            } catch {
                prepared.discardIfUntrained()
                throw error
            }
        } catch let error as Seq2SeqError {
            throw error
        } catch {
            throw Seq2SeqError.training("\(error)")
        }
    }

    private func train(_ prepared: PreparedTraining, stop: StopRequest,
                       report: @escaping (TrainingEvent) -> Void) throws -> TrainingOutcome {
        let directory = prepared.directory
        let progress = ProgressReporter(logEvery: directory.config.training.logEvery, isTerminal: false)
        progress.isSilent = true
        progress.onRecord = { report(TrainingEvent($0)) }
        // Stopped before its first step: nothing is trained, and a folder made for the run goes.
        if stop.isRequested {
            prepared.discardIfUntrained()
            return TrainingOutcome(steps: 0, interrupted: true)
        }
        let trainer = try Trainer(directory: directory, shards: prepared.shards, validation: prepared.validation,
                                  resume: resume, progress: progress)
        if trainer.isFinished {
            return TrainingOutcome(trainer.state, interrupted: false, alreadyFinished: true)
        }
        if prepared.configChanged && trainer.writes { try directory.saveConfig() }
        trainer.shouldStop = { stop.isRequested }
        for note in prepared.notes { progress.message(note) }
        let summary = try trainer.run()
        return TrainingOutcome(summary.state, interrupted: summary.interrupted, alreadyFinished: false)
    }
}

/// A run started by ``ModelTraining/start()``: its records, and a way to stop it.
public final class TrainingRun: Sendable {
    /// The run's records as they happen, ending with ``TrainingEvent/finished(_:)`` (or an error).
    public let events: AsyncThrowingStream<TrainingEvent, Error>
    private let stopRequest: StopRequest

    init(events: AsyncThrowingStream<TrainingEvent, Error>, stopRequest: StopRequest) {
        self.events = events
        self.stopRequest = stopRequest
    }

    /// Asks the run to stop at its next step with a checkpoint; ``events`` then ends with a
    /// ``TrainingOutcome`` whose ``TrainingOutcome/interrupted`` is true (unless the run reached
    /// its limits first).
    public func stop() {
        stopRequest.request()
    }
}

/// A record of a run in progress (``TrainingRun/events``).
public enum TrainingEvent: Sendable {
    /// A log point: every `options.logEvery` steps and at least every 30 seconds.
    case progress(TrainingProgress)
    /// A validation pass (each epoch's end, and every `options.validEvery` steps).
    case validation(TrainingValidation)
    /// `last.safetensors` was written at this optimizer step.
    case checkpoint(step: Int)
    /// A line `seq2seq train` prints that the other records do not carry as figures: the estimate
    /// of the run after its warm-up, warnings (a length-sorted corpus), the plateau schedule,
    /// early stopping, a stop request (each validation's line too).
    case message(String)
    /// The run ended: finished its epochs or steps, stopped early, reached its time limit, or was
    /// stopped (then ``TrainingOutcome/interrupted``).
    case finished(TrainingOutcome)

    init(_ record: TrainingRecord) {
        switch record {
        case .progress(let f): self = .progress(TrainingProgress(f))
        case .validation(let v): self = .validation(TrainingValidation(step: v.step, perplexity: v.perplexity, bleu: v.bleu, isBest: v.isBest))
        case .checkpoint(let step): self = .checkpoint(step: step)
        case .message(let text): self = .message(text)
        }
    }
}

/// The figures of a log point: those of `seq2seq train`'s progress line and `log.jsonl`'s `train` record.
public struct TrainingProgress: Sendable, Equatable {
    /// The epoch in progress, from 1.
    public var epoch: Int
    /// The run's epochs.
    public var epochs: Int
    /// Optimizer steps taken.
    public var step: Int
    /// The run's estimated total of optimizer steps.
    public var totalSteps: Int
    /// Mean negative log-likelihood per target token (nats) since the last log point.
    public var loss: Double
    /// exp(``loss``).
    public var perplexity: Double
    /// Source+target tokens per second since the last log point.
    public var tokensPerSecond: Double
    /// The last step's global gradient norm (before clipping).
    public var gradientNorm: Double
    /// The last step's learning rate.
    public var learningRate: Double
    /// Seconds still to go (steps after a warm-up, and the validations to come); nil in the warm-up.
    public var etaSeconds: Double?

    init(_ f: ProgressFigures) {
        (epoch, epochs, step, totalSteps) = (f.epoch, f.epochs, f.step, f.totalSteps)
        (loss, perplexity, tokensPerSecond) = (f.loss, f.perplexity, f.tokensPerSecond)
        (gradientNorm, learningRate, etaSeconds) = (f.gradientNorm, f.learningRate, f.etaSeconds)
    }
}

/// One validation pass.
public struct TrainingValidation: Sendable, Equatable {
    /// Optimizer steps taken when it ran.
    public var step: Int
    /// Teacher-forced perplexity of the validation pairs.
    public var perplexity: Double
    /// Greedy-decoded BLEU in [0, 100] with `options.validBLEU`; nil otherwise.
    public var bleu: Double?
    /// The selection metric improved: `best.safetensors` holds this step's weights.
    public var isBest: Bool
}

/// How a run ended.
public struct TrainingOutcome: Sendable, Equatable {
    /// Optimizer steps in the folder's run (across resumes).
    public var steps: Int
    /// Whole epochs in the folder's run.
    public var epochs: Int
    /// Wall seconds of training in the run (across resumes; validation included).
    public var seconds: Double
    /// The best validation perplexity seen; nil without validation.
    public var bestPerplexity: Double?
    /// The best validation BLEU seen; nil without `options.validBLEU`.
    public var bestBLEU: Double?
    /// Stopped on request before its limits; resume continues it.
    public var interrupted: Bool
    /// A resumed run had already reached its limits: nothing was trained or written.
    public var alreadyFinished: Bool

    init(steps: Int, interrupted: Bool) {
        (self.steps, epochs, seconds, bestPerplexity, bestBLEU) = (steps, 0, 0, nil, nil)
        self.interrupted = interrupted
        alreadyFinished = false
    }

    init(_ state: TrainingState, interrupted: Bool, alreadyFinished: Bool) {
        (steps, epochs, seconds) = (state.step, state.epoch, state.trainingSeconds)
        (bestPerplexity, bestBLEU) = (state.bestValidPerplexity, state.bestValidBLEU)
        self.interrupted = interrupted
        self.alreadyFinished = alreadyFinished
    }
}

/// Set when the caller stops iterating; read by the trainer at each step.
final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)
    func request() { flag.store(true, ordering: .releasing) }
    var isRequested: Bool { flag.load(ordering: .acquiring) }
}
