import Foundation
import Testing
import Text

/// Round-trip cases named by behaviour: detokenize(tokenize(x)) must equal the normalized text
/// with whitespace folded, scalar by scalar.
let roundTripCases: [(name: String, text: String)] = [
    ("English contractions", "Don't you think it's John's? I'm sure they'd've gone."),
    ("German quotes and decimal comma", "„Das kostet 3,5 Mio. €“, sagte sie – ‚wirklich‘?"),
    ("French elisions", "L'homme qu'il a vu aujourd'hui n'est pas là."),
    ("French guillemets with no-break spaces", "Il dit\u{00A0}: «\u{00A0}Bonjour\u{00A0}!\u{00A0}» — «\u{202F}oui\u{202F}»"),
    ("Czech diacritics", "Příliš žluťoučký kůň úpěl ďábelské ódy."),
    ("Cyrillic", "Съешь же ещё этих мягких французских булок, да выпей чаю!"),
    ("Greek with final sigma", "Ο Σωκράτης είπε: «ΓΝΩΘΙ ΣΑΥΤΟΝ»."),
    ("CJK without spaces", "東京は晴れです。我爱北京天安门！한국어도 됩니다."),
    ("emoji with modifiers", "Nice 👍🏽👍 family 👨‍👩‍👧‍👦 flag 🇫🇷 heart ❤️!"),
    ("combining marks", "e\u{301}te\u{301} n\u{303} a\u{308}\u{304} \u{301}start"),
    ("URLs and e-mail addresses", "See https://example.com/a/b?c=1&d=2#x or mail john.doe+tag@example.org."),
    ("tabs", "a\tb\t\tc\t"),
    ("runs of spaces", "   lots    of     space   "),
    ("empty line", ""),
    ("only spaces", "  \t  "),
    ("numbers", "3,5 1,000.50 10-20 2024-01-31 -7 +3.5% 1\u{202F}000 ½"),
    ("literal joiner in input", "a￭b ￭ ￭￭c"),
    ("escape-like text", "<nbsp> <joiner> &nbsp;"),
    ("CRLF remains and odd whitespace", "x\r y\u{3000}z\u{2003}w\u{85}v"),
    ("punctuation runs", "Wait... what?!?! (yes) [no] {maybe} \"quoted\" 'single'"),
]

/// Default options for English and French, and every transform on at once.
let roundTripOptions: [TokenizerOptions] = [
    TokenizerOptions(language: "en"),
    TokenizerOptions(language: "fr"),
    TokenizerOptions(normalization: .nfkc, lowercase: true, language: "tr", splitNumbers: true),
    TokenizerOptions(normalization: .none),
]

@Test("round trip restores normalized text", arguments: roundTripCases, roundTripOptions)
func roundTrip(_ testCase: (name: String, text: String), options: TokenizerOptions) throws {
    let tokenizer = try Tokenizer(options: options)
    let tokens = tokenizer.tokenize(testCase.text)
    let expected = Detokenizer.foldingWhitespace(tokenizer.normalize(testCase.text))
    let restored = Detokenizer.detokenize(tokens)
    #expect(Array(restored.unicodeScalars) == Array(expected.unicodeScalars), "\(testCase.name): \(tokens)")
    for token in tokens {
        #expect(!token.isEmpty)
        #expect(!token.unicodeScalars.contains { $0 == " " || $0 == "\t" || $0 == "\u{A0}" || $0 == "\u{202F}" })
    }
}

/// (behaviour, language, input, expected tokens joined by spaces)
let segmentationCases: [(name: String, language: String, text: String, expected: String)] = [
    ("punctuation gets joiners", "en", "Hello, world!", "Hello ￭, world ￭!"),
    ("brackets attach inward", "en", "(yes)", "(￭ yes ￭)"),
    ("English contraction", "en", "Don't", "Don ￭'t"),
    ("French elision keeps the noun whole", "fr", "l'homme qu'il", "l'￭ homme qu'￭ il"),
    ("German keeps apostrophes", "de", "geht's", "geht's"),
    ("numbers stay whole", "en", "3,5 1,000.50 10-20", "3,5 1,000.50 10-20"),
    ("German quotes", "de", "„Ja“", "„￭ Ja ￭“"),
    ("no-break space becomes a token", "fr", "«\u{A0}oui\u{A0}»", "« ￭<nbsp>￭ oui ￭<nbsp> ￭»"),
    ("CJK words join forward", "ja", "東京は晴れ", "東京 ￭は ￭晴れ"),
    ("skin tone stays with its emoji", "en", "👍🏽!", "👍🏽 ￭!"),
    ("ZWJ family is one token", "en", "👨‍👩‍👧", "👨‍👩‍👧"),
    ("literal joiner is escaped", "en", "a￭b", "a ￭<joiner>￭ b"),
    ("tabs and spaces separate", "en", " a\t b  ", "a b"),
]

