import Basics
import Foundation
import Testing
import TestSupport
import Text

private func builder(_ lines: [String], options: TokenizerOptions = TokenizerOptions()) -> VocabularyBuilder {
    var builder = VocabularyBuilder(options: options)
    for line in lines { builder.add(tokens: line.split(separator: " ").map(String.init)) }
    return builder
}

private let sample = ["b a c a", "d a b", "c e", "a \u{E9} e\u{301}"]

@Test func orderIsSpecialsThenCountThenBytes() {
    let vocabulary = builder(sample).build()
    #expect(vocabulary.tokens == ["<pad>", "<unk>", "<s>", "</s>", "a", "b", "c", "d", "e", "e\u{301}", "\u{E9}"])
    #expect(vocabulary.counts == [0, 0, 0, 0, 4, 2, 2, 1, 1, 1, 1])
    #expect(vocabulary.id("a") == 4)
    #expect(vocabulary.id("zzz") == TokenID.unknown)
    #expect(vocabulary.token(TokenID.end) == "</s>")
    #expect(vocabulary.ids(["b", "nope"]) == [5, TokenID.unknown])
}

@Test func canonicallyEquivalentTokensStayDistinct() {
    let vocabulary = builder(sample).build()
    #expect(vocabulary.id("\u{E9}") != vocabulary.id("e\u{301}"))
}

@Test func sameInputGivesByteIdenticalFileInAnyOrder() {
    var rng = TestRNG(seed: 7)
    let tokens = sample.flatMap { $0.split(separator: " ").map(String.init) } + (0..<200).map { "t\($0 % 37)" }
    let reference = builder([tokens.joined(separator: " ")]).build(minCount: 2).serialized()
    for _ in 0..<5 {
        let shuffled = tokens.shuffled(using: &rng)
        #expect(builder([shuffled.joined(separator: " ")]).build(minCount: 2).serialized() == reference)
    }
}

@Test func minCountAndMaxSizeCut() {
    let counted = builder(sample)
    #expect(counted.build(minCount: 2).tokens.dropFirst(4) == ["a", "b", "c"])
    #expect(counted.build(maxSize: 6).tokens == ["<pad>", "<unk>", "<s>", "</s>", "a", "b"])
    #expect(counted.build(minCount: 5).count == 4)
    let coverage = counted.coverage(of: counted.build(minCount: 2))
    #expect(coverage == VocabularyCoverage(typesSeen: 7, typesKept: 3, runningTokens: 12, runningTokensCovered: 8))
    #expect(coverage.typesDropped == 4)
    #expect(abs(coverage.coveredShare - 8.0 / 12.0) < 1e-12)
}

@Test func textSpelledLikeAReservedNameNeverGetsAReservedID() {
    // Not counted: such spellings are unknown words, never pad/start/end.
    let plain = builder(["x y"]).build()
    #expect(plain.ids(TokenID.reservedNames) == Array(repeating: TokenID.unknown, count: 4))
    #expect(!plain.contains("</s>") && !plain.contains("<unk>"))
}

@Test func reservedSpellingsInTextAreCountedAsOrdinaryWords() throws {
    let counted = builder(["<unk> <s> x x </s> <pad> </s>"])
    let vocabulary = counted.build()
    #expect(vocabulary.tokens == TokenID.reservedNames + ["</s>", "x", "<pad>", "<s>", "<unk>"])
    #expect(vocabulary.counts == [0, 0, 0, 0, 2, 2, 1, 1, 1])
    #expect(vocabulary.ids(["</s>", "<unk>", "<s>", "<pad>"]) == [4, 8, 7, 6])
    #expect(vocabulary.ids(["x", "</s>", "x"]).allSatisfy { $0 >= Int32(TokenID.reservedCount) })
    #expect(counted.coverage(of: vocabulary).runningTokensCovered == 7)

    // The file keeps the reserved entries by position and the words after them.
    let directory = makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("v.vocab").path
    try vocabulary.write(to: path)
    let loaded = try Vocabulary(contentsOf: path)
    #expect(loaded.tokens == vocabulary.tokens)
    #expect(loaded.id("</s>") == 4 && loaded.id("<unk>") == 8)
}

