/// Sentence pairs as vocabulary ids, stored flat (4 bytes a token plus 8 a sentence per side), so
/// that the EM passes of ``LexicalTable`` re-read the corpus without tokenizing it again.
public struct ParallelIDCorpus: Sendable, Equatable {
    /// All source tokens, sentence after sentence; sentence i is `sourceIDs[sourceEnds[i−1] ..< sourceEnds[i]]`.
    public private(set) var sourceIDs: [Int32] = []
    /// All target tokens, sentence after sentence.
    public private(set) var targetIDs: [Int32] = []
    private var sourceEnds: [Int] = [], targetEnds: [Int] = []

    public init() {}

    /// Pairs from id arrays (tests and small corpora).
    public init(_ pairs: [(source: [Int32], target: [Int32])]) {
        for pair in pairs { append(source: pair.source, target: pair.target) }
    }

    /// Adds one pair (ids without <s> and </s>).
    public mutating func append(source: [Int32], target: [Int32]) {
        sourceIDs.append(contentsOf: source)
        targetIDs.append(contentsOf: target)
        sourceEnds.append(sourceIDs.count)
        targetEnds.append(targetIDs.count)
    }

    /// The number of pairs.
    public var count: Int { sourceEnds.count }

    /// The token ranges of pair i in `sourceIDs` and `targetIDs`.
    public func ranges(_ i: Int) -> (source: Range<Int>, target: Range<Int>) {
        ((i == 0 ? 0 : sourceEnds[i - 1])..<sourceEnds[i], (i == 0 ? 0 : targetEnds[i - 1])..<targetEnds[i])
    }
}
