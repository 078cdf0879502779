import Glibc

/// The one line reader of the project: every command reads text lines (plain, gzip or zstd files,
/// and standard input) through it, so all of them see the same lines.
///
/// The policy, the same for every kind of input:
/// - Compression is recognised by a regular file's magic bytes (gzip 1F 8B, zstd 28 B5 2F FD), not
///   its name (standard input redirected from a file too); pipes and terminals are plain text.
/// - Lines end at "\n", which is removed, and so is one "\r" before it (CRLF files read like LF
///   files); a last line without "\n" is still a line, and a "\r" at its end is removed too. A
///   "\r" anywhere else stays part of the line.
/// - A UTF-8 byte-order mark (EF BB BF) at the very start of the input is removed.
/// - A line that is not valid UTF-8 throws `CorpusError.invalidUTF8` ("FILE:LINE: invalid UTF-8"),
///   unless the caller asks for the raw bytes to replace ill-formed sequences itself.
/// - A directory is an error (`CorpusError.isDirectory`), never empty input.
///
/// Reading never waits for more than the current line: each `read(2)` returns what is available,
/// so a terminal or a pipe fed line by line gets each line answered at once.
public final class LineReader {
    /// The name used in errors: the path, or the name given for standard input.
    public let path: String
    private let input: BufferedInput
    private let descriptor: Int32
    /// 1-based number of the line last returned (0 before the first).
    public private(set) var lineNumber = 0

    /// Opens `path`. Throws `CorpusError.cannotOpen` (missing, unreadable), `.isDirectory`, or a
    /// decompression error naming `path`.
    public init(path: String) throws {
        self.path = path
        let fd = try openForReading(path)
        descriptor = fd
        input = BufferedInput(source: try Self.source(owning: fd, path: path))
    }

    /// Reads an already open descriptor (standard input by default), naming it `name` in errors.
    /// The descriptor is never closed by the reader. A terminal or a pipe is read as plain text; a
    /// regular file (`< file.gz`) is recognised by its magic bytes like a path.
    public init(fileDescriptor: Int32 = 0, name: String = "stdin") throws {
        path = name
        descriptor = fileDescriptor
        var status = stat()
        if fstat(fileDescriptor, &status) == 0 && status.st_mode & S_IFMT == S_IFREG {
            let copy = dup(fileDescriptor)  // the decoders close what they read; keep the original
            if copy < 0 { throw CorpusError.readFailed(path: name, reason: errnoText()) }
            input = BufferedInput(source: try Self.source(owning: copy, path: name))
        } else {
            input = BufferedInput(source: BorrowedFileSource(fd: fileDescriptor, path: name))
        }
    }

