import Basics

/// The built-in default parallel corpus: numbers in English words → the same numbers in French
/// words, split into disjoint train / valid / test sets, fully determined by a seed.
public struct SampleCorpus: Sendable {
    /// One split: line i of `source` translates to line i of `target`.
    public struct Split: Sendable, Equatable {
        public var source: [String]
        public var target: [String]
    }

    public var train: Split
    public var valid: Split
    public var test: Split

    /// Draws distinct numbers: a third below 1,000 and the rest below 1,000,000, so short and long
    /// sentences both occur. No number appears in two splits.
    public init(trainSize: Int = 20_000, validSize: Int = 500, testSize: Int = 500, seed: UInt64 = 1) {
        precondition(trainSize + validSize + testSize <= 500_000, "sample corpus too large")
        var rng = SplitMix64(seed: seed)
        var seen = Set<Int>()
        var numbers: [Int] = []
        numbers.reserveCapacity(trainSize + validSize + testSize)
        while numbers.count < trainSize + validSize + testSize {
            let small = rng.next() % 3 == 0
            let n = Int(rng.next() % (small ? 1_000 : 1_000_000))
            if seen.insert(n).inserted { numbers.append(n) }
        }
        func split(_ range: Range<Int>) -> Split {
            let slice = numbers[range]
            return Split(source: slice.map(NumberWords.english), target: slice.map(NumberWords.french))
        }
        train = split(0..<trainSize)
        valid = split(trainSize..<trainSize + validSize)
        test = split(trainSize + validSize..<trainSize + validSize + testSize)
    }
}
