import Basics
import Foundation
import Testing
import TestSupport
import Text

// BPE behaviour that the subword-nmt fixtures do not cover: file errors, the joiner round trip,
// undoing, dropout.

private func codes(_ text: String, path: String = "test.codes") throws -> BPECodes {
    try BPECodes(bytes: Array(text.utf8), path: path)
}

@Test func codesFileRoundTripsThroughItsText() throws {
    let original = BPECodes(merges: [("t", "h"), ("th", "e</w>"), ("￭", ",</w>")])
    let text = original.serialized()
    #expect(text == "#version: 0.2\nt h\nth e</w>\n￭ ,</w>\n")
    #expect(try codes(text) == original)
}

@Test func codesWithoutHeaderAreVersion01AndNumberLinesFromOne() throws {
    let parsed = try codes("a b\nc d\n")
    #expect(parsed.version == .v0_1)
    #expect(parsed.merges.count == 2)
    #expect(throws: TextError.malformedSubwords(file: "x.codes", line: 2, hint: "expected two subword units separated by one space, found 'c d e'")) {
        try codes("a b\nc d e\n", path: "x.codes")
    }
}

@Test func malformedCodesLineNamesFileAndLineCountingTheHeader() throws {
    #expect(throws: TextError.malformedSubwords(file: "x.codes", line: 3, hint: "expected two subword units separated by one space, found 'lonely'")) {
        try codes("#version: 0.2\na b\nlonely\n", path: "x.codes")
    }
    // An empty line in the middle is malformed; empty lines at the end are not merges.
    #expect(throws: TextError.self) { try codes("#version: 0.2\na b\n\nc d\n") }
    #expect(try codes("#version: 0.2\na b\r\n\n\n").merges.count == 1)
}

@Test func unsupportedCodesVersionIsAnErrorOnLineOne() throws {
    #expect(throws: TextError.malformedSubwords(file: "x.codes", line: 1, hint: "unsupported codes version '0.3' (subword-nmt writes '#version: 0.2')")) {
        try codes("#version: 0.3\na b\n", path: "x.codes")
    }
    #expect(try codes("#version: 0.2.0\na b\n").version == .v0_2)
}

@Test func codesThatAreNotUTF8NameTheLine() throws {
    #expect(throws: TextError.invalidUTF8(source: "x.codes", line: 2)) {
        try BPECodes(bytes: Array("#version: 0.2\n".utf8) + [0x61, 0x20, 0xC3, 0x28, 0x0A], path: "x.codes")
    }
}

@Test func malformedVocabularyLineNamesFileAndLine() throws {
    #expect(throws: TextError.malformedSubwords(file: "v", line: 2, hint: "expected 'word count' (subword-nmt get-vocab format)")) {
        try SubwordVocabulary.parse(bytes: Array("a@@ 3\n#seq2seq-vocab v1 tokens=4\n".utf8), path: "v", threshold: nil)
    }
    #expect(try SubwordVocabulary.parse(bytes: Array("a@@ 3\nb 1\n".utf8), path: "v", threshold: 2) == ["a@@"])
}

@Test func version01CodesTreatEndOfWordAsASymbol() throws {
    // 0.1: "</w>" is its own symbol, merged like any other.
    let encoder = try BPEEncoder(codes: codes("l o\nlo w\nlow </w>\n"))
    #expect(encoder.segment(["low", "lowlow", "lo"]) == ["low", "low@@", "low", "lo"])
}

@Test func oneCharacterWordsAreNeverSplitOrChecked() throws {
    let encoder = try BPEEncoder(codes: codes("#version: 0.2\na b</w>\n"), vocabulary: ["zzz"])
    #expect(encoder.segment(["x", "ab"]) == ["x", "a@@", "b"])
}

