import Glibc

/// Whole-file reads with one-line errors naming the path (writes go through Basics' `AtomicFileWriter`).
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
