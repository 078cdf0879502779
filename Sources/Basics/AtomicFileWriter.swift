import Glibc

/// The project's one way to write a file: at a temporary name in the same directory, renamed into
/// place on `commit()`, so readers never see a half-written file. Without `commit()` (an error, or
/// `abandon()`), the temporary file is removed and any earlier file at `path` is untouched. Every
/// `write`, `close` and the rename are checked; a failure throws `FileError` naming `path`.
///
/// A `path` that already exists and is not a regular file (a device such as `/dev/null` or
/// `/dev/stdout`, a FIFO) is written in place instead, with every write checked (`/dev/full`
/// fails): renaming over it would replace the device with a regular file. A directory is refused.
public final class AtomicFileWriter {
    public let path: String
    /// Whether `close()` calls `fsync` before the rename (checkpoints and shards: yes).
    public let sync: Bool
    /// The temporary file's path (same directory, so the rename stays on one file system); equal
    /// to `path` when `path` is a device or FIFO written in place.
    public let temporaryPath: String
    /// `path` is not a regular file: written in place, never renamed, synced or removed.
    public let writesInPlace: Bool
    /// The file the rename replaces: `path`, or the file a link at `path` names.
    private var renameTarget: String = ""
    private var fd: Int32
    /// Freed at close, so a finished writer waiting for its rename costs no buffer memory.
    private var buffer: UnsafeMutableRawPointer
    private let bufferCapacity = 1 << 18
    private var buffered = 0
    private var closed = false
    private var finished = false
    /// Bytes written so far (after buffering).
    public private(set) var bytesWritten = 0

    private static var counter = 0
    private static let counterLock = NSLockLite()

