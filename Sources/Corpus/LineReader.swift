import Glibc

/// Reads lines of a plain, gzip (zlib) or zstd (streaming) file, validating UTF-8 per line.
///
/// The compression is recognised by the file's magic bytes (gzip 1F 8B, zstd 28 B5 2F FD), not
/// its name. Lines end at "\n", which is removed; anything else, "\r" included, stays part of the
/// line, so packing never alters a sentence. A last line without "\n" is still returned.
public final class LineReader {
    public let path: String
    private let input: BufferedInput
    /// 1-based number of the line last returned by `next()` (0 before the first).
    public private(set) var lineNumber = 0

    public init(path: String) throws {
        self.path = path
        let fd = try openForReading(path)
        var magic: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        let got: Int
        do {
            got = try withUnsafeMutableBytes(of: &magic) { try readRetrying(fd, $0.baseAddress!, 4, path: path) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        // Sniffing reads 4 bytes; go back so every decoder sees the whole file.
        if lseek(fd, 0, SEEK_SET) != 0 {
            let reason = errnoText()
            Glibc.close(fd)
            throw CorpusError.readFailed(path: path, reason: "cannot seek: \(reason)")
        }
        let source: ByteSource
        if got >= 2 && magic.0 == 0x1F && magic.1 == 0x8B {
            source = try GzipFileSource(fd: fd, path: path)
        } else if got == 4 && magic == (0x28, 0xB5, 0x2F, 0xFD) {
            source = try ZstdFileSource(fd: fd, path: path)
        } else {
            source = PlainFileSource(fd: fd, path: path)
        }
        input = BufferedInput(source: source)
    }

    /// The next line as a String, or nil at the end. Throws `invalidUTF8` naming file and line.
    public func next() throws -> String? {
        guard let bytes = try input.nextLine() else { return nil }
        lineNumber += 1
        guard let line = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw CorpusError.invalidUTF8(path: path, line: lineNumber)
        }
        return line
    }

    /// Counts the remaining lines, validating each as UTF-8 without keeping it.
    public func countRemainingLines() throws -> Int {
        var count = 0
        while try next() != nil { count += 1 }
        return count
    }
}