@Test("expected segmentations", arguments: segmentationCases)
func segmentation(_ testCase: (name: String, language: String, text: String, expected: String)) throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions(language: testCase.language))
    #expect(tokenizer.tokenize(testCase.text).joined(separator: " ") == testCase.expected, "\(testCase.name)")
}

@Test func splitNumbersSplitsAtSeparators() throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions(splitNumbers: true))
    #expect(tokenizer.tokenize("3,5 and 10-20").joined(separator: " ") == "3 ￭,￭ 5 and 10 ￭-￭ 20")
}

@Test func withoutJoinersNoMarksAndNoBreakSpacesSeparate() throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions(language: "fr", joiners: false))
    #expect(tokenizer.tokenize("«\u{A0}Salut, toi\u{A0}!»") == ["«", "Salut", ",", "toi", "!", "»"])
}

/// (form, input, expected) compared as scalars: Swift `==` would accept canonical equivalents.
let normalizationCases: [(form: Normalization, input: String, expected: String)] = [
    (.nfc, "e\u{301}", "\u{E9}"),
    (.nfc, "\u{FB01}\u{2460}", "\u{FB01}\u{2460}"),
    (.nfkc, "\u{FB01}\u{2460}\u{FF21}\u{FF11}", "fi1A1"),
    (.nfkc, "\u{212B}", "\u{C5}"),
    (.none, "e\u{301}", "e\u{301}"),
    (.nfc, "\u{1E9B}\u{323}", "\u{1E9B}\u{323}"),
]

@Test("normalization forms", arguments: normalizationCases)
func normalization(_ testCase: (form: Normalization, input: String, expected: String)) throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions(normalization: testCase.form))
    #expect(Array(tokenizer.normalize(testCase.input).unicodeScalars) == Array(testCase.expected.unicodeScalars))
}

@Test func normalizationNoneKeepsDecomposedToken() throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions(normalization: .none))
    #expect(tokenizer.tokenize("cafe\u{301}!").map { Array($0.unicodeScalars) }
            == [Array("cafe\u{301}".unicodeScalars), Array("￭!".unicodeScalars)])
}

let lowercaseCases: [(language: String, input: String, expected: String)] = [
    ("tr", "İSTANBUL ILIK", "istanbul ılık"),
    ("en", "İSTANBUL ILIK", "i\u{307}stanbul ilik"),
    ("de", "STRASSE Äpfel \u{1E9E}", "strasse äpfel ß"),
    ("el", "ΟΔΟΣ ΣΟΦΟΣ", "οδος σοφος".replacingFinalSigma()),
]

@Test("locale-aware lowercase", arguments: lowercaseCases)
func lowercase(_ testCase: (language: String, input: String, expected: String)) throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions(lowercase: true, language: testCase.language))
    #expect(Array(tokenizer.normalize(testCase.input).unicodeScalars) == Array(testCase.expected.unicodeScalars))
}

extension String {
    /// σ at the end of each word becomes ς, as ICU's Greek lowercasing does.
    fileprivate func replacingFinalSigma() -> String {
        split(separator: " ").map { word in word.hasSuffix("σ") ? word.dropLast() + "ς" : word }.joined(separator: " ")
    }
}

@Test func longLineOfHundredThousandCharacters() throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions())
    let unit = "abc, déf 12 東京 "  // 15 characters, 5 tokens
    let repeats = 100_000 / unit.count + 1
    let line = String(repeating: unit, count: repeats)
    #expect(line.count >= 100_000)
    let tokens = tokenizer.tokenize(line)
    #expect(tokens.count == repeats * 5)
    #expect(Detokenizer.detokenize(tokens) == Detokenizer.foldingWhitespace(line))
    // One unbroken 100,000-letter word too.
    #expect(tokenizer.tokenize(String(repeating: "x", count: 100_000)).map(\.count) == [100_000])
}

@Test func tokenizerIsReusableAcrossLines() throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions())
    #expect(tokenizer.tokenize("one, two") == ["one", "￭,", "two"])
    #expect(tokenizer.tokenize("") == [])
    #expect(tokenizer.tokenize("three") == ["three"])
}

