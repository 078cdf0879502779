/// The joiner mark and the escapes that keep tokens free of spaces and marks.
///
/// A token is `[￭]body[￭]`: a leading ￭ means "no space before me", a trailing one "no space
/// after me" (OpenNMT's convention, U+FFED HALFWIDTH BLACK SQUARE). A body never contains a
/// space, a tab or ￭. Characters that would break that rule are spelled as escape tokens:
///
/// | in text                         | token body |
/// |---------------------------------|------------|
/// | ￭ U+FFED (the mark itself)      | `<joiner>` |
/// | U+00A0 NO-BREAK SPACE           | `<nbsp>`   |
/// | U+202F NARROW NO-BREAK SPACE    | `<nnbsp>`  |
/// | U+2007 FIGURE SPACE             | `<figsp>`  |
///
/// The escapes cannot collide with text: `<` and `>` are punctuation, which the tokenizer always
/// splits off, so a token body `<nbsp>` only ever comes from a no-break space.
public enum Joiner {
    /// U+FFED, the mark.
    public static let mark: Unicode.Scalar = "\u{FFED}"
    /// UTF-8 of U+FFED.
    @usableFromInline static let markUTF8: (UInt8, UInt8, UInt8) = (0xEF, 0xBF, 0xAD)
    @usableFromInline static let markUTF16: UInt16 = 0xFFED

    /// (character, escape spelling) pairs; the index + 1 is the escape code used internally.
    static let escapes: [(scalar: UInt16, spelling: String)] = [
        (0xFFED, "<joiner>"), (0x00A0, "<nbsp>"), (0x202F, "<nnbsp>"), (0x2007, "<figsp>"),
    ]
    static let escapeUTF16: [[UInt16]] = escapes.map { Array($0.spelling.utf16) }
    static let escapeUTF8: [[UInt8]] = escapes.map { Array($0.spelling.utf8) }
    static let scalarUTF8: [[UInt8]] = escapes.map { Array(String(UnicodeScalar($0.scalar)!).utf8) }

    /// Escape code (1...) of a UTF-16 unit, 0 when it needs no escape.
    @inline(__always) static func escapeCode(_ u: UInt16) -> UInt8 {
        switch u {
        case 0xFFED: return 1
        case 0x00A0: return 2
        case 0x202F: return 3
        case 0x2007: return 4
        default: return 0
        }
    }
}
