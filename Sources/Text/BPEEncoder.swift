import Basics

/// Applies BPE codes to tokenized text exactly as `subword-nmt apply-bpe` (0.3.8) does
/// (Sennrich et al. 2016), with a per-word cache.
///
/// A word (a space-separated token, a sequence of Unicode scalars) starts as its characters, the
/// last one marked with `</w>` (codes 0.2; a separate `</w>` symbol for 0.1). Repeatedly, the
/// adjacent pair with the best (lowest) rank in the codes is merged everywhere in the word, left
/// to right without overlaps, until no adjacent pair has a rank. Every piece but the word's last
/// is written with `separator` appended (`hel@@ lo`).
///
/// - `vocabulary` (subword-nmt's `--vocabulary`, entries counted at least `--vocabulary-threshold`
///   times): a piece the vocabulary lacks (a non-final piece is looked up with the separator
///   appended) is split again by undoing the merge that made it, recursively, until every piece
///   is known or a single character. An empty vocabulary checks nothing, as in subword-nmt.
/// - `glossaries` (regular expressions, subword-nmt's `--glossaries`): each match is cut out of a
///   word and kept whole; a word that is a whole match is not split.
/// - `dropout` p (Provilkov et al. 2020): each candidate merge of each step is skipped with
///   probability p, drawn from a `SplitMix64`; such words bypass the cache.
///
/// Not thread-safe (the cache): use one encoder per thread.
public final class BPEEncoder {
    public let codes: BPECodes
    /// Appended to every piece but a word's last (subword-nmt's default `@@`).
    public let separator: String
    private let separatorBytes: [UInt8]
    /// Symbol spelling (UTF-8, `</w>` included where it ends a word) → id.
    private let symbolIDs: [[UInt8]: Int32]
    /// Pair of symbol ids → (rank, id of the merged symbol); the first listing of a pair wins.
    private var ranks: [UInt64: (rank: Int32, merged: Int32)] = [:]
    /// Merged spelling → the pair that makes it, for undoing merges (`--vocabulary`).
    private var reverse: [[UInt8]: ([UInt8], [UInt8])] = [:]
    private let vocabulary: Set<[UInt8]>
    /// `knownPieces` was given: the split also handles final pieces no `X </w>` merge undoes.
    private let splitsEveryFinal: Bool
    private let glossaries: [ICURegex]
    private let glossaryWhole: [ICURegex]
    private let glossaryAny: ICURegex?
    /// Word bytes → pieces (as byte ranges' contents), after the vocabulary check.
    private var cache: [[UInt8]: [[UInt8]]] = [:]
    /// Without glossaries: word bytes → its output (pieces with separators, space-separated).
    private var wordCache = WordCache()
    private var scratch: [UInt8] = []
    private let endOfWordID: Int32

    private static let endOfWord: [UInt8] = Array("</w>".utf8)

    /// Bytes of cached words and their pieces above which the word cache starts empty again
    /// (default 32 MiB, about a million words; a cache changes no output), so memory stays bounded
    /// on input with millions of distinct tokens.
    public var cacheLimitBytes: Int {
        get { wordCache.maximumArenaBytes }
        set { wordCache.maximumArenaBytes = newValue }
    }
    /// Caches `pieces` for `word` (glossary path), emptying the cache first once it holds a
    /// million words, for the same bound as `wordCache`.
    private func remember(_ word: UnsafeBufferPointer<UInt8>, as pieces: [[UInt8]]) {
        if cache.count >= 1 << 20 { cache.removeAll() }
        cache[Array(word)] = pieces
    }

    /// Bytes held by the word cache now (at most `cacheLimitBytes`).
    public var cacheBytes: Int { wordCache.arenaBytes }