@Test func appendSegmentedKeepsOuterSpacesAndCollapsesInnerOnes() throws {
    let encoder = try BPEEncoder(codes: codes("#version: 0.2\na b</w>\n"))
    var line = "  ab  x ab "
    var out: [UInt8] = []
    line.withUTF8 { encoder.appendSegmented(line: $0, to: &out) }
    #expect(String(decoding: out, as: UTF8.self) == "  ab x ab ")
}

@Test func undoingJoinsPiecesLikeSubwordNMTsSedLine() throws {
    func undo(_ text: String) -> String {
        var text = text
        var out: [UInt8] = []
        text.withUTF8 { SubwordJoiner.appendJoined(line: $0, separator: Array("@@".utf8), to: &out) }
        return String(decoding: out, as: UTF8.self)
    }
    #expect(undo("wor@@ ld is ni@@ ce") == "world is nice")
    #expect(undo("tail@@") == "tail")
    #expect(undo("tail@@ ") == "tail")
    #expect(undo("a@@@ b") == "a@b")
    #expect(SubwordJoiner.join(["wor@@", "ld", "￭@@", "@", "x@@"]) == ["world", "￭@", "x"])
}

/// Texts whose tokens contain no "@@": subword-nmt's separator is then unambiguous.
let subwordRoundTripTexts = roundTripCases.map(\.text) + ["Wait... what?!?! ￭ ￭￭ l'homme «\u{A0}oui\u{A0}» e-mail: a@b.org"]
/// Tokens spelled with the separator: only `SubwordJoiner.tokenizerSeparator` stays lossless.
let separatorLikeTexts = ["a@@b ￭@@ @@ x@@ @@@ wor@@ ld", "￭￭ a￭￭b ￭ ￭￭￭"]

@Test("tokenize, BPE, undo, detokenize gives back the NFC text",
      arguments: [("en", "@@"), ("fr", "@@"), ("en", SubwordJoiner.tokenizerSeparator), ("fr", SubwordJoiner.tokenizerSeparator)])
func joinerMarksSurviveSubwords(_ setting: (language: String, separator: String)) throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions(language: setting.language))
    let texts = subwordRoundTripTexts + (setting.separator == "@@" ? [] : separatorLikeTexts)
    // Codes learned on the texts themselves, so joiners and punctuation are merged into pieces.
    var learner = BPELearner()
    for text in texts {
        var line = tokenizer.tokenize(text).joined(separator: " ")
        line.withUTF8 { learner.add(line: $0) }
    }
    let learned = learner.learn(merges: 200, minimumFrequency: 1)
    for merges in [0, 20, 200] {
        let encoder = try BPEEncoder(codes: learned, merges: merges, separator: setting.separator)
        for text in texts {
            let tokens = tokenizer.tokenize(text)
            let pieces = encoder.segment(tokens)
            let back = Detokenizer.detokenize(SubwordJoiner.join(pieces, separator: setting.separator))
            let expected = Detokenizer.foldingWhitespace(tokenizer.normalize(text))
            #expect(Array(back.unicodeScalars) == Array(expected.unicodeScalars), "\(merges) merges: \(pieces)")
            // The line form (what `bpe apply` and `bpe undo` write) agrees with the token form.
            var line = tokens.joined(separator: " ")
            var segmented: [UInt8] = []
            line.withUTF8 { encoder.appendSegmented(line: $0, to: &segmented) }
            var joined: [UInt8] = []
            segmented.withUnsafeBufferPointer { SubwordJoiner.appendJoined(line: $0, separator: Array(setting.separator.utf8), to: &joined) }
            #expect(String(decoding: joined, as: UTF8.self) == line)
        }
    }
}

@Test func subwordNMTSeparatorIsAmbiguousForTokensSpelledWithIt() throws {
    // Why the model pipeline uses SubwordJoiner.tokenizerSeparator: "@@" as a token is lost.
    #expect(SubwordJoiner.join(["a", "@@", "b"]) != ["a", "@@", "b"])
    #expect(SubwordJoiner.join(["a", "@@", "b"], separator: SubwordJoiner.tokenizerSeparator) == ["a", "@@", "b"])
}

