import Basics
import Foundation
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