    /// - Parameters:
    ///   - merges: use only the first `merges` codes (subword-nmt's `--merges`); nil for all.
    ///   - vocabulary: the accepted pieces (see `BPEVocabularyFile`); nil or empty for none.
    ///   - glossaries: regular expressions of words never split.
    ///   - knownPieces: for the model pipeline's BPE-dropout (`TextSegmenter`), not subword-nmt's
    ///     output: pieces checked like `vocabulary`'s, compared as UTF-8 bytes (a `Set<String>`
    ///     would merge canonically equivalent spellings). A final piece that no merge with `</w>`
    ///     made, or whose undoing leaves a bare `</w>` (codes 0.1), is split by the merge that made
    ///     its spelling instead, so with every character in both forms every piece reaches known
    ///     ones; subword-nmt keeps such a piece whole.
    /// - Throws: `TextError.invalidOptions` for a glossary that is not a valid regular expression.
    public init(codes: BPECodes, merges: Int? = nil, separator: String = "@@",
                vocabulary: Set<String>? = nil, glossaries: [String] = [], knownPieces: [String]? = nil) throws {
        self.codes = codes
        self.separator = separator
        separatorBytes = Array(separator.utf8)
        self.vocabulary = Set((vocabulary ?? []).map { Array($0.utf8) } + (knownPieces ?? []).map { Array($0.utf8) })
        splitsEveryFinal = knownPieces != nil
        for pattern in glossaries { _ = try ICURegex(pattern) }  // errors name the pattern as given
        self.glossaries = try glossaries.map { try ICURegex("(\($0))") }
        glossaryWhole = try glossaries.map { try ICURegex("^\($0)$") }
        glossaryAny = glossaries.isEmpty ? nil : try ICURegex("^(\(glossaries.joined(separator: "|")))$")
        var symbolIDs: [[UInt8]: Int32] = [:]
        func intern(_ bytes: [UInt8]) -> Int32 {
            if let id = symbolIDs[bytes] { return id }
            let id = Int32(symbolIDs.count)
            symbolIDs[bytes] = id
            return id
        }
        endOfWordID = intern(BPEEncoder.endOfWord)
        let used = merges.map { min(max($0, 0), codes.merges.count) } ?? codes.merges.count
        var lastListing: [UInt64: Int] = [:]
        for (rank, (left, right)) in codes.merges.prefix(used).enumerated() {
            let l = Array(left.utf8), r = Array(right.utf8)
            let key = BPEEncoder.pairKey(intern(l), intern(r))
            let merged = intern(l + r)
            if ranks[key] == nil { ranks[key] = (Int32(rank), merged) }
            lastListing[key] = rank
        }
        // subword-nmt's reverse table keeps, for each merged spelling, the pair listed last the
        // earliest (its dict iteration order); without duplicates, the first listed pair.
        var reverseRank: [[UInt8]: Int] = [:]
        for (left, right) in codes.merges.prefix(used) {
            let l = Array(left.utf8), r = Array(right.utf8)
            let last = lastListing[BPEEncoder.pairKey(symbolIDs[l]!, symbolIDs[r]!)]!
            if let known = reverseRank[l + r], known <= last { continue }
            reverseRank[l + r] = last
            reverse[l + r] = (l, r)
        }
        self.symbolIDs = symbolIDs
    }

    @inline(__always) private static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    // MARK: Lines and tokens

    /// Segments one line of space-separated tokens (UTF-8, no newline) and appends it to
    /// `output`: subword-nmt's `process_line` (leading and trailing spaces kept, runs of spaces
    /// inside collapsed to one).
    public func appendSegmented(line: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        var s = 0, e = line.count
        while s < e && BPEEncoder.isStripped(line[s]) { s += 1 }
        output.append(contentsOf: line[0..<s])
        while e > s && BPEEncoder.isStripped(line[e - 1]) { e -= 1 }
        var first = true
        var start = s
        for i in s...e where i == e || line[i] == 0x20 {
            if i > start {
                if !first { output.append(0x20) }
                first = false
                var none: BPEDropout? = nil
                appendWord(UnsafeBufferPointer(rebasing: line[start..<i]), to: &output, dropout: &none)
            }
            start = i + 1
        }
        if e < line.count && s < line.count { output.append(contentsOf: line[e..<line.count]) }
    }

    /// Segments `tokens` (words without spaces) into pieces, separators attached.
    public func segment(_ tokens: [String]) -> [String] {
        var none: BPEDropout? = nil
        return segment(tokens, dropout: &none)
    }

