import Foundation

/// Reads lines as raw bytes from a file or stdin with `getline` (no buffering beyond the line, so
/// interactive use answers at once) and checks each is valid UTF-8.
final class LineInput {
    let name: String
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private(set) var lineNumber = 0
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    /// `path` nil or "-" reads stdin.
    init(path: String?) throws {
        if let path, path != "-" {
            guard let f = fopen(path, "rb") else {
                throw CLIError("\(path): cannot open (\(String(cString: strerror(errno))))")
            }
            file = f
            name = path
            ownsFile = true
        } else {
            file = stdin
            name = "stdin"  // as the text commands name it
            ownsFile = false
        }
    }

    deinit {
        free(buffer)
        if ownsFile { fclose(file) }
    }

    var isTerminal: Bool { isatty(fileno(file)) != 0 }

    /// The next line without its "\n" (and without a "\r" before it), or nil at end of input.
    func next() throws -> String? {
        let n = getline(&buffer, &capacity, file)
        if n < 0 { return nil }
        lineNumber += 1
        var length = n
        if length > 0 && buffer![length - 1] == 10 { length -= 1 }
        if length > 0 && buffer![length - 1] == 13 { length -= 1 }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: length).bindMemory(to: UInt8.self)
        guard let line = String(validating: bytes, as: UTF8.self) else {
            throw CLIError("\(name):\(lineNumber): invalid UTF-8")
        }
        return line
    }
}

/// A one-line error for the user (ArgumentParser prints it as "Error: …" and exits non-zero).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
