import Basics

/// A lexical shortlist: for each source word the target words worth scoring, plus the target words
/// always scored (the most frequent ones, `</s>` and `<unk>`). The output layer of a batch then
/// runs over ``outputIDs(for:)`` only, the union of its source words' lists and the frequent list
/// (Marian's and CTranslate2's vocabulary restriction).
///
/// Built from a ``LexicalTable`` (IBM Model 1) by ``init(table:topK:frequent:)``, stored in a
/// model folder as `shortlist.bin` (``encoded()``, ``init(decoding:)``).
public struct Shortlist: Sendable, Equatable {
    /// Vs and Vt: the vocabularies the lists were built with (checked against the model folder's).
    public let sourceVocabularySize: Int
    public let targetVocabularySize: Int
    /// The k the lists were built with (a list is shorter when its word met fewer target words).
    public let topK: Int
    /// The frequent list: ascending target ids, `</s>` and `<unk>` included.
    public let frequent: [Int32]
    /// [Vs + 1]: source word s's list is `targets[offsets[s] ..< offsets[s+1]]`.
    let offsets: [Int]
    /// Each source word's target ids, ascending within a list.
    let targets: [Int32]

    /// The lists as given; every id must be inside the vocabularies and each list (and `frequent`)
    /// ascending without repeats, else ``ShortlistFormatError``.
    public init(sourceVocabularySize: Int, targetVocabularySize: Int, topK: Int, frequent: [Int32],
                lists: [[Int32]]) throws {
        guard lists.count == sourceVocabularySize else {
            throw ShortlistFormatError("\(lists.count) source lists for a source vocabulary of \(sourceVocabularySize)")
        }
        var offsets = [0]
        offsets.reserveCapacity(lists.count + 1)
        for list in lists { offsets.append(offsets.last! + list.count) }
        try self.init(sourceVocabularySize: sourceVocabularySize, targetVocabularySize: targetVocabularySize,
                      topK: topK, frequent: frequent, offsets: offsets, targets: lists.flatMap { $0 })
    }

    init(sourceVocabularySize: Int, targetVocabularySize: Int, topK: Int, frequent: [Int32],
         offsets: [Int], targets: [Int32]) throws {
        self.sourceVocabularySize = sourceVocabularySize
        self.targetVocabularySize = targetVocabularySize
        self.topK = topK
        self.frequent = frequent
        self.offsets = offsets
        self.targets = targets
        try check()
    }

    private func check() throws {
        let v = targetVocabularySize
        func ascending(_ ids: ArraySlice<Int32>, _ what: String) throws {
            var previous: Int32 = -1
            for id in ids {
                guard id >= 0 && Int(id) < v else { throw ShortlistFormatError("\(what) holds target id \(id), outside the target vocabulary of \(v)") }
                guard id > previous else { throw ShortlistFormatError("\(what) is not ascending (\(previous) then \(id))") }
                previous = id
            }
        }
        try ascending(frequent[...], "the frequent list")
        guard offsets.count == sourceVocabularySize + 1, offsets.first == 0, offsets.last == targets.count else {
            throw ShortlistFormatError("list offsets do not cover the \(targets.count) target ids")
        }
        for s in 0..<sourceVocabularySize {
            guard offsets[s] <= offsets[s + 1] else { throw ShortlistFormatError("list offsets decrease at source id \(s)") }
            try ascending(targets[offsets[s]..<offsets[s + 1]], "the list of source id \(s)")
        }
    }

    /// The lists of an IBM Model 1 table: for each source id its `topK` most probable target ids
    /// (p(t | s) descending, ties by lower id; ``LexicalTable/best(_:source:)``), and as the
    /// frequent list the `frequent` target ids seen most often in the table's corpus (count
    /// descending, ties by lower id) plus `</s>` and `<unk>`.
    public init(table: LexicalTable, topK: Int, frequent: Int) {
        let counts = table.targetCounts
        let seen = counts.indices.filter { counts[$0] > 0 }
            .sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
        let always = Set(seen.prefix(frequent).map { Int32($0) } + [TokenID.end, TokenID.unknown])
            .filter { Int($0) < table.targetVocabularySize }
        // A table's own ids, each list sorted and duplicate-free: every check of the other
        // initialisers holds by construction.
        var offsets = [0], targets: [Int32] = []
        for s in 0..<table.sourceVocabularySize {
            targets += table.best(topK, source: s).sorted()
            offsets.append(targets.count)
        }
        sourceVocabularySize = table.sourceVocabularySize
        targetVocabularySize = table.targetVocabularySize
        self.topK = topK
        self.frequent = always.sorted()
        self.offsets = offsets
        self.targets = targets
    }

    /// Source id s's list (ascending target ids); empty for an id outside the vocabulary.
    public func candidates(of s: Int32) -> ArraySlice<Int32> {
        guard s >= 0 && Int(s) < sourceVocabularySize else { return [] }
        return targets[offsets[Int(s)]..<offsets[Int(s) + 1]]
    }

    /// The ascending union of the lists of every source id in `sources` and the frequent list:
    /// the output ids a batch of these sentences is decoded over.
    public func outputIDs(for sources: [[Int32]]) -> [Int32] {
        var member = [Bool](repeating: false, count: targetVocabularySize)
        for id in frequent { member[Int(id)] = true }
        for sentence in sources {
            for s in sentence { for t in candidates(of: s) { member[Int(t)] = true } }
        }
        return member.indices.filter { member[$0] }.map { Int32($0) }
    }

    /// The total number of (source word, target word) entries in the lists.
    public var entryCount: Int { targets.count }
}
