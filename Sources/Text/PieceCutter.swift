/// One token before joiner marks are added: a UTF-16 range of the tokenizer's text, or an escape.
struct Piece {
    var start: Int32
    var end: Int32
    var flags: UInt8
    /// 0, or `Joiner.escapes` index + 1.
    var escape: UInt8

    static let word: UInt8 = 1, number: UInt8 = 2, spaceBefore: UInt8 = 4
    /// Words (letters, numbers, ideographs) never carry marks next to punctuation; marks go on
    /// punctuation, symbols, escapes and clitics.
    @inline(__always) var isWord: Bool { flags & Piece.word != 0 }
    @inline(__always) var isNumber: Bool { flags & Piece.number != 0 }
    @inline(__always) var spaceBefore: Bool { flags & Piece.spaceBefore != 0 }
}

/// How apostrophes inside letter segments split (ICU keeps `don't` and `l'homme` whole).
enum CliticRule {
    case keep
    /// English contractions, apostrophe goes right: `don ￭'t`, `I ￭'m` (as Moses does).
    case before
    /// Romance elisions, apostrophe goes left: `l'￭ homme`, `qu'￭ il`, so `homme` stays one type.
    case after

    init(language: String) {
        let primary = language.lowercased().split(whereSeparator: { $0 == "_" || $0 == "-" }).first ?? ""
        switch primary {
        case "en": self = .before
        case "fr", "it", "ca": self = .after
        default: self = .keep
        }
    }
}

/// Cuts ICU word-break segments into pieces (step 3 of `Tokenizer`).
struct PieceCutter {
    let text: UnsafeBufferPointer<UInt16>
    let joiners: Bool
    let splitNumbers: Bool
    let clitics: CliticRule
    /// Whitespace seen since the last piece.
    var pendingSpace = false

    init(text: UnsafeBufferPointer<UInt16>, options: TokenizerOptions, clitics: CliticRule) {
        self.text = text
        joiners = options.joiners
        splitNumbers = options.splitNumbers
        self.clitics = clitics
    }

    /// Segment [start, end) with ICU rule status `rule` (0..<100 none, 100..<200 number,
    /// 200..<300 letter, 300..<400 kana, 400..<500 ideograph).
    mutating func cutSegment(_ start: Int, _ end: Int, rule: Int32, into pieces: inout [Piece]) {
        let kind: SegmentKind = rule < 100 ? .other : rule < 200 ? .number : rule < 300 ? .letter : .ideo
        var i = start
        var run = -1
        while i < end {
            let u = text[i]
            var width = 1
            var cls = 0  // 0 part of a token, 1 separating whitespace, 2 escape token
            if u < 0x80 {
                if u == 0x20 || (u >= 0x09 && u <= 0x0D) { cls = 1 }
            } else if u >= 0xD800 && u <= 0xDBFF {
                // No White_Space or escaped character lies outside the BMP.
                if i &+ 1 < end && text[i &+ 1] & 0xFC00 == 0xDC00 { width = 2 }
            } else {
                let escape = Joiner.escapeCode(u)
                if escape != 0 {
                    cls = escape > 1 && !joiners ? 1 : 2
                } else if isUnicodeWhiteSpace(UInt32(u)) {
                    cls = 1
                }
            }
            if cls == 0 {
                if run < 0 { run = i }
                i &+= width
                continue
            }
            if run >= 0 { addRun(run, i, kind, into: &pieces); run = -1 }
            if cls == 1 {
                pendingSpace = true
            } else {
                append(i, i &+ 1, flags: 0, escape: Joiner.escapeCode(u), into: &pieces)
            }
            i &+= width
        }
        if run >= 0 { addRun(run, end, kind, into: &pieces) }
    }

    enum SegmentKind { case other, number, letter, ideo }

    private mutating func addRun(_ s: Int, _ e: Int, _ kind: SegmentKind, into pieces: inout [Piece]) {
        switch kind {
        case .other:
            append(s, e, flags: 0, into: &pieces)
        case .ideo:
            append(s, e, flags: Piece.word, into: &pieces)
        case .number:
            if splitNumbers { return splitDigits(s, e, into: &pieces) }
            // `10-20`, `2024-01-31`: ICU cut at the dash; glue number, dash, number back.
            let n = pieces.count
            if !pendingSpace && n >= 2 {
                let dash = pieces[n &- 1], before = pieces[n &- 2]
                if before.isNumber && !dash.spaceBefore && dash.escape == 0 && dash.end &- dash.start == 1
                    && (text[Int(dash.start)] == 0x2D || text[Int(dash.start)] == 0x2013) {
                    pieces.removeLast()
                    pieces[n &- 2].end = Int32(e)
                    return
                }
            }
            append(s, e, flags: Piece.word | Piece.number, into: &pieces)
        case .letter:
            splitClitics(s, e, into: &pieces)
        }
    }

    /// Digit runs become number words; everything between them (`,` `.` letters) other pieces.
    private mutating func splitDigits(_ s: Int, _ e: Int, into pieces: inout [Piece]) {
        var i = s
        while i < e {
            let digit = isDigit(text[i])
            var j = i &+ 1
            while j < e && isDigit(text[j]) == digit { j &+= 1 }
            append(i, j, flags: digit ? Piece.word | Piece.number : 0, into: &pieces)
            i = j
        }
    }

    @inline(__always) private func isDigit(_ u: UInt16) -> Bool {
        if u < 0x80 { return u >= 0x30 && u <= 0x39 }
        return isDecimalDigit(UInt32(u))
    }

    private mutating func splitClitics(_ s: Int, _ e: Int, into pieces: inout [Piece]) {
        if case .keep = clitics { return append(s, e, flags: Piece.word, into: &pieces) }
        var from = s
        var pieceIsWord = true
        var j = s &+ 1
        while j < e &- 1 {
            let u = text[j]
            if u == 0x27 || u == 0x2019 {
                if case .before = clitics {
                    append(from, j, flags: pieceIsWord ? Piece.word : 0, into: &pieces)
                    from = j
                    pieceIsWord = false
                } else {
                    append(from, j &+ 1, flags: 0, into: &pieces)
                    from = j &+ 1
                }
            }
            j &+= 1
        }
        append(from, e, flags: pieceIsWord ? Piece.word : 0, into: &pieces)
    }

    @inline(__always)
    private mutating func append(_ s: Int, _ e: Int, flags: UInt8, escape: UInt8 = 0, into pieces: inout [Piece]) {
        pieces.append(Piece(start: Int32(s), end: Int32(e),
                            flags: flags | (pendingSpace ? Piece.spaceBefore : 0), escape: escape))
        pendingSpace = false
    }
}
