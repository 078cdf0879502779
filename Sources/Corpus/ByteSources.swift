import CZlib
import CZstd
import Glibc

/// A pull source of raw bytes; `read` returns 0 only at the end of the data.
protocol ByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int
    func close()
}

/// Opens a file for reading with `open(2)`; the error names the path.
func openForReading(_ path: String) throws -> Int32 {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw CorpusError.cannotOpen(path: path, reason: errnoText()) }
    return fd
}

/// Reads up to `count` bytes, retrying on EINTR.
func readRetrying(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, path: String) throws -> Int {
    while true {
        let n = Glibc.read(fd, buffer, count)
        if n >= 0 { return n }
        if errno == EINTR { continue }
        throw CorpusError.readFailed(path: path, reason: errnoText())
    }
}

/// Uncompressed file.
final class PlainFileSource: ByteSource {
    private var fd: Int32
    private let path: String
    init(fd: Int32, path: String) { self.fd = fd; self.path = path }
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        try readRetrying(fd, buffer, count, path: path)
    }
    func close() { if fd >= 0 { Glibc.close(fd); fd = -1 } }
    deinit { close() }
}

// Alike on purpose: PlainFileSource's reads, but the descriptor is borrowed and never closed.
/// An open descriptor the reader does not own (standard input): never closed here.
final class BorrowedFileSource: ByteSource {
    private let fd: Int32
    private let path: String
    init(fd: Int32, path: String) { self.fd = fd; self.path = path }
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        try readRetrying(fd, buffer, count, path: path)
    }
    func close() {}
}

/// gzip file through zlib's gz* API (which also handles concatenated members).
final class GzipFileSource: ByteSource {
    private var file: gzFile?
    private let path: String
    init(fd: Int32, path: String) throws {
        guard let file = gzdopen(fd, "rb") else {
            Glibc.close(fd)
            throw CorpusError.cannotOpen(path: path, reason: "zlib could not open the gzip stream")
        }
        self.file = file
        self.path = path
        gzbuffer(file, 1 << 18)
    }
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        guard let file else { return 0 }
        let n = gzread(file, buffer, UInt32(min(count, 1 << 30)))
        var code: Int32 = 0
        let message = gzerror(file, &code)
        // zlib reports a truncated member as Z_BUF_ERROR once the data runs out.
        if n < 0 || (code != Z_OK && code != Z_STREAM_END) {
            let text = message.map { String(cString: $0) } ?? "error \(code)"
            throw CorpusError.decompressionFailed(path: path, reason: text)
        }
        return Int(n)
    }
    func close() { if let file { gzclose(file); self.file = nil } }
    deinit { close() }
}

/// zstd file decoded with the streaming API. Also keeps a CRC32 and a byte count of the
/// *compressed* bytes, so shard readers can check the manifest without a second pass.
final class ZstdFileSource: ByteSource {
    private var fd: Int32
    private let path: String
    private let stream: OpaquePointer
    private let input: UnsafeMutableRawPointer
    private let inputCapacity = 1 << 17
    private var inputSize = 0
    private var inputPosition = 0
    private var endOfFile = false
    /// Last return of ZSTD_decompressStream: 0 means "frame complete, everything flushed".
    private var lastHint = 0
    /// Output came back full while the frame was unfinished: decoder may hold more bytes.
    private var mayHaveMore = false
    private(set) var compressedCRC: UInt = crc32(0, nil, 0)
    private(set) var compressedBytes = 0

    init(fd: Int32, path: String) throws {
        guard let stream = ZSTD_createDStream() else {
            Glibc.close(fd)
            throw CorpusError.decompressionFailed(path: path, reason: "cannot create zstd stream")
        }
        self.fd = fd
        self.path = path
        self.stream = stream
        self.input = UnsafeMutableRawPointer.allocate(byteCount: inputCapacity, alignment: 16)
    }

    deinit {
        close()
        ZSTD_freeDStream(stream)
        input.deallocate()
    }

