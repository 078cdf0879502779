/// Learns byte-pair-encoding merges (Sennrich, Haddow & Birch 2016) from tokenized text, giving
/// exactly the merges, in the same order, that `subword-nmt learn-bpe` (0.3.8) gives on the same
/// input.
///
/// What "the same" takes, as subword-nmt does it:
/// - Words are the space-separated tokens of each line (split on U+0020 only, empty ones skipped);
///   a word is a sequence of Unicode scalars (code points, not grapheme clusters), its last one
///   carrying the end-of-word mark `</w>` (codes format 0.2).
/// - Each step merges the pair with the highest count; ties go to the pair that is greater as a
///   pair of strings, compared by code points (first symbol, then second), as Python's
///   `max(stats, key=lambda x: (stats[x], x))` decides.
/// - subword-nmt finds that maximum among a *pruned* table (pairs below a threshold set aside,
///   refreshed from the full table when the best pruned pair falls under it; pruned every 100
///   merges). The pruning is reproduced operation by operation, because its bookkeeping can
///   leave counts that differ from the true ones in rare cases (a merged symbol that already
///   existed by another route), and those counts decide later merges.
/// - Learning stops after `merges` merges, or earlier when the best count is below
///   `minimumFrequency`; with `totalSymbols` the number of distinct characters (word-internal
///   and word-final) is subtracted from `merges` first (subword-nmt's `--total-symbols`).
///
/// Tokens that contain other whitespace than U+0020 (a tab, U+00A0) are outside what this
/// promises (subword-nmt joins symbols with spaces and matches them with a regular expression
/// that treats any whitespace as a boundary); the project's tokenizer never writes such tokens.
public struct BPELearner {
    /// Distinct words (in first-seen order) with their counts.
    private var words = ByteInterner()
    private var counts: [Int] = []

    public init() {}

    /// Distinct words counted so far.
    public var wordCount: Int { words.count }

    /// Counts the space-separated tokens of one line (UTF-8, no newline). The leading and trailing
    /// `\r`, `\n` and spaces subword-nmt strips need no special case: empty tokens are skipped.
    public mutating func add(line: UnsafeBufferPointer<UInt8>) {
        var start = 0
        for i in 0...line.count where i == line.count || line[i] == 0x20 {
            if i > start {
                var end = i
                // subword-nmt strips "\r\n " from the line's ends only; a trailing "\r" of the
                // last token is removed with it.
                if i == line.count { while end > start && (line[end - 1] == 0x0D || line[end - 1] == 0x0A) { end -= 1 } }
                if end > start { add(word: UnsafeBufferPointer(rebasing: line[start..<end]), count: 1) }
            }
            start = i + 1
        }
    }

    /// Adds `count` occurrences of `word` (a token without spaces), like a line of subword-nmt's
    /// `--dict-input`.
    public mutating func add(word: String, count: Int) {
        var word = word
        word.withUTF8 { add(word: $0, count: count) }
    }

    private mutating func add(word: UnsafeBufferPointer<UInt8>, count: Int) {
        let k = words.index(of: word)
        if k == counts.count { counts.append(count) } else { counts[k] += count }
    }

    /// The merges, in order. `merges` ≥ 0 and `minimumFrequency` ≥ 1 (callers validate).
    /// `stopped` receives the count that stopped learning early (below `minimumFrequency`).
    public func learn(merges: Int, minimumFrequency: Int = 2, totalSymbols: Bool = false,
                      stopped: ((Int) -> Void)? = nil) -> BPECodes {
        var state = LearnerState(words: (0..<words.count).map { words.string($0) }, counts: counts)
        var budget = merges
        if totalSymbols { budget -= state.distinctCharacterCount() }
        let pairs = state.run(merges: max(budget, 0), minimumFrequency: max(minimumFrequency, 1), stopped: stopped)
        return BPECodes(version: .v0_2, merges: pairs)
    }
}

/// The merge loop on interned symbols: words are arrays of symbol ids, a pair is a UInt64 of two
/// ids, and `stats`/`bigStats`/`indices` mirror subword-nmt's dictionaries of the same names.
private struct LearnerState {
    /// Symbol spellings as UTF-8 (with `</w>` where a symbol ends a word), by id.
    var symbols: [[UInt8]] = []
    var symbolIDs: [[UInt8]: UInt32] = [:]
    var words: [[UInt32]] = []
    var frequencies: [Int] = []
    /// The pruned pair counts that the maximum is taken over.
    var stats = PairCounts()
    /// Every pair's count as of when it was last pruned from `stats`.
    var bigStats: [UInt64: Int] = [:]
    /// Per pair, (word, ±1) changes of how often the word holds it; their sum per word is
    /// subword-nmt's `indices[pair][word]`.
    var indices: [UInt64: [(word: Int32, delta: Int32)]] = [:]
    /// Scratch: per word, the summed index delta while a pair is being replaced.
    var scratch: [Int32]