@Test func invalidUTF8IsRejectedOrReplaced() throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions())
    let bad: [UInt8] = [0x61, 0x20, 0xC3, 0x28, 0x20, 0x62]
    var output: [UInt8] = []
    let accepted = bad.withUnsafeBufferPointer { tokenizer.appendTokenized(utf8: $0, replacingInvalid: false, to: &output) }
    #expect(!accepted && output.isEmpty)
    let replaced = bad.withUnsafeBufferPointer { tokenizer.appendTokenized(utf8: $0, replacingInvalid: true, to: &output) }
    #expect(replaced)
    #expect(String(decoding: output, as: UTF8.self) == "a \u{FFFD} ￭( b")

    #expect(throws: TextError.invalidUTF8(source: "in.txt", line: 7)) {
        try bad.withUnsafeBufferPointer { try decodeUTF8Line($0, source: "in.txt", line: 7) }
    }
    #expect(TextError.invalidUTF8(source: "in.txt", line: 7).description.hasPrefix("in.txt:7: invalid UTF-8"))
}

@Test func byteFastPathMatchesStringPath() throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions(language: "fr"))
    for testCase in roundTripCases {
        var output: [UInt8] = []
        let ok = Array(testCase.text.utf8).withUnsafeBufferPointer {
            tokenizer.appendTokenized(utf8: $0, replacingInvalid: false, to: &output)
        }
        #expect(ok)
        #expect(String(decoding: output, as: UTF8.self) == tokenizer.tokenize(testCase.text).joined(separator: " "))
    }
}

@Test func detokenizerHandlesMarksAndEscapes() {
    #expect(Detokenizer.detokenize(["a", "￭", "b"]) == "ab")
    #expect(Detokenizer.detokenize(["￭x", "y￭"]) == "x y")
    #expect(Detokenizer.detokenize(["«", "￭<nbsp>￭", "oui"]) == "«\u{A0}oui")
    #expect(Detokenizer.detokenize(["<joiner>", "<nnbsp>", "<figsp>", "<nbspx>"]) == "￭ \u{202F} \u{2007} <nbspx>")
    #expect(Detokenizer.detokenize([]) == "")
    var output: [UInt8] = []
    Array("Hello ￭,  world\t￭!".utf8).withUnsafeBufferPointer { Detokenizer.appendDetokenized(utf8: $0, to: &output) }
    #expect(String(decoding: output, as: UTF8.self) == "Hello, world!")
}

@Test func optionsSummaryRoundTrips() throws {
    let options = TokenizerOptions(normalization: .nfkc, lowercase: true, language: "de_CH", splitNumbers: true, joiners: false)
    #expect(options.summary == "normalize=nfkc lowercase=true lang=de_CH split-numbers=true joiners=false")
    #expect(try TokenizerOptions(summary: options.summary) == options)
    #expect(throws: TextError.self) { try TokenizerOptions(summary: "normalize=nfc") }
    #expect(throws: TextError.self) { try TokenizerOptions(summary: TokenizerOptions().summary + " extra=1") }
    #expect(throws: TextError.self) { try Tokenizer(options: TokenizerOptions(language: "en us")) }
    // pretokenized is written only when true; files without it read as false.
    let pre = TokenizerOptions(lowercase: true, pretokenized: true)
    #expect(pre.summary == "normalize=nfc lowercase=true lang=en split-numbers=false joiners=true pretokenized=true")
    #expect(try TokenizerOptions(summary: pre.summary) == pre)
    #expect(try TokenizerOptions(summary: TokenizerOptions().summary).pretokenized == false)
}

/// config.json of model folders written before `pretokenized` existed still decodes.
@Test func optionsJSONWithoutPretokenizedDecodes() throws {
    let old = #"{"normalization":"nfc","lowercase":true,"language":"de","splitNumbers":false,"joiners":true}"#
    let options = try JSONDecoder().decode(TokenizerOptions.self, from: Data(old.utf8))
    #expect(options == TokenizerOptions(lowercase: true, language: "de"))
    let pre = TokenizerOptions(pretokenized: true)
    #expect(try JSONDecoder().decode(TokenizerOptions.self, from: JSONEncoder().encode(pre)) == pre)
}

/// Pretokenized text is normalized and case-mapped, then split on spaces and tabs only: no word
/// segmentation, no joiners, runs of separators collapse.
@Test func pretokenizedSplitsOnSpacesOnly() throws {
    let tokenizer = try Tokenizer(options: TokenizerOptions(lowercase: true, pretokenized: true))
    #expect(tokenizer.tokenize("  Don't\tstop ,  l'Homme  ") == ["don't", "stop", ",", "l'homme"])
    #expect(tokenizer.tokenize(" \t ") == [])
    var output: [UInt8] = []
    let ok = Array("A\t\tB  c".utf8).withUnsafeBufferPointer {
        tokenizer.appendTokenized(utf8: $0, replacingInvalid: false, to: &output)
    }
    #expect(ok && String(decoding: output, as: UTF8.self) == "a b c")
}
