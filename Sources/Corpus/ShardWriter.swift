import Basics
import CZlib
import CZstd
import Foundation

/// Options for packing a corpus into shards.
public struct ShardOptions: Sendable {
    /// Pairs per shard file; the last shard may hold fewer.
    public var pairsPerShard: Int
    /// Pairs where either side has more tokens than this (by the caller's `tokenCount`) are skipped.
    public var maxLength: Int?
    /// zstd level (1–19); 3 is zstd's own default.
    public var compressionLevel: Int
    public var languages: Manifest.Languages?
    /// Recorded in the manifest so a corpus says how it was made.
    public var command: String
    /// Replace an earlier shard folder at the output path (`seq2seq shard --overwrite`). Without
    /// it an existing non-empty output folder is refused; with it, only a folder that holds
    /// nothing but a shard corpus (`manifest.json` and `shard-NNNNN.zst` files) is replaced.
    public var overwrite: Bool
    /// When set, the pairs are stored in a seeded uniform random order (`PairShuffler`) instead of
    /// the input order; the same seed and input give the same shards.
    public var shuffleSeed: UInt64?

    public init(pairsPerShard: Int = 100_000, maxLength: Int? = nil, compressionLevel: Int = 3,
                languages: Manifest.Languages? = nil, command: String = "", overwrite: Bool = false,
                shuffleSeed: UInt64? = nil) {
        self.shuffleSeed = shuffleSeed
        self.pairsPerShard = pairsPerShard
        self.maxLength = maxLength
        self.compressionLevel = compressionLevel
        self.languages = languages
        self.command = command
        self.overwrite = overwrite
    }

    func validate() throws {
        guard pairsPerShard > 0 else { throw CorpusError.invalidOptions(reason: "pairs per shard must be positive") }
        if let maxLength, maxLength <= 0 { throw CorpusError.invalidOptions(reason: "max length must be positive") }
        guard (1...22).contains(compressionLevel) else {
            throw CorpusError.invalidOptions(reason: "compression level must be in 1...22, got \(compressionLevel)")
        }
    }
}

/// What a pack run did.
public struct PackSummary: Sendable, Equatable {
    public var pairsRead: Int
    public var pairsWritten: Int
    public var skippedEmpty: Int
    public var skippedTooLong: Int
    public var shards: Int
    public var compressedBytes: Int
    public var uncompressedBytes: Int
    public var textBytes: Int
    /// Decompressed record stream size over compressed size.
    public var compressionRatio: Double { compressedBytes == 0 ? 0 : Double(uncompressedBytes) / Double(compressedBytes) }
}

/// zstd-compresses one shard into an `AtomicFileWriter`, counting and checksumming the output.
final class ShardFileEncoder {
    let writer: AtomicFileWriter
    private let context: OpaquePointer
    private let output: UnsafeMutableRawPointer
    private let outputCapacity = ZSTD_CStreamOutSize()
    private(set) var crc: UInt = crc32(0, nil, 0)
    private(set) var compressedBytes = 0
    private(set) var uncompressedBytes = 0

    init(path: String, level: Int) throws {
        // The file first: if it cannot be made, no zstd context or buffer is left behind (a
        // failed initializer does not run deinit).
        writer = try AtomicFileWriter(path: path)
        guard let context = ZSTD_createCCtx() else {
            writer.abandon()
            throw CorpusError.compressionFailed(path: path, reason: "cannot create zstd context")
        }
        self.context = context
        output = UnsafeMutableRawPointer.allocate(byteCount: outputCapacity, alignment: 16)
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level)))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    private func check(_ code: Int) throws {
        if ZSTD_isError(code) != 0 {
            throw CorpusError.compressionFailed(path: writer.path, reason: String(cString: ZSTD_getErrorName(code)))
        }
    }

    private func drive(_ bytes: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while true {
            var out = ZSTD_outBuffer(dst: output, size: outputCapacity, pos: 0)
            let remaining = ZSTD_compressStream2(context, &out, &input, directive)
            try check(remaining)
            if out.pos > 0 {
                let chunk = UnsafeRawBufferPointer(start: output, count: out.pos)
                crc = crc32(crc, chunk.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt32(out.pos))
                compressedBytes += out.pos
                try writer.write(chunk)
            }
            // e_continue: done once the input is consumed; e_end: done once the frame is flushed.
            if directive == ZSTD_e_end ? remaining == 0 : input.pos == input.size { return }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        uncompressedBytes += bytes.count
        try drive(bytes, ZSTD_e_continue)
    }

    /// Ends the frame and closes the temporary file (not yet renamed).
    func finish() throws {
        try drive(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end)
        try writer.close()
    }
}

