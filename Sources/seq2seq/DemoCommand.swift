import ArgumentParser
import Basics
import Corpus
import Foundation
import Kernels
import TranslationMetrics
import Samples
import Text
import Training
import Translation

/// The README's main command: the whole pipeline on a corpus the project generates itself.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole pipeline on a built-in sample: generate, shard, vocab, train, translate, score.",
        discussion: """
        Generates English→French number phrases ("three hundred forty-two thousand seven hundred one" → \
        "trois cent quarante-deux mille sept cent un"), writes them to corpora/demo/, shards them, builds \
        vocab/demo.en.vocab and vocab/demo.fr.vocab, trains models/demo, translates held-out examples and \
        reports BLEU and chrF on a held-out test set. Needs no network and no data.
        """)

    @Option(help: "Folder holding corpora/, vocab/ and models/.") var root: String = "."
    @Option(help: "Training pairs to generate.") var trainSize: Int = 20_000
    @Option(help: "Held-out test pairs.") var testSize: Int = 500
    @Option(help: "Epochs to train.") var epochs: Int = 4
    @Option(help: "Hidden size.") var hidden: Int = 192
    @Option(help: "Embedding size.") var embedding: Int = 64
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Threads in all (GEMM backend and our own kernels).") var threads: Int = 2
    @OptionGroup var gemmArguments: GemmArguments
    @Flag(help: "Train without reversing the source (to see what reversal buys).") var noReverseSource = false

    func run() throws {
        try demo()
    }

    private func demo() throws {
        try checkThreads(threads)
        try gemmArguments.apply(threads: threads)
        let started = Date()
        let corporaDir = root + "/corpora/demo", vocabDir = root + "/vocab", modelDir = root + "/models/demo"
        for dir in [corporaDir, vocabDir] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                // Foundation wraps the errno in an underlying POSIX error; its own text says nothing.
                let underlying = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? Error).map { $0 as NSError }
                let reason = underlying.map { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : "\($0)" }
                throw CLIError("\(dir): cannot create the folder (\(reason ?? "\(error)"))")
            }
        }
        say("1/6 generating \(trainSize) training, 500 validation and \(testSize) test pairs in \(corporaDir)")
        let corpus = SampleCorpus(trainSize: trainSize, validSize: 500, testSize: testSize, seed: seed)
        for (name, split) in [("train", corpus.train), ("valid", corpus.valid), ("test", corpus.test)] {
            try writeLines(split.source, to: "\(corporaDir)/\(name).en")
            try writeLines(split.target, to: "\(corporaDir)/\(name).fr")
        }

        say("2/6 building vocabularies")
        let options = TokenizerOptions()
        let tokenizer = try Tokenizer(options: options)
        var vocabularies: [Vocabulary] = []
        for (lang, lines) in [("en", corpus.train.source), ("fr", corpus.train.target)] {
            var builder = VocabularyBuilder(options: options)
            for line in lines { builder.add(tokens: tokenizer.tokenize(line)) }
            let vocabulary = builder.build(minCount: 1)
            try vocabulary.write(to: "\(vocabDir)/demo.\(lang).vocab")
            say("    vocab/demo.\(lang).vocab: \(vocabulary.count) types")
            vocabularies.append(vocabulary)
        }

        say("3/6 packing zstd shards")
        var shardOptions = ShardOptions()
        shardOptions.pairsPerShard = 5_000
        shardOptions.command = "seq2seq demo"
        shardOptions.overwrite = true  // a re-run replaces the demo's own corpus
        let summary = try ShardPacker.pack(sourcePath: "\(corporaDir)/train.en", targetPath: "\(corporaDir)/train.fr",
                                           output: "\(corporaDir)/shards", options: shardOptions,
                                           tokenCount: { tokenizer.tokenize($0).count })
        say("    \(corporaDir)/shards: \(summary.pairsWritten) pairs in \(summary.shards) shards")

        say("4/6 training models/demo (\(epochs) epochs, 2×\(hidden) LSTM, Adam)")
        var training = TrainingOptions()
        training.embedding = embedding
        training.hidden = hidden
        training.layers = 2
        training.optimizer = .adam
        training.learningRate = 2e-3
        training.batchSize = 64
        training.windowSize = 6_400
        training.epochs = epochs
        training.seed = seed
        training.reverseSource = !noReverseSource
        training.logEvery = 50
        let config = ModelFolderConfig(
            toolVersion: seq2seqVersion,
            model: training.modelConfig(sourceVocabularySize: vocabularies[0].count,
                                        targetVocabularySize: vocabularies[1].count),
            training: training, sourceTokenizer: options, targetTokenizer: options)
        for file in ["last.safetensors", "best.safetensors", "log.jsonl"] {
            try? FileManager.default.removeItem(atPath: modelDir + "/" + file)
        }
        let directory = try ModelDirectory(creating: modelDir, config: config,
                                           sourceVocabulary: vocabularies[0], targetVocabulary: vocabularies[1])
        let preparer = try PairPreparer(sourceVocabulary: vocabularies[0], targetVocabulary: vocabularies[1],
                                        maxLength: nil)
        let validation = try ValidationSet(sourcePath: "\(corporaDir)/valid.en", targetPath: "\(corporaDir)/valid.fr",
                                           preparer: preparer, batchSize: 64)
        let trainer = try Trainer(directory: directory, shards: try ShardSet(directory: "\(corporaDir)/shards"),
                                  validation: validation, resume: false,
                                  progress: ProgressReporter(logEvery: 100))
        let result = try trainer.run()
        say("    trained \(result.state.step) steps in \(formatDuration(result.state.trainingSeconds)); "
            + "best validation perplexity \(String(format: "%.3f", result.state.bestValidPerplexity ?? .nan))")

        say("5/6 translating held-out examples (beam 5)")
        let translator = try Translator(directory: directory.saved, checkpoint: .best)
        let examples = Array(corpus.test.source.prefix(5))
        for (i, translations) in translator.translate(examples).enumerated() {
            let hypothesis = translations.first?.text ?? ""
            let mark = hypothesis == corpus.test.target[i] ? "✓" : "✗"
            say("    \(examples[i])\n      → \(hypothesis)  \(mark)\n        (reference: \(corpus.test.target[i]))")
        }

        say("6/6 scoring the \(testSize)-sentence test set")
        let decodeStart = Date()
        let hypotheses = translateSorted(corpus.test.source, translator: translator, batchSize: 64)
        let decodeSeconds = Date().timeIntervalSince(decodeStart)
        try writeLines(hypotheses, to: "\(corporaDir)/test.hyp.fr")
        let exact = zip(hypotheses, corpus.test.target).filter { $0 == $1 }.count
        try StandardOutput.shared.writeLine(scoreLines(hypotheses: hypotheses, references: [corpus.test.target]))
        say("    exact matches \(exact)/\(testSize); decoding \(String(format: "%.1f", Double(testSize) / decodeSeconds)) sentences/s; "
            + "hypotheses in \(corporaDir)/test.hyp.fr")
        say("demo finished in \(formatDuration(Date().timeIntervalSince(started)))")
    }

    private func say(_ text: String) {
        printError(text)
    }
}

/// Writes lines (each followed by "\n") to a temporary file and renames it into place.
func writeLines(_ lines: [String], to path: String) throws {
    var text = lines.joined(separator: "\n")
    if !lines.isEmpty { text += "\n" }
    try AtomicFileWriter.write(text.utf8, to: path, sync: false)
}