    /// Creates the temporary file. Throws `FileError.cannotCreate` (missing folder, permissions).
    ///
    /// `path` may be a symbolic link: the file it names is replaced (the temporary file is made
    /// beside that file), and the link stays. `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and
    /// `/proc/self/fd/N` write to that descriptor of this process, whatever it is open on.
    public init(path: String, sync: Bool = true) throws {
        self.path = path
        self.sync = sync
        let serial = AtomicFileWriter.counterLock.withLock { () -> Int in
            AtomicFileWriter.counter += 1
            return AtomicFileWriter.counter
        }
        if let descriptor = AtomicFileWriter.descriptorNumber(path) {
            writesInPlace = true
            temporaryPath = path
            fd = dup(descriptor)
            if fd < 0 { throw FileError.cannotCreate(path: path, reason: errnoText()) }
            buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferCapacity, alignment: 16)
            return
        }
        // A link is followed to the file it names, which is the one replaced.
        var target = path
        var linkInfo = stat()
        if lstat(path, &linkInfo) == 0 && linkInfo.st_mode & S_IFMT == S_IFLNK, let resolved = realpath(path, nil) {
            target = String(cString: resolved)
            free(resolved)
        }
        var info = stat()
        let exists = stat(target, &info) == 0
        let kind = exists ? info.st_mode & S_IFMT : S_IFREG
        if kind == S_IFDIR { throw FileError.cannotCreate(path: path, reason: "is a directory") }
        writesInPlace = kind != S_IFREG
        if writesInPlace {
            temporaryPath = target
            fd = open(target, O_WRONLY | O_CLOEXEC)
        } else {
            let slash = target.lastIndex(of: "/")
            let directory = slash.map { String(target[..<$0]) } ?? "."
            let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
            temporaryPath = "\(directory)/.\(name).tmp-\(getpid())-\(serial)"
            renameTarget = target
            // A replaced file keeps its permissions (a 0600 file does not become world-readable).
            fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, exists ? info.st_mode & 0o7777 : 0o644)
            if fd >= 0 && exists { _ = fchmod(fd, info.st_mode & 0o7777) }
        }
        if fd < 0 { throw FileError.cannotCreate(path: path, reason: errnoText()) }
        buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferCapacity, alignment: 16)
    }

    /// The descriptor a path names in this process: /dev/stdout 1, /dev/stderr 2, /dev/fd/N and
    /// /proc/self/fd/N N; nil for any other path.
    public static func descriptorNumber(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
                return Int32(path.dropFirst(prefix.count))
            }
            return nil
        }
    }

    deinit {
        abandon()
    }

    private func writeAll(_ pointer: UnsafeRawPointer, _ count: Int) throws {
        var done = 0
        while done < count {
            let n = Glibc.write(fd, pointer + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.writeFailed(path: path, reason: errnoText())
            }
            done += n
        }
    }

    private func flush() throws {
        if buffered > 0 {
            try writeAll(buffer, buffered)
            buffered = 0
        }
    }

    /// Appends `bytes` (buffered). Throws `FileError.writeFailed` naming `path`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!closed, "AtomicFileWriter.write after close/commit of \(path)")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        bytesWritten += bytes.count
        if bytes.count > bufferCapacity - buffered {
            try flush()
            if bytes.count >= bufferCapacity { try writeAll(base, bytes.count); return }
        }
        (buffer + buffered).copyMemory(from: base, byteCount: bytes.count)
        buffered += bytes.count
    }

    /// One byte (a line end), without building a buffer for it.
    public func write(byte: UInt8) throws {
        precondition(!closed, "AtomicFileWriter.write after close/commit of \(path)")
        if buffered == bufferCapacity { try flush() }
        buffer.storeBytes(of: byte, toByteOffset: buffered, as: UInt8.self)
        buffered += 1
        bytesWritten += 1
    }

    /// Appends the UTF-8 bytes of `string`.
    public func write(_ string: String) throws {
        var string = string
        try string.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Flushes, syncs (when `sync`) and closes the temporary file without renaming it (lets a caller finish
    /// many files first and rename them together).
    public func close() throws {
        if closed { return }
        try flush()
        if sync && !writesInPlace && fsync(fd) != 0 { throw FileError.writeFailed(path: path, reason: errnoText()) }
        let result = Glibc.close(fd)
        fd = -1
        closed = true
        buffer.deallocate()
        if result != 0 { throw FileError.writeFailed(path: path, reason: errnoText()) }
    }

    /// Closes the file and renames it to `path`.
    public func commit() throws {
        precondition(!finished, "AtomicFileWriter.commit twice for \(path)")
        try close()
        if !writesInPlace && rename(temporaryPath, renameTarget) != 0 {
            throw FileError.writeFailed(path: path, reason: "rename failed: \(errnoText())")
        }
        finished = true
    }

    /// Drops the temporary file; `path` keeps whatever it held before.
    public func abandon() {
        if finished { return }
        if !closed { Glibc.close(fd); fd = -1; closed = true; buffer.deallocate() }
        if !writesInPlace { unlink(temporaryPath) }
        finished = true
    }
}

extension AtomicFileWriter {
    /// Writes the whole file `bytes` to `path` atomically (temporary name, then rename).
    /// Throws `FileError` naming `path`; on error `path` keeps what it held before.
    public static func write<Bytes: Sequence>(_ bytes: Bytes, to path: String, sync: Bool = true) throws
    where Bytes.Element == UInt8 {
        let writer = try AtomicFileWriter(path: path, sync: sync)
        let done: Void? = try bytes.withContiguousStorageIfAvailable { try writer.write(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let copy = Array(bytes)
            try copy.withUnsafeBytes { try writer.write($0) }
        }
        try writer.commit()
    }
}

/// An error creating or writing a file; `description` is one line naming the path.
public enum FileError: Error, CustomStringConvertible, Equatable {
    /// The temporary file beside `path` could not be created; `reason` is the system's message.
    case cannotCreate(path: String, reason: String)
    /// A write, sync, close or the final rename failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotCreate(path, reason): return "\(path): cannot create: \(reason)"
        case let .writeFailed(path, reason): return "\(path): write failed: \(reason)"
        }
    }
}

/// The text of the current `errno`, for I/O error messages.
func errnoText() -> String { String(cString: strerror(errno)) }

/// Tiny pthread mutex (Basics avoids Foundation).
final class NSLockLite {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
