/// Undoes BPE splitting: a piece that ends with the separator is glued to the next piece.
///
/// On a line this is subword-nmt's `sed -r 's/(@@ )|(@@ ?$)//g'` (with `@@` the separator); on a
/// token list, pieces are joined the same way. Together with the tokenizer's joiner marks (￭),
/// which BPE treats as ordinary characters, `tokenize → bpe apply → undo → detokenize` gives back
/// the normalized text.
///
/// subword-nmt's separator `@@` is ambiguous for a token spelled with it (`a@@b` pretokenized, or
/// `@@` split off by the tokenizer): undoing glues it to the next token. `tokenizerSeparator`
/// (`￭￭`) cannot be confused with the tokenizer's output, whose tokens hold at most one joiner
/// mark at each end and never one inside (a literal ￭ is written `<joiner>`), so the model
/// pipeline (`vocab`/`train`/`translate --bpe-codes`) uses it.
public enum SubwordJoiner {
    /// The separator that keeps tokenizer output lossless: two joiner marks.
    public static let tokenizerSeparator = "\u{FFED}\u{FFED}"

    /// Appends `line` with every `separator + " "` and a `separator` (plus an optional space) at
    /// the end removed, scanning left to right as the regular expression does.
    public static func appendJoined(line: UnsafeBufferPointer<UInt8>, separator: [UInt8], to output: inout [UInt8]) {
        let n = line.count, m = separator.count
        var i = 0
        while i < n {
            if m > 0 && i + m <= n && line[i] == separator[0] && separatorAt(line, i, separator) {
                let after = i + m
                if after < n && line[after] == 0x20 { i = after + 1; continue }
                if after == n { return }
            }
            output.append(line[i])
            i += 1
        }
    }

    @inline(__always) private static func separatorAt(_ line: UnsafeBufferPointer<UInt8>, _ i: Int, _ separator: [UInt8]) -> Bool {
        for k in 0..<separator.count where line[i + k] != separator[k] { return false }
        return true
    }

    /// Joins pieces into words: a piece ending in `separator` loses it and is glued to the next.
    /// A last piece that ends in the separator loses it too.
    public static func join(_ pieces: [String], separator: String = "@@") -> [String] {
        var words: [String] = []
        var pending = ""
        var open = false
        for piece in pieces {
            // Compared as bytes: String.hasSuffix compares grapheme clusters, and a piece's last
            // character must not merge with the separator's first.
            if piece.utf8.count >= separator.utf8.count && piece.utf8.reversed().starts(with: separator.utf8.reversed()) {
                pending += String(decoding: piece.utf8.dropLast(separator.utf8.count), as: UTF8.self)
                open = true
            } else {
                words.append(pending + piece)
                pending = ""
                open = false
            }
        }
        if open && !pending.isEmpty { words.append(pending) }
        return words
    }
}
