import ArgumentParser
import Foundation
import Kernels
import Model
import ModelFolder
import Translation

/// The options that load a model and set up its search, shared by `translate` and `serve` (one
/// option group, so the two commands take the same spellings, defaults and checks).
struct TranslatorArguments: ParsableArguments {
    @Option(help: "Model folder made by `seq2seq train`; give it several times for an ensemble (the members' log-probabilities averaged at each beam step; they must share the target vocabulary, each reads the source its own way). The first model's target side detokenizes and aligns.")
    var model: [String] = []
    @Option(help: "The ensemble members' weights, one per --model, comma-separated (e.g. 2,1; normalised to sum to 1; default equal).")
    var weights: EnsembleWeights?
    @OptionGroup var rescoring: RescoringArguments
    @Option(help: "Which weights: best (lowest validation perplexity) or last.") var checkpoint: CheckpointChoice = .best
    @OptionGroup var search: SearchArguments
    @Option(help: "The K best translations per sentence: `translate` writes them as lines `N ||| TEXT ||| F0= LOGPROB ||| SCORE` (N from 0); for `serve` it is the default of a request that names no n_best.")
    var nBest: Int = 1
    @Option(help: "Threads in all (GEMM backend and our own kernels).") var threads: Int = 1
    @OptionGroup var gemmArguments: GemmArguments
    @OptionGroup var decoder: DecoderArguments
    @OptionGroup var shortlist: ShortlistArguments

    /// The range checks of every option here; throws a `ValidationError` naming the option.
    func check() throws {
        try search.check()
        try checkEnsemble(models: model, weights: weights)
        try rescoring.check()
        guard nBest >= 1 && nBest <= search.beam else { throw ValidationError("--n-best must be between 1 and --beam") }
        try checkThreads(threads)
        try gemmArguments.check()
    }

    /// Sets the BLAS thread count and loads the chosen weights with the search options (n-best
    /// included). Throws the model folder's error, which names the file.
    func makeTranslator() throws -> Translator {
        try gemmArguments.apply(threads: threads, warn: true)
        let directories = try model.map { try SavedModel(opening: $0) }
        var options = search.searchOptions
        options.nBest = nBest
        let translator = try Translator(directories: directories, checkpoint: checkpoint, weights: weights?.values, searchOptions: options,
                                        unknownWords: search.unknownWords, precision: decoder.precision, useShortlist: shortlist.enabled)
        try rescoring.apply(to: translator, checkpoint: checkpoint)
        return translator
    }

    /// The model folders as the user gave them, joined for messages ("a + b").
    var modelNames: String { model.joined(separator: " + ") }
}

/// `--weights 2,1`: one finite positive weight per ensemble member.
struct EnsembleWeights: ExpressibleByArgument {
    let values: [Float]
    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        var values: [Float] = []
        for part in parts {
            guard let value = Float(part.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0 else { return nil }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }
    static var defaultCompletionKind: CompletionKind { .default }
}

/// Checks `--model` (at least one) and `--weights` (one per model); throws a `ValidationError`.
func checkEnsemble(models: [String], weights: EnsembleWeights?) throws {
    guard !models.isEmpty else { throw ValidationError("Missing expected argument '--model <model>'") }
    if let weights, weights.values.count != models.count {
        throw ValidationError("--weights has \(weights.values.count) values for \(models.count) --model folders: give one per model")
    }
}

/// How the decoder computes, shared by `translate`, `serve`, `evaluate` and `bench translate`.
struct DecoderArguments: ParsableArguments {
    @Option(help: "Arithmetic of the recurrent layers, attention and output layer: float32, or int8 (int8 weights with per-row scales, activations quantized per row, int32 sums; embeddings stay float32).")
    var precision: Precision = .float32
}

extension Precision: ExpressibleByArgument {}

/// `--shortlist` / `--no-shortlist`, shared by `translate`, `serve` (through ``TranslatorArguments``)
/// and `evaluate`.
struct ShortlistArguments: ParsableArguments {
    @Flag(name: .customLong("shortlist"), inversion: .prefixedNo,
          help: "Restrict each batch's output layer to its source words' lexical shortlist plus the frequent target words, when the model folder has a shortlist.bin (`seq2seq shortlist`); --no-shortlist scores the whole target vocabulary.")
    var enabled = true
}

/// `--rescore-with` / `--rescore-weight`, shared by `translate`, `serve` and `evaluate`.
struct RescoringArguments: ParsableArguments {
    @Option(help: "Rescore each sentence's --beam finalists with this model folder (usually `train --target-order right-to-left`); several: their mean log-probability. Ranked by ((1 − λ)·log p + λ·log p_rescore) / lp(length), lp the search's length penalty.")
    var rescoreWith: [String] = []
    @Option(help: "λ of --rescore-with, in [0, 1] (choose it on a validation set; default 0.5).")
    var rescoreWeight: Double = 0.5

    func check() throws {
        guard rescoreWeight.isFinite && rescoreWeight >= 0 && rescoreWeight <= 1 else {
            throw ValidationError("--rescore-weight must be in [0, 1], got \(rescoreWeight)")
        }
    }

    /// Loads the rescoring models into `translator` (nothing without --rescore-with).
    func apply(to translator: Translator, checkpoint: CheckpointChoice) throws {
        guard !rescoreWith.isEmpty else { return }
        try translator.rescore(with: rescoreWith.map { try SavedModel(opening: $0) }, checkpoint: checkpoint, weight: rescoreWeight)
    }
}
