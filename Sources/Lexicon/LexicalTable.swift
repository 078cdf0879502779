/// An IBM Model 1 lexical translation table p(t | s) (Brown, Della Pietra, Della Pietra & Mercer
/// 1993, "The Mathematics of Statistical Machine Translation", section 4.1), trained by EM on a
/// ``ParallelIDCorpus``; the table Marian's lexical shortlists are made from (fast_align +
/// `extract_lex`, here without the diagonal prior).
///
/// Model 1 explains each target token t_j of a pair by one source position a_j ∈ 0…l, chosen
/// uniformly, position 0 being the NULL word: P(t | s) = ∏_j 1/(l+1) · Σ_i p(t_j | s_i). One EM
/// iteration collects, for every target position j and source position i (NULL included, a word
/// repeated in the source counted once per position), the expected count
/// c(t_j | s_i) += p(t_j | s_i) / Σ_i' p(t_j | s_i'), then sets p(t | s) = c(t | s) / Σ_t' c(t' | s).
/// Training starts from the uniform table, so the first iteration's counts are 1/(l+1) per
/// co-occurrence.
///
/// Sparse: only pairs (s, t) that occur in the same sentence pair have an entry (every other
/// p(t | s) stays 0 under EM). Row s holds its target ids ascending with their probabilities, so
/// memory is 12 bytes per distinct co-occurring pair (4 for t, 8 for p) plus a count of 8 during
/// EM; the number of pairs grows with the corpus roughly like its vocabularies' product of the
/// words that meet, far below Vs·Vt. Deterministic: counts are summed in corpus order, in
/// Double, on one thread, so the same corpus gives the same table bit for bit.
public final class LexicalTable {
    /// Vs: source ids are 0..<Vs; the NULL word is row Vs.
    public let sourceVocabularySize: Int
    /// Vt: target ids are 0..<Vt.
    public let targetVocabularySize: Int
    /// [Vs + 2]: row s is entries rowStart[s] ..< rowStart[s+1] (row Vs is NULL).
    private let rowStart: [Int]
    /// [entries]: target id of each entry, ascending within a row.
    private let columns: [Int32]
    /// [entries]: p(t | s) of each entry.
    public private(set) var probabilities: [Double]
    /// EM iterations run so far.
    public private(set) var iterations = 0
    /// [Vt]: how often each target id occurs on the target side (the frequent list's counts).
    public let targetCounts: [Int]
    private let corpus: ParallelIDCorpus

    /// The NULL word's row (source position 0 of every pair).
    public var nullRow: Int { sourceVocabularySize }
    /// Distinct (s, t) pairs that co-occur, NULL's included: the table's size.
    public var entryCount: Int { columns.count }

    /// Collects the co-occurrences of `corpus` (every id must be inside its vocabulary: the caller
    /// maps tokens with the vocabularies, which only make ids below their size) and sets the
    /// uniform table; call ``train(iterations:)`` next. Peak memory while collecting: 8 bytes per
    /// distinct pair plus a 4 M-pair (32 MB) sorting buffer.
    public init(corpus: ParallelIDCorpus, sourceVocabularySize: Int, targetVocabularySize: Int) {
        precondition(corpus.sourceIDs.allSatisfy { $0 >= 0 && Int($0) < sourceVocabularySize }
                     && corpus.targetIDs.allSatisfy { $0 >= 0 && Int($0) < targetVocabularySize },
                     "LexicalTable: an id outside the vocabularies \(sourceVocabularySize)/\(targetVocabularySize)")
        self.corpus = corpus
        self.sourceVocabularySize = sourceVocabularySize
        self.targetVocabularySize = targetVocabularySize
        var counts = [Int](repeating: 0, count: targetVocabularySize)
        for t in corpus.targetIDs { counts[Int(t)] += 1 }
        targetCounts = counts
        // Keys s·2³² + t, sorted and deduplicated chunk by chunk, then merged.
        var unique: [UInt64] = [], chunk: [UInt64] = []
        let chunkLimit = 1 << 22
        func flush() {
            chunk.sort()
            var merged: [UInt64] = []
            merged.reserveCapacity(unique.count + chunk.count)
            var i = 0, j = 0
            while i < unique.count || j < chunk.count {
                let next: UInt64
                if j == chunk.count || (i < unique.count && unique[i] <= chunk[j]) { next = unique[i]; i += 1 } else { next = chunk[j]; j += 1 }
                if merged.last != next { merged.append(next) }
            }
            unique = merged
            chunk.removeAll(keepingCapacity: true)
        }
        let null = UInt64(sourceVocabularySize)
        for p in 0..<corpus.count {
            let (s, t) = corpus.ranges(p)
            for j in t {
                let target = UInt64(corpus.targetIDs[j])
                chunk.append(null << 32 | target)
                for i in s { chunk.append(UInt64(corpus.sourceIDs[i]) << 32 | target) }
            }
            if chunk.count >= chunkLimit { flush() }
        }
        flush()
        var starts = [Int](repeating: 0, count: sourceVocabularySize + 2)
        for key in unique { starts[Int(key >> 32) + 1] += 1 }
        for r in 0..<(sourceVocabularySize + 1) { starts[r + 1] += starts[r] }
        rowStart = starts
        columns = unique.map { Int32(truncatingIfNeeded: $0 & 0xFFFF_FFFF) }
        probabilities = [Double](repeating: 1, count: unique.count)
    }

    /// The entry of (row s, target t); the pair must co-occur in the corpus.
    @inline(__always)
    private func entry(_ s: Int, _ t: Int32) -> Int {
        var lo = rowStart[s], hi = rowStart[s + 1]
        while lo < hi {
            let mid = (lo + hi) >> 1
            if columns[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Runs `iterations` EM iterations (see the type's documentation).
    public func train(iterations count: Int) {
        var expected = [Double](repeating: 0, count: columns.count)
        var positions: [Int] = []
        for _ in 0..<count {
            for k in expected.indices { expected[k] = 0 }
            for p in 0..<corpus.count {
                let (s, t) = corpus.ranges(p)
                for j in t {
                    let target = corpus.targetIDs[j]
                    positions.removeAll(keepingCapacity: true)
                    positions.append(entry(nullRow, target))
                    for i in s { positions.append(entry(Int(corpus.sourceIDs[i]), target)) }
                    var total = 0.0
                    for k in positions { total += probabilities[k] }
                    for k in positions { expected[k] += probabilities[k] / total }
                }
            }
            for r in 0...sourceVocabularySize {
                var sum = 0.0
                for k in rowStart[r]..<rowStart[r + 1] { sum += expected[k] }
                for k in rowStart[r]..<rowStart[r + 1] { probabilities[k] = expected[k] / sum }
            }
            iterations += 1
        }
    }

    /// p(t | s) for source id s (or ``nullRow``); 0 for a pair that never co-occurs. Before any
    /// iteration every co-occurring pair reads 1 (the uniform table, unnormalised).
    public func probability(target t: Int32, source s: Int) -> Double {
        let k = entry(s, t)
        return k < rowStart[s + 1] && columns[k] == t ? probabilities[k] : 0
    }

    /// The `k` most probable target ids of source id s (or ``nullRow``): by p(t | s) descending,
    /// ties by the lower id first.
    public func best(_ k: Int, source s: Int) -> [Int32] {
        let row = rowStart[s]..<rowStart[s + 1]
        let ranked = row.sorted { a, b in
            probabilities[a] != probabilities[b] ? probabilities[a] > probabilities[b] : columns[a] < columns[b]
        }
        return ranked.prefix(k).map { columns[$0] }
    }
}
