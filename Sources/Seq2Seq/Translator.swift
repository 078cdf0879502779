import Foundation
import Kernels
import Model
import ModelFolder
import Decoding
import Translation

/// One translation of one sentence.
public struct TranslationResult: Sendable, Equatable {
    /// The detokenized text.
    public var text: String
    /// The target tokens (words or subword pieces, in reading order) before detokenization.
    public var tokens: [String]
    /// The length-normalised score hypotheses are ranked by: log P / ((5 + |y|)/6)^α, |y| counting
    /// the end of sentence (with rescoring, the rescored score).
    public var score: Double
    /// log P, the sum of the token log-probabilities (natural log), end of sentence included.
    public var logProb: Double
    /// Each token's log-probability (aligned with ``tokens``), then the end of sentence's.
    public var tokenLogProbs: [Double]
    /// For each token, the source token (of the tokenized input, from 0) with the highest attention
    /// weight when it was produced; nil for a model without attention.
    public var alignment: [Int]?

    init(_ t: Translation) {
        text = t.text
        tokens = t.tokens
        score = t.score
        logProb = t.logProb
        tokenLogProbs = t.tokenLogProbs
        alignment = t.alignment
    }
}

/// The arithmetic of decoding.
public enum Precision: String, Sendable, Equatable {
    /// float32 weights and activations.
    case float32
    /// int8 weights with per-row scales, activations quantized per row, int32 sums (embeddings stay
    /// float32); read from the folder's stored int8 copy when `seq2seq quantize` made one.
    case int8

    var model: Model.Precision { self == .int8 ? .int8 : .float32 }
}

/// Which weights of a model folder.
public enum Checkpoint: String, Sendable, Equatable {
    /// `best.safetensors`: the checkpoint training chose on the validation set.
    case best
    /// `last.safetensors`: the latest checkpoint.
    case last

    var choice: CheckpointChoice { self == .last ? .last : .best }
}

/// How a ``Translator`` loads its models and searches.
public struct TranslatorOptions: Sendable, Equatable {
    /// K, the beam size (1: greedy), 1...1000.
    public var beam: Int
    /// Translations returned per sentence, best first, 1...beam.
    public var nBest: Int
    /// α of the length penalty ((5 + |y|)/6)^α the search ranks by (GNMT; 0: raw log-probability).
    public var lengthPenalty: Double
    /// float32, or int8 decoding (int8 weights with per-row scales; from the folder's stored int8
    /// copy when `seq2seq quantize` made one).
    public var precision: Precision
    /// Threads in all: the GEMM backend's and the library's own kernels. The process has one
    /// thread budget: the last translator made sets it.
    public var threads: Int
    /// Use each model folder's `shortlist.bin` (lexical shortlist) when it has one.
    public var shortlist: Bool
    /// Which weights of each folder: `.best` (the validation choice) or `.last`.
    public var checkpoint: Checkpoint
    /// Ensemble weights, one per model (normalised; nil: equal).
    public var weights: [Float]?
    /// Concurrent callers' sentences are decoded together in searches of up to this many.
    public var batchSize: Int
    /// How long a sentence may wait for others to join its search, in seconds.
    public var maxWait: TimeInterval
    /// Model folders that rescore each sentence's beam finalists (usually trained with
    /// `--target-order right-to-left`; several: their mean log-probability), as `translate
    /// --rescore-with` does: ranked by ((1 − λ)·log p + λ·log p_R) / lp(|y| + 1). They must share
    /// the models' target vocabulary. Empty: no rescoring.
    public var rescoring: [URL]
    /// λ of ``rescoring``, in [0, 1] (choose it on a validation set).
    public var rescoringWeight: Double

    public init(beam: Int = 5, nBest: Int = 1, lengthPenalty: Double = 0.6, precision: Precision = .float32,
                threads: Int = 1, shortlist: Bool = true, checkpoint: Checkpoint = .best, weights: [Float]? = nil,
                batchSize: Int = 32, maxWait: TimeInterval = 0.005, rescoring: [URL] = [], rescoringWeight: Double = 0.5) {
        self.rescoring = rescoring
        self.rescoringWeight = rescoringWeight
        self.beam = beam
        self.nBest = nBest
        self.lengthPenalty = lengthPenalty
        self.precision = precision
        self.threads = threads
        self.shortlist = shortlist
        self.checkpoint = checkpoint
        self.weights = weights
        self.batchSize = batchSize
        self.maxWait = maxWait
    }
}

/// Errors of the `Seq2Seq` library: what went wrong and where, one line each.
public enum Seq2SeqError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An option is out of range; the text names it and the accepted values.
    case invalidOption(String)
    /// A model folder could not be used; the text names the file.
    case model(String)
    /// A training run was refused before its first step, or failed (``ModelTraining``); the text
    /// names the file or option, as `seq2seq train` says it.
    case training(String)
    /// The queue holds as many sentences as it takes; retry later.
    case queueFull
    /// The translator was shut down and takes no new work.
    case shuttingDown

    public var description: String {
        switch self {
        case .invalidOption(let message), .model(let message), .training(let message): return message
        case .queueFull: return "the translation queue is full; retry later"
        case .shuttingDown: return "the translator is shut down"
        }
    }
}

