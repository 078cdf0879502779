import ArgumentParser
import Corpus
import Decoding
import Foundation
import Kernels
import ModelFolder
import Training
import Translation

/// Search options shared by `translate`, `evaluate` and `bench translate`.
struct SearchArguments: ParsableArguments {
    @Option(help: "Beam size; 1 is greedy decoding.") var beam: Int = 5
    @Option(help: "GNMT length penalty alpha: hypotheses are ranked by logP / ((5+|y|)/6)^alpha; 0 ranks by logP.")
    var lengthPenalty: Double = 0.6
    @Option(help: "Maximum output length is ratio·|source| + --max-length tokens.") var maxLengthRatio: Double = 2
    @Option(help: "Tokens added to the length limit (b in a·|source| + b).") var maxLength: Int = 10
    @Option(help: "Print the K best translations per line: `LINE ||| TEXT ||| SCORE ||| LOGPROB`.")
    var nBest: Int = 1
    @Option(help: "Unknown words in the output: forbid (pick the best known word) or keep (print <unk>).")
    var unk: UnknownWordPolicy = .forbid

    /// Called inside `reportingErrors` (not as ArgumentParser's `validate()`, which would print a
    /// usage block) so a bad value gives the same one-line error as every other bad input.
    func check() throws {
        guard beam >= 1 else { throw ValidationError("--beam must be at least 1") }
        guard nBest >= 1 && nBest <= beam else { throw ValidationError("--n-best must be between 1 and --beam") }
        guard lengthPenalty >= 0 else { throw ValidationError("--length-penalty must be >= 0") }
        guard maxLengthRatio > 0, maxLength >= 0 else { throw ValidationError("--max-length-ratio must be > 0 and --max-length >= 0") }
    }

    var searchOptions: SearchOptions {
        var o = SearchOptions()
        o.beamSize = beam
        o.lengthPenalty = lengthPenalty
        o.maxLengthRatio = maxLengthRatio
        o.maxLengthOffset = maxLength
        o.nBest = nBest
        return o
    }
}

extension UnknownWordPolicy: ExpressibleByArgument {}
extension CheckpointChoice: ExpressibleByArgument {}

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Translate sentences from stdin (or --input) with beam search, one line out per line in.",
        discussion: """
        Applies the model's recorded normalization, tokenization, vocabulary and source reversal, then \
        detokenizes. From a terminal (or with --flush) each line is answered as soon as it is read; \
        piped input is decoded in length-sorted batches and written in input order. An empty line gives \
        an empty line. A source of any length is translated whole: the encoder reads long sources in \
        chunks, so memory stays bounded.
        """)

    @Option(help: "Model folder made by `seq2seq train`.") var model: String
    @Option(help: "Read sentences from FILE instead of stdin.") var input: String?
    @Option(help: "Which weights: best (lowest validation perplexity) or last.") var checkpoint: CheckpointChoice = .best
    @OptionGroup var search: SearchArguments
    @Option(help: "Sentences decoded together when input is piped.") var batchSize: Int = 64
    @Flag(help: "Translate and write each line as soon as it is read.") var flush = false
    @Option(help: "BLAS threads.") var threads: Int = 1

    func run() throws {
        try reportingErrors { try translate() }
    }

    private func translate() throws {
        try search.check()
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        BLAS.setThreads(threads)
        let directory = try SavedModel(opening: model)
        let translator = try Translator(directory: directory, checkpoint: checkpoint,
                                        searchOptions: search.searchOptions, unknownWords: search.unk)
        let lines = try openLines(input)
        var out = OutputBuffer()
        let interactive = flush || lines.isTerminal
        var firstLine = 1

        func emit(_ results: [[Translation]]) throws {
            for (i, translations) in results.enumerated() {
                if search.nBest == 1 {
                    out.bytes.append(contentsOf: (translations.first?.text ?? "").utf8)
                    out.bytes.append(0x0A)
                } else {
                    for t in translations {
                        out.bytes.append(contentsOf: "\(firstLine + i) ||| \(t.text) ||| \(String(format: "%.4f", t.score)) ||| \(String(format: "%.4f", t.logProb))\n".utf8)
                    }
                }
            }
            firstLine += results.count
            if interactive { try out.flush() } else { try out.flushIfFull() }
        }

        if interactive {
            while let line = try lines.next() { try emit(translator.translate([line])) }
        } else {
            // Bounded memory: read a chunk, translate it in length-sorted batches, write in order.
            let chunkSize = batchSize * 16
            var chunk: [String] = []
            func translateChunk() throws {
                let order = chunk.indices.sorted { (chunk[$0].utf8.count, $0) < (chunk[$1].utf8.count, $1) }
                var results = [[Translation]](repeating: [], count: chunk.count)
                var start = 0
                while start < order.count {
                    let batch = Array(order[start..<min(start + batchSize, order.count)])
                    let translated = translator.translate(batch.map { chunk[$0] })
                    for (k, index) in batch.enumerated() { results[index] = translated[k] }
                    start += batchSize
                }
                try emit(results)
                chunk.removeAll(keepingCapacity: true)
            }
            while let line = try lines.next() {
                chunk.append(line)
                if chunk.count == chunkSize { try translateChunk() }
            }
            if !chunk.isEmpty { try translateChunk() }
        }
        try out.flush()
    }
}
