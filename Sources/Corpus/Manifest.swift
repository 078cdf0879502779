import Foundation

/// `manifest.json` of a shard folder (see `ShardFormat` for the shard files).
///
/// Written with sorted keys so the same input always gives the same bytes.
public struct Manifest: Codable, Equatable, Sendable {
    /// Source and target language codes, when given to `seq2seq shard`.
    public struct Languages: Codable, Equatable, Sendable {
        public var source: String
        public var target: String
        public init(source: String, target: String) { self.source = source; self.target = target }
    }

    /// One shard file and what it must contain.
    public struct Shard: Codable, Equatable, Sendable {
        public var name: String
        public var pairs: Int
        /// Size of the file on disk.
        public var compressedBytes: Int
        /// Size of the decompressed record stream (header and end marker included).
        public var uncompressedBytes: Int
        /// CRC-32 (zlib) of the compressed file, 8 hex digits.
        public var checksum: String
    }

    /// Always "seq2seq-shards": tells this file apart from other JSON.
    public var format: String
    public var formatVersion: Int
    public var languages: Languages?
    public var checksumAlgorithm: String
    public var compressionLevel: Int
    public var maxLength: Int?
    public var shards: [Shard]
    public var totalPairs: Int
    public var totalCompressedBytes: Int
    public var totalUncompressedBytes: Int
    /// Bytes of sentence text stored (both sides, without record lengths).
    public var totalTextBytes: Int
    public var skippedEmpty: Int
    public var skippedTooLong: Int
    /// The command line that made this corpus.
    public var command: String

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [10]
    }

    /// Reads and validates `manifest.json` at `path`.
    public static func load(path: String) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CorpusError.badManifest(path: path, reason: "cannot read the file (no corpus here?)")
        }
        // Check the version before the full decode so an old/new manifest gets the version message.
        struct Header: Decodable { var format: String?; var formatVersion: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw CorpusError.badManifest(path: path, reason: "not valid JSON")
        }
        guard header.format == "seq2seq-shards" else {
            throw CorpusError.badManifest(path: path, reason: "not a seq2seq shard manifest")
        }
        guard header.formatVersion == ShardFormat.version else {
            throw CorpusError.unsupportedVersion(path: path, found: header.formatVersion ?? -1,
                                                 supported: ShardFormat.version)
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw CorpusError.badManifest(path: path, reason: "\(error)")
        }
        try manifest.validate(path: path)
        return manifest
    }

    /// Internal consistency: names, counts and totals.
    func validate(path: String) throws {
        var names = Set<String>()
        for shard in shards {
            guard ShardFormat.isShardName(shard.name), names.insert(shard.name).inserted else {
                throw CorpusError.badManifest(path: path, reason: "bad or repeated shard name \"\(shard.name)\"")
            }
            guard shard.pairs >= 0, shard.compressedBytes > 0, shard.uncompressedBytes >= ShardFormat.headerSize + 12 else {
                throw CorpusError.badManifest(path: path, reason: "impossible sizes for \(shard.name)")
            }
        }
        // Sums with overflow checks: the numbers come from a file a user may have edited.
        func sum(_ field: String, _ value: (Shard) -> Int) throws -> Int {
            var total = 0
            for shard in shards {
                let (next, overflow) = total.addingReportingOverflow(value(shard))
                if overflow { throw CorpusError.badManifest(path: path, reason: "the shards' \(field) add up past \(Int.max)") }
                total = next
            }
            return total
        }
        guard try sum("pairs", \.pairs) == totalPairs else {
            throw CorpusError.badManifest(path: path, reason: "totalPairs does not match the shards")
        }
        let compressed = try sum("compressedBytes", \.compressedBytes)
        guard compressed == totalCompressedBytes else {
            throw CorpusError.badManifest(
                path: path, reason: "totalCompressedBytes is \(totalCompressedBytes), the shards listed add up to \(compressed)")
        }
        let uncompressed = try sum("uncompressedBytes", \.uncompressedBytes)
        guard uncompressed == totalUncompressedBytes else {
            throw CorpusError.badManifest(
                path: path, reason: "totalUncompressedBytes is \(totalUncompressedBytes), the shards listed add up to \(uncompressed)")
        }
        // The record stream is a header and an end marker per shard and, per pair, two u32
        // lengths and the text of both sides: so the text bytes follow from the other totals.
        let framing = shards.count.multipliedReportingOverflow(by: ShardFormat.headerSize + 12)
        let lengths = totalPairs.multipliedReportingOverflow(by: 8)
        let text = uncompressed.subtractingReportingOverflow(framing.partialValue)
        let expectedText = text.partialValue.subtractingReportingOverflow(lengths.partialValue)
        guard !framing.overflow, !lengths.overflow, !text.overflow, !expectedText.overflow,
              totalTextBytes == expectedText.partialValue else {
            throw CorpusError.badManifest(
                path: path, reason: "totalTextBytes is \(totalTextBytes), which the shards' pair counts and sizes do not allow")
        }
    }

    /// Whether the file at `path` is a seq2seq shard manifest (any version), judged by its
    /// `format` field alone: used to tell an earlier shard folder from other folders.
    static func isShardManifest(path: String) -> Bool {
        struct Header: Decodable { var format: String? }
        guard let data = FileManager.default.contents(atPath: path),
              let header = try? JSONDecoder().decode(Header.self, from: data) else { return false }
        return header.format == "seq2seq-shards"
    }
}
