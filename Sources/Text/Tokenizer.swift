// ICU through CICU, whose header uses plain C types only (see Sources/CICU/include/cicu.h): a
// module that imports Foundation (with its own ICU headers) can import it too.
import CICU

/// ICU-based word tokenizer with lossless joiner marks.
///
/// One line in, tokens out. Steps, each on UTF-16 in buffers reused across lines:
/// 1. Unicode normalization (`TokenizerOptions.normalization`), then optional locale-aware
///    lowercasing (`u_strToLower` with `language`), renormalized so case mapping cannot leave
///    decomposed text behind.
/// 2. ICU's word break iterator (UAX #29) cuts the text into segments; one break iterator is
///    reused for every line. Letters, numbers, kana and ideographs form word segments; each
///    punctuation mark or symbol is its own segment; an emoji ZWJ sequence or a base with skin
///    tone or combining marks stays one segment.
/// 3. Inside each segment whitespace separates tokens, and no-break spaces and a literal ￭
///    become escape tokens (see `Joiner`). Numbers joined by `-` or `–` are merged (`10-20`)
///    unless `splitNumbers`, which instead splits number segments into digit runs and separators.
///    Clitics split by language (see `TokenizerOptions.language`).
/// 4. Joiners: where two tokens touched in the text, the mark goes on the punctuation side
///    (`Hello ￭, world ￭!`, `(￭ x ￭)`), or on the second token when both are words (CJK:
///    `東京 ￭は`).
///
/// Whitespace: every Unicode White_Space character except the no-break spaces (space, tab, CR,
/// U+3000, U+2000–U+200A, ...) separates tokens, so `Detokenizer` gives back the normalized
/// text with each run of such whitespace folded to one ASCII space and none at the ends
/// (`Detokenizer.foldingWhitespace`). No-break spaces U+00A0, U+202F and U+2007 are kept as
/// tokens, so French `« x »` survives exactly. With `joiners == false` no marks are written and
/// no-break spaces separate tokens like other whitespace (the output is then not lossless).
///
/// Tokens never contain U+0020; split lines on that byte or scalar, not on `Character`
/// (a space followed by a combining mark is one Swift `Character`).
///
/// Not thread-safe (it owns an ICU break iterator and buffers): use one per thread.
public final class Tokenizer {
    public let options: TokenizerOptions

    private let breaker: OpaquePointer
    private let normalizer: OpaquePointer?
    private let clitics: CliticRule

    /// Buffers reused across lines. Kept in one struct and moved into a local for each call, so
    /// the hot loops touch a local value instead of class properties (whose every access would
    /// pay a dynamic exclusivity check).
    private var workspace = Workspace()

    public init(options: TokenizerOptions) throws {
        try options.validate()
        self.options = options
        var status: Int32 = 0
        switch options.normalization {
        case .nfc: normalizer = cicu_nfc(&status)
        case .nfkc: normalizer = cicu_nfkc(&status)
        case .none: normalizer = nil
        }
        guard status <= 0 else {
            throw TextError.icu(operation: "normalizer", name: String(cString: cicu_u_errorName(status)))
        }
        let opened = options.language.withCString { cicu_ubrk_open($0, nil, 0, &status) }
        guard status <= 0, let opened else {
            throw TextError.icu(operation: "ubrk_open", name: String(cString: cicu_u_errorName(status)))
        }
        breaker = opened
        clitics = CliticRule(language: options.language)
    }

    deinit { cicu_ubrk_close(breaker) }

