import Basics
import Corpus
import Model
import Text

/// A sentence pair as vocabulary ids (no <s>/</s>; the model's ``Batch`` adds them).
public struct PreparedPair: Sendable, Equatable {
    public var source: [Int32]
    public var target: [Int32]

    public init(source: [Int32], target: [Int32]) {
        self.source = source
        self.target = target
    }

    /// Length used to bucket pairs into batches of similar size.
    public var length: Int { max(source.count, target.count) }
}

/// Turns raw pairs into ids with the tokenizer options recorded in each vocabulary, splitting
/// tokens into BPE pieces on a side whose vocabulary records codes.
///
/// Segmentation happens here, on the reader thread, not in `shard`: shards store the raw text, so
/// the same shards serve word-level and BPE models, and BPE-dropout can segment every epoch
/// afresh. Not thread-safe (ICU break iterators, the BPE cache): give each thread its own.
public final class PairPreparer {
    public let sourceVocabulary: Vocabulary
    public let targetVocabulary: Vocabulary
    private let sourceSegmenter: TextSegmenter
    private let targetSegmenter: TextSegmenter
    /// Pairs with more tokens than this on either side are dropped (nil keeps all).
    public let maxLength: Int?
    /// BPE-dropout probability for `prepare(_:index:)` (0: plain BPE).
    public let dropout: Double
    /// Seeds the dropout draws with the epoch: SplitMix64.derive(seed, epoch, index, tag).
    private let dropoutSeed: UInt64
    private let epoch: Int
    /// Targets are reversed (a right-to-left model, ``ModelConfig/targetOrder``).
    public let reverseTarget: Bool

    /// - Parameters:
    ///   - sourceCodes, targetCodes: the BPE codes of a side whose vocabulary records some
    ///     (checked: `TextError` naming `codesPath`s otherwise).
    ///   - dropout: BPE-dropout probability in [0, 1) for training pairs; `seed` and `epoch` fix
    ///     its draws. A dropout piece outside a side's vocabulary (a partial merge, or a piece
    ///     min-count dropped) is split into pieces inside it (see `TextSegmenter`), so with a
    ///     vocabulary from `vocab --bpe-codes` dropout training sees no `<unk>` (validation, with
    ///     plain BPE, still maps dropped pieces to `<unk>`).
    ///   - targetOrder: `.rightToLeft` reverses every prepared target (after segmentation, so
    ///     subword pieces keep their spelling); ``targetIDs(_:)`` stays in reading order.
    public init(sourceVocabulary: Vocabulary, targetVocabulary: Vocabulary, maxLength: Int?,
                sourceCodes: BPECodes? = nil, targetCodes: BPECodes? = nil,
                codesPaths: (source: String, target: String) = ("source BPE codes", "target BPE codes"),
                sourceSentencePiece: SentencePieceModel? = nil, targetSentencePiece: SentencePieceModel? = nil,
                dropout: Double = 0, seed: UInt64 = 0, epoch: Int = 0, targetOrder: TargetOrder = .leftToRight) throws {
        reverseTarget = targetOrder == .rightToLeft
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
        // BPE-dropout pieces the vocabulary lacks are split into known ones (TextSegmenter).
        sourceSegmenter = try TextSegmenter(options: sourceVocabulary.options, codes: sourceCodes, codesPath: codesPaths.source,
                                            sentencePiece: sourceSentencePiece,
                                            dropoutVocabulary: dropout > 0 ? Array(sourceVocabulary.tokens.dropFirst(TokenID.reservedCount)) : nil)
        targetSegmenter = try TextSegmenter(options: targetVocabulary.options, codes: targetCodes, codesPath: codesPaths.target,
                                            sentencePiece: targetSentencePiece,
                                            dropoutVocabulary: dropout > 0 ? Array(targetVocabulary.tokens.dropFirst(TokenID.reservedCount)) : nil)
        self.maxLength = maxLength
        self.dropout = dropout
        dropoutSeed = seed
        self.epoch = epoch
    }

    /// Source ids for one raw source sentence (plain BPE, no dropout).
    public func sourceIDs(_ sentence: String) -> [Int32] {
        sourceVocabulary.ids(sourceSegmenter.tokens(sentence))
    }

    /// Target ids for one raw target sentence (plain BPE, no dropout).
    public func targetIDs(_ sentence: String) -> [Int32] {
        targetVocabulary.ids(targetSegmenter.tokens(sentence))
    }

    /// nil when either side tokenizes to nothing or is longer than `maxLength`.
    public func prepare(_ pair: SentencePair) -> PreparedPair? {
        finish(sourceIDs(pair.source), targetIDs(pair.target))
    }