@Test func writeThenLoadRoundTrips() throws {
    let directory = makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let options = TokenizerOptions(normalization: .nfkc, lowercase: true, language: "fr")
    let tokenizer = try Tokenizer(options: options)
    var counting = VocabularyBuilder(options: options)
    for line in ["L'homme « va »\u{A0}!", "Bonjour, le monde.", "3,5 € et 10-20 ￭"] {
        counting.add(tokens: tokenizer.tokenize(line))
    }
    let vocabulary = counting.build()
    let path = directory.appendingPathComponent("fr.vocab").path
    try vocabulary.write(to: path)
    let loaded = try Vocabulary(contentsOf: path)
    #expect(loaded.tokens.map { Array($0.utf8) } == vocabulary.tokens.map { Array($0.utf8) })
    #expect(loaded.counts == vocabulary.counts)
    #expect(loaded.options == options)
    #expect(loaded.serialized() == vocabulary.serialized())
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.hasPrefix("#seq2seq-vocab v1 tokens=\(vocabulary.count) normalize=nfkc lowercase=true lang=fr "))
    #expect(text.contains("\n<pad>\t0\n<unk>\t0\n<s>\t0\n</s>\t0\n"))
    // No temporary file is left beside it.
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["fr.vocab"])
}

private let header = "#seq2seq-vocab v1 tokens=5 " + TokenizerOptions().summary
private let specialLines = "<pad>\t0\n<unk>\t0\n<s>\t0\n</s>\t0\n"

/// (behaviour, file bytes, expected line, words the hint must contain)
private let malformedCases: [(name: String, bytes: [UInt8], line: Int, hint: String)] = [
    ("empty file", [], 1, "empty"),
    ("foreign file", Array("hello\tworld\n".utf8), 1, "not a seq2seq vocabulary"),
    ("other version", Array("#seq2seq-vocab v2 tokens=4\n".utf8), 1, "regenerate it with `seq2seq vocab"),
    ("missing size", Array("#seq2seq-vocab v1 normalize=nfc\n".utf8), 1, "tokens=N"),
    ("bad options", Array("#seq2seq-vocab v1 tokens=5 normalize=nfd\n".utf8), 1, "normalize=nfd"),
    ("truncated count", Array((header + "\n" + specialLines).utf8), 5, "truncated"),
    ("truncated mid-line", Array((header + "\n" + specialLines + "abc\t1").utf8), 6, "truncated"),
    ("extra lines", Array((header + "\n" + specialLines + "a\t1\nb\t1\n").utf8), 7, "header says 5"),
    ("no tab", Array((header + "\n" + specialLines + "a 1\n").utf8), 6, "token<TAB>count"),
    ("bad count", Array((header + "\n" + specialLines + "a\t-1\n").utf8), 6, "not a non-negative integer"),
    ("specials out of place", Array((header + "\n<unk>\t0\n<pad>\t0\n<s>\t0\n</s>\t0\na\t1\n").utf8), 2, "<pad>"),
    ("duplicate", Array(("#seq2seq-vocab v1 tokens=6 " + TokenizerOptions().summary + "\n" + specialLines
                         + "a\t2\na\t1\n").utf8), 7, "duplicate token 'a' (first on line 6)"),
]

@Test("malformed vocabulary files name file and line", arguments: malformedCases)
func malformed(_ testCase: (name: String, bytes: [UInt8], line: Int, hint: String)) {
    do {
        _ = try Vocabulary(bytes: testCase.bytes, path: "v.vocab")
        Issue.record("\(testCase.name): loaded without error")
    } catch let TextError.malformedVocabulary(file, line, hint) {
        #expect(file == "v.vocab")
        #expect(line == testCase.line, "\(testCase.name): \(hint)")
        #expect(hint.contains(testCase.hint), "\(testCase.name): \(hint)")
    } catch {
        Issue.record("\(testCase.name): unexpected \(error)")
    }
}

@Test func invalidUTF8InVocabularyNamesLine() {
    let bytes = Array((header + "\n" + specialLines).utf8) + [0xFF, 0x09, 0x31, 0x0A]
    #expect(throws: TextError.invalidUTF8(source: "v.vocab", line: 6)) { try Vocabulary(bytes: bytes, path: "v.vocab") }
}

@Test func missingFileNamesPath() {
    #expect(throws: TextError.io(path: "/nonexistent/x.vocab", reason: "No such file or directory")) {
        try Vocabulary(contentsOf: "/nonexistent/x.vocab")
    }
}