@Test func dropoutZeroEqualsPlainAndOneLeavesCharacters() throws {
    let learned = BPEFixtures.learner(try BPEFixtures.lines("multi30k.train.tok")).learn(merges: 300)
    let encoder = try BPEEncoder(codes: learned)
    let words = try BPEFixtures.lines("multi30k.test.tok").flatMap { $0.split(separator: " ").map(String.init) }
    var none: BPEDropout? = BPEDropout(probability: 0, generator: SplitMix64(seed: 1))
    #expect(encoder.segment(words, dropout: &none) == encoder.segment(words))
    var all: BPEDropout? = BPEDropout(probability: 1, generator: SplitMix64(seed: 1))
    let characters = encoder.segment(words, dropout: &all)
    #expect(characters.count == words.reduce(0) { $0 + $1.unicodeScalars.count })
}

@Test func dropoutIsDeterministicFromTheGeneratorAndVariesWithIt() throws {
    let learned = BPEFixtures.learner(try BPEFixtures.lines("multi30k.train.tok")).learn(merges: 300)
    let encoder = try BPEEncoder(codes: learned)
    let words = try BPEFixtures.lines("multi30k.test.tok").flatMap { $0.split(separator: " ").map(String.init) }
    var a: BPEDropout? = BPEDropout(probability: 0.1, generator: SplitMix64(seed: 7))
    var b: BPEDropout? = BPEDropout(probability: 0.1, generator: SplitMix64(seed: 7))
    var c: BPEDropout? = BPEDropout(probability: 0.1, generator: SplitMix64(seed: 8))
    let first = encoder.segment(words, dropout: &a)
    #expect(first == encoder.segment(words, dropout: &b))
    #expect(first != encoder.segment(words, dropout: &c))
    #expect(first != encoder.segment(words))
    // Undoing any dropout segmentation gives the words back.
    #expect(SubwordJoiner.join(first) == words)
}

/// BPE-dropout leaves partial merges that plain segmentation never makes, so a vocabulary counted
/// on plain segmentation lacks them (they became `<unk>` in training). With the vocabulary given,
/// such a piece is split by undoing its merges, as `subword-nmt apply-bpe --dropout --vocabulary`,
/// down to pieces it holds: with the characters kept in both forms, only characters rarer than
/// min-count are left outside (min-count 2 also drops pieces seen once, which are split too).
@Test func dropoutPiecesOutsideTheVocabularyAreSplitIntoKnownOnes() throws {
    let train = try BPEFixtures.lines("multi30k.train.tok")
    let codes = BPEFixtures.learner(train).learn(merges: 300)
    let options = TokenizerOptions(pretokenized: true, bpeCodes: codes.checksum)
    let plain = try TextSegmenter(options: options, codes: codes)
    var builder = VocabularyBuilder(options: options)
    for line in train { builder.add(pieces: plain.tokens(line), separator: SubwordJoiner.tokenizerSeparator) }
    let vocabulary = builder.build(minCount: 2)
    #expect(train.flatMap { plain.tokens($0) }.contains { !vocabulary.contains($0) },
            "the test needs plain pieces that min-count 2 dropped")
    let checked = try TextSegmenter(options: options, codes: codes, dropoutVocabulary: Array(vocabulary.tokens.dropFirst(4)))
    func dropoutPieces(_ segmenter: TextSegmenter) -> (pieces: [String], draws: BPEDropout?) {
        var draws: BPEDropout? = BPEDropout(probability: 0.1, generator: SplitMix64(seed: 3))
        return (train.flatMap { segmenter.tokens($0, dropout: &draws) }, draws)
    }
    let unchecked = dropoutPieces(plain)
    #expect(unchecked.pieces.filter { !vocabulary.contains($0) }.count > 10,
            "the test needs dropout pieces the plain vocabulary lacks")
    let (pieces, draws) = dropoutPieces(checked)
    // Only characters seen once (under min-count 2, so not kept) stay outside.
    let rare = builder.characterPieces(minCount: 1).subtracting(builder.characterPieces(minCount: 2))
    let outside = pieces.filter { !vocabulary.contains($0) }
    #expect(outside.allSatisfy { rare.contains($0) }, "outside the vocabulary: \(Set(outside).sorted().prefix(10))")
    #expect(!vocabulary.ids(pieces.filter { !rare.contains($0) }).contains(TokenID.unknown))
    // The check draws nothing: the generator ends where the unchecked segmentation's ends.
    #expect(draws == unchecked.draws)
    let words = train.flatMap { $0.split(separator: " ").map(String.init) }
    #expect(SubwordJoiner.join(pieces, separator: SubwordJoiner.tokenizerSeparator) == words)
    // Still dropout (finer than plain), and plain segmentation does not change.
    #expect(pieces.count > train.reduce(0) { $0 + plain.tokens($1).count })
    #expect(train.map { checked.tokens($0) } == train.map { plain.tokens($0) })
}

