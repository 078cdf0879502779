import Corpus
import Foundation
import Samples
import TestSupport
import Text
import Training

/// A tiny sharded corpus, vocabularies and model folder in a temporary directory.
struct TrainingFixture {
    let root: URL
    let shards: ShardSet
    let source: Vocabulary
    let target: Vocabulary
    let corpus: SampleCorpus
    /// Joint BPE codes both vocabularies were built with (`bpeMerges`), or nil for whole words.
    let codes: BPECodes?
    /// The SentencePiece model both sides use (`sentencePiece: true`), or nil.
    let sentencePiece: SentencePieceModel?

    /// With `bpeMerges`, joint codes are learned on the tokenized training text and both
    /// vocabularies hold BPE pieces.
    /// With `sentencePiece`, both sides use the tiny SentencePiece model of Fixtures/ instead.
    init(pairs: Int = 64, pairsPerShard: Int = 20, bpeMerges: Int? = nil, sentencePiece: Bool = false) throws {
        root = makeTemporaryDirectory("training")
        corpus = SampleCorpus(trainSize: pairs, validSize: 16, testSize: 8, seed: 5)
        var options = TokenizerOptions()
        let tokenizer = try Tokenizer(options: options)
        if let bpeMerges {
            var learner = BPELearner()
            for var line in (corpus.train.source + corpus.train.target).map({ tokenizer.tokenize($0).joined(separator: " ") }) {
                line.withUTF8 { learner.add(line: $0) }
            }
            codes = learner.learn(merges: bpeMerges)
            options.bpeCodes = codes!.checksum
        } else {
            codes = nil
        }
        if sentencePiece {
            let url = Bundle.module.url(forResource: "tiny-spm", withExtension: "model", subdirectory: "Fixtures")!
            self.sentencePiece = try SentencePieceModel(contentsOf: url.path)
            options.sentencePiece = self.sentencePiece!.checksum
        } else {
            self.sentencePiece = nil
        }
        let segmenter = try TextSegmenter(options: options, codes: codes, sentencePiece: self.sentencePiece)
        try Self.write(corpus.train.source, root.appendingPathComponent("train.en"))
        try Self.write(corpus.train.target, root.appendingPathComponent("train.fr"))
        try Self.write(corpus.valid.source, root.appendingPathComponent("valid.en"))
        try Self.write(corpus.valid.target, root.appendingPathComponent("valid.fr"))
        var shardOptions = ShardOptions()
        shardOptions.pairsPerShard = pairsPerShard
        _ = try ShardPacker.pack(sourcePath: root.appendingPathComponent("train.en").path,
                                 targetPath: root.appendingPathComponent("train.fr").path,
                                 output: root.appendingPathComponent("shards").path, options: shardOptions,
                                 tokenCount: { tokenizer.tokenize($0).count })
        shards = try ShardSet(directory: root.appendingPathComponent("shards").path)
        var sourceBuilder = VocabularyBuilder(options: options), targetBuilder = VocabularyBuilder(options: options)
        Self.count(corpus.train.source, segmenter, subwords: codes != nil, into: &sourceBuilder)
        Self.count(corpus.train.target, segmenter, subwords: codes != nil, into: &targetBuilder)
        source = sourceBuilder.build()
        target = targetBuilder.build()
    }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// As `seq2seq vocab` counts: BPE pieces keep every character in both forms.
    static func count(_ lines: [String], _ segmenter: TextSegmenter, subwords: Bool, into builder: inout VocabularyBuilder) {
        for line in lines {
            if subwords { builder.add(pieces: segmenter.tokens(line), separator: SubwordJoiner.tokenizerSeparator) }
            else { builder.add(tokens: segmenter.tokens(line)) }
        }
    }

    static func write(_ lines: [String], _ url: URL) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
    }

    func options(maxSteps: Int?, epochs: Int = 3) -> TrainingOptions {
        var o = TrainingOptions()
        o.embedding = 8; o.hidden = 12; o.layers = 2
        o.batchSize = 8; o.windowSize = 24
        o.epochs = epochs; o.maxSteps = maxSteps
        o.optimizer = .adam; o.learningRate = 0.01
        o.dropout = 0.1
        o.saveEvery = nil; o.logEvery = 1000
        o.seed = 11
        return o
    }

    /// A new model folder; `swapVocabularies` gives it the target vocabulary as its source one and
    /// the other way round (a folder whose target side differs).
    func makeDirectory(_ name: String, _ options: TrainingOptions, swapVocabularies: Bool = false) throws -> ModelDirectory {
        let (source, target) = swapVocabularies ? (self.target, self.source) : (self.source, self.target)
        let config = ModelFolderConfig(
            toolVersion: "test",
            model: options.modelConfig(sourceVocabularySize: source.count, targetVocabularySize: target.count),
            training: options, sourceTokenizer: source.options, targetTokenizer: target.options)
        return try ModelDirectory(creating: path(name), config: config, sourceVocabulary: source, targetVocabulary: target,
                                  sourceCodes: codes, targetCodes: codes,
                                  sourceSentencePiece: sentencePiece, targetSentencePiece: sentencePiece)
    }

    func validation() throws -> ValidationSet {
        let preparer = try PairPreparer(sourceVocabulary: source, targetVocabulary: target, maxLength: nil,
                                        sourceCodes: codes, targetCodes: codes,
                                  sourceSentencePiece: sentencePiece, targetSentencePiece: sentencePiece)
        return try ValidationSet(sourcePath: path("valid.en"), targetPath: path("valid.fr"), preparer: preparer, batchSize: 8)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }
}

let quiet = ProgressReporter(logEvery: 1_000_000, isTerminal: false)
