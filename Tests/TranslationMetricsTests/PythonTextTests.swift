import Testing
@testable import TranslationMetrics

/// Behaviours of the Python-compatible text layer that sacreBLEU's numbers depend on.
@Suite struct PythonTextTests {
    func lower(_ s: String) -> String {
        var out: [UInt32] = []
        PythonText.lower(s.unicodeScalars.map(\.value), into: &out)
        return String(String.UnicodeScalarView(out.map { Unicode.Scalar($0)! }))
    }

    @Test("str.lower()", arguments: [
        ("ΟΔΟΣ ΑΣ. Σ", "οδος ας. σ"),   // Final_Sigma, which Swift's lowercased() lacks
        ("İstanbul", "i\u{307}stanbul"), // full mapping: one scalar becomes two
        ("ÀÉÎ Ǆ ǅ", "àéî ǆ ǆ"),
        ("\u{A7CB}\u{1C89}", "\u{A7CB}\u{1C89}"), // Unicode 16 capitals: unchanged in Python 3.11
    ])
    func lowercasing(input: String, expected: String) { #expect(lower(input) == expected) }

    @Test func whitespaceIsPythonsIsspace() {
        for c: UInt32 in [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000,
                          0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000] {
            #expect(PythonText.isSpace(c), "U+\(String(c, radix: 16))")
        }
        for c: UInt32 in [0x08, 0x1B, 0x200B, 0x2060, 0xFEFF, 0x41] { #expect(!PythonText.isSpace(c)) }
    }

    @Test("tokenizers", arguments: [
        (BLEUTokenizer.thirteenA, "Tom &amp;lt; 3.5,1,000 a.b x-1 2019-2020 <skipped>(hi)!",
         "Tom < 3.5,1,000 a . b x-1 2019 - 2020 ( hi ) !"),
        (.intl, "„Ja“, 2019. 1.5 a.b € x²", "„ Ja “ , 2019 . 1.5 a . b € x²"),
        (.char, "ab c\u{301}", "a b c \u{301}"),
        (.none, " a\u{A0}b\tc ", "a b c"),
    ])
    func tokenizer(_ tok: BLEUTokenizer, input: String, expected: String) {
        var out: [UInt32] = [], scratch: [UInt32] = []
        tok.apply(input.unicodeScalars.map(\.value), into: &out, scratch: &scratch)
        let text = String(String.UnicodeScalarView(out.map { Unicode.Scalar($0)! }))
        #expect(text.split(whereSeparator: { $0.unicodeScalars.allSatisfy { PythonText.isSpace($0.value) } })
            .joined(separator: " ") == expected)
    }
}
