import ArgumentParser
import Basics
import Corpus
import Foundation
import Lexicon
import ModelFolder
import Training

/// `seq2seq shortlist --model DIR --shards DIR`: builds the model folder's lexical shortlist from
/// the training shards (IBM Model 1, Lexicon's ``LexicalTable``) and writes `DIR/shortlist.bin`.
struct ShortlistCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shortlist",
        abstract: "Build a model's lexical shortlist (IBM Model 1 on the training shards) into its folder.",
        discussion: """
            Maps every shard pair to ids with the model folder's vocabularies (tokenizer options, BPE \
            codes or SentencePiece model, as training does), trains an IBM Model 1 table p(t|s) with a \
            NULL source word (Brown et al. 1993) for --iterations EM iterations, and keeps for each source \
            word its --top-k target words by p(t|s) (ties by id), plus the --frequent most frequent target \
            words, </s> and <unk>. Writes DIR/shortlist.bin atomically (replacing an earlier one); \
            `translate`, `evaluate` and `serve` then decode each batch over the union of its source words' \
            lists (--no-shortlist to compare). Deterministic: the same shards give the same bytes. Memory: \
            the id corpus (4 bytes a token) and the table (about 20 bytes per distinct co-occurring word pair).
            """)

    @Option(help: ArgumentHelp("Model folder made by `seq2seq train`.", valueName: "dir")) var model: String
    @Option(help: ArgumentHelp("Shard folder the model was trained on (`seq2seq shard`).", valueName: "dir")) var shards: String
    @Option(help: "Target words kept per source word, by p(t|s).") var topK: Int = ShortlistDefaults.topK
    @Option(help: "The most frequent target words, always scored.") var frequent: Int = ShortlistDefaults.frequent
    @Option(help: "IBM Model 1 EM iterations.") var iterations: Int = ShortlistDefaults.iterations
    @Option(help: ArgumentHelp("After building, print the mean number of output ids a sentence of FILE is decoded over, alone and in batches of 64 as `evaluate` makes them (length-sorted).", valueName: "file"))
    var reportOn: String?

    func validate() throws {
        guard (1...100_000).contains(topK) else { throw ValidationError("--top-k must be between 1 and 100000") }
        guard (0...10_000_000).contains(frequent) else { throw ValidationError("--frequent must be between 0 and 10000000") }
        guard (1...100).contains(iterations) else { throw ValidationError("--iterations must be between 1 and 100") }
    }

    func run() throws {
        let start = Date()
        let folder = try SavedModel(opening: model)
        // Read before anything is built, so a bad file is refused before the folder changes.
        let reportLines = try reportOn.map(readAllLines)
        let shardSet = try ShardSet(directory: shards)
        let preparer = try PairPreparer(
            sourceVocabulary: folder.sourceVocabulary, targetVocabulary: folder.targetVocabulary, maxLength: nil,
            sourceCodes: folder.sourceCodes, targetCodes: folder.targetCodes,
            codesPaths: (folder.sourceCodesPath, folder.targetCodesPath),
            sourceSentencePiece: folder.sourceSentencePiece, targetSentencePiece: folder.targetSentencePiece)
        var corpus = ParallelIDCorpus()
        var skipped = 0
        for index in 0..<shardSet.shardCount {
            let reader = try ShardReader(shards: shardSet, index: index)
            while let pair = try reader.next() {
                if let ids = preparer.prepare(pair) { corpus.append(source: ids.source, target: ids.target) } else { skipped += 1 }
            }
        }
        guard corpus.count > 0 else {
            throw CLIError("\(shards): no pair left after tokenization; nothing to build a shortlist from")
        }
        let read = Date()
        let table = LexicalTable(corpus: corpus, sourceVocabularySize: folder.config.model.sourceVocabularySize,
                                 targetVocabularySize: folder.config.model.targetVocabularySize)
        table.train(iterations: iterations)
        let shortlist = Shortlist(table: table, topK: topK, frequent: frequent)
        let bytes = shortlist.encoded()
        try AtomicFileWriter.write(bytes, to: folder.shortlistPath)
        let done = Date()
        func seconds(_ a: Date, _ b: Date) -> String { String(format: "%.1f s", b.timeIntervalSince(a)) }
        printError("read \(corpus.count) pairs (\(corpus.sourceIDs.count) source, \(corpus.targetIDs.count) target tokens"
            + (skipped > 0 ? "; \(skipped) with an empty side skipped" : "") + ") in \(seconds(start, read))")
        printError("IBM Model 1: \(table.entryCount) co-occurring word pairs, \(iterations) EM iterations in \(seconds(read, done))")
        printError("wrote \(folder.shortlistPath): top \(topK) per source word (\(shortlist.entryCount) entries), "
            + "\(shortlist.frequent.count) always-scored ids (\(frequent) frequent + </s>, <unk>), \(bytes.count) bytes")
        if let reportOn, let reportLines {
            let segmenter = try folder.sourceSegmenter()
            let ids = reportLines.map { folder.sourceVocabulary.ids(segmenter.tokens($0)) }
            let order = reportLines.indices.sorted { (reportLines[$0].utf8.count, $0) < (reportLines[$1].utf8.count, $1) }
            let single = ids.map { Double(shortlist.outputIDs(for: [$0]).count) }
            let batches = stride(from: 0, to: order.count, by: 64).map { first in
                Double(shortlist.outputIDs(for: order[first..<min(first + 64, order.count)].map { ids[$0] }).count)
            }
            func mean(_ x: [Double]) -> String { x.isEmpty ? "-" : String(format: "%.1f", x.reduce(0, +) / Double(x.count)) }
            try StandardOutput.shared.writeLine("\(reportOn): \(reportLines.count) lines; output ids per sentence: mean \(mean(single)), "
                + "min \(Int(single.min() ?? 0)), max \(Int(single.max() ?? 0)); per batch of 64: mean \(mean(batches)) "
                + "of \(folder.config.model.targetVocabularySize)")
        }
    }
}

/// The shortlist's default sizes and iterations (chosen on Multi30k val; docs/guides/shortlist.md).
enum ShortlistDefaults {
    static let topK = 50
    static let frequent = 100
    static let iterations = 5
}