@Test func subwordVocabulariesKeepEveryCharacterInBothForms() throws {
    var builder = VocabularyBuilder(options: TokenizerOptions())
    let j = SubwordJoiner.tokenizerSeparator
    builder.add(pieces: ["ab\(j)", "c", "ab"], separator: j)
    builder.add(pieces: ["ab", "日\(j)", "ä"], separator: j)
    #expect(builder.characterPieces(minCount: 1).count == 10)
    let vocabulary = builder.build(minCount: 1)
    // Counted pieces by count, then the character forms never counted (count 0).
    #expect(Array(vocabulary.tokens.dropFirst(4))
            == ["ab", "ab\(j)", "c", "ä", "日\(j)", "a", "a\(j)", "b", "b\(j)", "c\(j)", "ä\(j)", "日"])
    #expect(Array(vocabulary.counts.dropFirst(4)) == [2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    let coverage = builder.coverage(of: vocabulary)
    #expect(coverage.typesSeen == 5 && coverage.typesKept == 5 && coverage.runningTokensCovered == 6)
    // Min-count 2 keeps the characters seen twice or more (a and b, 3 times each) in both forms;
    // "c", "ä", "日￭￭" and "ab￭￭", seen once, go.
    let common = builder.build(minCount: 2)
    #expect(Array(common.tokens.dropFirst(4)) == ["ab", "a", "a\(j)", "b", "b\(j)"])
    #expect(builder.coverage(of: common).runningTokensCovered == 2)
    // --max-size cuts ordinary pieces first: with room for the 10 character pieces only, "ab" and
    // "ab￭￭" go; with less room than that, the rarest character pieces go.
    let cut = builder.build(minCount: 1, maxSize: 14)
    #expect(Set(cut.tokens.dropFirst(4)) == builder.characterPieces(minCount: 1))
    #expect(Array(builder.build(maxSize: 7).tokens.dropFirst(4)) == ["c", "ä", "日\(j)"])
}