    /// The decoder for `fd` (closed on error): plain for anything but a regular file, else chosen
    /// by the magic bytes at the current offset (read with `pread`, so the offset stays put).
    private static func source(owning fd: Int32, path: String) throws -> ByteSource {
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let reason = errnoText()
            Glibc.close(fd)
            throw CorpusError.readFailed(path: path, reason: reason)
        }
        let kind = status.st_mode & S_IFMT
        if kind == S_IFDIR {
            Glibc.close(fd)
            throw CorpusError.isDirectory(path: path)
        }
        guard kind == S_IFREG else { return PlainFileSource(fd: fd, path: path) }  // FIFO, device
        var magic: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        let offset = lseek(fd, 0, SEEK_CUR)
        let got = offset < 0 ? -1 : withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress!, 4, offset) }
        if got < 0 {
            let reason = errnoText()
            Glibc.close(fd)
            throw CorpusError.readFailed(path: path, reason: reason)
        }
        if got >= 2 && magic.0 == 0x1F && magic.1 == 0x8B { return try GzipFileSource(fd: fd, path: path) }
        if got == 4 && magic == (0x28, 0xB5, 0x2F, 0xFD) { return try ZstdFileSource(fd: fd, path: path) }
        return PlainFileSource(fd: fd, path: path)
    }

    /// The longest line any command reads: 64 MiB (about ten million words). A longer one is an
    /// error naming the file and line, so input without line ends cannot exhaust memory.
    public static let maximumLineBytes = 64 << 20

    /// Whether the input is a terminal (then callers answer each line at once).
    public var isTerminal: Bool { isatty(descriptor) != 0 }

    /// The next line's bytes with the policy applied (no "\n", no "\r" before it, no leading BOM),
    /// or nil at the end. Valid until the next call. Unless `replacingInvalid`, the bytes are
    /// checked to be UTF-8 and `CorpusError.invalidUTF8` names the file and line otherwise.
    public func nextBytes(replacingInvalid: Bool = false) throws -> UnsafeBufferPointer<UInt8>? {
        let line: UnsafeRawBufferPointer?
        do {
            line = try input.nextLine(maximumLineBytes: LineReader.maximumLineBytes)
        } catch is BufferedInput.LineTooLong {
            throw CorpusError.readFailed(path: "\(path):\(lineNumber + 1)",
                                        reason: "line longer than \(LineReader.maximumLineBytes >> 20) MiB (is it a text file?)")
        }
        guard let raw = line else { return nil }
        lineNumber += 1
        var bytes = raw.bindMemory(to: UInt8.self)
        if bytes.count > 0 && bytes[bytes.count - 1] == 0x0D {
            bytes = UnsafeBufferPointer(rebasing: bytes[0..<(bytes.count - 1)])
        }
        if lineNumber == 1 && bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            bytes = UnsafeBufferPointer(rebasing: bytes[3...])
        }
        if lineNumber == 1, let format = Self.compressionMagic(bytes) {
            throw CorpusError.compressedInput(path: path, format: format)
        }
        if !replacingInvalid && !isValidUTF8(bytes) {
            throw CorpusError.invalidUTF8(path: path, line: lineNumber)
        }
        return bytes
    }

    /// Waits at most `milliseconds` until the next line can be returned without blocking. Returns
    /// true when `next()` will not wait for input (a whole line is buffered, or the input has
    /// ended), false when the time ran out first or a signal interrupted the wait (`poll` gives
    /// EINTR), so a caller holding unfinished work can finish it instead of blocking on a stalled
    /// pipe. Regular files are always ready.
    /// - Throws: `CorpusError.readFailed` naming the input when reading fails.
    public func waitForLine(milliseconds: Int) throws -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let deadline = Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000 + max(0, milliseconds)
        while !input.hasLineOrEnd(maximumLineBytes: LineReader.maximumLineBytes) {
            clock_gettime(CLOCK_MONOTONIC, &now)
            let remaining = deadline - (Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000)
            if remaining <= 0 { return false }
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let got = poll(&ready, 1, Int32(min(remaining, Int(Int32.max))))
            if got < 0 {
                if errno == EINTR { return false }
                throw CorpusError.readFailed(path: path, reason: errnoText())
            }
            if got == 0 { return false }
            _ = try input.readOnce()
        }
        return true
    }

    /// The next line as a String, or nil at the end. Throws `invalidUTF8` naming file and line;
    /// with `replacingInvalid`, ill-formed sequences become U+FFFD instead.
    public func next(replacingInvalid: Bool = false) throws -> String? {
        guard let bytes = try nextBytes(replacingInvalid: replacingInvalid) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `bytes` are well-formed UTF-8 (the check `nextBytes` applies).
    public static func isWellFormedUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { isValidUTF8(bytes) }

    /// Counts the remaining lines, validating each as UTF-8 without keeping it.
    public func countRemainingLines() throws -> Int {
        var count = 0
        while try nextBytes() != nil { count += 1 }
        return count
    }

    /// Every remaining line, validated.
    public func readAll() throws -> [String] {
        var lines: [String] = []
        while let line = try next() { lines.append(line) }
        return lines
    }
}

/// Whether `bytes` is well-formed UTF-8 (ASCII runs are checked eight bytes at a time).
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let count = bytes.count
    var i = 0
    while i &+ 8 <= count {
        let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
        if word & 0x8080_8080_8080_8080 != 0 { break }
        i &+= 8
    }
    while i < count && base[i] < 0x80 { i &+= 1 }
    if i == count { return true }
    return String(validating: UnsafeBufferPointer(rebasing: bytes[i...]), as: UTF8.self) != nil
}

extension LineReader {
    /// "gzip" or "zstd" when `bytes` start with that format's magic number (1F 8B; 28 B5 2F FD),
    /// else nil: neither begins valid UTF-8 text (0x8B and 0xB5 cannot follow those bytes).
    static func compressionMagic(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B { return "gzip" }
        if bytes.count >= 4 && bytes[0] == 0x28 && bytes[1] == 0xB5 && bytes[2] == 0x2F && bytes[3] == 0xFD { return "zstd" }
        return nil
    }
}
