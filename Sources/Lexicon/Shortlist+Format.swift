/// A shortlist file that cannot be read: what is wrong, in one line (the model folder adds the path).
public struct ShortlistFormatError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The `shortlist.bin` format, version 1; every integer little-endian:
///
/// | bytes | field |
/// |---|---|
/// | 8 | magic `S2SSHORT` |
/// | 4 | version (1) |
/// | 4 | Vs, source vocabulary size |
/// | 4 | Vt, target vocabulary size |
/// | 4 | k the lists were built with |
/// | 4 | F, length of the frequent list |
/// | 4·F | the frequent list, ascending target ids |
/// | 4·(Vs+1) | list offsets: source id s's list is entries offsets[s] ..< offsets[s+1]; offsets[0] = 0 |
/// | 4·M | the lists' target ids, M = offsets[Vs], ascending within each list |
/// | 8 | FNV-1a 64 of every byte before it |
///
/// Reading checks the magic, the version, the exact length, the checksum, then every id and
/// offset, so a truncated, corrupt or foreign file is an error, never a trap.
extension Shortlist {
    public static let magic = Array("S2SSHORT".utf8)
    public static let formatVersion: UInt32 = 1
    public static let fileName = "shortlist.bin"

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        var bytes = Self.magic
        func put(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        put(Self.formatVersion)
        put(UInt32(sourceVocabularySize)); put(UInt32(targetVocabularySize)); put(UInt32(topK))
        put(UInt32(frequent.count))
        for id in frequent { put(UInt32(id)) }
        for offset in offsets { put(UInt32(offset)) }
        for id in targets { put(UInt32(id)) }
        withUnsafeBytes(of: Self.fnv1a(bytes[...]).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Reads a file's bytes; throws ``ShortlistFormatError`` saying what is wrong.
    public init(decoding bytes: [UInt8]) throws {
        guard bytes.count >= 12, Array(bytes[0..<8]) == Self.magic else {
            throw ShortlistFormatError("not a seq2seq shortlist (no S2SSHORT magic)")
        }
        var position = 8
        func get() throws -> Int {
            guard position + 4 <= bytes.count - 8 else { throw ShortlistFormatError("truncated (\(bytes.count) bytes)") }
            var value: UInt32 = 0
            for b in 0..<4 { value |= UInt32(bytes[position + b]) << (8 * UInt32(b)) }
            position += 4
            return Int(value)
        }
        guard bytes.count >= 20 else { throw ShortlistFormatError("truncated (\(bytes.count) bytes)") }
        let version = try get()
        guard version == Int(Self.formatVersion) else {
            throw ShortlistFormatError("shortlist format version \(version), this seq2seq reads version \(Self.formatVersion); rebuild it with `seq2seq shortlist`")
        }
        let (vs, vt, k, f) = (try get(), try get(), try get(), try get())
        // The length the header promises, before reading (or allocating) anything by its counts.
        let fixed = 8 + 4 * 5 + 8
        guard f <= bytes.count / 4, vs < bytes.count / 4 else { throw ShortlistFormatError("truncated (\(bytes.count) bytes)") }
        let headerEnd = fixed + 4 * f + 4 * (vs + 1)
        guard bytes.count >= headerEnd else { throw ShortlistFormatError("truncated (\(bytes.count) bytes)") }
        let tail = bytes.count - 8
        var stored: UInt64 = 0
        for b in 0..<8 { stored |= UInt64(bytes[tail + b]) << (8 * UInt64(b)) }
        let frequent = try (0..<f).map { _ in Int32(truncatingIfNeeded: try get()) }
        let offsets = try (0...vs).map { _ in try get() }
        guard let m = offsets.last, bytes.count == headerEnd + 4 * m else {
            throw ShortlistFormatError("truncated or overlong: \(bytes.count) bytes, the header and offsets promise \(headerEnd + 4 * (offsets.last ?? 0))")
        }
        guard Self.fnv1a(bytes[..<tail]) == stored else { throw ShortlistFormatError("checksum mismatch (corrupt file)") }
        let targets = try (0..<m).map { _ in Int32(truncatingIfNeeded: try get()) }
        try self.init(sourceVocabularySize: vs, targetVocabularySize: vt, topK: k, frequent: frequent,
                      offsets: offsets, targets: targets)
    }

    /// FNV-1a, 64 bits.
    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}
