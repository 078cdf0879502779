import Basics
@testable import Corpus
import Foundation
import Testing
import TestSupport

@Suite struct ShardTests {
    @Test func packVerifyReadGivesBackExactlyTheInputPairs() throws {
        let dir = TempDir()
        let summary = try dir.packFixture(maxLength: 5)
        let expected = Fixture.kept(maxLength: 5)
        #expect(summary.pairsRead == Fixture.source.count)
        #expect(summary.pairsWritten == expected.count)
        #expect(summary.skippedEmpty == 2)
        #expect(summary.skippedTooLong == 1)
        #expect(summary.shards == (expected.count + 2) / 3)

        let set = try ShardSet(directory: dir.path("corpus"))
        #expect(set.verify() == [])
        #expect(set.pairCount == expected.count)
        #expect(set.manifest.skippedEmpty == 2 && set.manifest.skippedTooLong == 1)
        #expect(set.manifest.command == "test")
        #expect(set.manifest.shards.map(\.name).first == "shard-00000.zst")
        #expect(try readAll(set) == expected)
        // No temporary files are left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path("corpus"))
        #expect(!names.contains { $0.hasPrefix(".") })
    }

    @Test func streamYieldsEveryStoredPairOnce() throws {
        let dir = TempDir()
        try dir.packFixture()
        let set = try ShardSet(directory: dir.path("corpus"))
        let stream = try BatchStream(shards: set, options: BatchingOptions(batchSize: 2, windowSize: 4, seed: 7),
                                     epoch: 0, resumeFrom: nil, prepare: { $0 }, length: { $0.source.utf8.count })
        var seen: [SentencePair] = []
        while let batch = try stream.next() { seen += batch }
        let key = { (p: SentencePair) in p.source + "\u{0}" + p.target }
        #expect(seen.map(key).sorted() == Fixture.kept(maxLength: nil).map(key).sorted())
    }

    @Test func exportIsByteIdenticalToTheInput() throws {
        let dir = TempDir()
        // No skipped pairs: the export must equal the input byte for byte.
        let keptSource = Fixture.kept(maxLength: nil).map(\.source)
        let keptTarget = Fixture.kept(maxLength: nil).map(\.target)
        let src = dir.write("s.txt", Fixture.text(keptSource))
        let tgt = dir.write("t.txt", Fixture.text(keptTarget))
        _ = try ShardPacker.pack(sourcePath: src, targetPath: tgt, output: dir.path("c"),
                                 options: ShardOptions(pairsPerShard: 4), tokenCount: Fixture.spaceTokens)
        let set = try ShardSet(directory: dir.path("c"))
        #expect(try set.export(sourcePath: dir.path("out.s"), targetPath: dir.path("out.t")) == keptSource.count)
        #expect(dir.bytes("out.s") == dir.bytes("s.txt"))
        #expect(dir.bytes("out.t") == dir.bytes("t.txt"))
    }

    /// Both sides into one file, or a side into the shard folder being read, is refused before
    /// anything is written; the corpus and the file keep their bytes.
    @Test func exportRefusesOneFileForBothSidesAndOutputsInsideTheCorpus() throws {
        let dir = TempDir()
        _ = try dir.packFixture()
        let set = try ShardSet(directory: dir.path("corpus"))
        dir.write("both.txt", "kept\n")
        let shard = dir.path("corpus/" + set.manifest.shards[0].name)
        let shardBytes = dir.bytes("corpus/" + set.manifest.shards[0].name)
        #expect(throws: CorpusError.self) { try set.export(sourcePath: dir.path("both.txt"), targetPath: dir.path("both.txt")) }
        #expect(throws: CorpusError.self) { try set.export(sourcePath: shard, targetPath: dir.path("t.out")) }
        #expect(dir.bytes("both.txt") == Array("kept\n".utf8))
        #expect(dir.bytes("corpus/" + set.manifest.shards[0].name) == shardBytes)
        #expect(!FileManager.default.fileExists(atPath: dir.path("t.out")))
    }

    @Test func exportOmitsOnlyTheSkippedPairs() throws {
        let dir = TempDir()
        try dir.packFixture(maxLength: 5)
        let set = try ShardSet(directory: dir.path("corpus"))
        try set.export(sourcePath: dir.path("o.s"), targetPath: dir.path("o.t"))
        #expect(dir.bytes("o.s") == Array(Fixture.text(Fixture.kept(maxLength: 5).map(\.source)).utf8))
        #expect(dir.bytes("o.t") == Array(Fixture.text(Fixture.kept(maxLength: 5).map(\.target)).utf8))
    }

