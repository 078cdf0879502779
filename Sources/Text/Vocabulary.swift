import Basics

/// Token ↔ id table with counts, as built by `VocabularyBuilder` and stored in `.vocab` files.
///
/// Ids 0–3 are the reserved `TokenID`s (pad, unknown, start, end) and are never reached from text:
/// `id(_:)` maps a token spelled `<pad>`, `<unk>`, `<s>` or `</s>` (say, in `--pretokenized`
/// input) like any other word, to its own ordinary entry (id ≥ 4) when the vocabulary holds one,
/// else to `TokenID.unknown`. So a literal `</s>` inside a sentence never ends it.
///
/// File format v1 (UTF-8 text, `\n` line ends, written by `write(to:)`):
/// ```
/// #seq2seq-vocab v1 tokens=<N> normalize=nfc lowercase=false lang=en split-numbers=false joiners=true
/// <pad>	0
/// <unk>	0
/// <s>	0
/// </s>	0
/// <token>	<count>
/// ...
/// ```
/// - Line 1: magic `#seq2seq-vocab`, format version `v1`, `tokens=N` (entries that follow,
///   specials included; a shorter file is reported as truncated), then `TokenizerOptions.summary`.
/// - Lines 2…N+1: token, one TAB, its count in the training text (decimal). Line k+2 holds id k.
///   The four reserved entries (`TokenID.reservedNames`) come first with count 0 and are recognised
///   by position; then the words, by count descending, then UTF-8 bytes ascending.
/// - Tokens are compared as bytes (Swift `String ==` would merge canonically equivalent
///   spellings) and never contain TAB, newline or space. Each word appears once; a word spelled
///   like a reserved name (counted in the text) is an ordinary entry of its own after line 5.
public struct Vocabulary: Sendable {
    public static let magic = "#seq2seq-vocab"
    public static let formatVersion = 1

    /// [V] spellings, indexed by id.
    public let tokens: [String]
    /// [V] occurrences counted when building; 0 for the reserved entries.
    public let counts: [Int]
    /// The tokenizer options the counted text was tokenized with.
    public let options: TokenizerOptions
    /// Words (ids ≥ 4) only: the reserved ids are never looked up by spelling.
    private let index: [ByteKey: Int32]

    /// V, reserved entries included.
    public var count: Int { tokens.count }

    /// `tokens` must start with `TokenID.reservedNames` and hold no word twice (as bytes); a word
    /// may be spelled like a reserved name. Breaking either is a programmer error (files are
    /// checked by `init(bytes:path:)` first).
    public init(tokens: [String], counts: [Int], options: TokenizerOptions) {
        precondition(tokens.count == counts.count, "tokens \(tokens.count) vs counts \(counts.count)")
        precondition(Array(tokens.prefix(TokenID.reservedCount)) == TokenID.reservedNames,
                     "vocabulary must start with the reserved entries \(TokenID.reservedNames)")
        var index: [ByteKey: Int32] = [:]
        index.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated().dropFirst(TokenID.reservedCount) {
            let previous = index.updateValue(Int32(i), forKey: ByteKey(token))
            precondition(previous == nil, "duplicate token '\(token)'")
        }
        self.tokens = tokens
        self.counts = counts
        self.options = options
        self.index = index
    }

    /// The id of the word `token` (≥ 4), or `TokenID.unknown` when the vocabulary does not hold
    /// it as a word; never another reserved id, whatever the spelling.
    @inlinable public func id(_ token: String) -> Int32 { lookup(token) ?? TokenID.unknown }
    /// The spelling of `id` (0..<V); the reserved ids give their names (`<unk>`).
    public func token(_ id: Int32) -> String { tokens[Int(id)] }
    /// [n] ids of `tokens`, as `id(_:)`.
    public func ids(_ tokens: [String]) -> [Int32] { tokens.map(id) }
    /// Whether `token` is a word of the vocabulary (reserved entries do not count).
    public func contains(_ token: String) -> Bool { lookup(token) != nil }

    @usableFromInline func lookup(_ token: String) -> Int32? { index[ByteKey(token)] }

    /// The whole file as text.
    public func serialized() -> String {
        var text = "\(Vocabulary.magic) v\(Vocabulary.formatVersion) tokens=\(tokens.count) \(options.summary)\n"
        for (token, count) in zip(tokens, counts) {
            text += token
            text += "\t"
            text += String(count)
            text += "\n"
        }
        return text
    }

    // Alike on purpose: each file type's own public write and load; the work is shared (AtomicFileWriter, FileBytes).
    /// Writes `serialized()` to a temporary file in the same directory and renames it to `path`.
    /// Throws `FileError` naming `path`.
    public func write(to path: String) throws {
        try AtomicFileWriter.write(serialized().utf8, to: path, sync: false)
    }

