import CZlib
import CZstd
import Foundation
import Testing
@testable import Corpus
import TestSupport

@Suite struct LineReaderTests {
    /// Enough lines to cross the 1 MiB read buffer several times.
    static let lines: [String] = (0..<40_000).map { "line \($0)\tÜñíçødé \(String(repeating: "x", count: $0 % 50))" }

    static func readAll(_ path: String) throws -> [String] {
        let reader = try LineReader(path: path)
        var out: [String] = []
        while let line = try reader.next() { out.append(line) }
        #expect(reader.lineNumber == out.count)
        return out
    }

    func gzipFile(_ dir: TempDir, _ name: String, _ text: String) -> String {
        let path = dir.path(name)
        let file = gzopen(path, "wb")!
        var text = text
        text.withUTF8 { _ = gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        gzclose(file)
        return path
    }

    func zstdBytes(_ text: String) -> [UInt8] {
        let input = Array(text.utf8)
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let size = ZSTD_compress(&output, output.count, input, input.count, 3)
        precondition(ZSTD_isError(size) == 0)
        return Array(output.prefix(size))
    }

    @Test func plainFile() throws {
        let dir = TempDir()
        let path = dir.write("a.txt", Fixture.text(Self.lines))
        #expect(try Self.readAll(path) == Self.lines)
    }

    /// The one policy, for every kind of input: what each byte sequence reads as, or the error.
    static let policyCases: [(name: String, bytes: [UInt8], lines: [String]?, badLine: Int?)] = [
        ("CRLF line ends", Array("a dog runs .\r\nsecond\r\n".utf8), ["a dog runs .", "second"], nil),
        ("CR at the end of a last line without LF", Array("x\r\ny\r".utf8), ["x", "y"], nil),
        ("CR inside a line stays", Array("a\rb\n\r\r\n".utf8), ["a\rb", "\r"], nil),
        ("BOM at the start is removed", [0xEF, 0xBB, 0xBF] + Array("first\nsecond\n".utf8), ["first", "second"], nil),
        ("BOM with CRLF", [0xEF, 0xBB, 0xBF] + Array("a\r\n".utf8), ["a"], nil),
        ("BOM later in the file stays", Array("a\n\u{FEFF}b\n".utf8), ["a", "\u{FEFF}b"], nil),
        ("no final newline", Array("one\n\ntwo".utf8), ["one", "", "two"], nil),
        ("empty input", [], [], nil),
        ("invalid UTF-8 names the line", Array("ok\nok\r\n".utf8) + [0xC3, 0x28] + Array("\nlater\n".utf8), nil, 3),
        ("truncated sequence on the last line", Array("ok\n".utf8) + [0x61, 0xE2, 0x82], nil, 2),
    ]

    /// Writes `bytes` as the given kind of input and opens a reader on it (stdin: a pipe read
    /// through `init(fileDescriptor:name:)`, the way commands read standard input; its read end
    /// is added to `pipes` for the caller to close), or standard input redirected from a file.
    func reader(_ kind: String, _ bytes: [UInt8], _ dir: TempDir, pipes: inout [Int32]) throws -> LineReader {
        switch kind {
        case "plain": return try LineReader(path: dir.write("in.txt", bytes: bytes))
        case "gz":
            let path = dir.path("in.txt.gz")
            let file = gzopen(path, "wb")!
            _ = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
            gzclose(file)
            return try LineReader(path: path)
        case "zst":
            var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
            let size = ZSTD_compress(&output, output.count, bytes, bytes.count, 3)
            return try LineReader(path: dir.write("in.txt.zst", bytes: Array(output.prefix(size))))
        case "stdin < file.gz", "stdin < file.zst":  // `seq2seq translate < file.gz`
            let file = try reader(kind.hasSuffix("gz") ? "gz" : "zst", bytes, dir, pipes: &pipes).path
            let fd = open(file, O_RDONLY)
            pipes.append(fd)
            return try LineReader(fileDescriptor: fd, name: "stdin")
        default:  // "stdin": a pipe
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }  // fits the pipe buffer
            close(fds[1])
            pipes.append(fds[0])
            return try LineReader(fileDescriptor: fds[0], name: "stdin")
        }
    }

