/// Parses one JSON-lines record: an object whose values are numbers, strings, booleans or null
/// (RFC 8259 grammar, checked strictly so a truncated or hand-edited line is reported, not
/// half-read). Foundation-free so the module stays small; the log is tiny, so clarity wins over
/// speed here.
struct FlatJSONParser {
    /// Why a line failed, with the 1-based byte column; the caller adds file and line.
    struct Failure: Error {
        var reason: String
    }

    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The object's fields in line order; a repeated key keeps its last value.
    static func parseObject(_ bytes: [UInt8]) throws -> [(key: String, value: JSONScalar)] {
        var parser = FlatJSONParser(bytes)
        parser.skipWhitespace()
        guard parser.peek() == UInt8(ascii: "{") else { throw parser.failure("expected '{' at the start") }
        let fields = try parser.parseFields()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.failure("unexpected text after the object") }
        var unique: [(key: String, value: JSONScalar)] = []
        for field in fields {
            if let at = unique.firstIndex(where: { $0.key == field.key }) { unique[at].value = field.value } else { unique.append(field) }
        }
        return unique
    }

    // MARK: Grammar

    /// Parses `{ "key": value, ... }` starting at the `{`.
    private mutating func parseFields() throws -> [(key: String, value: JSONScalar)] {
        index += 1
        var fields: [(key: String, value: JSONScalar)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; return fields }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a quoted key") }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw failure("expected ':' after key \"\(key)\"") }
            index += 1
            skipWhitespace()
            fields.append((key, try parseValue()))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return fields
            case nil: throw failure("line ends inside the object")
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func parseValue() throws -> JSONScalar {
        switch peek() {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "{"): _ = try parseFields(); return .nested
        case UInt8(ascii: "["): try skipArray(); return .nested
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), .some(UInt8(ascii: "0")...UInt8(ascii: "9")): return .number(try parseNumber())
        case nil: throw failure("line ends where a value should be")
        default: throw failure("expected a value")
        }
    }

    private mutating func skipArray() throws {
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { index += 1; return }
        while true {
            skipWhitespace()
            _ = try parseValue()
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    /// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func parseNumber() throws -> Double {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        if peek() == UInt8(ascii: "0") {
            index += 1
        } else if digitCount() == 0 {
            throw failure("expected digits in a number")
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            if digitCount() == 0 { throw failure("expected digits after '.'") }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            if digitCount() == 0 { throw failure("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        // The grammar was checked above; Double's parser rounds correctly. Out-of-range values
        // become ±infinity, which the plot treats like null.
        guard let value = Double(text) else { throw failure("bad number '\(text)'") }
        return value
    }

    private mutating func digitCount() -> Int {
        let start = index
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    private mutating func parseString() throws -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var runStart = index
        while true {
            guard let byte = peek() else { throw failure("line ends inside a string") }
            if byte == UInt8(ascii: "\"") {
                var text = String(decoding: bytes[runStart..<index], as: UTF8.self)
                if !scalars.isEmpty { text = String(scalars) + text }
                index += 1
                return text
            }
            if byte < 0x20 { throw failure("control character inside a string") }
            if byte != UInt8(ascii: "\\") { index += 1; continue }
            // An escape: flush the plain run so far, then decode the escape.
            scalars.append(contentsOf: String(decoding: bytes[runStart..<index], as: UTF8.self).unicodeScalars)
            index += 1
            guard let escaped = peek() else { throw failure("line ends inside a string") }
            index += 1
            switch escaped {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"): scalars.append(try parseUnicodeEscape())
            default: throw failure("unknown escape '\\\(Character(Unicode.Scalar(escaped)))'")
            }
            runStart = index
        }
    }

    /// `\uXXXX`, joining a UTF-16 surrogate pair when one follows; a lone surrogate becomes U+FFFD
    /// as in most JSON readers.
    private mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let first = try hex4()
        if (0xD800..<0xDC00).contains(first), bytes.count >= index + 6,
           bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
            let save = index
            index += 2
            let second = try hex4()
            if (0xDC00..<0xE000).contains(second) {
                return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
            }
            index = save
        }
        return Unicode.Scalar(first) ?? "\u{FFFD}"
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw failure("line ends inside a \\u escape") }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("expected four hex digits after \\u")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func expectWord(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw failure("expected \(word)") }
        for k in 0..<count where bytes[index + k] != word.utf8Start[k] { throw failure("expected \(word)") }
        index += count
    }

    // MARK: Helpers

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private func failure(_ reason: String) -> Failure {
        Failure(reason: "\(reason) (column \(index + 1))")
    }
}