    /// Loads a v1 file; every problem is a `TextError` naming `path` and the line.
    public init(contentsOf path: String) throws {
        try self.init(bytes: FileBytes.read(path), path: path)
    }

    /// Parses file contents; `path` only names the source in errors.
    public init(bytes: [UInt8], path: String) throws {
        func fail(_ line: Int, _ hint: String) -> TextError { .malformedVocabulary(file: path, line: line, hint: hint) }
        let regenerate = "regenerate it with `seq2seq vocab --input TEXT... --output \(path)`"
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard !bytes.isEmpty else { throw fail(1, "empty file, not a seq2seq vocabulary; \(regenerate)") }
        // A file written by `write` ends with a newline, so the split leaves one empty tail.
        guard lines.last?.isEmpty == true else {
            throw fail(lines.count, "truncated: the last line has no newline; \(regenerate)")
        }
        lines.removeLast()

        guard let header = String(validating: lines[0], as: UTF8.self),
              header.hasPrefix(Vocabulary.magic + " ") else {
            throw fail(1, "not a seq2seq vocabulary (the first line should start with "
                        + "'\(Vocabulary.magic) v\(Vocabulary.formatVersion)')")
        }
        var fields = header.split(separator: " ").dropFirst()
        let version = fields.popFirst().map(String.init) ?? ""
        guard version == "v\(Vocabulary.formatVersion)" else {
            throw fail(1, "vocabulary format \(version.isEmpty ? "(none)" : version) is not supported "
                        + "(this seq2seq reads v\(Vocabulary.formatVersion)); \(regenerate)")
        }
        guard let sizeField = fields.popFirst(), sizeField.hasPrefix("tokens="),
              let size = Int(sizeField.dropFirst(7)), size >= TokenID.reservedCount else {
            throw fail(1, "header lacks 'tokens=N' (N ≥ 4) after the version; \(regenerate)")
        }
        let options: TokenizerOptions
        do { options = try TokenizerOptions(summary: fields.joined(separator: " ")) } catch {
            throw fail(1, "bad tokenizer options in header: \(error)")
        }
        guard lines.count - 1 >= size else {
            throw fail(lines.count, "truncated: header says \(size) tokens but the file has \(lines.count - 1); "
                        + regenerate)
        }
        guard lines.count - 1 == size else {
            throw fail(size + 2, "header says \(size) tokens but the file has \(lines.count - 1)")
        }

        var tokens: [String] = [], counts: [Int] = []
        tokens.reserveCapacity(size)
        counts.reserveCapacity(size)
        var seen: [ByteKey: Int] = [:]
        for (offset, raw) in lines.dropFirst().enumerated() {
            let lineNumber = offset + 2
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw TextError.invalidUTF8(source: path, line: lineNumber)
            }
            let parts = text.utf8.split(separator: 0x09, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw fail(lineNumber, "expected 'token<TAB>count', found \(parts.count - 1) tabs")
            }
            let token = String(Substring(parts[0]))
            guard !token.isEmpty, !token.utf8.contains(0x20) else {
                throw fail(lineNumber, "token is empty or contains a space")
            }
            guard let count = Int(Substring(parts[1])), count >= 0 else {
                throw fail(lineNumber, "count '\(Substring(parts[1]))' is not a non-negative integer")
            }
            if offset < TokenID.reservedCount {
                if token != TokenID.reservedNames[offset] {
                    throw fail(lineNumber, "expected reserved token \(TokenID.reservedNames[offset]) at id \(offset)")
                }
            } else if let first = seen.updateValue(lineNumber, forKey: ByteKey(token)) {
                throw fail(lineNumber, "duplicate token '\(token)' (first on line \(first))")
            }
            tokens.append(token)
            counts.append(count)
        }
        self.init(tokens: tokens, counts: counts, options: options)
    }
}

/// A String compared and hashed by its UTF-8 bytes, not by canonical equivalence, so `é` and
/// `e\u{301}` stay distinct tokens when normalization is off and output is byte-deterministic.
@usableFromInline struct ByteKey: Hashable, Sendable {
    @usableFromInline let string: String
    @usableFromInline init(_ string: String) { self.string = string }

    @usableFromInline static func == (a: ByteKey, b: ByteKey) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }

    @usableFromInline func hash(into hasher: inout Hasher) {
        if string.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for byte in string.utf8 { hasher.combine(byte) }
        }
        hasher.combine(0xFF as UInt8)  // terminator: no valid UTF-8 contains 0xFF
    }
}
