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

    @Test func lastLineWithoutNewlineAndCarriageReturnKept() throws {
        let dir = TempDir()
        let path = dir.write("a.txt", "one\r\n\ntwo")
        #expect(try Self.readAll(path) == ["one\r", "", "two"])
        #expect(try Self.readAll(dir.write("empty.txt", "")) == [])
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
