import Basics
import Foundation

/// A seeded, uniform shuffle of a stream of sentence pairs with memory bounded by one bucket
/// (`seq2seq shard --shuffle SEED`), so a corpus sorted by length (or by source) trains on
/// sentences of every kind from the first step.
///
/// Two passes (the scatter-then-shuffle random permutation, Sanders 1998): each pair goes, in input
/// order, to one of B bucket files drawn uniformly with the seeded generator; then each bucket in
/// turn is read whole, permuted (Fisher–Yates, the same generator) and emitted. Every permutation of
/// the input is equally likely, and B is chosen so a bucket holds about `bucketBytes` of text. The
/// bucket files live in a hidden temporary folder (`folder`), removed when the shuffle ends or fails.
/// The same seed and input give the same order on every machine.
final class PairShuffler {
    private var generator: SplitMix64
    private let folder: String
    private var files: [UnsafeMutablePointer<FILE>] = []
    private var paths: [String] = []

    /// - Parameters:
    ///   - inputBytes: the size of the input text (both sides), to choose the number of buckets.
    ///   - folder: a folder that does not exist yet, made here for the bucket files.
    /// - Throws: `CorpusError.writeFailed` naming the folder when it or a bucket file cannot be made.
    init(seed: UInt64, inputBytes: Int, folder: String, bucketBytes: Int = 256 << 20) throws {
        generator = SplitMix64(seed: SplitMix64.derive(seed, 0x5348_5546))  // "SHUF"
        self.folder = folder
        let buckets = max(1, min(4096, (inputBytes + bucketBytes - 1) / max(1, bucketBytes)))
        guard mkdir(folder, 0o700) == 0 else {
            throw CorpusError.writeFailed(path: folder, reason: String(cString: strerror(errno)))
        }
        for b in 0..<buckets {
            let path = folder + "/bucket-\(b)"
            guard let file = fopen(path, "w+b") else {
                let reason = String(cString: strerror(errno))
                removeFiles()
                throw CorpusError.writeFailed(path: path, reason: reason)
            }
            files.append(file)
            paths.append(path)
        }
    }

    deinit { removeFiles() }

    /// Closes and removes every bucket file and the folder.
    func removeFiles() {
        for file in files { fclose(file) }
        for path in paths { unlink(path) }
        files = []
        paths = []
        rmdir(folder)
    }

    /// Puts one pair into a bucket drawn at random.
    /// - Throws: `CorpusError.writeFailed` (disk full, file-size limit).
    func add(source: String, target: String) throws {
        let b = files.count == 1 ? 0 : generator.next(below: files.count)
        var record = [UInt8]()
        record.reserveCapacity(8 + source.utf8.count + target.utf8.count)
        for length in [source.utf8.count, target.utf8.count] {
            withUnsafeBytes(of: UInt32(length).littleEndian) { record.append(contentsOf: $0) }
        }
        record.append(contentsOf: source.utf8)
        record.append(contentsOf: target.utf8)
        guard fwrite(record, 1, record.count, files[b]) == record.count else {
            throw CorpusError.writeFailed(path: paths[b], reason: String(cString: strerror(errno)))
        }
    }

    /// Emits every pair: bucket by bucket, each bucket read whole and permuted.
    /// - Throws: `CorpusError.readFailed` / `.writeFailed` for the bucket files; what `body` throws.
    func drain(_ body: (String, String) throws -> Void) throws {
        for (b, file) in files.enumerated() {
            guard fflush(file) == 0 else { throw CorpusError.writeFailed(path: paths[b], reason: String(cString: strerror(errno))) }
            rewind(file)
            var pairs: [(String, String)] = []
            var header = [UInt8](repeating: 0, count: 8)
            while fread(&header, 1, 8, file) == 8 {
                let lengths = (0..<2).map { side in
                    (0..<4).reduce(0) { $0 | Int(header[4 * side + $1]) << (8 * $1) }
                }
                var bytes = [UInt8](repeating: 0, count: lengths[0] + lengths[1])
                guard bytes.isEmpty || fread(&bytes, 1, bytes.count, file) == bytes.count else {
                    throw CorpusError.readFailed(path: paths[b], reason: "bucket file ends early")
                }
                pairs.append((String(decoding: bytes[..<lengths[0]], as: UTF8.self),
                              String(decoding: bytes[lengths[0]...], as: UTF8.self)))
            }
            if ferror(file) != 0 { throw CorpusError.readFailed(path: paths[b], reason: String(cString: strerror(errno))) }
            generator.shuffle(&pairs)
            for (source, target) in pairs { try body(source, target) }
            // The bucket's space is given back before the next one is read.
            _ = ftruncate(fileno(file), 0)
        }
    }
}
