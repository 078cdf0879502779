/// Errors from reading, packing, verifying and streaming corpora. Every case names the file
/// (and the line or shard) so the message alone tells the user what to fix.
public enum CorpusError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case isDirectory(path: String)
    case writeFailed(path: String, reason: String)
    case invalidUTF8(path: String, line: Int)
    /// Text was expected and the input starts with gzip's or zstd's magic bytes (`format`).
    case compressedInput(path: String, format: String)
    case lineCountMismatch(sourcePath: String, sourceLines: Int, targetPath: String, targetLines: Int)
    case malformedTSV(path: String, line: Int, tabs: Int)
    case decompressionFailed(path: String, reason: String)
    case compressionFailed(path: String, reason: String)
    case truncated(path: String, detail: String)
    case corruptShard(path: String, detail: String)
    case checksumMismatch(path: String, expected: String, actual: String)
    case missingShard(name: String, directory: String)
    case badManifest(path: String, reason: String)
    case unsupportedVersion(path: String, found: Int, supported: Int)
    case badPosition(reason: String)
    case invalidOptions(reason: String)
    /// An output path `shard` must not write to (a file, a model folder, a non-empty folder).
    case outputRefused(path: String, reason: String)
    /// Packing stored no pair at all, so no corpus was written.
    case emptyCorpus(path: String, reason: String)
    /// `--verify`: the folder's files or the manifest's totals disagree with the shards.
    case verificationFailed(path: String, detail: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open: \(reason)"
        case let .readFailed(path, reason):
            return "\(path): read failed: \(reason)"
        case let .isDirectory(path):
            return "\(path): is a directory"
        case let .writeFailed(path, reason):
            return "\(path): write failed: \(reason)"
        case let .invalidUTF8(path, line):
            return "\(path):\(line): invalid UTF-8 (convert the file to UTF-8, e.g. with iconv)"
        case let .compressedInput(path, format):
            return "\(path): \(format)-compressed input where text was expected: pass it with --input FILE named .\(format == "gzip" ? "gz" : "zst"), or decompress it"
        case let .lineCountMismatch(sourcePath, sourceLines, targetPath, targetLines):
            return "line counts differ: \(sourcePath) has \(sourceLines) lines, \(targetPath) has \(targetLines) lines; nothing was written"
        case let .malformedTSV(path, line, tabs):
            return "\(path):\(line): expected exactly one TAB between source and target, found \(tabs)"
        case let .decompressionFailed(path, reason):
            return "\(path): decompression failed: \(reason)"
        case let .compressionFailed(path, reason):
            return "\(path): compression failed: \(reason)"
        case let .truncated(path, detail):
            return "\(path): truncated: \(detail)"
        case let .corruptShard(path, detail):
            return "\(path): corrupt shard: \(detail)"
        case let .checksumMismatch(path, expected, actual):
            return "\(path): checksum mismatch: manifest says \(expected), file has \(actual) (shard altered; re-run `seq2seq shard`)"
        case let .missingShard(name, directory):
            return "\(directory)/\(name): missing shard listed in the manifest"
        case let .badManifest(path, reason):
            return "\(path): bad manifest: \(reason)"
        case let .unsupportedVersion(path, found, supported):
            return "\(path): format version \(found), this build reads version \(supported); regenerate the corpus with `seq2seq shard`"
        case let .badPosition(reason):
            return "cannot resume stream: \(reason)"
        case let .invalidOptions(reason):
            return "invalid corpus options: \(reason)"
        case let .outputRefused(path, reason):
            return "\(path): \(reason)"
        case let .emptyCorpus(path, reason):
            return "\(path): no pairs to store: \(reason)"
        case let .verificationFailed(path, detail):
            return "\(path): \(detail)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The text of the current `errno`, for I/O error messages.
func errnoText() -> String { String(cString: strerror(errno)) }
