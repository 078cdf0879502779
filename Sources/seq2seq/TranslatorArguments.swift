import ArgumentParser
import Kernels
import Model
import ModelFolder
import Translation

/// The options that load a model and set up its search, shared by `translate` and `serve` (one
/// option group, so the two commands take the same spellings, defaults and checks).
struct TranslatorArguments: ParsableArguments {
    @Option(help: "Model folder made by `seq2seq train`.") var model: String
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
        guard nBest >= 1 && nBest <= search.beam else { throw ValidationError("--n-best must be between 1 and --beam") }
        try checkThreads(threads)
        try gemmArguments.check()
    }

    /// Sets the BLAS thread count and loads the chosen weights with the search options (n-best
    /// included). Throws the model folder's error, which names the file.
    func makeTranslator() throws -> Translator {
        try gemmArguments.apply(threads: threads, warn: true)
        let directory = try SavedModel(opening: model)
        var options = search.searchOptions
        options.nBest = nBest
        return try Translator(directory: directory, checkpoint: checkpoint, searchOptions: options, unknownWords: search.unknownWords,
                              precision: decoder.precision, useShortlist: shortlist.enabled)
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
