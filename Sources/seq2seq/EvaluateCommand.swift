import ArgumentParser
import Foundation
import Kernels
import TranslationMetrics
import ModelFolder
import Training
import Translation

/// BLEU and chrF lines exactly as `seq2seq bleu` prints them with default options (13a, exp
/// smoothing, mixed case; chrF order 6, beta 2; width 1 like sacreBLEU's command), one line each.
func scoreLines(hypotheses: [String], references: [[String]], lowercase: Bool = false) -> String {
    let version = "seq2seq-\(seq2seqVersion)"
    let bleu = BLEU(lowercase: lowercase)
    let chrf = CHRF(lowercase: lowercase)
    return bleu.corpusScore(hypotheses: hypotheses, references: references)
        .formatted(signature: bleu.signature(referenceCount: references.count, version: version), width: 1)
        + "\n" + chrf.corpusScore(hypotheses: hypotheses, references: references)
        .formatted(signature: chrf.signature(referenceCount: references.count, version: version), width: 1)
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Translate a test set and print BLEU and chrF (as `seq2seq bleu` does) and sentences/s.")

    @Option(help: "Model folder made by `seq2seq train`; several for an ensemble (as `translate --model`).") var model: [String] = []
    @Option(help: "The ensemble members' weights, one per --model, comma-separated (default equal).") var weights: EnsembleWeights?
    @Option(help: "Source sentences, one per line.") var source: String
    @Option(parsing: .upToNextOption, help: "Reference file(s), line i with line i of --source.") var reference: [String]
    @Option(help: "Which weights: best or last.") var checkpoint: CheckpointChoice = .best
    @OptionGroup var search: SearchArguments
    @OptionGroup var rescoring: RescoringArguments
    @OptionGroup var shortlist: ShortlistArguments
    @Option(help: "Sentences decoded together.") var batchSize: Int = 64
    @Flag(help: "Lowercase hypotheses and references before scoring (BLEU and chrF, as `bleu -m bleu chrf -lc --chrf-lowercase`).") var lowercase = false
    @Option(help: "Also write the translations to FILE.") var output: String?
    @Option(help: "Threads in all (GEMM backend and our own kernels).") var threads: Int = 1
    @OptionGroup var gemmArguments: GemmArguments
    @OptionGroup var decoder: DecoderArguments

    func run() throws {
        try evaluate()
    }

    private func evaluate() throws {
        guard !reference.isEmpty else { throw CLIError("give at least one --reference file") }
        try search.check()
        try checkEnsemble(models: model, weights: weights)
        try rescoring.check()
        guard batchSize >= 1 else { throw CLIError("--batch-size must be at least 1") }
        guard batchSize <= maximumBatchSize else { throw CLIError("--batch-size must be at most \(maximumBatchSize)") }
        try checkThreads(threads)
        try gemmArguments.apply(threads: threads)
        let sources = try readAllLines(source)
        // As `bleu` refuses an empty system: a score over no sentence would be a made-up 0.
        guard !sources.isEmpty else { throw CLIError("\(source): no lines to translate") }
        var references: [[String]] = []
        for path in reference {
            let lines = try readAllLines(path)
            guard lines.count == sources.count else {
                throw CLIError("\(path) has \(lines.count) lines but \(source) has \(sources.count)")
            }
            references.append(lines)
        }
        let directories = try model.map { try SavedModel(opening: $0) }
        let translator = try Translator(directories: directories, checkpoint: checkpoint, weights: weights?.values,
                                        searchOptions: search.searchOptions, unknownWords: search.unknownWords,
                                        precision: decoder.precision, useShortlist: shortlist.enabled)
        try rescoring.apply(to: translator, checkpoint: checkpoint)
        let start = Date()
        let hypotheses = translateSorted(sources, translator: translator, batchSize: batchSize)
        let seconds = Date().timeIntervalSince(start)
        if let output { try writeLines(hypotheses, to: output) }
        try StandardOutput.shared.writeLine(scoreLines(hypotheses: hypotheses, references: references, lowercase: lowercase))
        try StandardOutput.shared.writeLine(String(format: "%d sentences in %.1f s: %.1f sentences/s (beam %d, batch %d)",
                     sources.count, seconds, Double(sources.count) / seconds, search.beam, batchSize))
    }
}

/// Every line of a text file (plain, .gz or .zst) read by `openLines`, errors naming file and line.
func readAllLines(_ path: String) throws -> [String] {
    try openLines(path).readAll()
}

/// Best translation of each line, decoded in length-sorted batches, returned in input order.
func translateSorted(_ lines: [String], translator: Translator, batchSize: Int) -> [String] {
    let order = lines.indices.sorted { (lines[$0].utf8.count, $0) < (lines[$1].utf8.count, $1) }
    var results = [String](repeating: "", count: lines.count)
    var start = 0
    while start < order.count {
        let batch = Array(order[start..<min(start + batchSize, order.count)])
        for (k, translations) in translator.translate(batch.map { lines[$0] }).enumerated() {
            results[batch[k]] = translations.first?.text ?? ""
        }
        start += batchSize
    }
    return results
}
