import CICU

/// An ICU regular expression over one string at a time, for BPE glossaries (`--glossaries`), which
/// subword-nmt takes as Python regular expressions. ICU's syntax agrees with Python's `re` for the
/// usual glossary patterns (literals, classes, alternation, `\d`, quantifiers); Python-only
/// constructs such as `(?P<name>…)` are rejected when the pattern is compiled.
final class ICURegex {
    private let regex: OpaquePointer
    /// The text last given to `setText` (ICU keeps a pointer to it).
    private var text: [UInt16] = []

    /// Compiles `pattern`. Throws `TextError.invalidOptions` with ICU's error name.
    init(_ pattern: String) throws {
        let units = Array(pattern.utf16)
        var status: Int32 = 0
        let compiled = units.withUnsafeBufferPointer { cicu_uregex_open($0.baseAddress, Int32($0.count), 0, &status) }
        guard status <= 0, let compiled else {
            throw TextError.invalidOptions("glossary '\(pattern)' is not a valid regular expression (\(String(cString: cicu_u_errorName(status))))")
        }
        regex = compiled
    }

    deinit { cicu_uregex_close(regex) }

    private func setText(_ units: [UInt16]) {
        text = units
        var status: Int32 = 0
        text.withUnsafeBufferPointer { cicu_uregex_setText(regex, $0.baseAddress, Int32($0.count), &status) }
    }

    /// Python's `re.match(pattern, s) is not None`: a match that starts at the beginning.
    func matchesAtStart(_ s: String) -> Bool {
        setText(Array(s.utf16))
        var status: Int32 = 0
        return cicu_uregex_lookingAt(regex, 0, &status) != 0 && status <= 0
    }

    /// Python's `re.search(pattern, s) is not None`.
    func occurs(in s: String) -> Bool {
        setText(Array(s.utf16))
        var status: Int32 = 0
        return cicu_uregex_find(regex, 0, &status) != 0 && status <= 0
    }

    /// Python's `re.split(pattern, s)`: the text between matches, with each match's groups (a
    /// group that did not take part gives nil) after the piece before it, and the rest last.
    func split(_ s: String) -> [String?] {
        let units = Array(s.utf16)
        setText(units)
        var status: Int32 = 0
        let groups = Int(cicu_uregex_groupCount(regex, &status))
        var pieces: [String?] = []
        var last = 0
        while cicu_uregex_findNext(regex, &status) != 0 && status <= 0 {
            let start = Int(cicu_uregex_start(regex, 0, &status)), end = Int(cicu_uregex_end(regex, 0, &status))
            pieces.append(String(decoding: units[last..<start], as: UTF16.self))
            for group in stride(from: 1, through: groups, by: 1) {
                let gs = Int(cicu_uregex_start(regex, Int32(group), &status)), ge = Int(cicu_uregex_end(regex, Int32(group), &status))
                pieces.append(gs < 0 ? nil : String(decoding: units[gs..<ge], as: UTF16.self))
            }
            last = end
        }
        pieces.append(String(decoding: units[last...], as: UTF16.self))
        return pieces
    }
}