    @Test(arguments: ["plain", "gz", "zst", "stdin", "stdin < file.gz", "stdin < file.zst"])
    func everyKindOfInputReadsTheSameLines(_ kind: String) throws {
        let dir = TempDir()
        var pipes: [Int32] = []
        defer { for fd in pipes { close(fd) } }
        for c in Self.policyCases {
            let reader = try reader(kind, c.bytes, dir, pipes: &pipes)
            if let expected = c.lines {
                #expect(try reader.readAll() == expected, "\(kind): \(c.name)")
            } else {
                #expect(throws: CorpusError.invalidUTF8(path: reader.path, line: c.badLine!), "\(kind): \(c.name)") {
                    _ = try reader.readAll()
                }
                #expect("\(CorpusError.invalidUTF8(path: reader.path, line: 3))".hasPrefix("\(reader.path):3: invalid UTF-8"))
            }
        }
    }

    @Test func replacingInvalidGivesTheRawBytes() throws {
        let dir = TempDir()
        let reader = try LineReader(path: dir.write("bad.txt", bytes: [0x61, 0xC3, 0x28, 0x0D, 0x0A]))
        #expect(try reader.next(replacingInvalid: true) == "a\u{FFFD}(")
        #expect(try reader.next(replacingInvalid: true) == nil)
    }

    /// Input without line ends (/dev/zero) is an error naming the file and line once a line passes
    /// `maximumLineBytes`, not a read that grows until memory runs out.
    @Test func aLineLongerThanTheLimitIsAnErrorNotUnboundedMemory() throws {
        let reader = try LineReader(path: "/dev/zero")
        #expect(throws: CorpusError.readFailed(path: "/dev/zero:1", reason: "line longer than 64 MiB (is it a text file?)")) {
            _ = try reader.next()
        }
    }

    @Test func directoryIsAnErrorNotEmptyInput() throws {
        let dir = TempDir()
        #expect(throws: CorpusError.isDirectory(path: dir.url.path)) { _ = try LineReader(path: dir.url.path) }
        #expect(CorpusError.isDirectory(path: "d").description == "d: is a directory")
    }

    /// A pipe fed one line at a time: each line is returned before the next is written, so an
    /// interactive caller is never blocked by read-ahead.
    @Test func linesArriveBeforeTheInputEnds() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let reader = try LineReader(fileDescriptor: fds[0], name: "stdin")
        for line in ["first", "second\r", "third"] {
            _ = Array((line + "\n").utf8).withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
            #expect(try reader.next() == line.replacingOccurrences(of: "\r", with: ""))
        }
        close(fds[1])
        #expect(try reader.next() == nil)
    }

    @Test func gzipFile() throws {
        let dir = TempDir()
        let path = gzipFile(dir, "a.gz", Fixture.text(Self.lines))
        #expect(try Self.readAll(path) == Self.lines)
    }

    @Test func zstdFileWithTwoFrames() throws {
        let dir = TempDir()
        let half = Self.lines.count / 2
        let bytes = zstdBytes(Fixture.text(Array(Self.lines[..<half]))) + zstdBytes(Fixture.text(Array(Self.lines[half...])))
        let path = dir.write("a.zst", bytes: bytes)
        #expect(try Self.readAll(path) == Self.lines)
    }

    @Test func truncatedZstdIsAnErrorNamingTheFile() throws {
        let dir = TempDir()
        let bytes = zstdBytes(Fixture.text(Self.lines))
        let path = dir.write("cut.zst", bytes: Array(bytes.prefix(bytes.count / 2)))
        #expect(throws: CorpusError.truncated(path: path, detail: "zstd frame ends early (file cut short)")) {
            _ = try Self.readAll(path)
        }
    }

    @Test func truncatedGzipIsAnErrorNamingTheFile() throws {
        let dir = TempDir()
        let full = dir.bytes(URL(fileURLWithPath: gzipFile(dir, "full.gz", Fixture.text(Self.lines))).lastPathComponent)
        let path = dir.write("cut.gz", bytes: Array(full.prefix(full.count / 2)))
        do {
            _ = try Self.readAll(path)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".hasPrefix(path))
        }
    }

    @Test func invalidUTF8InCompressedInputNamesTheLine() throws {
        let dir = TempDir()
        let input: [UInt8] = Array("ok\nok\n".utf8) + [0xC3, 0x28, 0x0A]
        var output = [UInt8](repeating: 0, count: 256)
        let size = ZSTD_compress(&output, output.count, input, input.count, 3)
        let path = dir.write("bad.zst", bytes: Array(output.prefix(size)))
        #expect(throws: CorpusError.invalidUTF8(path: path, line: 3)) { _ = try Self.readAll(path) }
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: CorpusError.cannotOpen(path: "/nonexistent/x.txt", reason: "No such file or directory")) {
            _ = try LineReader(path: "/nonexistent/x.txt")
        }
    }
}
