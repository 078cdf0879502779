import Basics

/// Counts tokens and cuts a `Vocabulary`. Memory grows with the number of distinct tokens only.
public struct VocabularyBuilder {
    public let options: TokenizerOptions
    private var counts: [ByteKey: Int] = [:]
    /// Per separator of `add(pieces:separator:)`: how often each character occurs in the pieces.
    private var characterCounts: [String: [Unicode.Scalar: Int]] = [:]
    /// Tokens added so far, specials included.
    public private(set) var runningTokens = 0

    public init(options: TokenizerOptions) { self.options = options }

    /// Distinct tokens seen so far.
    public var typeCount: Int { counts.count }

    public mutating func add(tokens: [String]) {
        runningTokens += tokens.count
        for token in tokens { counts[ByteKey(token), default: 0] += 1 }
    }

    /// Counts subword pieces (non-final ones end in `separator`) like `add(tokens:)`, and how
    /// often each character (Unicode scalar, BPE's symbol) occurs in them: `build` keeps every
    /// character seen at least `minCount` times as a piece of its own in both forms, word-final
    /// (`c`) and non-final (`c` + `separator`), whatever the count of that form (0 when plain
    /// segmentation never leaves the character alone).
    ///
    /// Plain segmentation rarely leaves a character alone, but BPE-dropout (Provilkov et al.
    /// 2020) does; with the characters in the vocabulary (subword-nmt's merges start from
    /// characters), a piece the vocabulary lacks can be split into known ones (`TextSegmenter`'s
    /// dropout vocabulary) instead of becoming `<unk>`.
    public mutating func add(pieces: [String], separator: String) {
        add(tokens: pieces)
        let mark = Array(separator.utf8)
        var seen = characterCounts[separator, default: [:]]
        for piece in pieces {
            let bytes = Array(piece.utf8)
            let bare = bytes.count >= mark.count && !mark.isEmpty && bytes.suffix(mark.count).elementsEqual(mark)
                ? bytes.dropLast(mark.count) : bytes[...]
            for scalar in String(decoding: bare, as: UTF8.self).unicodeScalars { seen[scalar, default: 0] += 1 }
        }
        characterCounts[separator] = seen
    }

    /// The character pieces `build(minCount:)` keeps: both forms of every character that
    /// `add(pieces:separator:)` saw at least `minCount` times.
    public func characterPieces(minCount: Int = 1) -> Set<String> {
        var pieces: Set<String> = []
        for (separator, counts) in characterCounts {
            for (scalar, count) in counts where count >= max(minCount, 1) {
                pieces.insert(String(scalar))
                pieces.insert(String(scalar) + separator)
            }
        }
        return pieces
    }

    /// The reserved entries at ids 0–3, then every token seen at least `minCount` times and the
    /// character pieces of `add(pieces:separator:)` (`characterPieces(minCount:)`) whatever their
    /// own count, by count descending and then UTF-8 bytes ascending, cut to `maxSize` entries in
    /// all (reserved included; `maxSize` < 4 is a programmer error). The cut takes ordinary
    /// tokens first: character pieces go only when they alone outnumber the room (then the
    /// rarest go). A token spelled like a reserved name (`<unk>` in pretokenized text) is counted
    /// and kept as an ordinary word with its own id.
    public func build(minCount: Int = 1, maxSize: Int? = nil) -> Vocabulary {
        let reserved = TokenID.reservedCount
        precondition(maxSize.map { $0 >= reserved } ?? true, "maxSize \(maxSize!) leaves no room for the 4 reserved ids")
        typealias Entry = (token: String, count: Int)
        func ordered(_ a: Entry, _ b: Entry) -> Bool {
            a.count != b.count ? a.count > b.count : a.token.utf8.lexicographicallyPrecedes(b.token.utf8)
        }
        let characterForms = Set(characterPieces(minCount: minCount).map(ByteKey.init))
        var words: [Entry] = counts.filter { $0.value >= max(minCount, 1) && !characterForms.contains($0.key) }
            .map { (token: $0.key.string, count: $0.value) }
        var characters: [Entry] = characterForms.map { (token: $0.string, count: counts[$0] ?? 0) }
        words.sort(by: ordered)
        characters.sort(by: ordered)
        if let maxSize {
            let room = maxSize - reserved
            if characters.count > room { characters.removeSubrange(room...) }
            if words.count > room - characters.count { words.removeSubrange((room - characters.count)...) }
        }
        let kept = (words + characters).sorted(by: ordered)
        return Vocabulary(tokens: TokenID.reservedNames + kept.map(\.token),
                          counts: Array(repeating: 0, count: reserved) + kept.map(\.count), options: options)
    }

    /// How much of the counted text `vocabulary` covers.
    public func coverage(of vocabulary: Vocabulary) -> VocabularyCoverage {
        var keptTypes = 0, covered = 0
        for (key, count) in counts where vocabulary.contains(key.string) {
            keptTypes += 1
            covered += count
        }
        return VocabularyCoverage(typesSeen: counts.count, typesKept: keptTypes,
                                  runningTokens: runningTokens, runningTokensCovered: covered)
    }
}

/// Coverage figures for the `seq2seq vocab` report.
public struct VocabularyCoverage: Equatable, Sendable {
    /// Distinct tokens in the counted text.
    public var typesSeen: Int
    /// Of those, how many the vocabulary holds.
    public var typesKept: Int
    public var typesDropped: Int { typesSeen - typesKept }
    /// Token occurrences counted, and how many of them map to a real id (not `<unk>`).
    public var runningTokens: Int
    public var runningTokensCovered: Int

    // Alike on purpose: a public memberwise init, written out (Swift synthesizes only an internal one).
    public init(typesSeen: Int, typesKept: Int, runningTokens: Int, runningTokensCovered: Int) {
        self.typesSeen = typesSeen
        self.typesKept = typesKept
        self.runningTokens = runningTokens
        self.runningTokensCovered = runningTokensCovered
    }

    /// Share of running tokens covered, 0...1 (1 for empty input).
    public var coveredShare: Double {
        runningTokens == 0 ? 1 : Double(runningTokensCovered) / Double(runningTokens)
    }
}
