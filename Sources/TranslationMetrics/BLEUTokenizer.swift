/// The fixed tokenizers of sacreBLEU 2.6 that BLEU may use. They never change with the training
/// vocabulary, so scores stay comparable across systems.
public enum BLEUTokenizer: String, CaseIterable, Sendable {
    /// mteval-v13a.pl: unescapes four HTML entities, drops `<skipped>`, splits ASCII punctuation
    /// except `.`/`,` between digits (sacreBLEU `Tokenizer13a` + `TokenizerRegexp`).
    case thirteenA = "13a"
    /// mteval-v14.pl international: splits Unicode punctuation unless between digits, and symbols
    /// (sacreBLEU `TokenizerV14International`).
    case intl
    /// Every non-space Unicode scalar is a token (sacreBLEU `TokenizerChar`; scalars, not graphemes).
    case char
    /// Whitespace split only.
    case none

    /// The name written into the signature (`tok:13a`).
    public var signature: String { rawValue }

    /// Tokenizes `line` (already lowercased and right-stripped) into `out`: a scalar string whose
    /// whitespace-separated runs are the tokens. `scratch` is reused between calls.
    func apply(_ line: [UInt32], into out: inout [UInt32], scratch: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        switch self {
        case .none:
            out.append(contentsOf: line)
        case .char:
            // " ".join(line): whitespace scalars end up as separators anyway.
            for c in line { out.append(c); out.append(0x20) }
        case .thirteenA:
            thirteenA(line, into: &out, scratch: &scratch)
        case .intl:
            intl(line, into: &out, scratch: &scratch)
        }
    }

    private func thirteenA(_ line: [UInt32], into out: inout [UInt32], scratch: inout [UInt32]) {
        var a = line
        // Most lines hold none of '<', '\n', '&': skip the replacement passes for them.
        if a.contains(where: { $0 == 0x3C || $0 == 0x0A || $0 == 0x26 }) {
            for (old, new) in Self.replacements13a {
                if old.first == 0x26 && !a.contains(0x26) { break }
                ScalarText.replace(&a, old, new, scratch: &scratch)
            }
        }
        // f' {line} ', then the four `re.sub` passes, each scanning left to right without overlap.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(0x20)
        for c in a {
            if Self.isSplitPunctuation13a(c) {
                scratch.append(0x20); scratch.append(c); scratch.append(0x20)
            } else {
                scratch.append(c)
            }
        }
        scratch.append(0x20)
        // ([^0-9])([\.,]) -> '\1 \2 '
        ScalarText.pairPass(scratch, into: &out, match: { !isDigit($0) && isPeriodComma($1) },
                            emit: { x, y, o in o.append(x); o.append(0x20); o.append(y); o.append(0x20) })
        // ([\.,])([^0-9]) -> ' \1 \2'
        ScalarText.pairPass(out, into: &scratch, match: { isPeriodComma($0) && !isDigit($1) },
                            emit: { x, y, o in o.append(0x20); o.append(x); o.append(0x20); o.append(y) })
        // ([0-9])(-) -> '\1 \2 '
        ScalarText.pairPass(scratch, into: &out, match: { isDigit($0) && $1 == 0x2D },
                            emit: { x, y, o in o.append(x); o.append(0x20); o.append(y); o.append(0x20) })
    }

    private func intl(_ line: [UInt32], into out: inout [UInt32], scratch: inout [UInt32]) {
        // (\P{N})(\p{P}) -> '\1 \2 '
        ScalarText.pairPass(line, into: &scratch,
                            match: { !UnicodeClass.isNumber($0) && UnicodeClass.isPunctuation($1) },
                            emit: { x, y, o in o.append(x); o.append(0x20); o.append(y); o.append(0x20) })
        // (\p{P})(\P{N}) -> ' \1 \2'
        ScalarText.pairPass(scratch, into: &out,
                            match: { UnicodeClass.isPunctuation($0) && !UnicodeClass.isNumber($1) },
                            emit: { x, y, o in o.append(0x20); o.append(x); o.append(0x20); o.append(y) })
        // (\p{S}) -> ' \1 '
        scratch.removeAll(keepingCapacity: true)
        for c in out {
            if UnicodeClass.isSymbol(c) {
                scratch.append(0x20); scratch.append(c); scratch.append(0x20)
            } else {
                scratch.append(c)
            }
        }
        swap(&out, &scratch)
    }