    @Test func tsvInputKeepsPairs() throws {
        let dir = TempDir()
        let tsv = dir.write("p.tsv", "a b\tA B\nc\tC\n\tempty\n")
        let summary = try ShardPacker.pack(tsvPath: tsv, output: dir.path("c"), options: ShardOptions(),
                                           tokenCount: Fixture.spaceTokens)
        #expect(summary.pairsWritten == 2 && summary.skippedEmpty == 1)
        #expect(try readAll(ShardSet(directory: dir.path("c")))
                == [SentencePair(source: "a b", target: "A B"), SentencePair(source: "c", target: "C")])
    }

    @Test func tsvLineWithTwoTabsNamesTheLine() throws {
        let dir = TempDir()
        let tsv = dir.write("p.tsv", "a\tb\nx\ty\tz\n")
        #expect(throws: CorpusError.malformedTSV(path: tsv, line: 2, tabs: 2)) {
            try ShardPacker.pack(tsvPath: tsv, output: dir.path("c"), options: ShardOptions(), tokenCount: Fixture.spaceTokens)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("c")))
    }

    /// A record whose length field is corrupt (2 GiB, more than any line) is a corrupt shard, found
    /// before that length sizes any buffer.
    @Test func aRecordLengthNoLineCanHaveIsACorruptShardNotAnAllocation() throws {
        let dir = TempDir()
        var content = Array("S2SSHARD".utf8) + [1, 0, 0, 0]
        content += [0xFF, 0xFF, 0xFF, 0x7F] + Array(repeating: UInt8(65), count: 16)
        let path = dir.path("bad.zst")
        _ = FileManager.default.createFile(atPath: path, contents: Data(zstdRaw(content)))
        let reader = try ShardReader(path: path, expected: nil)
        #expect {
            _ = try reader.nextRecord()
        } throws: { error in
            "\(error)".hasPrefix(path) && "\(error)".contains("more than a line may have")
        }
    }

    @Test func truncatedShardIsCaughtByName() throws {
        let dir = TempDir()
        try dir.packFixture()
        let shard = dir.path("corpus/shard-00001.zst")
        let bytes = dir.bytes("corpus/shard-00001.zst")
        dir.write("corpus/shard-00001.zst", bytes: Array(bytes.prefix(bytes.count - 7)))
        let set = try ShardSet(directory: dir.path("corpus"))
        let problems = set.verify()
        #expect(problems.count == 1)
        #expect(problems.first?.contains("shard-00001.zst") == true)
        #expect(throws: CorpusError.self) { try readAll(set) }
        do { _ = try readAll(set) } catch { #expect("\(error)".hasPrefix(shard)) }
    }

    @Test(arguments: [0, 20, -20])
    func alteredShardIsCaughtByName(offsetFromMiddle: Int) throws {
        let dir = TempDir()
        try dir.packFixture()
        var bytes = dir.bytes("corpus/shard-00002.zst")
        bytes[bytes.count / 2 + offsetFromMiddle / 4] ^= 0x40
        dir.write("corpus/shard-00002.zst", bytes: bytes)
        let problems = try ShardSet(directory: dir.path("corpus")).verify()
        #expect(problems.count == 1)
        #expect(problems.first?.contains("shard-00002.zst") == true)
    }

    @Test func swappedValidShardFailsTheManifestChecksum() throws {
        let dir = TempDir()
        try dir.packFixture()
        let first = dir.bytes("corpus/shard-00000.zst")
        dir.write("corpus/shard-00000.zst", bytes: dir.bytes("corpus/shard-00001.zst"))
        dir.write("corpus/shard-00001.zst", bytes: first)
        let problems = try ShardSet(directory: dir.path("corpus")).verify()
        #expect(problems.count == 2)
        #expect(problems.allSatisfy { $0.contains("checksum mismatch") })
    }

    @Test func missingShardIsReportedByName() throws {
        let dir = TempDir()
        try dir.packFixture()
        try FileManager.default.removeItem(atPath: dir.path("corpus/shard-00003.zst"))
        let set = try ShardSet(directory: dir.path("corpus"))
        #expect(set.verify() == ["\(dir.path("corpus"))/shard-00003.zst: missing shard listed in the manifest"])
        #expect(throws: CorpusError.missingShard(name: "shard-00003.zst", directory: dir.path("corpus"))) {
            _ = try BatchStream(shards: set, options: BatchingOptions(), epoch: 0, resumeFrom: nil,
                                prepare: { $0 }, length: { _ in 1 })
        }
    }

    @Test func mismatchedLineCountsFailBeforeWritingAnything() throws {
        let dir = TempDir()
        let src = dir.write("a.en", "one\ntwo\nthree\n")
        let tgt = dir.write("a.fr", "un\ndeux\n")
        #expect(throws: CorpusError.lineCountMismatch(sourcePath: src, sourceLines: 3, targetPath: tgt, targetLines: 2)) {
            try ShardPacker.pack(sourcePath: src, targetPath: tgt, output: dir.path("new"), options: ShardOptions(),
                                 tokenCount: Fixture.spaceTokens)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("new")))

        // An existing corpus in the output folder is left exactly as it was, even with --overwrite.
        try dir.packFixture()
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.path("corpus")).sorted()
        let manifest = dir.bytes("corpus/manifest.json")
        #expect(throws: CorpusError.lineCountMismatch(sourcePath: src, sourceLines: 3, targetPath: tgt, targetLines: 2)) {
            try ShardPacker.pack(sourcePath: src, targetPath: tgt, output: dir.path("corpus"),
                                 options: ShardOptions(overwrite: true), tokenCount: Fixture.spaceTokens)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("corpus")).sorted() == before)
        #expect(dir.bytes("corpus/manifest.json") == manifest)
    }

    @Test func mismatchMessageNamesBothFilesAndCounts() {
        let error = CorpusError.lineCountMismatch(sourcePath: "a.en", sourceLines: 3, targetPath: "a.fr", targetLines: 2)
        #expect("\(error)" == "line counts differ: a.en has 3 lines, a.fr has 2 lines; nothing was written")
    }

    @Test func invalidUTF8NamesFileAndLineAndWritesNothing() throws {
        let dir = TempDir()
        let src = dir.write("bad.en", bytes: Array("fine\nalso fine\n".utf8) + [0x62, 0xFF, 0x61, 0x0A])
        let tgt = dir.write("ok.fr", "a\nb\nc\n")
        #expect(throws: CorpusError.invalidUTF8(path: src, line: 3)) {
            try ShardPacker.pack(sourcePath: src, targetPath: tgt, output: dir.path("c"), options: ShardOptions(),
                                 tokenCount: Fixture.spaceTokens)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("c")))
        #expect("\(CorpusError.invalidUTF8(path: src, line: 3))".hasPrefix("\(src):3: invalid UTF-8"))
    }

    @Test func repackingWithOverwriteRemovesStaleShards() throws {
        let dir = TempDir()
        try dir.packFixture(pairsPerShard: 2)
        try dir.packFixture(pairsPerShard: 100, overwrite: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path("corpus")).sorted()
        #expect(names == ["manifest.json", "shard-00000.zst"])
        #expect(try ShardSet(directory: dir.path("corpus")).verify() == [])
    }

    @Test func manifestVersionMismatchSaysHowToRegenerate() throws {
        let dir = TempDir()
        try dir.packFixture()
        let text = String(decoding: dir.bytes("corpus/manifest.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 99")
        dir.write("corpus/manifest.json", text)
        #expect(throws: CorpusError.unsupportedVersion(path: dir.path("corpus/manifest.json"), found: 99, supported: 1)) {
            _ = try ShardSet(directory: dir.path("corpus"))
        }
    }

    @Test func inputWithNoUsablePairsIsRefusedAndWritesNothing() throws {
        let dir = TempDir()
        let src = dir.write("s", "\n  \n")
        let tgt = dir.write("t", "a\nb\n")
        #expect {
            try ShardPacker.pack(sourcePath: src, targetPath: tgt, output: dir.path("c"), options: ShardOptions(),
                                 tokenCount: Fixture.spaceTokens)
        } throws: { error in
            "\(error)" == "\(dir.path("c")): no pairs to store: all 2 pairs were skipped (2 with an empty side, "
                + "0 over the length limit); nothing was written"
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == ["s", "t"])
        let empty = dir.write("e", "")
        #expect {
            try ShardPacker.pack(sourcePath: empty, targetPath: empty, output: dir.path("c"), options: ShardOptions(),
                                 tokenCount: Fixture.spaceTokens)
        } throws: { error in
            "\(error)".contains("the input holds no pairs")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("c")))
    }

    @Test func batchingOptionsDecodeWithDefaults() throws {
        let options = try JSONDecoder().decode(BatchingOptions.self, from: Data(#"{"batchSize": 8}"#.utf8))
        #expect(options == BatchingOptions(batchSize: 8))
    }

    @Test func atomicWriterLeavesOldFileOnAbandon() throws {
        let dir = TempDir()
        let path = dir.write("f.txt", "old\n")
        let writer = try AtomicFileWriter(path: path)
        try writer.write("new\n")
        writer.abandon()
        #expect(dir.bytes("f.txt") == Array("old\n".utf8))
        let second = try AtomicFileWriter(path: path)
        try second.write("new\n")
        #expect(dir.bytes("f.txt") == Array("old\n".utf8))
        try second.commit()
        #expect(dir.bytes("f.txt") == Array("new\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["f.txt"])
    }
}