    /// Segments `tokens` with BPE-dropout: merges are skipped with probability
    /// `dropout.probability`, drawn from (and advancing) `dropout.generator`.
    public func segment(_ tokens: [String], dropout: inout BPEDropout?) -> [String] {
        var result: [String] = []
        var out: [UInt8] = []
        for var token in tokens where !token.isEmpty {
            out.removeAll(keepingCapacity: true)
            token.withUTF8 { appendWord($0, to: &out, dropout: &dropout) }
            for piece in out.split(separator: 0x20) { result.append(String(decoding: piece, as: UTF8.self)) }
        }
        return result
    }

    @inline(__always) private static func isStripped(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D }

    /// One word's pieces with separators, space-separated, appended to `output`.
    private func appendWord(_ word: UnsafeBufferPointer<UInt8>, to output: inout [UInt8], dropout: inout BPEDropout?) {
        if glossaries.isEmpty {
            if dropout != nil {
                appendPieces(encode(word, dropout: &dropout), last: true, to: &output)
                return
            }
            if wordCache.appendValue(for: word, to: &output) { return }
            scratch.removeAll(keepingCapacity: true)
            appendPieces(encode(word, dropout: &dropout), last: true, to: &scratch)
            output.append(contentsOf: scratch)
            wordCache.insert(key: word, value: scratch)
            return
        }
        let segments = isolateGlossaries(String(decoding: word, as: UTF8.self))
        for (k, segment) in segments.enumerated() {
            var bytes = Array(segment.utf8)
            let pieces = bytes.withUnsafeBufferPointer { encode($0, dropout: &dropout) }
            if k > 0 { output.append(0x20) }
            appendPieces(pieces, last: k == segments.count - 1, to: &output)
            bytes.removeAll()
        }
    }

    private func appendPieces(_ pieces: [[UInt8]], last: Bool, to output: inout [UInt8]) {
        for (k, piece) in pieces.enumerated() {
            if k > 0 { output.append(0x20) }
            output.append(contentsOf: piece)
            if !(last && k == pieces.count - 1) { output.append(contentsOf: separatorBytes) }
        }
    }

    // MARK: Glossaries

    /// subword-nmt's `_isolate_glossaries`: every glossary in turn cuts its matches out of the
    /// segments so far.
    private func isolateGlossaries(_ word: String) -> [String] {
        var segments = [word]
        for k in glossaries.indices {
            segments = segments.flatMap { isolate($0, k) }
        }
        return segments
    }

    /// subword-nmt's `isolate_glossary`.
    private func isolate(_ word: String, _ k: Int) -> [String] {
        if glossaryWhole[k].matchesAtStart(word) || !glossaries[k].occurs(in: word) { return [word] }
        var pieces = glossaries[k].split(word)
        let ending = pieces.removeLast() ?? ""
        var result = pieces.compactMap { $0 }.filter { !$0.isEmpty }
        if !ending.isEmpty {
            var e = Substring(ending)
            while let c = e.first, c == "\r" || c == "\n" || c == " " { e.removeFirst() }
            while let c = e.last, c == "\r" || c == "\n" || c == " " { e.removeLast() }
            result.append(String(e))
        }
        return result
    }

    // MARK: One word

    private struct Symbol {
        var start: Int32
        var end: Int32
        /// -1 for a spelling no code mentions.
        var id: Int32
    }