    /// Tokens of one line (which should not contain a newline). An empty or all-space line gives [].
    public func tokenize(_ line: String) -> [String] {
        withWorkspace { w in
            w.units.removeAll(keepingCapacity: true)
            w.units.append(contentsOf: line.utf16)
            tokenizeUnits(&w)
            var tokens: [String] = []
            w.line.withUnsafeBufferPointer { buf in
                var start = 0
                for i in 0...buf.count where i == buf.count || buf[i] == 0x20 {
                    if i > start {
                        tokens.append(String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF16.self))
                    }
                    start = i &+ 1
                }
            }
            return tokens
        }
    }

    /// The normalization and case step alone: what the tokens of `line` are cut from.
    public func normalize(_ line: String) -> String {
        withWorkspace { w in
            w.units.removeAll(keepingCapacity: true)
            w.units.append(contentsOf: line.utf16)
            normalizeUnits(&w)
            return String(decoding: w.units, as: UTF16.self)
        }
    }

    /// Tokenizes one line of UTF-8 bytes (without its newline) and appends the space-separated
    /// tokens as UTF-8 to `output` (no newline). Returns false, appending nothing, when the bytes
    /// are not valid UTF-8 and `replacingInvalid` is false; with it, bad sequences become U+FFFD.
    /// This is the fast path of `seq2seq tokenize`: no String is made.
    public func appendTokenized(utf8 bytes: UnsafeBufferPointer<UInt8>, replacingInvalid: Bool,
                                to output: inout [UInt8]) -> Bool {
        withWorkspace { w in
            guard decodeUTF8(bytes, into: &w.units, scratch: &w.scratch, replacingInvalid: replacingInvalid) else {
                return false
            }
            tokenizeUnits(&w)
            appendUTF8(w.line, to: &output)
            return true
        }
    }

    // MARK: - Steps

    private func withWorkspace<R>(_ body: (inout Workspace) -> R) -> R {
        var local = Workspace()
        swap(&local, &workspace)
        defer { swap(&local, &workspace) }
        return body(&local)
    }

    private func normalizeUnits(_ w: inout Workspace) {
        if let normalizer { w.normalize(normalizer) }
        if options.lowercase {
            options.language.withCString { locale in
                w.transformUnits { cicu_u_strToLower($2, $3, $0, $1, locale, $4) }
            }
            if let normalizer { w.normalize(normalizer) }
        }
    }

    private func tokenizeUnits(_ w: inout Workspace) {
        normalizeUnits(&w)
        w.pieces.removeAll(keepingCapacity: true)
        w.line.removeAll(keepingCapacity: true)
        guard !w.units.isEmpty else { return }
        if options.pretokenized {
            // Already tokenized: runs of spaces and tabs separate tokens, nothing else does.
            for unit in w.units {
                if unit == 0x20 || unit == 0x09 {
                    if let last = w.line.last, last != 0x20 { w.line.append(0x20) }
                } else {
                    w.line.append(unit)
                }
            }
            if w.line.last == 0x20 { w.line.removeLast() }
            return
        }
        let breaker = breaker
        w.units.withUnsafeBufferPointer { text in
            var status: Int32 = 0
            cicu_ubrk_setText(breaker, text.baseAddress, Int32(text.count), &status)
            guard status <= 0 else { return }
            var cutter = PieceCutter(text: text, options: options, clitics: clitics)
            var start = Int(cicu_ubrk_first(breaker))
            while true {
                let end = Int(cicu_ubrk_next(breaker))
                if end < 0 { break }  // UBRK_DONE
                cutter.cutSegment(start, end, rule: cicu_ubrk_getRuleStatus(breaker), into: &w.pieces)
                start = end
            }
        }
        w.assembleLine(joiners: options.joiners)
    }
}

/// The tokenizer's reusable buffers.
private struct Workspace {
    /// Text being tokenized (UTF-16).
    var units: [UInt16] = []
    var scratch: [UInt16] = []
    var pieces: [Piece] = []
    /// The tokenized line as UTF-16, tokens separated by U+0020.
    var line: [UInt16] = []

    /// Runs an ICU `(src, len, dest, cap, status) -> length` function from `units` into
    /// `scratch`, growing on overflow, then swaps the two. On an ICU failure (not expected for
    /// valid UTF-16) the text is left unchanged.
    mutating func transformUnits(_ f: (UnsafePointer<UInt16>, Int32, UnsafeMutablePointer<UInt16>, Int32,
                                       UnsafeMutablePointer<Int32>) -> Int32) {
        guard !units.isEmpty else { return }
        var capacity = units.count &* 2 &+ 16
        while true {
            if scratch.count < capacity {
                scratch.append(contentsOf: repeatElement(0, count: capacity &- scratch.count))
            }
            var status: Int32 = 0
            let length = units.withUnsafeBufferPointer { src in
                scratch.withUnsafeMutableBufferPointer { dst in
                    f(src.baseAddress!, Int32(src.count), dst.baseAddress!, Int32(dst.count), &status)
                }
            }
            if status == CICU_BUFFER_OVERFLOW_ERROR { capacity = Int(length) &+ 16; continue }
            guard status <= 0 else { return }
            scratch.removeSubrange(Int(length)...)
            swap(&units, &scratch)
            return
        }
    }

