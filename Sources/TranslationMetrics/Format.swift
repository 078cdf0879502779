#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Number formatting and math that match CPython bit for bit: Python's `math.exp`/`math.log` call
/// the C library, and `f"{x:.Nf}"` rounds the exact binary value half-to-even, as C's printf does.
enum Format {
    /// `f"{x:.{digits}f}"`.
    static func fixed(_ x: Double, _ digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = withVaList([x]) { args in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, 64, "%.\(digits)f", args) }
        }
        if n >= 64 { // Only for |x| ≥ 1e60, which no score reaches; keep it correct anyway.
            buffer = [CChar](repeating: 0, count: Int(n) + 1)
            _ = withVaList([x]) { args in
                buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, Int(n) + 1, "%.\(digits)f", args) }
            }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Python's `repr(float)` for finite values: the shortest string that round-trips, which is what
    /// Swift's `description` gives too ("42.1", "100.0", "1e-05").
    static func json(_ x: Double) -> String {
        x.isFinite ? x.description : "null"
    }

    /// A JSON string literal; non-ASCII kept as is (`ensure_ascii=False`).
    static func json(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            // Alike on purpose: JSON's escapes; SVGText.escaped is XML's, in another module.
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

@inline(__always) func libmExp(_ x: Double) -> Double { exp(x) }
@inline(__always) func libmLog(_ x: Double) -> Double { log(x) }
