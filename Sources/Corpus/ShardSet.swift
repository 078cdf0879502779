import Basics
import CZlib
import Foundation
import Glibc

/// A shard folder: its validated manifest and access to the shards it lists.
public final class ShardSet {
    public let directory: String
    public let manifest: Manifest

    /// Reads and validates `directory/manifest.json` (shard files are checked when read).
    public init(directory: String) throws {
        var directory = directory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        self.directory = directory
        manifest = try Manifest.load(path: directory + "/" + ShardFormat.manifestName)
    }

    private init(directory: String, manifest: Manifest) {
        self.directory = directory
        self.manifest = manifest
    }

    /// Part `part` of `parts` disjoint parts of the corpus, shards being the unit: the shards whose
    /// index in the manifest is congruent to `part` modulo `parts` (with one part, the set itself).
    /// Data-parallel training gives each (virtual) rank one part. The part's manifest lists only
    /// its shards, with totals recomputed, so a `BatchStream` over it shuffles and positions within
    /// the part. Throws ``CorpusError/invalidOptions(reason:)`` when `part` is not in 0..<`parts` or
    /// there are fewer shards than parts (a part would be empty).
    public func part(_ part: Int, of parts: Int) throws -> ShardSet {
        guard parts >= 1, (0..<parts).contains(part) else {
            throw CorpusError.invalidOptions(reason: "part \(part) of \(parts) does not exist")
        }
        if parts == 1 { return self }
        guard shardCount >= parts else {
            throw CorpusError.invalidOptions(
                reason: "\(directory) holds \(shardCount) shard\(shardCount == 1 ? "" : "s") for \(parts) data parts; every part needs at "
                    + "least one shard (re-shard with a smaller --pairs-per-shard so there are at least \(parts))")
        }
        var subset = manifest
        subset.shards = manifest.shards.enumerated().filter { $0.offset % parts == part }.map(\.element)
        // The sums of a subset of a validated manifest's shards cannot overflow.
        subset.totalPairs = subset.shards.reduce(0) { $0 + $1.pairs }
        subset.totalCompressedBytes = subset.shards.reduce(0) { $0 + $1.compressedBytes }
        subset.totalUncompressedBytes = subset.shards.reduce(0) { $0 + $1.uncompressedBytes }
        subset.totalTextBytes = subset.totalUncompressedBytes - subset.shards.count * (ShardFormat.headerSize + 12) - subset.totalPairs * 8
        return ShardSet(directory: directory, manifest: subset)
    }

    public var pairCount: Int { manifest.totalPairs }
    public var shardCount: Int { manifest.shards.count }

    public func path(ofShard index: Int) -> String { directory + "/" + manifest.shards[index].name }

    /// Where pair `offset` of a stream visiting shards in `order` falls: the index into `order`
    /// and the pair offset inside that shard (`order.count`, 0 past the end). Uses only the manifest.
    public func locate(_ offset: Int, order: [Int]) -> (orderIndex: Int, pairOffset: Int) {
        var remaining = offset
        var orderIndex = 0
        while orderIndex < order.count && remaining >= manifest.shards[order[orderIndex]].pairs {
            remaining -= manifest.shards[order[orderIndex]].pairs
            orderIndex += 1
        }
        return (orderIndex, remaining)
    }

    /// Throws `missingShard` for the first listed shard that is not on disk.
    public func checkShardsPresent() throws {
        for shard in manifest.shards where access(directory + "/" + shard.name, R_OK) != 0 {
            throw CorpusError.missingShard(name: shard.name, directory: directory)
        }
    }

    /// Checks every listed shard's size and CRC-32 of its compressed bytes against the manifest,
    /// without decompressing (a read of the files at disk speed): a missing, cut-short or altered
    /// shard fails here, before a training run has written anything.
    public func checkChecksums() throws {
        try checkShardsPresent()
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        for (index, shard) in manifest.shards.enumerated() {
            let path = self.path(ofShard: index)
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw CorpusError.cannotOpen(path: path, reason: errnoText()) }
            defer { close(fd) }
            var crc = crc32(0, nil, 0)
            var bytes = 0
            while true {
                let n = read(fd, buffer, 1 << 20)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CorpusError.readFailed(path: path, reason: errnoText())
                }
                if n == 0 { break }
                crc = crc32(crc, buffer.assumingMemoryBound(to: UInt8.self), UInt32(n))
                bytes += n
            }
            if bytes < shard.compressedBytes {
                throw CorpusError.truncated(path: path, detail: "\(bytes) bytes, the manifest says \(shard.compressedBytes) "
                    + "(see `seq2seq shard --verify \(directory)`)")
            }
            let actual = checksumText(crc)
            if actual != shard.checksum || bytes != shard.compressedBytes {
                throw CorpusError.checksumMismatch(path: path, expected: "\(shard.checksum) (\(shard.compressedBytes) bytes)",
                                                   actual: "\(actual) (\(bytes) bytes)")
            }
        }
    }

    /// Decompresses every shard and checks it against the manifest: each shard's pair count,
    /// sizes and checksum (the manifest's totals were checked against its shard list on load),
    /// and that the shard files on disk are exactly those listed (none missing, none extra).
    /// Returns one message per problem, each naming the file; empty when the corpus is intact.
    public func verify() -> [String] {
        var problems: [String] = []
        for index in manifest.shards.indices {
            do {
                let reader = try ShardReader(shards: self, index: index)
                while try reader.nextRecord() != nil {}
            } catch {
                problems.append("\(error)")
            }
        }
        let listed = Set(manifest.shards.map(\.name))
        let onDisk = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in onDisk.sorted() where ShardFormat.isShardName(name) && !listed.contains(name) {
            problems.append("\(CorpusError.verificationFailed(path: directory + "/" + name, detail: "shard file not listed in the manifest (from another corpus? re-run `seq2seq shard`)"))")
        }
        return problems
    }

    /// Writes the stored pairs, in stored order, as two plain text files (one sentence per
    /// line, "\n" after each). Both files are written atomically, and both are complete before
    /// either is renamed into place. Returns the pair count. Throws `CorpusError.outputRefused`
    /// when both sides would go to one file, or a side into the shard folder itself.
    @discardableResult
    public func export(sourcePath: String, targetPath: String) throws -> Int {
        let folder = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        func resolved(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
        if resolved(sourcePath) == resolved(targetPath) && AtomicFileWriter.descriptorNumber(sourcePath) == nil {
            throw CorpusError.outputRefused(path: targetPath, reason: "is also the source side's output; give two files")
        }
        for path in [sourcePath, targetPath] where resolved(path).hasPrefix(folder + "/") {
            throw CorpusError.outputRefused(path: path, reason: "is inside the shard folder being exported; choose another file")
        }
        let sources = try AtomicFileWriter(path: sourcePath)
        let targets = try AtomicFileWriter(path: targetPath)
        var pairs = 0
        for index in manifest.shards.indices {
            let reader = try ShardReader(shards: self, index: index)
            while let record = try reader.nextRecord() {
                try sources.write(record.source)
                try sources.write(byte: 10)
                try targets.write(record.target)
                try targets.write(byte: 10)
                pairs += 1
            }
        }
        // Both files whole on disk before either replaces what was there.
        try sources.close()
        try targets.close()
        try sources.commit()
        try targets.commit()
        return pairs
    }
}