    /// Most lines are already normalized; ICU's check is much cheaper than a copy.
    mutating func normalize(_ normalizer: OpaquePointer) {
        guard !units.isEmpty else { return }
        var status: Int32 = 0
        let done = units.withUnsafeBufferPointer {
            cicu_unorm2_isNormalized(normalizer, $0.baseAddress, Int32($0.count), &status)
        }
        if done != 0 && status <= 0 { return }
        transformUnits { cicu_unorm2_normalize(normalizer, $0, $1, $2, $3, $4) }
    }

    /// Writes `pieces` into `line` with joiner marks.
    mutating func assembleLine(joiners: Bool) {
        var line = [UInt16]()
        swap(&line, &self.line)
        defer { swap(&line, &self.line) }
        units.withUnsafeBufferPointer { text in
            pieces.withUnsafeBufferPointer { ps in
                for k in 0..<ps.count {
                    let p = ps[k]
                    if k > 0 { line.append(0x20) }
                    if joiners && k > 0 && !p.spaceBefore && (!p.isWord || ps[k &- 1].isWord) {
                        line.append(Joiner.markUTF16)
                    }
                    if p.escape != 0 {
                        line.append(contentsOf: Joiner.escapeUTF16[Int(p.escape) &- 1])
                    } else {
                        line.append(contentsOf: UnsafeBufferPointer(rebasing: text[Int(p.start)..<Int(p.end)]))
                    }
                    if joiners && k &+ 1 < ps.count && !p.isWord {
                        let next = ps[k &+ 1]
                        if !next.spaceBefore && next.isWord { line.append(Joiner.markUTF16) }
                    }
                }
            }
        }
    }
}

// MARK: - UTF-8 <-> UTF-16 through ICU

/// Decodes UTF-8 into `units` (replacing its contents). False when invalid and not replacing.
func decodeUTF8(_ bytes: UnsafeBufferPointer<UInt8>, into units: inout [UInt16], scratch: inout [UInt16],
                replacingInvalid: Bool) -> Bool {
    units.removeAll(keepingCapacity: true)
    guard bytes.count > 0 else { return true }
    // UTF-16 never needs more units than UTF-8 has bytes.
    if scratch.count < bytes.count { scratch = [UInt16](repeating: 0, count: bytes.count) }
    var status: Int32 = 0
    var length: Int32 = 0
    var substitutions: Int32 = 0
    scratch.withUnsafeMutableBufferPointer { dst in
        bytes.withMemoryRebound(to: CChar.self) { src in
            _ = cicu_u_strFromUTF8WithSub(dst.baseAddress, Int32(dst.count), &length, src.baseAddress,
                                          Int32(src.count), replacingInvalid ? 0xFFFD : -1, &substitutions, &status)
        }
    }
    guard status <= 0 else { return false }
    units.append(contentsOf: scratch[0..<Int(length)])
    return true
}

/// Appends the UTF-8 encoding of valid UTF-16 `units` to `output`.
func appendUTF8(_ units: [UInt16], to output: inout [UInt8]) {
    guard !units.isEmpty else { return }
    let base = output.count
    output.append(contentsOf: repeatElement(0, count: units.count &* 3))
    var length: Int32 = 0
    var status: Int32 = 0
    output.withUnsafeMutableBufferPointer { out in
        units.withUnsafeBufferPointer { src in
            UnsafeMutableBufferPointer(rebasing: out[base...]).withMemoryRebound(to: CChar.self) { dst in
                _ = cicu_u_strToUTF8(dst.baseAddress, Int32(dst.count), &length, src.baseAddress,
                                     Int32(src.count), &status)
            }
        }
    }
    output.removeSubrange((base &+ Int(length))...)
}

// MARK: - Character properties (the only other ICU calls; kept here so CICU is imported once)

/// ICU's White_Space property (includes the no-break spaces; callers exclude those).
@inline(__always) func isUnicodeWhiteSpace(_ scalar: UInt32) -> Bool {
    cicu_u_isUWhiteSpace(Int32(bitPattern: scalar)) != 0
}

/// General category Nd (decimal digit) in any script.
@inline(__always) func isDecimalDigit(_ scalar: UInt32) -> Bool {
    cicu_is_decimal_digit(Int32(bitPattern: scalar)) != 0
}