    static let endOfWord: [UInt8] = Array("</w>".utf8)

    init(words text: [String], counts: [Int]) {
        scratch = Array(repeating: 0, count: text.count)
        words.reserveCapacity(text.count)
        for (word, count) in zip(text, counts) {
            var ids: [UInt32] = []
            let scalars = Array(word.unicodeScalars)
            for (k, scalar) in scalars.enumerated() {
                var bytes = Array(String(scalar).utf8)
                if k == scalars.count - 1 { bytes += LearnerState.endOfWord }
                ids.append(intern(bytes))
            }
            words.append(ids)
            frequencies.append(count)
        }
        // get_pair_statistics
        for (j, word) in words.enumerated() where word.count > 1 {
            let freq = frequencies[j]
            for k in 1..<word.count {
                let pair = LearnerState.pair(word[k - 1], word[k])
                bigStats[pair, default: 0] += freq
                indices[pair, default: []].append((Int32(j), 1))
            }
        }
        stats = PairCounts(bigStats)
    }

    mutating func intern(_ bytes: [UInt8]) -> UInt32 {
        if let id = symbolIDs[bytes] { return id }
        let id = UInt32(symbols.count)
        symbols.append(bytes)
        symbolIDs[bytes] = id
        return id
    }

    @inline(__always) static func pair(_ a: UInt32, _ b: UInt32) -> UInt64 { UInt64(a) << 32 | UInt64(b) }
    @inline(__always) static func first(_ p: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: p >> 32) }
    @inline(__always) static func second(_ p: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: p) }

    /// subword-nmt's `--total-symbols` correction: distinct word-internal plus word-final symbols.
    func distinctCharacterCount() -> Int {
        var inner = Set<UInt32>(), final = Set<UInt32>()
        for word in words {
            for id in word.dropLast() { inner.insert(id) }
            if let last = word.last { final.insert(last) }
        }
        return inner.count + final.count
    }

    /// Whether pair `a` ranks above pair `b` at equal counts: Python's tuple-of-str order, which
    /// is code point order, which is UTF-8 byte order.
    func pairGreater(_ a: UInt64, _ b: UInt64) -> Bool {
        let a1 = LearnerState.first(a), b1 = LearnerState.first(b)
        if a1 != b1 { return symbols[Int(b1)].lexicographicallyPrecedes(symbols[Int(a1)]) }
        let a2 = LearnerState.second(a), b2 = LearnerState.second(b)
        return symbols[Int(b2)].lexicographicallyPrecedes(symbols[Int(a2)])
    }

    /// `max(stats, key=lambda x: (stats[x], x))`, or nil when `stats` is empty.
    func mostFrequent() -> UInt64? {
        if stats.keys.isEmpty { return nil }
        return stats.keys.withUnsafeBufferPointer { keys in
            stats.values.withUnsafeBufferPointer { values in
                var best = keys[0], bestCount = values[0]
                for i in 1..<keys.count {
                    let count = values[i]
                    if count > bestCount || (count == bestCount && pairGreater(keys[i], best)) {
                        best = keys[i]
                        bestCount = count
                    }
                }
                return best
            }
        }
    }

    /// subword-nmt's `prune_stats`: pairs below `threshold` move from `stats` to `bigStats`.
    mutating func prune(_ threshold: Double) {
        var i = stats.keys.count - 1
        while i >= 0 {
            let count = stats.values[i]
            if Double(count) < threshold {
                let pair = stats.keys[i]
                stats.remove(at: i)
                if count < 0 { bigStats[pair, default: 0] += count } else { bigStats[pair] = count }
            }
            i -= 1
        }
    }

    mutating func run(merges: Int, minimumFrequency: Int, stopped: ((Int) -> Void)?) -> [(String, String)] {
        var result: [(String, String)] = []
        guard let initialMax = stats.values.max() else { return result }
        var threshold = Double(initialMax) / 10
        for i in 0..<merges {
            var best = mostFrequent()
            if best == nil || (i > 0 && Double(stats[best!] ?? 0) < threshold) {
                prune(threshold)
                stats = PairCounts(bigStats)
                guard let refreshed = mostFrequent() else { break }
                best = refreshed
                threshold = Double(stats[refreshed]! &* i) / (Double(i) + 10000.0)
                prune(threshold)
            }
            let pair = best!
            let frequency = stats[pair] ?? 0
            if frequency < minimumFrequency {
                stopped?(frequency)
                break
            }
            let a = LearnerState.first(pair), b = LearnerState.second(pair)
            result.append((String(decoding: symbols[Int(a)], as: UTF8.self), String(decoding: symbols[Int(b)], as: UTF8.self)))
            let merged = intern(symbols[Int(a)] + symbols[Int(b)])
            let changes = replace(pair, a, b, merged)
            update(pair, a, b, merged, changes)
            stats.set(pair, 0)
            if i % 100 == 0 { prune(threshold) }
        }
        return result
    }

    /// subword-nmt's `replace_pair`: in every word whose index count for `pair` is ≥ 1, merge the
    /// pair's non-overlapping occurrences left to right. Returns (word, old symbols).
    mutating func replace(_ pair: UInt64, _ a: UInt32, _ b: UInt32, _ merged: UInt32) -> [(Int, [UInt32])] {
        guard let log = indices[pair] else { return [] }
        var touched: [Int32] = []
        for (word, delta) in log {
            if scratch[Int(word)] == 0 { touched.append(word) }
            scratch[Int(word)] &+= delta
        }
        var changes: [(Int, [UInt32])] = []
        for word in touched {
            let sum = scratch[Int(word)]
            scratch[Int(word)] = 0
            guard sum >= 1 else { continue }
            let j = Int(word)
            let old = words[j]
            var new: [UInt32] = []
            new.reserveCapacity(old.count)
            var k = 0
            while k < old.count {
                if k + 1 < old.count && old[k] == a && old[k + 1] == b {
                    new.append(merged)
                    k += 2
                } else {
                    new.append(old[k])
                    k += 1
                }
            }
            words[j] = new
            changes.append((j, old))
        }
        // A word whose deltas summed to 0 after being touched keeps scratch 0: nothing to reset.
        return changes
    }

    /// subword-nmt's `update_pair_statistics`, step for step (including its special cases for
    /// "A B C B C" and "A BC BC").
    mutating func update(_ pair: UInt64, _ first: UInt32, _ second: UInt32, _ merged: UInt32,
                         _ changes: [(Int, [UInt32])]) {
        stats.set(pair, 0)
        indices[pair] = []
        for (j, old) in changes {
            let freq = frequencies[j]
            let word = words[j]
            let w = Int32(j)
            var i = 0
            while true {
                guard let found = old[i...].firstIndex(of: first) else { break }
                i = found
                if i < old.count - 1 && old[i + 1] == second {
                    if i > 0 {
                        let prev = LearnerState.pair(old[i - 1], old[i])
                        stats.add(prev, -freq)
                        indices[prev, default: []].append((w, -1))
                    }
                    if i < old.count - 2 {
                        if old[i + 2] != first || i >= old.count - 3 || old[i + 3] != second {
                            let next = LearnerState.pair(old[i + 1], old[i + 2])
                            stats.add(next, -freq)
                            indices[next, default: []].append((w, -1))
                        }
                    }
                    i += 2
                } else {
                    i += 1
                }
                if i >= old.count { break }
            }
            i = 0
            while i < word.count {
                guard let found = word[i...].firstIndex(of: merged) else { break }
                i = found
                if i > 0 {
                    let prev = LearnerState.pair(word[i - 1], word[i])
                    stats.add(prev, freq)
                    indices[prev, default: []].append((w, 1))
                }
                if i < word.count - 1 && word[i + 1] != merged {
                    let next = LearnerState.pair(word[i], word[i + 1])
                    stats.add(next, freq)
                    indices[next, default: []].append((w, 1))
                }
                i += 1
            }
        }
    }
}

