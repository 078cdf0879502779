import Basics

/// A list of BPE merge operations in subword-nmt's codes-file format (Sennrich et al. 2016).
///
/// File format (UTF-8, `\n` line ends), as `subword-nmt learn-bpe` writes it:
/// ```
/// #version: 0.2
/// e r</w>
/// t h
/// ...
/// ```
/// - Line 1: `#version: 0.2` (end-of-word `</w>` attached to a word's last character) or
///   `#version: 0.1` (`</w>` a symbol of its own). A file without the header is version 0.1, as
///   subword-nmt reads it. Trailing `.0` groups are ignored (`0.2.0` is 0.2).
/// - Then one merge per line, by priority: two symbols separated by one space. `\r`, `\n` and
///   spaces at either end of a line are ignored, and so are empty lines at the end of the file;
///   any other line without exactly two symbols is an error naming the file and line.
/// - A pair listed twice keeps its first (highest) priority.
public struct BPECodes: Equatable, Sendable {
    /// How the end of a word is marked (subword-nmt's codes version).
    public enum Version: String, Sendable {
        /// `</w>` is a separate symbol after the word's last character.
        case v0_1 = "0.1"
        /// `</w>` is part of the word's last character's symbol (what learn-bpe writes).
        case v0_2 = "0.2"
    }

    public var version: Version
    /// Merges by priority (index 0 first): (left symbol, right symbol).
    public var merges: [(String, String)]

    public init(version: Version = .v0_2, merges: [(String, String)]) {
        self.version = version
        self.merges = merges
    }

    public static func == (a: BPECodes, b: BPECodes) -> Bool {
        a.version == b.version && a.merges.count == b.merges.count
            && zip(a.merges, b.merges).allSatisfy { $0.0.utf8.elementsEqual($1.0.utf8) && $0.1.utf8.elementsEqual($1.1.utf8) }
    }

    /// The file's text: the version header and one `left right` line per merge.
    public func serialized() -> String {
        var text = "#version: \(version.rawValue)\n"
        for (left, right) in merges {
            text += left
            text += " "
            text += right
            text += "\n"
        }
        return text
    }

    /// FNV-1a (64-bit) of `serialized()` as 16 lowercase hex digits: what a vocabulary built with
    /// these codes records (`TokenizerOptions.bpeCodes`), independent of how the file was spelled
    /// (CRLF, a missing header, trailing empty lines).
    public var checksum: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in serialized().utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Writes `serialized()` atomically (temporary name, then rename). Throws `FileError` naming `path`.
    public func write(to path: String) throws {
        try AtomicFileWriter.write(serialized().utf8, to: path, sync: false)
    }

    /// Reads a codes file. Throws `TextError` naming `path` (and the line) when it cannot be read,
    /// is not UTF-8, has an unsupported version or a line that is not two symbols.
    public init(contentsOf path: String) throws {
        try self.init(bytes: FileBytes.read(path), path: path)
    }

    /// Parses codes-file bytes; `path` names the source in errors.
    public init(bytes: [UInt8], path: String) throws {
        func fail(_ line: Int, _ hint: String) -> TextError { .malformedSubwords(file: path, line: line, hint: hint) }
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        var firstLine = 1
        version = .v0_1
        if let head = lines.first, head.starts(with: Array("#version:".utf8)) {
            guard let text = String(validating: head, as: UTF8.self) else { throw TextError.invalidUTF8(source: path, line: 1) }
            var number = String(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).last ?? "")
            if number.hasPrefix("#version:") { number.removeFirst("#version:".count) }
            // subword-nmt drops `(\.0+)*` at the end ("0.2.0" is 0.2).
            while let dot = number.lastIndex(of: "."), number.index(after: dot) < number.endIndex,
                  number[number.index(after: dot)...].allSatisfy({ $0 == "0" }) {
                number = String(number[..<dot])
            }
            guard let known = Version(rawValue: number) else {
                throw fail(1, "unsupported codes version '\(number)' (subword-nmt writes '#version: 0.2')")
            }
            version = known
            lines.removeFirst()
            firstLine = 2
        }
        // subword-nmt drops trailing newlines of the whole file (`rstrip('\n')`), so empty lines
        // at the end are no merges.
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        var merges: [(String, String)] = []
        merges.reserveCapacity(lines.count)
        for (offset, raw) in lines.enumerated() {
            let number = offset + firstLine
            var s = raw.startIndex, e = raw.endIndex
            while s < e && (raw[s] == 0x0D || raw[s] == 0x0A || raw[s] == 0x20) { s += 1 }
            while e > s && (raw[e - 1] == 0x0D || raw[e - 1] == 0x0A || raw[e - 1] == 0x20) { e -= 1 }
            let body = raw[s..<e]
            let parts = body.split(separator: 0x20, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw fail(number, "expected two subword units separated by one space, found '\(String(decoding: body, as: UTF8.self))'")
            }
            guard let left = String(validating: parts[0], as: UTF8.self),
                  let right = String(validating: parts[1], as: UTF8.self) else {
                throw TextError.invalidUTF8(source: path, line: number)
            }
            merges.append((left, right))
        }
        self.merges = merges
    }
}
