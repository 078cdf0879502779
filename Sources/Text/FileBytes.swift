import Glibc

/// Whole-file reads and atomic writes with one-line errors naming the path.
enum FileBytes {
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TextError.io(path: path, reason: systemReason()) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TextError.io(path: path, reason: systemReason())
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Writes to `<path>.tmp-<pid>` in the same directory, then renames over `path`, so readers
    /// never see a half-written file.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TextError.io(path: temporary, reason: systemReason()) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = systemReason()
                close(fd)
                unlink(temporary)
                throw TextError.io(path: temporary, reason: reason)
            }
            written += n
        }
        guard close(fd) == 0, rename(temporary, path) == 0 else {
            let reason = systemReason()
            unlink(temporary)
            throw TextError.io(path: path, reason: reason)
        }
    }

    static func systemReason() -> String { String(cString: strerror(errno)) }
}

/// Decodes one line of bytes (no newline) as UTF-8, or throws `TextError.invalidUTF8` naming
/// `source` and `line`; with `replacingInvalid`, ill-formed sequences become U+FFFD instead.
public func decodeUTF8Line(_ bytes: UnsafeBufferPointer<UInt8>, source: String, line: Int,
                           replacingInvalid: Bool = false) throws -> String {
    if replacingInvalid { return String(decoding: bytes, as: UTF8.self) }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw TextError.invalidUTF8(source: source, line: line)
    }
    return text
}