    /// sacreBLEU's `str.replace` calls in order; the entities only run when '&' is present, and
    /// sequentially, so "&amp;lt;" becomes "<".
    static let replacements13a: [([UInt32], [UInt32])] = [
        ("<skipped>", ""), ("-\n", ""), ("\n", " "),
        ("&quot;", "\""), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"),
    ].map { ($0.0.unicodeScalars.map(\.value), $0.1.unicodeScalars.map(\.value)) }

    /// The class `[\{-\~\[-\` -\&\(-\+\:-\@\/]` of the first 13a regex.
    @inline(__always)
    static func isSplitPunctuation13a(_ c: UInt32) -> Bool {
        (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26)
            || (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F
    }
}

@inline(__always) private func isDigit(_ c: UInt32) -> Bool { c >= 0x30 && c <= 0x39 }
@inline(__always) private func isPeriodComma(_ c: UInt32) -> Bool { c == 0x2E || c == 0x2C }

/// Python-`str` operations on scalar arrays that the tokenizers need.
enum ScalarText {
    /// `str.replace(old, new)`: leftmost, non-overlapping, one pass.
    static func replace(_ s: inout [UInt32], _ o: [UInt32], _ n: [UInt32], scratch: inout [UInt32]) {
        guard let first = o.first, s.count >= o.count, s.contains(first) else { return }
        scratch.removeAll(keepingCapacity: true)
        var i = 0
        var changed = false
        while i < s.count {
            if s[i] == first, i + o.count <= s.count, s[i..<(i + o.count)].elementsEqual(o) {
                scratch.append(contentsOf: n)
                i += o.count
                changed = true
            } else {
                scratch.append(s[i])
                i += 1
            }
        }
        if changed { swap(&s, &scratch) }
    }

    /// One `re.sub` of a two-character pattern: try at position i; on a match emit the
    /// replacement and resume after both characters, otherwise copy one character.
    @inline(__always)
    static func pairPass(_ a: [UInt32], into out: inout [UInt32],
                         match: (UInt32, UInt32) -> Bool,
                         emit: (UInt32, UInt32, inout [UInt32]) -> Void) {
        out.removeAll(keepingCapacity: true)
        let n = a.count
        out.reserveCapacity(n * 2)
        var i = 0
        while i < n {
            if i + 1 < n, match(a[i], a[i + 1]) {
                emit(a[i], a[i + 1], &out)
                i += 2
            } else {
                out.append(a[i])
                i += 1
            }
        }
    }
}

/// General-category tests matching the `regex` module's `\p{P}`, `\p{S}` and `\p{N}`, through
/// Swift's Unicode tables (ASCII answered from a table because it is the common case).
enum UnicodeClass {
    // Bit 0: P, bit 1: S, bit 2: N, for U+0000–U+007F.
    static let ascii: [UInt8] = (0..<128).map { classify(UInt32($0)) }

    static func classify(_ c: UInt32) -> UInt8 {
        guard let s = Unicode.Scalar(c) else { return 0 }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return 1
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return 2
        case .decimalNumber, .letterNumber, .otherNumber: return 4
        default: return 0
        }
    }

    @inline(__always) static func bits(_ c: UInt32) -> UInt8 { c < 128 ? ascii[Int(c)] : classify(c) }
    @inline(__always) static func isPunctuation(_ c: UInt32) -> Bool { bits(c) & 1 != 0 }
    @inline(__always) static func isSymbol(_ c: UInt32) -> Bool { bits(c) & 2 != 0 }
    @inline(__always) static func isNumber(_ c: UInt32) -> Bool { bits(c) & 4 != 0 }
}
