import Glibc

/// Sequential pairs of one shard, decompressed with zstd's streaming API.
///
/// Reading to the end checks the end marker, the pair count, the zstd content checksum and the
/// manifest's pair count, sizes and CRC-32; any mismatch is an error naming the shard file.
public final class ShardReader {
    /// Path of the shard file (used in every error).
    public let path: String
    private let source: ZstdFileSource
    private let input: BufferedInput
    private let expected: Manifest.Shard?
    /// Pairs returned (or skipped) so far.
    public private(set) var pairsRead = 0
    private var finished = false
    private var uncompressedBytes = ShardFormat.headerSize

    /// Opens shard `index` of `shards`, checking it against the manifest as it is read.
    public convenience init(shards: ShardSet, index: Int) throws {
        try self.init(path: shards.path(ofShard: index), expected: shards.manifest.shards[index])
    }

    /// Opens a shard file; `expected` (its manifest entry) adds the manifest checks.
    public init(path: String, expected: Manifest.Shard?) throws {
        self.path = path
        self.expected = expected
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT, let expected {
                let slash = path.lastIndex(of: "/")
                throw CorpusError.missingShard(name: expected.name,
                                               directory: slash.map { String(path[..<$0]) } ?? ".")
            }
            throw CorpusError.cannotOpen(path: path, reason: errnoText())
        }
        source = try ZstdFileSource(fd: fd, path: path)
        input = BufferedInput(source: source)
        guard let header = try input.take(ShardFormat.headerSize) else {
            throw CorpusError.truncated(path: path, detail: "no shard header")
        }
        guard header.prefix(8).elementsEqual(ShardFormat.magic) else {
            throw CorpusError.corruptShard(path: path, detail: "not a seq2seq shard (bad magic)")
        }
        let version = Int(ShardFormat.loadU32(header, at: 8))
        guard version == ShardFormat.version else {
            throw CorpusError.unsupportedVersion(path: path, found: version, supported: ShardFormat.version)
        }
    }

    /// The next record as one view: u32 length, source, u32 length, target. Nil after the end
    /// marker, once every check has passed. The view is valid until the next call.
    func nextRecord() throws -> (source: UnsafeRawBufferPointer, target: UnsafeRawBufferPointer)? {
        if finished { return nil }
        guard let head = try input.peek(4) else { throw truncation("record \(pairsRead + 1) missing") }
        let sourceLength = ShardFormat.loadU32(head)
        if sourceLength == ShardFormat.endMark {
            try finish()
            return nil
        }
        let s = Int(sourceLength)
        // A length no line can have (corrupt bytes) is refused before it sizes any buffer.
        func checkLength(_ n: Int) throws {
            if n > LineReader.maximumLineBytes {
                throw CorpusError.corruptShard(path: path, detail: "record \(pairsRead + 1) declares a sentence of \(n) bytes, more than a line may have (\(LineReader.maximumLineBytes >> 20) MiB)")
            }
        }
        try checkLength(s)
        guard let withTargetLength = try input.peek(8 &+ s) else { throw truncation("record \(pairsRead + 1) cut") }
        let t = Int(ShardFormat.loadU32(withTargetLength, at: 4 &+ s))
        if t != Int(ShardFormat.endMark) { try checkLength(t) }
        guard t != Int(ShardFormat.endMark), let record = try input.take(8 &+ s &+ t) else {
            throw truncation("record \(pairsRead + 1) cut")
        }
        pairsRead &+= 1
        uncompressedBytes &+= 8 &+ s &+ t
        return (UnsafeRawBufferPointer(rebasing: record[4 ..< 4 &+ s]),
                UnsafeRawBufferPointer(rebasing: record[8 &+ s ..< 8 &+ s &+ t]))
    }

    private func truncation(_ detail: String) -> CorpusError {
        CorpusError.truncated(path: path, detail: detail)
    }

    private func finish() throws {
        guard let trailer = try input.take(12) else { throw truncation("end marker cut") }
        let stored = UInt64(littleEndian: trailer.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
        uncompressedBytes &+= 12
        guard stored == UInt64(pairsRead) else {
            throw CorpusError.corruptShard(path: path, detail: "end marker counts \(stored) pairs, read \(pairsRead)")
        }
        // Drive the decoder to the end of the file: this checks the frame is complete and its
        // content checksum, and that nothing follows the end marker.
        if try input.peek(1) != nil {
            throw CorpusError.corruptShard(path: path, detail: "data after the end marker")
        }
        finished = true
        guard let expected else { return }
        let actual = checksumText(source.compressedCRC)
        if actual != expected.checksum || source.compressedBytes != expected.compressedBytes {
            throw CorpusError.checksumMismatch(path: path, expected: "\(expected.checksum) (\(expected.compressedBytes) bytes)",
                                               actual: "\(actual) (\(source.compressedBytes) bytes)")
        }
        if expected.pairs != pairsRead || expected.uncompressedBytes != uncompressedBytes {
            throw CorpusError.corruptShard(path: path, detail: "manifest says \(expected.pairs) pairs / \(expected.uncompressedBytes) bytes, shard has \(pairsRead) / \(uncompressedBytes)")
        }
    }

    /// The next pair, or nil at the (verified) end of the shard.
    public func next() throws -> SentencePair? {
        guard let record = try nextRecord() else { return nil }
        return SentencePair(source: String(decoding: record.source, as: UTF8.self),
                            target: String(decoding: record.target, as: UTF8.self))
    }

    /// Skips up to `count` pairs without making Strings; returns how many were skipped.
    @discardableResult
    public func skip(_ count: Int) throws -> Int {
        var skipped = 0
        while skipped < count, try nextRecord() != nil { skipped += 1 }
        return skipped
    }
}
