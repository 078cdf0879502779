/// Joins tokens back into text by their joiner marks (the inverse of `Tokenizer`).
///
/// Tokens are separated by one space unless the left one ends or the right one starts with ￭;
/// a token that is only ￭ joins both neighbours; escapes (`<nbsp>`, `<joiner>`, ...; see `Joiner`)
/// become their characters. For any line `x`,
/// `detokenize(tokenize(x)) == Detokenizer.foldingWhitespace(tokenizer.normalize(x))` scalar by
/// scalar when joiners are on.
public enum Detokenizer {
    public static func detokenize(_ tokens: [String]) -> String {
        var state = State()
        var output: [UInt8] = []
        for var token in tokens {
            token.withUTF8 { state.append(token: $0, to: &output) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Detokenizes one line of space-separated tokens given as UTF-8 bytes (validated by the
    /// caller), appending the text to `output` without a newline. Spaces and tabs separate tokens.
    public static func appendDetokenized(utf8 line: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        var state = State()
        var start = 0
        for i in 0...line.count where i == line.count || line[i] == 0x20 || line[i] == 0x09 {
            if i > start { state.append(token: UnsafeBufferPointer(rebasing: line[start..<i]), to: &output) }
            start = i &+ 1
        }
    }

    /// What round trips give back: runs of White_Space other than the no-break spaces (U+00A0,
    /// U+202F, U+2007) become one U+0020; leading and trailing ones are dropped.
    public static func foldingWhitespace(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var pending = false
        for scalar in text.unicodeScalars {
            let v = scalar.value
            let isSpace = v != 0xA0 && v != 0x202F && v != 0x2007 && isUnicodeWhiteSpace(v)
            if isSpace {
                pending = true
            } else {
                if pending && !result.isEmpty { result.append(" ") }
                pending = false
                result.append(scalar)
            }
        }
        return String(result)
    }

    private struct State {
        var first = true
        var joinNext = false

        mutating func append(token: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
            var s = 0, e = token.count
            let joinLeft = hasMark(token, at: 0)
            if joinLeft { s = 3 }
            var joinRight = e &- s >= 3 && hasMark(token, at: e &- 3)
            if joinRight { e &-= 3 }
            if s == e && joinLeft { joinRight = true }  // a lone ￭ glues both sides
            if !first && !joinNext && !joinLeft { output.append(0x20) }
            let body = UnsafeBufferPointer(rebasing: token[s..<e])
            if body.count >= 6 && body[0] == 0x3C, let k = Joiner.escapeUTF8.firstIndex(where: { $0.elementsEqual(body) }) {
                output.append(contentsOf: Joiner.scalarUTF8[k])
            } else {
                output.append(contentsOf: body)
            }
            first = false
            joinNext = joinRight
        }

        @inline(__always) private func hasMark(_ t: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
            i &+ 3 <= t.count && t[i] == Joiner.markUTF8.0 && t[i &+ 1] == Joiner.markUTF8.1
                && t[i &+ 2] == Joiner.markUTF8.2
        }
    }
}