/// Codes 0.1 end words with a separate `</w>` symbol: a final piece made by `X </w>`, or by no
/// merge with `</w>` at all, is still split into known pieces when the encoder checks
/// `knownPieces` (subword-nmt would keep it whole, or leave an empty piece).
@Test func knownPiecesSplitFinalPiecesOfVersion01Codes() throws {
    let j = SubwordJoiner.tokenizerSeparator
    let low = BPECodes(version: .v0_1, merges: [("l", "o"), ("lo", "w"), ("low", "</w>")])
    let lowEncoder = try BPEEncoder(codes: low, separator: j, knownPieces: ["lo\(j)", "w"])
    #expect(lowEncoder.segment(["low", "x"]) == ["lo\(j)", "w", "x"])
    // subword-nmt's check undoes `low </w>` into `low` and an empty piece: `low` loses its
    // word end and would be glued to the next word.
    #expect(try BPEEncoder(codes: low, separator: j, vocabulary: ["lo\(j)", "w"]).segment(["low", "x"])
            == ["lo\(j)", "w\(j)", "x"])
    // A final piece that no merge with </w> made: split by the merge that made its spelling,
    // at the top (xab) and inside the recursion (ab).
    for merges in [[("a", "b"), ("x", "ab")], [("a", "b"), ("x", "ab"), ("xab", "</w>")]] {
        let encoder = try BPEEncoder(codes: BPECodes(version: .v0_1, merges: merges), separator: j,
                                     knownPieces: ["x\(j)", "a\(j)", "b"])
        #expect(encoder.segment(["xab"]) == ["x\(j)", "a\(j)", "b"], "\(merges)")
    }
    // Codes 0.2 are split as subword-nmt splits them.
    let v2 = BPECodes(merges: [("l", "o"), ("lo", "w</w>")])
    let known = ["lo\(j)", "l\(j)", "o\(j)", "w"]
    #expect(try BPEEncoder(codes: v2, separator: j, knownPieces: known).segment(["low"])
            == BPEEncoder(codes: v2, separator: j, vocabulary: Set(known)).segment(["low"]))
}

@Test func vocabularyHeadersRecordTheCodesChecksumAndOlderHeadersStillRead() throws {
    var options = TokenizerOptions(language: "de")
    options.bpeCodes = BPECodes(merges: [("a", "b")]).checksum
    #expect(options.summary.hasSuffix(" bpe=\(options.bpeCodes!)"))
    #expect(try TokenizerOptions(summary: options.summary) == options)
    let json = try JSONEncoder().encode(options)
    #expect(try JSONDecoder().decode(TokenizerOptions.self, from: json) == options)
    // Written before BPE existed: no key, no checksum.
    #expect(try TokenizerOptions(summary: "normalize=nfc lowercase=false lang=en split-numbers=false joiners=true").bpeCodes == nil)
    #expect(!String(decoding: try JSONEncoder().encode(TokenizerOptions()), as: UTF8.self).contains("bpe"))
    #expect(throws: TextError.self) {
        try TokenizerOptions(summary: "normalize=nfc lowercase=false lang=en split-numbers=false joiners=true bpe=xyz")
    }
}

@Test func joiningComparesTheSeparatorAsBytes() {
    // U+0301 after the separator's ￭ would not form one grapheme with it, but a piece whose last
    // scalar is a combining mark must still end with the separator only byte for byte.
    let separator = SubwordJoiner.tokenizerSeparator
    #expect(SubwordJoiner.join(["e\u{301}" + separator, "te"], separator: separator) == ["e\u{301}te"])
    #expect(SubwordJoiner.join([separator + "\u{301}", "x"], separator: separator) == [separator + "\u{301}", "x"])
}

/// The BPE word cache keeps memory bounded on input with millions of distinct words (a 10 MB line
/// of random tokens): past its limit it starts empty again, and the output does not change.
@Suite struct BPECacheBoundTests {
    @Test func theWordCacheStaysUnderItsLimitWithTheSameOutput() throws {
        let codes = BPECodes(merges: [("w", "o"), ("wo", "r"), ("r", "d</w>")])
        let bounded = try BPEEncoder(codes: codes), unbounded = try BPEEncoder(codes: codes)
        bounded.cacheLimitBytes = 4096
        var peak = 0
        for i in 0..<5000 {
            let line = Array("word\(i) wor\(i % 7) word\(i)".utf8)
            var a: [UInt8] = [], b: [UInt8] = []
            line.withUnsafeBufferPointer { bounded.appendSegmented(line: $0, to: &a) }
            line.withUnsafeBufferPointer { unbounded.appendSegmented(line: $0, to: &b) }
            #expect(a == b)
            peak = max(peak, bounded.cacheBytes)
        }
        #expect(peak <= 4096 && unbounded.cacheBytes > 4096)
    }
}
