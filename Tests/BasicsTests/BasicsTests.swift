import Basics
import Foundation
import Glibc
import Kernels
import Testing
import TestSupport

// The one seeded generator must keep producing the numbers the model, dropout and shuffles were
// trained with: these values are SplitMix64's published sequence and what the five former copies
// (Corpus, Samples, Kernels' seeding, the trainer's dropout seed, the tests') produced.
@Suite struct SeededGeneratorTests {
    @Test func splitMix64GivesThePublishedSequence() {
        var rng = SplitMix64(seed: 0)
        #expect([rng.next(), rng.next(), rng.next()] == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
        #expect(SplitMix64.derive(1, 2, 3) == 0x22C8_3DC3_0271_9DC9)
    }

    @Test func xoshiroSeedingIsUnchanged() {
        var rng = SeededGenerator(seed: 42)
        #expect([rng.next(), rng.next(), rng.next()] == [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1])
    }

    @Test func testsUseTheSameGenerator() {
        var a = TestRNG(seed: 9), b = SplitMix64(seed: 9)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
    }

    @Test func boundedDrawsStayInRangeAndShuffleIsAPermutation() {
        var rng = SplitMix64(seed: 5)
        for bound in [1, 2, 3, 7, 1000] { #expect((0..<200).allSatisfy { _ in (0..<bound).contains(rng.next(below: bound)) }) }
        var values = Array(0..<50)
        rng.shuffle(&values)
        #expect(values.sorted() == Array(0..<50) && values != Array(0..<50))
    }
}

@Suite struct AtomicFileWriterTests {
    /// A device given as the output (here private copies of /dev/null and /dev/full, made with
    /// mknod, major 1 minor 3 and 7, so the machine's own nodes are never at stake) is written in place, never replaced by
    /// a regular file; the full one's write fails with an error naming it. Skipped without root.
    @Test func devicesAreWrittenInPlaceNeverReplaced() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let null = directory.appendingPathComponent("null").path, full = directory.appendingPathComponent("full").path
        guard mknod(null, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0, mknod(full, S_IFCHR | 0o666, dev_t(1 << 8 | 7)) == 0 else {
            return   // not root: no device nodes to test with
        }
        func isCharacterDevice(_ path: String) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR
        }
        try AtomicFileWriter.write("fine\n".utf8, to: null)
        #expect(isCharacterDevice(null))
        #expect(throws: FileError.self) { try AtomicFileWriter.write(Array(repeating: UInt8(65), count: 1 << 20), to: full) }
        #expect(isCharacterDevice(full))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["full", "null"])
        #expect(throws: FileError.self) { try AtomicFileWriter.write("x".utf8, to: directory.path) }
    }

    /// A link is followed: the file it names is replaced (keeping its permissions) and the link
    /// stays a link; /dev/fd/N writes to that descriptor (here a pipe), never renaming anything.
    @Test func linksAreFollowedAndDescriptorPathsWriteToTheDescriptor() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let real = directory.appendingPathComponent("real.txt").path, link = directory.appendingPathComponent("link.txt").path
        try AtomicFileWriter.write("old\n".utf8, to: real)
        #expect(chmod(real, 0o600) == 0)
        #expect(symlink("real.txt", link) == 0)
        try AtomicFileWriter.write("new\n".utf8, to: link)
        var info = stat()
        #expect(lstat(link, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
        #expect(try String(contentsOfFile: real, encoding: .utf8) == "new\n")
        #expect(stat(real, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["link.txt", "real.txt"])

        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        try AtomicFileWriter.write("through the pipe\n".utf8, to: "/dev/fd/\(fds[1])")
        close(fds[1])
        var bytes = [UInt8](repeating: 0, count: 64)
        let n = read(fds[0], &bytes, 64)
        #expect(String(decoding: bytes[0..<max(0, n)], as: UTF8.self) == "through the pipe\n")
    }

    @Test func commitReplacesTheFileAndLeavesNoTemporary() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.txt").path
        try AtomicFileWriter.write(Array("old\n".utf8), to: path)
        try AtomicFileWriter.write("new\n".utf8, to: path, sync: false)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.txt"])
    }

    @Test func abandonKeepsThePreviousFileAndRemovesTheTemporary() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.txt").path
        try AtomicFileWriter.write("kept\n".utf8, to: path)
        do {
            let writer = try AtomicFileWriter(path: path)
            try writer.write("half")
            writer.abandon()
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "kept\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.txt"])
    }

    @Test func missingFolderIsAnErrorNamingThePath() {
        let path = "/nonexistent-folder-\(getpid())/out.txt"
        #expect(throws: FileError.cannotCreate(path: path, reason: "No such file or directory")) {
            try AtomicFileWriter.write("x".utf8, to: path)
        }
        #expect(FileError.cannotCreate(path: path, reason: "r").description.hasPrefix("\(path): "))
    }
}