/// Writes a shard folder pair by pair with memory independent of the corpus size.
///
/// Everything is written into a hidden staging folder beside the output (`.NAME.partial-PID`),
/// which `finish()` renames into place once the shards and the manifest are complete. So a
/// failure at any point (disk full, bad input, an error thrown by the caller) leaves no output
/// folder behind, and an earlier corpus replaced with `overwrite` stays as it was until the
/// new one is whole. The output must not exist, be an empty folder, or (with
/// `ShardOptions.overwrite`) be an earlier shard folder; anything else, a model folder above
/// all, is refused before anything is written.
public final class ShardWriter {
    public let directory: String
    public let options: ShardOptions
    private let tokenCount: (String) -> Int
    private var current: ShardFileEncoder?
    private var currentPairs = 0
    /// Closed shard files waiting for their rename; the encoders (zstd context, buffers) are
    /// already freed, so memory does not grow with the number of shards.
    private var finishedShards: [(AtomicFileWriter, Manifest.Shard)] = []
    private var summary = PackSummary(pairsRead: 0, pairsWritten: 0, skippedEmpty: 0, skippedTooLong: 0,
                                      shards: 0, compressedBytes: 0, uncompressedBytes: 0, textBytes: 0)
    private var scratch = [UInt8](repeating: 0, count: 8)
    /// What is at `directory` now, decided once in `init`.
    private let existing: OutputFolder
    /// The folder the shards are written into; nil once renamed into place or removed.
    private var staging: String?
    /// Parent folders `init` created for the output, deepest last (removed again on failure).
    private var createdParents: [String] = []
    /// Tests only: called with each file's final path before it is created; throwing from it
    /// stands in for a failed write (a full disk), so the cleanup can be tested.
    var beforeCreatingFile: ((String) throws -> Void)?

    /// What a pack may find at its output path.
    enum OutputFolder { case absent, emptyFolder, shardFolder }

    /// Checks the output path (see the type's documentation), creates missing parent folders
    /// and the staging folder. `tokenCount` counts the tokens of one side (for `maxLength`).
    /// Throws `CorpusError.outputRefused` for an output it must not write to, and
    /// `cannotOpen` when the staging folder cannot be made.
    public init(directory: String, options: ShardOptions, tokenCount: @escaping (String) -> Int) throws {
        try options.validate()
        var directory = directory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        self.directory = directory
        self.options = options
        self.tokenCount = tokenCount
        existing = try ShardWriter.inspectOutput(directory, overwrite: options.overwrite)
        let target = URL(fileURLWithPath: directory).standardizedFileURL
        let parent = target.deletingLastPathComponent().path
        let staging = parent + "/." + target.lastPathComponent + ".partial-\(getpid())"
        do {
            createdParents = try ShardWriter.createMissingFolders(parent)
            try? FileManager.default.removeItem(atPath: staging)  // left by a killed run of this pid
            AbandonedStaging.remove(parent: parent, name: target.lastPathComponent)
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            ShardWriter.removeEmptyFolders(createdParents)
            throw CorpusError.cannotOpen(path: directory, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        self.staging = staging
    }

    deinit {
        abandon()
    }

    /// Refuses an output that is a file, a model folder, or a non-empty folder other than an
    /// earlier shard folder (which needs `overwrite`).
    static func inspectOutput(_ path: String, overwrite: Bool) throws -> OutputFolder {
        // Nor inside one: a model folder or a shard folder above the output would gain a stray
        // subfolder (and a shard folder one that a later --overwrite refuses).
        var ancestor = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent()
        while ancestor.path != "/" {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: ancestor.path)) ?? []
            if names.contains("config.json") && names.contains("source.vocab") {
                throw CorpusError.outputRefused(path: path, reason: "is inside the model folder \(ancestor.path); choose another --output")
            }
            if names.contains(ShardFormat.manifestName) && Manifest.isShardManifest(path: ancestor.path + "/" + ShardFormat.manifestName) {
                throw CorpusError.outputRefused(path: path, reason: "is inside the shard folder \(ancestor.path); choose another --output")
            }
            ancestor = ancestor.deletingLastPathComponent()
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .absent }
        guard isDirectory.boolValue else {
            throw CorpusError.outputRefused(path: path, reason: "exists and is not a folder; choose another --output")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw CorpusError.cannotOpen(path: path, reason: error.localizedDescription)
        }
        if names.isEmpty { return .emptyFolder }
        if names.contains("config.json") || names.contains(where: { $0.hasSuffix(".safetensors") }) {
            throw CorpusError.outputRefused(path: path, reason: "is a model folder; shards are never written into one, choose another --output")
        }
        let isOurs = { (name: String) in
            name == ShardFormat.manifestName || ShardFormat.isShardName(name) || (name.hasPrefix(".") && name.contains(".tmp-"))
        }
        guard names.contains(ShardFormat.manifestName), names.allSatisfy(isOurs),
              Manifest.isShardManifest(path: path + "/" + ShardFormat.manifestName) else {
            throw CorpusError.outputRefused(path: path, reason: "exists and is not empty (and is not a shard folder); choose another --output")
        }
        guard overwrite else {
            throw CorpusError.outputRefused(path: path, reason: "already holds a shard folder; pass --overwrite to replace it")
        }
        return .shardFolder
    }