    func close() { if fd >= 0 { Glibc.close(fd); fd = -1 } }

    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        while true {
            if inputPosition == inputSize && !endOfFile && !mayHaveMore {
                let n = try readRetrying(fd, input, inputCapacity, path: path)
                if n == 0 {
                    endOfFile = true
                } else {
                    inputSize = n
                    inputPosition = 0
                    compressedCRC = crc32(compressedCRC, input.assumingMemoryBound(to: UInt8.self), UInt32(n))
                    compressedBytes += n
                }
            }
            if inputPosition == inputSize && !mayHaveMore {
                // PLATFORM.md §2: at EOF stop; calling again would start a new frame and return
                // a header-size hint that looks like truncation. Only a last hint of 0 is complete.
                if lastHint != 0 {
                    throw CorpusError.truncated(path: path, detail: "zstd frame ends early (file cut short)")
                }
                return 0
            }
            var inBuffer = ZSTD_inBuffer(src: input, size: inputSize, pos: inputPosition)
            var outBuffer = ZSTD_outBuffer(dst: buffer, size: count, pos: 0)
            let hint = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                throw CorpusError.decompressionFailed(path: path, reason: String(cString: ZSTD_getErrorName(hint)))
            }
            inputPosition = inBuffer.pos
            lastHint = hint
            mayHaveMore = outBuffer.pos == count && hint != 0
            if outBuffer.pos > 0 { return outBuffer.pos }
        }
    }
}

/// Growable read buffer over a `ByteSource`: lines split with memchr, exact-size records.
/// Returned views stay valid only until the next call.
final class BufferedInput {
    private let source: ByteSource
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    private(set) var endOfData = false

    init(source: ByteSource, capacity: Int = 1 << 18) {
        self.source = source
        self.capacity = capacity
        self.storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        storage.deallocate()
        source.close()
    }

    /// Bytes buffered but not yet consumed.
    var available: Int { end &- start }

    /// Moves unconsumed bytes to the front and grows the storage to hold at least `needed`.
    private func makeRoom(for needed: Int) {
        if start > 0 {
            if end > start { memmove(storage, storage + start, end &- start) }
            end &-= start
            start = 0
        }
        if needed > capacity {
            var newCapacity = capacity
            while newCapacity < needed { newCapacity &*= 2 }
            let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            grown.copyMemory(from: storage, byteCount: end)
            storage.deallocate()
            storage = grown
            capacity = newCapacity
        }
    }

    /// Reads more data after what is buffered; returns false at the end of the source.
    private func refill() throws -> Bool {
        if endOfData { return false }
        if end == capacity { makeRoom(for: start > 0 ? capacity : capacity &* 2) }
        let n = try source.read(into: storage + end, count: capacity &- end)
        if n == 0 { endOfData = true; return false }
        end &+= n
        return true
    }

    /// The next `count` bytes without consuming them, or nil if the data ends first
    /// (then `available` tells how many remained).
    func peek(_ count: Int) throws -> UnsafeRawBufferPointer? {
        while end &- start < count {
            if count > capacity &- start { makeRoom(for: count) }
            if try !refill() { return nil }
        }
        return UnsafeRawBufferPointer(start: storage + start, count: count)
    }

    /// Next `count` bytes, consumed, or nil if the data ends first.
    func take(_ count: Int) throws -> UnsafeRawBufferPointer? {
        guard let view = try peek(count) else { return nil }
        start &+= count
        return view
    }

    /// Whether `nextLine` can return without another read: a whole line is buffered, the data has
    /// ended, or more than `maximumLineBytes` are buffered (then `nextLine` throws at once).
    func hasLineOrEnd(maximumLineBytes: Int) -> Bool {
        endOfData || end &- start > maximumLineBytes || memchr(storage + start, 10, end &- start) != nil
    }

    /// One `read` of the source after what is buffered (call it only when the source will not
    /// block, e.g. after `poll`). Returns false at the end of the source.
    func readOnce() throws -> Bool { try refill() }

    /// A line longer than `maximumLineBytes` (no "\n" within that many bytes, e.g. /dev/zero).
    struct LineTooLong: Error {}

    /// Next line without its "\n"; the last line may lack one. Nil at the end. Throws
    /// `LineTooLong` once more than `maximumLineBytes` are buffered without a line end, so an input
    /// without newlines cannot take all memory.
    func nextLine(maximumLineBytes: Int = .max) throws -> UnsafeRawBufferPointer? {
        var scanned = 0
        while true {
            let from = start &+ scanned
            if let hit = memchr(storage + from, 10, end &- from) {
                let length = hit - (storage + start)
                if length > maximumLineBytes { throw LineTooLong() }
                let view = UnsafeRawBufferPointer(start: storage + start, count: length)
                start &+= length &+ 1
                return view
            }
            scanned = end &- start
            if scanned > maximumLineBytes { throw LineTooLong() }
            if try !refill() {
                if start == end { return nil }
                if end &- start > maximumLineBytes { throw LineTooLong() }
                let view = UnsafeRawBufferPointer(start: storage + start, count: end &- start)
                start = end
                return view
            }
        }
    }
}
