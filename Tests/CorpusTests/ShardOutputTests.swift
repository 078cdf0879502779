import Foundation
import Testing
@testable import Corpus
import TestSupport

/// What `shard` refuses to write into, what a failed pack leaves behind, and what `--verify`
/// checks beyond the shards' own bytes.
@Suite struct ShardOutputTests {
    struct InjectedFailure: Error {}

    /// Every file (recursively, hidden ones included) under the temporary folder and its bytes.
    func tree(_ dir: TempDir) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let enumerator = try #require(FileManager.default.enumerator(atPath: dir.url.path))
        while let name = enumerator.nextObject() as? String {
            files[name] = dir.bytes(name)
        }
        return files
    }

    /// A writer for `output` with the fixture's pairs added, whose hook fails when the file
    /// whose name ends in `failingFile` is about to be created.
    func writerFailing(at failingFile: String, output: String, overwrite: Bool) throws -> ShardWriter {
        let writer = try ShardWriter(directory: output, options: ShardOptions(pairsPerShard: 3, overwrite: overwrite),
                                     tokenCount: Fixture.spaceTokens)
        writer.beforeCreatingFile = { path in
            if path.hasSuffix("/" + failingFile) { throw InjectedFailure() }
        }
        return writer
    }

    func addFixturePairs(_ writer: ShardWriter) throws {
        for (source, target) in zip(Fixture.source, Fixture.target) { try writer.add(source: source, target: target) }
    }

    /// A run killed by a signal leaves its `.NAME.partial-PID` staging folder; the next pack
    /// removes it once that process is gone (and keeps a live one's). An `.old-PID` earlier corpus
    /// goes too once a corpus stands at the output.
    @Test func abandonedStagingOfAGoneProcessIsRemovedByTheNextPack() throws {
        let dir = TempDir()
        var gone: Int32 = 4_000_000
        while kill(gone, 0) == 0 || errno != ESRCH { gone -= 1 }
        for name in [".corpus.partial-\(gone)", ".corpus.old-\(gone)", ".corpus.partial-1"] {
            try FileManager.default.createDirectory(atPath: dir.path(name), withIntermediateDirectories: false)
            _ = FileManager.default.createFile(atPath: dir.path(name + "/shard-00000.zst"), contents: Data([1, 2, 3]))
        }
        func left() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix(".corpus") }.sorted()
        }
        _ = try dir.packFixture()
        // No corpus stood at the output when the pack began: the earlier one in .old- is kept.
        #expect(try left() == [".corpus.old-\(gone)", ".corpus.partial-1"], "pid 1 still runs: its folder stays")
        _ = try dir.packFixture(overwrite: true)
        #expect(try left() == [".corpus.partial-1"])
    }

    @Test(arguments: ["shard-00000.zst", "shard-00002.zst", "manifest.json"])
    func failedPackIntoANewFolderLeavesNothing(_ failingFile: String) throws {
        let dir = TempDir()
        let before = try tree(dir)
        // Parent folders that did not exist are made for the output, and removed again.
        let output = dir.path("corpora/new/c")
        let writer = try writerFailing(at: failingFile, output: output, overwrite: false)
        #expect(throws: InjectedFailure.self) {
            try addFixturePairs(writer)
            _ = try writer.finish()
        }
        writer.abandon()
        #expect(try tree(dir) == before)
    }

    @Test(arguments: ["shard-00001.zst", "manifest.json"])
    func failedOverwriteLeavesTheEarlierCorpusByteForByte(_ failingFile: String) throws {
        let dir = TempDir()
        try dir.packFixture(pairsPerShard: 2)
        let before = try tree(dir)
        let writer = try writerFailing(at: failingFile, output: dir.path("corpus"), overwrite: true)
        #expect(throws: InjectedFailure.self) {
            try addFixturePairs(writer)
            _ = try writer.finish()
        }
        writer.abandon()
        #expect(try tree(dir) == before)
    }

    @Test func abandonedWriterLeavesNothing() throws {
        let dir = TempDir()
        do {
            let writer = try ShardWriter(directory: dir.path("c"), options: ShardOptions(pairsPerShard: 2),
                                         tokenCount: Fixture.spaceTokens)
            try addFixturePairs(writer)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == [])
    }

    @Test func nonEmptyFolderThatIsNotACorpusIsRefusedEvenWithOverwrite() throws {
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.path("out"), withIntermediateDirectories: true)
        dir.write("out/notes.txt", "keep me\n")
        dir.write("out/manifest.json", "{}")
        let before = try tree(dir)
        for overwrite in [false, true] {
            #expect {
                try dir.packFixture(output: "out", overwrite: overwrite)
            } throws: { error in
                "\(error)" == "\(dir.path("out")): exists and is not empty (and is not a shard folder); choose another --output"
            }
        }
        #expect(try tree(dir).filter { !["src.txt", "tgt.txt"].contains($0.key) } == before)
    }

    /// Nor a folder inside a model folder or a shard folder.
    @Test func aFolderInsideAModelOrShardFolderIsRefused() throws {
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.path("models/m"), withIntermediateDirectories: true)
        dir.write("models/m/config.json", "{\"format\": \"seq2seq-model\"}")
        dir.write("models/m/source.vocab", "x")
        _ = try dir.packFixture()
        let before = try tree(dir)
        for (output, mention) in [("models/m/sub", "inside the model folder"), ("corpus/sub/c", "inside the shard folder")] {
            #expect {
                try dir.packFixture(output: output)
            } throws: { error in
                "\(error)".hasPrefix("\(dir.path(output)): is \(mention)")
            }
        }
        #expect(try tree(dir) == before)
    }

    @Test func modelFolderIsNeverWrittenInto() throws {
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.path("models/m"), withIntermediateDirectories: true)
        dir.write("models/m/config.json", "{\"format\": \"seq2seq-model\"}")
        dir.write("models/m/last.safetensors", "weights")
        let before = try tree(dir)
        for overwrite in [false, true] {
            #expect {
                try dir.packFixture(output: "models/m", overwrite: overwrite)
            } throws: { error in
                "\(error)".hasPrefix("\(dir.path("models/m")): is a model folder")
            }
        }
        #expect(try tree(dir).filter { !["src.txt", "tgt.txt"].contains($0.key) } == before)
    }

    @Test func outputThatIsAFileIsRefused() throws {
        let dir = TempDir()
        dir.write("c", "a file\n")
        #expect(throws: CorpusError.outputRefused(path: dir.path("c"), reason: "exists and is not a folder; choose another --output")) {
            try dir.packFixture(output: "c", overwrite: true)
        }
        #expect(dir.bytes("c") == Array("a file\n".utf8))
    }

    @Test func earlierShardFolderIsReplacedOnlyWithOverwrite() throws {
        let dir = TempDir()
        try dir.packFixture(pairsPerShard: 2)
        let before = try tree(dir)
        #expect(throws: CorpusError.outputRefused(path: dir.path("corpus"),
                                                  reason: "already holds a shard folder; pass --overwrite to replace it")) {
            try dir.packFixture(pairsPerShard: 5)
        }
        #expect(try tree(dir) == before)
        try dir.packFixture(pairsPerShard: 5, overwrite: true)
        let set = try ShardSet(directory: dir.path("corpus"))
        #expect(set.shardCount == 3 && set.verify() == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == ["corpus", "src.txt", "tgt.txt"])
    }

    @Test func emptyExistingFolderIsFilled() throws {
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.path("empty"), withIntermediateDirectories: false)
        try dir.packFixture(output: "empty")
        #expect(try ShardSet(directory: dir.path("empty")).verify() == [])
    }

    // MARK: --verify

    /// Rewrites `corpus/manifest.json` with one change made to its JSON object.
    func editManifest(_ dir: TempDir, _ edit: (inout [String: Any]) -> Void) throws {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(dir.bytes("corpus/manifest.json"))) as? [String: Any])
        edit(&object)
        dir.write("corpus/manifest.json", bytes: Array(try JSONSerialization.data(withJSONObject: object)))
    }

    @Test func verifyNamesAShardFileTheManifestDoesNotList() throws {
        let dir = TempDir()
        try dir.packFixture()
        dir.write("corpus/shard-00009.zst", bytes: dir.bytes("corpus/shard-00000.zst"))
        let problems = try ShardSet(directory: dir.path("corpus")).verify()
        #expect(problems == ["\(dir.path("corpus/shard-00009.zst")): shard file not listed in the manifest "
            + "(from another corpus? re-run `seq2seq shard`)"])
    }

    @Test func verifyNamesAShardWhosePairCountDisagreesWithTheManifest() throws {
        let dir = TempDir()
        try dir.packFixture()
        try editManifest(dir) { object in
            var shards = object["shards"] as! [[String: Any]]
            shards[1]["pairs"] = (shards[1]["pairs"] as! Int) + 1
            object["shards"] = shards
            object["totalPairs"] = (object["totalPairs"] as! Int) + 1
            // Keep the manifest's own sums consistent (a record's two lengths are 8 bytes), so
            // only reading the shard can tell.
            object["totalTextBytes"] = (object["totalTextBytes"] as! Int) - 8
        }
        let problems = try ShardSet(directory: dir.path("corpus")).verify()
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix(dir.path("corpus/shard-00001.zst")) == true, "\(problems)")
    }

    /// Counts near Int.max whose sum overflows are a bad manifest, not an arithmetic trap.
    @Test(arguments: ["pairs", "compressedBytes", "uncompressedBytes"])
    func manifestCountsThatOverflowAreABadManifest(_ key: String) throws {
        let dir = TempDir()
        try dir.packFixture()
        try editManifest(dir) { object in
            var shards = object["shards"] as! [[String: Any]]
            shards[0][key] = Int.max
            shards[1][key] = Int.max
            object["shards"] = shards
        }
        #expect {
            _ = try ShardSet(directory: dir.path("corpus"))
        } throws: { error in
            "\(error)" == "\(dir.path("corpus/manifest.json")): bad manifest: the shards' \(key) add up past \(Int.max)"
        }
    }

    @Test(arguments: ["totalPairs", "totalCompressedBytes", "totalUncompressedBytes", "totalTextBytes"])
    func manifestTotalThatDisagreesWithItsShardsIsNamed(_ key: String) throws {
        let dir = TempDir()
        try dir.packFixture()
        try editManifest(dir) { $0[key] = ($0[key] as! Int) + 1 }
        #expect {
            _ = try ShardSet(directory: dir.path("corpus"))
        } throws: { error in
            "\(error)".hasPrefix("\(dir.path("corpus/manifest.json")): bad manifest: \(key)")
        }
    }
}
