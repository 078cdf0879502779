/// Text primitives that reproduce CPython 3.11's `str` behaviour (Unicode 14), because sacreBLEU's
/// statistics are defined by `str.split()`, `str.rstrip()` and `str.lower()`, not by Swift's
/// `Character` rules. Text is handled as arrays of Unicode scalar values (`UInt32`), which is what a
/// Python `str` indexes.
///
/// Swift's stdlib carries a newer Unicode database than Python 3.11 (14.0): 55 scalars assigned in
/// Unicode 15–16 have a lowercase mapping in Swift but none in Python, so `lower` leaves scalars newer
/// than `unicodeAge` unchanged (checked over all code points against Python 3.11.7). The `regex`
/// module's \p{P}/\p{S}/\p{N} agree with Swift's general categories on every code point
/// (regex 2026.5.9 vs Swift 6.3.1).
public enum PythonText {
    /// The Unicode version of CPython 3.11's `unicodedata` (`str.lower()` tables).
    public static let unicodeAge: (major: Int, minor: Int) = (14, 0)

    /// `str.isspace()`: White_Space plus the bidi classes B and S, so U+001C–U+001F count and
    /// U+200B (zero-width space) does not. The set is fixed across Unicode versions 6–16.
    @inlinable
    public static func isSpace(_ c: UInt32) -> Bool {
        if c < 0x80 { return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) }
        switch c {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Appends the scalar values of `text` to `out`, decoding the (already valid) UTF-8 directly:
    /// iterating `unicodeScalars` costs several times more on the scoring hot path.
    public static func appendScalars(of text: String, to out: inout [UInt32]) {
        var text = text
        text.withUTF8 { u in
            out.reserveCapacity(out.count + u.count)
            var i = 0
            let n = u.count
            while i < n {
                let b = UInt32(u[i])
                if b < 0x80 {
                    out.append(b); i &+= 1
                } else if b < 0xE0 {
                    out.append((b & 0x1F) << 6 | UInt32(u[i &+ 1] & 0x3F)); i &+= 2
                } else if b < 0xF0 {
                    out.append((b & 0x0F) << 12 | UInt32(u[i &+ 1] & 0x3F) << 6 | UInt32(u[i &+ 2] & 0x3F))
                    i &+= 3
                } else {
                    out.append((b & 0x07) << 18 | UInt32(u[i &+ 1] & 0x3F) << 12
                               | UInt32(u[i &+ 2] & 0x3F) << 6 | UInt32(u[i &+ 3] & 0x3F))
                    i &+= 4
                }
            }
        }
    }

    /// `text` as scalars in `out`, passed through `str.lower()` when `lowercase`; `scratch` is reused.
    public static func load(_ text: String, lowercase: Bool, into out: inout [UInt32], scratch: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        appendScalars(of: text, to: &out)
        if lowercase {
            lower(out, into: &scratch)
            swap(&out, &scratch)
        }
    }

    /// Drops trailing `isSpace` scalars (`str.rstrip()`).
    @inlinable
    public static func rstrip(_ s: inout [UInt32]) {
        while let last = s.last, isSpace(last) { s.removeLast() }
    }

    /// `str.lower()` from `source` into `out`: full lowercase mappings (U+0130 becomes two scalars)
    /// and the Final_Sigma rule, which Swift's `lowercased()` does not apply.
    public static func lower(_ source: [UInt32], into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        for i in source.indices {
            let c = source[i]
            if c < 0x80 {
                out.append(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)
            } else if c == 0x3A3 {
                out.append(isFinalSigma(source, at: i) ? 0x3C2 : 0x3C3)
            } else if let scalar = Unicode.Scalar(c), scalar.properties.changesWhenLowercased,
                      isKnownToPython(scalar) {
                for m in scalar.properties.lowercaseMapping.unicodeScalars { out.append(m.value) }
            } else {
                out.append(c)
            }
        }
    }

    /// Whether the scalar was assigned by `unicodeAge` (else Python 3.11 does not lowercase it).
    static func isKnownToPython(_ s: Unicode.Scalar) -> Bool {
        guard let age = s.properties.age else { return false }
        return age.major < unicodeAge.major || (age.major == unicodeAge.major && age.minor <= unicodeAge.minor)
    }

    /// CPython's `handle_capital_sigma`: \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
    static func isFinalSigma(_ s: [UInt32], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, properties(s[j])?.isCaseIgnorable == true { j -= 1 }
        guard j >= 0, properties(s[j])?.isCased == true else { return false }
        j = i + 1
        while j < s.count, properties(s[j])?.isCaseIgnorable == true { j += 1 }
        return j == s.count || properties(s[j])?.isCased != true
    }

    @inline(__always)
    static func properties(_ c: UInt32) -> Unicode.Scalar.Properties? {
        Unicode.Scalar(c)?.properties
    }
}