    /// Creates `path` and any missing parents; returns the folders it created, outermost first.
    static func createMissingFolders(_ path: String) throws -> [String] {
        var missing: [String] = []
        var url = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: url.path) && url.path != "/" {
            missing.insert(url.path, at: 0)
            url = url.deletingLastPathComponent()
        }
        var created: [String] = []
        do {
            for folder in missing {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
                created.append(folder)
            }
        } catch {
            removeEmptyFolders(created)
            throw error
        }
        return created
    }

    /// Removes these folders, innermost first, each only if it is empty.
    static func removeEmptyFolders(_ folders: [String]) {
        for folder in folders.reversed() { rmdir(folder) }
    }

    /// A side counts as empty when it holds nothing but ASCII whitespace.
    static func isBlank(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 11 || $0 == 12 }
    }

    /// Adds one pair, or skips it (empty side, or longer than `maxLength`). Returns whether it was stored.
    @discardableResult
    public func add(source: String, target: String) throws -> Bool {
        summary.pairsRead += 1
        if ShardWriter.isBlank(source) || ShardWriter.isBlank(target) {
            summary.skippedEmpty += 1
            return false
        }
        if let maxLength = options.maxLength, tokenCount(source) > maxLength || tokenCount(target) > maxLength {
            summary.skippedTooLong += 1
            return false
        }
        let encoder = try currentEncoder()
        try writeSide(source, to: encoder)
        try writeSide(target, to: encoder)
        currentPairs += 1
        summary.pairsWritten += 1
        if currentPairs == options.pairsPerShard { try closeShard() }
        return true
    }

    private func currentEncoder() throws -> ShardFileEncoder {
        if let current { return current }
        let name = ShardFormat.shardName(finishedShards.count)
        try beforeCreatingFile?(directory + "/" + name)
        let encoder = try ShardFileEncoder(path: stagingFolder() + "/" + name, level: options.compressionLevel)
        var header = ShardFormat.magic
        appendU32(&header, UInt32(ShardFormat.version))
        try header.withUnsafeBytes { try encoder.write($0) }
        current = encoder
        currentPairs = 0
        return encoder
    }

    private func appendU32(_ bytes: inout [UInt8], _ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private func writeSide(_ text: String, to encoder: ShardFileEncoder) throws {
        var text = text
        try text.withUTF8 { utf8 in
            guard utf8.count < Int(ShardFormat.endMark) else {
                throw CorpusError.invalidOptions(reason: "a sentence of \(utf8.count) bytes does not fit a shard record")
            }
            var length = UInt32(utf8.count).littleEndian
            try withUnsafeBytes(of: &length) { try encoder.write($0) }
            try encoder.write(UnsafeRawBufferPointer(utf8))
            summary.textBytes += utf8.count
        }
    }

    private func closeShard() throws {
        guard let encoder = current else { return }
        var trailer: [UInt8] = []
        appendU32(&trailer, ShardFormat.endMark)
        withUnsafeBytes(of: UInt64(currentPairs).littleEndian) { trailer.append(contentsOf: $0) }
        try trailer.withUnsafeBytes { try encoder.write($0) }
        try encoder.finish()
        let name = ShardFormat.shardName(finishedShards.count)
        finishedShards.append((encoder.writer, Manifest.Shard(
            name: name, pairs: currentPairs, compressedBytes: encoder.compressedBytes,
            uncompressedBytes: encoder.uncompressedBytes, checksum: checksumText(encoder.crc))))
        current = nil
        currentPairs = 0
    }

    /// The hidden staging folder, for scratch files that must vanish with it (removed before
    /// `finish` renames it, or with it by `abandon`).
    func scratchFolder() throws -> String { try stagingFolder() }

    private func stagingFolder() throws -> String {
        guard let staging else {
            throw CorpusError.writeFailed(path: directory, reason: "the shard writer was already finished or abandoned")
        }
        return staging
    }

    /// Closes the last shard, writes the manifest and renames the complete folder into place
    /// (replacing an earlier shard folder when `overwrite` allowed it). Throws
    /// `CorpusError.emptyCorpus` when no pair was stored, and write errors naming the file; on
    /// any error nothing is left at the output path that was not there before.
    public func finish() throws -> PackSummary {
        do {
            return try finishStaging()
        } catch {
            abandon()
            throw error
        }
    }

    private func finishStaging() throws -> PackSummary {
        let staging = try stagingFolder()
        try closeShard()
        if summary.pairsWritten == 0 {
            let why = summary.pairsRead == 0 ? "the input holds no pairs"
                : "all \(summary.pairsRead) pairs were skipped (\(summary.skippedEmpty) with an empty side, "
                    + "\(summary.skippedTooLong) over the length limit)"
            throw CorpusError.emptyCorpus(path: directory, reason: "\(why); nothing was written")
        }
        for (writer, _) in finishedShards { try writer.commit() }
        let shards = finishedShards.map { $0.1 }
        finishedShards = []
        summary.shards = shards.count
        summary.compressedBytes = shards.reduce(0) { $0 + $1.compressedBytes }
        summary.uncompressedBytes = shards.reduce(0) { $0 + $1.uncompressedBytes }
        let manifest = Manifest(
            format: "seq2seq-shards", formatVersion: ShardFormat.version, languages: options.languages,
            checksumAlgorithm: "crc32", compressionLevel: options.compressionLevel, maxLength: options.maxLength,
            shards: shards, totalPairs: summary.pairsWritten, totalCompressedBytes: summary.compressedBytes,
            totalUncompressedBytes: summary.uncompressedBytes, totalTextBytes: summary.textBytes,
            skippedEmpty: summary.skippedEmpty, skippedTooLong: summary.skippedTooLong, command: options.command)
        try beforeCreatingFile?(directory + "/" + ShardFormat.manifestName)
        let writer = try AtomicFileWriter(path: staging + "/" + ShardFormat.manifestName)
        try manifest.encoded().withUnsafeBytes { try writer.write($0) }
        try writer.commit()
        try placeStagingFolder(staging)
        self.staging = nil
        return summary
    }

    /// Renames the finished staging folder to `directory`. An earlier shard folder is first
    /// moved aside and removed only once the new one is in place (and put back if that fails).
    private func placeStagingFolder(_ staging: String) throws {
        func failure(_ what: String) -> CorpusError {
            CorpusError.writeFailed(path: directory, reason: "\(what): \(errnoText())")
        }
        if existing != .shardFolder {
            // rename(2) also replaces an empty folder; it fails if the path filled up meanwhile.
            if rename(staging, directory) != 0 { throw failure("cannot move the new corpus into place") }
            return
        }
        let aside = URL(fileURLWithPath: staging).deletingLastPathComponent().path + "/."
            + URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent + ".old-\(getpid())"
        try? FileManager.default.removeItem(atPath: aside)
        if rename(directory, aside) != 0 { throw failure("cannot move the earlier corpus aside") }
        if rename(staging, directory) != 0 {
            let error = failure("cannot move the new corpus into place")
            _ = rename(aside, directory)
            throw error
        }
        try? FileManager.default.removeItem(atPath: aside)
    }

    /// Drops everything written so far: the staging folder and any parent folders `init`
    /// created. An earlier corpus at the output path stays as it was.
    public func abandon() {
        current?.writer.abandon()
        current = nil
        for (writer, _) in finishedShards { writer.abandon() }
        finishedShards = []
        if let staging {
            try? FileManager.default.removeItem(atPath: staging)
            self.staging = nil
            ShardWriter.removeEmptyFolders(createdParents)
        }
    }
}