/// Translation from code: a model folder (or several, an ensemble) in, text out.
///
/// ```swift
/// import Seq2Seq
/// let translator = try Translator(model: URL(fileURLWithPath: "models/de-en"), options: .init(beam: 5))
/// let results = try await translator.translate(["Ein Hund läuft."])
/// print(results[0][0].text)  // n-best lists, best first: text, tokens, score, log-probability, alignment
/// ```
///
/// Thread-safe (`Sendable`): calls from many tasks or threads at once are queued and decoded
/// together in batches of up to ``TranslatorOptions/batchSize`` sentences on one decoding thread,
/// each caller getting its own sentences' translations. Cancelling a caller's task does not stop its
/// sentences: it waits until they are decoded. ``translateSync(_:)`` blocks the calling thread
/// instead. A translator released without ``shutdown()`` stops its decoding thread once the
/// sentences queued before are done.
///
/// Normalization, tokenization, subword segmentation, vocabularies and source reversal are the ones
/// recorded in each model folder (as `seq2seq translate` reapplies them); `seq2seq translate`,
/// `evaluate` and `serve` run the same engine (the Translation module's `TranslationEngine`) this
/// type wraps.
public final class Translator: Sendable {
    /// The models, first the one whose target side and alignments are used.
    public let models: [URL]
    public let options: TranslatorOptions
    private let queue: TranslationQueue

    /// Loads `model` (a folder made by `seq2seq train`). Throws ``Seq2SeqError``: `.invalidOption`
    /// for an option out of range, `.model` naming the file for a folder that cannot be read.
    public convenience init(model: URL, options: TranslatorOptions = TranslatorOptions()) throws {
        try self.init(models: [model], options: options)
    }

    /// An ensemble of `models` (the members' log-probabilities averaged at each beam step, with
    /// ``TranslatorOptions/weights``); they must share the target vocabulary.
    /// Throws ``Seq2SeqError`` as ``init(model:options:)`` does.
    public init(models: [URL], options: TranslatorOptions = TranslatorOptions()) throws {
        try Self.check(options, modelCount: models.count)
        var search = SearchOptions(beamSize: options.beam, lengthPenalty: options.lengthPenalty)
        search.nBest = options.nBest
        let engine: TranslationEngine
        do {
            let folders = try models.map { try SavedModel(opening: $0.path) }
            engine = try TranslationEngine(directories: folders, checkpoint: options.checkpoint.choice, weights: options.weights,
                                           searchOptions: search, precision: options.precision.model, useShortlist: options.shortlist)
            if !options.rescoring.isEmpty {
                try engine.rescore(with: options.rescoring.map { try SavedModel(opening: $0.path) },
                                   checkpoint: options.checkpoint.choice, weight: options.rescoringWeight)
            }
        } catch let error as TranslationError {
            throw Seq2SeqError.invalidOption(error.description)
        } catch {
            throw Seq2SeqError.model("\(error)")
        }
        BLAS.setThreads(options.threads)
        self.models = models
        self.options = options
        queue = TranslationQueue(translator: engine, batchSize: options.batchSize, maxWait: options.maxWait,
                                 capacity: Int.max / 2)
    }

    static func check(_ options: TranslatorOptions, modelCount: Int) throws {
        func bad(_ text: String) -> Seq2SeqError { .invalidOption(text) }
        guard modelCount >= 1 else { throw bad("give at least one model folder") }
        guard options.beam >= 1 && options.beam <= 1000 else { throw bad("beam must be in 1...1000, got \(options.beam)") }
        guard options.nBest >= 1 && options.nBest <= options.beam else { throw bad("nBest must be in 1...beam (\(options.beam)), got \(options.nBest)") }
        guard options.lengthPenalty.isFinite else { throw bad("lengthPenalty must be a finite number, got \(options.lengthPenalty)") }
        guard options.threads >= 1 && options.threads <= 1024 else { throw bad("threads must be in 1...1024, got \(options.threads)") }
        guard options.batchSize >= 1 && options.batchSize <= 4096 else { throw bad("batchSize must be in 1...4096, got \(options.batchSize)") }
        guard options.maxWait.isFinite && options.maxWait >= 0 else { throw bad("maxWait must be a finite number of seconds ≥ 0, got \(options.maxWait)") }
        guard options.rescoringWeight.isFinite && options.rescoringWeight >= 0 && options.rescoringWeight <= 1 else {
            throw bad("rescoringWeight must be in [0, 1], got \(options.rescoringWeight)")
        }
        if let weights = options.weights {
            guard weights.count == modelCount else { throw bad("\(weights.count) weights for \(modelCount) models: give one per model") }
            guard weights.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw bad("weights must be finite and greater than 0") }
        }
    }

    /// Translates `sentences` (raw text, one sentence each); result i holds up to
    /// ``TranslatorOptions/nBest`` translations of sentence i, best first. An empty sentence
    /// gives one empty translation with scores 0. Throws ``Seq2SeqError/shuttingDown`` after
    /// ``shutdown()``.
    public func translate(_ sentences: [String]) async throws -> [[TranslationResult]] {
        try await queue.translate(sentences, beam: options.beam, nBest: options.nBest).map { $0.map(TranslationResult.init) }
    }

    /// ``translate(_:)`` for callers outside Swift concurrency: blocks the calling thread until
    /// the sentences are translated (do not call it from an async context).
    public func translateSync(_ sentences: [String]) throws -> [[TranslationResult]] {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task.detached { [self] in
            do { box.result = .success(try await translate(sentences)) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    deinit {
        queue.stopWhenIdle()
    }

    /// Finishes the queued work and stops the decoding thread; later calls throw
    /// ``Seq2SeqError/shuttingDown``.
    public func shutdown() async {
        await queue.shutdown()
    }
}

/// A result handed from the detached task to the blocked thread (the semaphore orders the accesses).
private final class ResultBox: @unchecked Sendable {
    var result: Result<[[TranslationResult]], Error>?
}