    /// As `prepare(_:)`, with BPE-dropout when `dropout` > 0: the draws for the pair at `index`
    /// of this epoch's stream come from SplitMix64(derive(seed, epoch, index, "BPED")), source
    /// side first, so the segmentation depends on nothing but the seed, the epoch and the pair's
    /// place (a resumed epoch re-segments its pairs exactly).
    public func prepare(_ pair: SentencePair, index: Int) -> PreparedPair? {
        guard dropout > 0 else { return prepare(pair) }
        let seed = SplitMix64.derive(dropoutSeed, UInt64(bitPattern: Int64(epoch)), UInt64(bitPattern: Int64(index)), 0x4250_4544)
        var draws: BPEDropout? = BPEDropout(probability: dropout, generator: SplitMix64(seed: seed))
        let source = sourceVocabulary.ids(sourceSegmenter.tokens(pair.source, dropout: &draws))
        let target = targetVocabulary.ids(targetSegmenter.tokens(pair.target, dropout: &draws))
        return finish(source, target)
    }

    private func finish(_ source: [Int32], _ target: [Int32]) -> PreparedPair? {
        if source.isEmpty || target.isEmpty { return nil }
        if let maxLength, source.count > maxLength || target.count > maxLength { return nil }
        return PreparedPair(source: source, target: reverseTarget ? target.reversed() : target)
    }
}

/// A held-out set, tokenized once and cut into length-sorted batches for teacher-forced scoring.
public struct ValidationSet {
    public let batches: [Batch]
    public let pairCount: Int
    /// Pairs left out because a side was empty.
    public let skipped: Int
    /// The raw source lines of the pairs kept, in file order (for `--valid-bleu`); empty for a
    /// set made from ids alone.
    public let sources: [String]
    /// The raw target lines of the pairs kept, line i the reference of `sources[i]`.
    public let references: [String]

    /// Reads two parallel text files (plain, .gz or .zst), line i with line i. Throws
    /// ``TrainingError`` naming the files when their line counts differ, and naming the file at
    /// fault when no pair is usable (empty files, or every pair has a side that tokenizes to
    /// nothing): a perplexity over no tokens would read 1.000 and freeze the best checkpoint.
    public init(sourcePath: String, targetPath: String, preparer: PairPreparer, batchSize: Int) throws {
        let sources = try Self.readAll(sourcePath), targets = try Self.readAll(targetPath)
        guard sources.count == targets.count else {
            throw TrainingError.mismatchedValidation(source: sourcePath, sourceLines: sources.count,
                                                     target: targetPath, targetLines: targets.count)
        }
        var pairs: [PreparedPair] = []
        var keptSources: [String] = [], keptTargets: [String] = []
        var skipped = 0, emptySources = 0, emptyTargets = 0
        for (source, target) in zip(sources, targets) {
            let s = preparer.sourceIDs(source), forward = preparer.targetIDs(target)
            let t = preparer.reverseTarget ? Array(forward.reversed()) : forward
            if s.isEmpty { emptySources += 1 }
            if t.isEmpty { emptyTargets += 1 }
            if s.isEmpty || t.isEmpty { skipped += 1; continue }
            pairs.append(PreparedPair(source: s, target: t))
            keptSources.append(source)
            keptTargets.append(target)
        }
        if pairs.isEmpty {
            let lines = sources.count
            if lines == 0 {
                throw TrainingError.file(path: sourcePath, message: "the validation file is empty (so is \(targetPath)); give a validation set with at least one pair")
            }
            let (path, detail) = emptySources == lines ? (sourcePath, "every one of its \(lines) lines is empty")
                : emptyTargets == lines ? (targetPath, "every one of its \(lines) lines is empty")
                : (sourcePath, "each of its \(lines) lines, or the same line of \(targetPath), is empty")
            throw TrainingError.file(path: path, message: "no usable validation pair: \(detail) after tokenization")
        }
        self.init(pairs: pairs, batchSize: batchSize, skipped: skipped, sources: keptSources, references: keptTargets)
    }

    /// A set from ids (`sources` and `references`, when given, are the raw lines of the pairs,
    /// in the same order).
    public init(pairs: [PreparedPair], batchSize: Int, skipped: Int = 0, sources: [String] = [], references: [String] = []) {
        precondition(sources.count == references.count && (sources.isEmpty || sources.count == pairs.count),
                     "ValidationSet: \(sources.count) sources and \(references.count) references for \(pairs.count) pairs")
        // Stable sort by length so batches waste little padding; order is deterministic.
        let sorted = pairs.enumerated().sorted { ($0.element.length, $0.offset) < ($1.element.length, $1.offset) }
            .map(\.element)
        var batches: [Batch] = []
        var start = 0
        while start < sorted.count {
            // Written so that a batch size near Int.max cannot overflow.
            let end = sorted.count - start <= batchSize ? sorted.count : start + batchSize
            let slice = sorted[start..<end]
            batches.append(Batch(sources: slice.map(\.source), targets: slice.map(\.target)))
            start = end
        }
        self.batches = batches
        self.pairCount = sorted.count
        self.skipped = skipped
        self.sources = sources
        self.references = references
    }

    static func readAll(_ path: String) throws -> [String] {
        let reader = try LineReader(path: path)
        var lines: [String] = []
        while let line = try reader.next() { lines.append(line) }
        return lines
    }
}