/// Packs parallel text files (or a TSV file) into a shard folder.
public enum ShardPacker {
    /// Streams pairs (memory independent of input size). Before anything is written, both files
    /// are read once to check UTF-8 and that their line counts match. `tokenCount` counts the
    /// tokens of one side for `options.maxLength`.
    public static func pack(sourcePath: String, targetPath: String, output: String, options: ShardOptions,
                            tokenCount: @escaping (String) -> Int) throws -> PackSummary {
        try options.validate()
        for path in [sourcePath, targetPath] { try requireRereadable(path) }
        let sourceLines = try LineReader(path: sourcePath).countRemainingLines()
        let targetLines = try LineReader(path: targetPath).countRemainingLines()
        guard sourceLines == targetLines else {
            throw CorpusError.lineCountMismatch(sourcePath: sourcePath, sourceLines: sourceLines,
                                                targetPath: targetPath, targetLines: targetLines)
        }
        let writer = try ShardWriter(directory: output, options: options, tokenCount: tokenCount)
        do {
            let sources = try LineReader(path: sourcePath)
            let targets = try LineReader(path: targetPath)
            try store(into: writer, inputBytes: fileBytes(sourcePath) + fileBytes(targetPath)) { add in
                while let source = try sources.next() {
                    guard let target = try targets.next() else {
                        // The file changed since it was counted.
                        throw CorpusError.lineCountMismatch(sourcePath: sourcePath, sourceLines: sources.lineNumber,
                                                            targetPath: targetPath, targetLines: targets.lineNumber)
                    }
                    try add(source, target)
                }
            }
            return try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Passes every pair that `produce` reads to `writer`, in input order, or (with
    /// `ShardOptions.shuffleSeed`) through a `PairShuffler` whose bucket files live inside the
    /// writer's staging folder, so a failure leaves nothing behind.
    static func store(into writer: ShardWriter, inputBytes: Int,
                      _ produce: (_ add: (String, String) throws -> Void) throws -> Void) throws {
        guard let seed = writer.options.shuffleSeed else {
            try produce { _ = try writer.add(source: $0, target: $1) }
            return
        }
        let shuffler = try PairShuffler(seed: seed, inputBytes: inputBytes, folder: try writer.scratchFolder() + "/.shuffle")
        defer { shuffler.removeFiles() }
        try produce { try shuffler.add(source: $0, target: $1) }
        try shuffler.drain { _ = try writer.add(source: $0, target: $1) }
    }

    /// Size in bytes of the file at `path` (0 when it cannot be read; only a bucket-count hint).
    static func fileBytes(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// The inputs are read twice (checked, then packed): a pipe or FIFO would be empty the second
    /// time, so it is refused with a message saying so rather than "no pairs".
    static func requireRereadable(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO {
            throw CorpusError.cannotOpen(path: path, reason: "is a pipe; shard reads its inputs twice (to check, then to pack): give a file")
        }
    }

    /// One `source<TAB>target` pair per line; a line with no TAB or more than one is an error
    /// naming the line (a TAB inside a sentence cannot be told apart from the separator).
    public static func pack(tsvPath: String, output: String, options: ShardOptions,
                            tokenCount: @escaping (String) -> Int) throws -> PackSummary {
        try options.validate()
        try requireRereadable(tsvPath)
        let check = try LineReader(path: tsvPath)
        while let line = try check.next() { _ = try splitTSV(line, path: tsvPath, line: check.lineNumber) }
        let writer = try ShardWriter(directory: output, options: options, tokenCount: tokenCount)
        do {
            let lines = try LineReader(path: tsvPath)
            try store(into: writer, inputBytes: fileBytes(tsvPath)) { add in
                while let line = try lines.next() {
                    let pair = try splitTSV(line, path: tsvPath, line: lines.lineNumber)
                    try add(pair.source, pair.target)
                }
            }
            return try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
    }

    static func splitTSV(_ text: String, path: String, line: Int) throws -> SentencePair {
        let utf8 = text.utf8
        let tabs = utf8.reduce(0) { $0 + ($1 == 9 ? 1 : 0) }
        guard tabs == 1, let tab = utf8.firstIndex(of: 9) else {
            throw CorpusError.malformedTSV(path: path, line: line, tabs: tabs)
        }
        return SentencePair(source: String(text[..<tab]), target: String(text[utf8.index(after: tab)...]))
    }
}