    /// subword-nmt's `encode`: the pieces of one word (no separators), cached unless dropout.
    private func encode(_ word: UnsafeBufferPointer<UInt8>, dropout: inout BPEDropout?) -> [[UInt8]] {
        if dropout == nil && !glossaries.isEmpty, let known = cache[Array(word)] { return known }
        if let glossaryAny, glossaryAny.matchesAtStart(String(decoding: word, as: UTF8.self)) {
            let whole = [Array(word)]
            if dropout == nil && !glossaries.isEmpty { remember(word, as: whole) }
            return whole
        }
        // Scalar boundaries (the input is valid UTF-8).
        var symbols: [Symbol] = []
        var i = 0
        while i < word.count {
            let b = word[i]
            let length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
            let end = min(i + length, word.count)
            symbols.append(Symbol(start: Int32(i), end: Int32(end), id: -1))
            i = end
        }
        // A one-character word is returned as it is, uncached and unchecked (subword-nmt).
        if symbols.count <= 1 { return [Array(word)] }
        for k in symbols.indices {
            var bytes = Array(word[Int(symbols[k].start)..<Int(symbols[k].end)])
            if k == symbols.count - 1 && codes.version == .v0_2 { bytes += BPEEncoder.endOfWord }
            symbols[k].id = symbolIDs[bytes] ?? -1
        }
        if codes.version == .v0_1 {
            symbols.append(Symbol(start: Int32(word.count), end: Int32(word.count), id: endOfWordID))
        }
        var kept: [Bool] = []
        while symbols.count > 1 {
            var bestRank = Int32.max, bestKey: UInt64 = 0, bestMerged: Int32 = -1
            if dropout != nil { kept.removeAll(keepingCapacity: true) }
            for k in 0..<(symbols.count - 1) {
                if let p = dropout?.probability {
                    // subword-nmt draws for every adjacent pair, then looks the pair up.
                    let draw = Double(dropout!.generator.next() >> 11) * 0x1.0p-53
                    let keep = draw > p
                    kept.append(keep)
                    if !keep { continue }
                }
                let a = symbols[k].id, b = symbols[k + 1].id
                if a < 0 || b < 0 { continue }
                let key = BPEEncoder.pairKey(a, b)
                if let entry = ranks[key], entry.rank < bestRank {
                    bestRank = entry.rank
                    bestKey = key
                    bestMerged = entry.merged
                }
            }
            if bestMerged < 0 { break }
            var merged: [Symbol] = []
            merged.reserveCapacity(symbols.count)
            var k = 0
            while k < symbols.count {
                if k + 1 < symbols.count && (dropout == nil || kept[k]) && symbols[k].id >= 0 && symbols[k + 1].id >= 0
                    && BPEEncoder.pairKey(symbols[k].id, symbols[k + 1].id) == bestKey {
                    merged.append(Symbol(start: symbols[k].start, end: symbols[k + 1].end, id: bestMerged))
                    k += 2
                } else {
                    merged.append(symbols[k])
                    k += 1
                }
            }
            symbols = merged
        }
        // `</w>` is never printed: an empty last symbol is the bare end-of-word mark (0.1).
        if let last = symbols.last, last.start == last.end { symbols.removeLast() }
        var pieces = symbols.map { Array(word[Int($0.start)..<Int($0.end)]) }
        if !vocabulary.isEmpty { pieces = checkVocabulary(pieces) }
        if dropout == nil && !glossaries.isEmpty { remember(word, as: pieces) }
        return pieces
    }

    // MARK: Vocabulary

    /// subword-nmt's `check_vocab_and_split`.
    private func checkVocabulary(_ pieces: [[UInt8]]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for piece in pieces.dropLast() {
            if vocabulary.contains(piece + separatorBytes) { out.append(piece) } else { splitRecursively(piece, final: false, into: &out) }
        }
        let last = pieces[pieces.count - 1]
        if vocabulary.contains(last) { out.append(last) } else { splitRecursively(last, final: true, into: &out) }
        return out
    }

    /// subword-nmt's `recursive_split`: undo the merge that made `segment` until every piece is
    /// in the vocabulary or made by no merge.
    private func splitRecursively(_ segment: [UInt8], final: Bool, into out: inout [[UInt8]]) {
        var left: [UInt8], right: [UInt8]
        if final {
            if let pair = reverse[segment + BPEEncoder.endOfWord], !(splitsEveryFinal && pair.1 == BPEEncoder.endOfWord) {
                left = pair.0
                right = BPEEncoder.droppingLastScalars(pair.1, 4)
            } else if splitsEveryFinal, let pair = reverse[segment] {
                (left, right) = pair
            } else {
                out.append(segment)
                return
            }
        } else {
            guard let pair = reverse[segment] else { out.append(segment); return }
            (left, right) = pair
        }
        if vocabulary.contains(left + separatorBytes) { out.append(left) } else { splitRecursively(left, final: false, into: &out) }
        if (final && vocabulary.contains(right)) || (!final && vocabulary.contains(right + separatorBytes)) {
            out.append(right)
        } else {
            splitRecursively(right, final: final, into: &out)
        }
    }

    /// Python's `s[:-n]` on code points.
    private static func droppingLastScalars(_ bytes: [UInt8], _ n: Int) -> [UInt8] {
        var end = bytes.count
        var dropped = 0
        while end > 0 && dropped < n {
            end -= 1
            while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            dropped += 1
        }
        return Array(bytes[0..<end])
    }
}