/// subword-nmt's `stats` dictionary with its entries in two dense arrays, so that the maximum is a
/// tight loop; an index finds an entry, removal swaps the last entry into its place.
private struct PairCounts {
    var keys: [UInt64] = []
    var values: [Int] = []
    private var slots: [UInt64: Int] = [:]

    init() {}

    init(_ counts: [UInt64: Int]) {
        keys.reserveCapacity(counts.count)
        values.reserveCapacity(counts.count)
        slots.reserveCapacity(counts.count)
        for (key, value) in counts {
            slots[key] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    subscript(key: UInt64) -> Int? { slots[key].map { values[$0] } }

    /// `stats[key] += delta` of a defaultdict(int): a missing key starts at 0.
    mutating func add(_ key: UInt64, _ delta: Int) {
        if let i = slots[key] { values[i] += delta } else { append(key, delta) }
    }

    mutating func set(_ key: UInt64, _ value: Int) {
        if let i = slots[key] { values[i] = value } else { append(key, value) }
    }

    private mutating func append(_ key: UInt64, _ value: Int) {
        slots[key] = keys.count
        keys.append(key)
        values.append(value)
    }

    mutating func remove(at i: Int) {
        slots[keys[i]] = nil
        let last = keys.count - 1
        if i != last {
            keys[i] = keys[last]
            values[i] = values[last]
            slots[keys[i]] = i
        }
        keys.removeLast()
        values.removeLast()
    }
}
