import Foundation
import Testing
import TestSupport

/// The built binary. TestSupport's `seq2seqBinary()` starts its search one folder above the
/// test runner when Swift Testing runs it as a plain executable (Bundle.main is then the build
/// folder itself), so look there first; remove once TestSupport checks that folder.
private func shardBinary() -> URL {
    let sibling = URL(fileURLWithPath: Bundle.main.bundlePath).appendingPathComponent("seq2seq")
    return FileManager.default.isExecutableFile(atPath: sibling.path) ? sibling : seq2seqBinary()
}

/// Runs the binary with output sent to files (no pipes to drain); returns status, stderr.
private func runShard(_ arguments: [String]) throws -> (status: Int32, stderrText: String) {
    let dir = makeTemporaryDirectory("shard-cli-run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let errURL = dir.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = shardBinary()
    process.arguments = arguments
    process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, try String(contentsOf: errURL, encoding: .utf8))
}

/// `seq2seq shard` end to end through the built binary.
@Suite struct ShardCLITests {
    static let source = "Hello\tworld\nÇa va ?\n\nnaïve café\none two three four\n東京\n"
    static let target = "Bonjour\tle monde\nHow are you?\nempty source\nnaive cafe\nshort\nTokyo\n"

    func write(_ dir: URL, _ name: String, _ text: String) -> String {
        let url = dir.appendingPathComponent(name)
        try! Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func packVerifyExportRoundTrip() throws {
        let dir = makeTemporaryDirectory("shard-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = write(dir, "s.txt", Self.source)
        let tgt = write(dir, "t.txt", Self.target)
        let corpus = dir.appendingPathComponent("corpora/demo").path
        let pack = try runShard(["shard", "--source", src, "--target", tgt, "--output", corpus,
                                   "--pairs-per-shard", "2", "--max-length", "3",
                                   "--source-lang", "en", "--target-lang", "fr"])
        #expect(pack.status == 0, "\(pack.stderrText)")
        #expect(pack.stderrText.contains("4 of 6 pairs in 2 shards (skipped 1 with an empty side, 1 longer than 3 tokens)"))

        let verify = try runShard(["shard", "--verify", corpus])
        #expect(verify.status == 0)
        #expect(verify.stderrText.contains("2 shards, 4 pairs verified"))

        let outS = dir.appendingPathComponent("o.s").path, outT = dir.appendingPathComponent("o.t").path
        let export = try runShard(["shard", "--export", corpus, "--source", outS, "--target", outT])
        #expect(export.status == 0)
        #expect(try String(contentsOfFile: outS, encoding: .utf8) == "Hello\tworld\nÇa va ?\nnaïve café\n東京\n")
        #expect(try String(contentsOfFile: outT, encoding: .utf8) == "Bonjour\tle monde\nHow are you?\nnaive cafe\nTokyo\n")

        let manifest = try String(contentsOfFile: corpus + "/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"command\" : \"seq2seq shard --source"))
        #expect(manifest.contains("\"source\" : \"en\""))
    }

    @Test func verifyNamesATruncatedShardAndFails() throws {
        let dir = makeTemporaryDirectory("shard-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("c").path
        let pack = try runShard(["shard", "--source", write(dir, "s", Self.source), "--target", write(dir, "t", Self.target),
                                   "--output", corpus, "--pairs-per-shard", "2"])
        #expect(pack.status == 0)
        let shard = URL(fileURLWithPath: corpus + "/shard-00001.zst")
        let bytes = try Data(contentsOf: shard)
        try bytes.prefix(bytes.count - 4).write(to: shard)
        let verify = try runShard(["shard", "--verify", corpus])
        #expect(verify.status != 0)
        #expect(verify.stderrText.contains("shard-00001.zst"))
        #expect(!verify.stderrText.contains("shard-00000.zst"))
        // Problem lines first, then one error line (the shape of every refusal).
        let lines = verify.stderrText.split(separator: "\n")
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("shard: ") }, "\(verify.stderrText)")
        #expect(lines.last?.hasPrefix("seq2seq: error: \(corpus): 1 of ") == true, "\(verify.stderrText)")
    }

    @Test func mismatchedInputsFailWithoutWriting() throws {
        let dir = makeTemporaryDirectory("shard-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = write(dir, "a.en", "one\ntwo\n")
        let tgt = write(dir, "a.fr", "un\n")
        let corpus = dir.appendingPathComponent("out").path
        let result = try runShard(["shard", "--source", src, "--target", tgt, "--output", corpus])
        #expect(result.status != 0)
        #expect(result.stderrText.contains("\(src) has 2 lines, \(tgt) has 1 lines"))
        #expect(!FileManager.default.fileExists(atPath: corpus))
    }

    /// Runs `shard` and checks the failure is one `seq2seq: error:` line mentioning `mentions`.
    func expectOneLineFailure(_ arguments: [String], mentions: [String],
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try runShard(arguments)
        #expect(result.status != 0, sourceLocation: sourceLocation)
        #expect(result.stderrText.hasPrefix("seq2seq: error: ") && result.stderrText.filter { $0 == "\n" }.count == 1,
                "\(result.stderrText)", sourceLocation: sourceLocation)
        for mention in mentions {
            #expect(result.stderrText.contains(mention), "\(result.stderrText)", sourceLocation: sourceLocation)
        }
    }

    /// Every file under `folder` (recursively) and its bytes.
    func tree(_ folder: URL) -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        while let name = enumerator?.nextObject() as? String {
            files[name] = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) ?? Data()
        }
        return files
    }

    @Test func earlierCorpusIsReplacedOnlyWithOverwrite() throws {
        let dir = makeTemporaryDirectory("shard-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = write(dir, "s", Self.source), tgt = write(dir, "t", Self.target)
        let corpus = dir.appendingPathComponent("c").path
        #expect(try runShard(["shard", "--source", src, "--target", tgt, "--output", corpus, "--pairs-per-shard", "1"]).status == 0)
        let before = tree(dir)
        try expectOneLineFailure(["shard", "--source", src, "--target", tgt, "--output", corpus],
                                 mentions: [corpus, "already holds a shard folder", "--overwrite"])
        #expect(tree(dir) == before)
        let again = try runShard(["shard", "--source", src, "--target", tgt, "--output", corpus, "--overwrite"])
        #expect(again.status == 0, "\(again.stderrText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: corpus).sorted() == ["manifest.json", "shard-00000.zst"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["c", "s", "t"])
    }

    @Test(arguments: [false, true])
    func modelFolderOrOtherFolderIsNeverWrittenInto(_ overwrite: Bool) throws {
        let dir = makeTemporaryDirectory("shard-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = write(dir, "s", Self.source), tgt = write(dir, "t", Self.target)
        let model = dir.appendingPathComponent("models/m")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        _ = write(model, "config.json", #"{"format": "seq2seq-model", "formatVersion": 1}"#)
        _ = write(model, "last.safetensors", "weights")
        let other = dir.appendingPathComponent("notes")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: false)
        _ = write(other, "todo.txt", "keep\n")
        let before = tree(dir)
        let flag = overwrite ? ["--overwrite"] : []
        try expectOneLineFailure(["shard", "--source", src, "--target", tgt, "--output", model.path] + flag,
                                 mentions: [model.path, "is a model folder"])
        try expectOneLineFailure(["shard", "--tsv", write(dir, "p.tsv", "a\tb\n"), "--output", other.path] + flag,
                                 mentions: [other.path, "is not empty"])
        #expect(tree(dir).filter { $0.key != "p.tsv" } == before)
    }

    @Test func inputWithNoUsablePairWritesNothing() throws {
        let dir = makeTemporaryDirectory("shard-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("corpora/c").path
        try expectOneLineFailure(["shard", "--source", write(dir, "s", "\n \n"), "--target", write(dir, "t", "a\nb\n"),
                                  "--output", corpus],
                                 mentions: [corpus, "no pairs to store", "2 with an empty side"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["s", "t"])
    }

    @Test func verifyNamesAnUnlistedShardFileAndAManifestTotalThatDisagrees() throws {
        let dir = makeTemporaryDirectory("shard-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("c").path
        #expect(try runShard(["shard", "--source", write(dir, "s", Self.source), "--target", write(dir, "t", Self.target),
                              "--output", corpus, "--pairs-per-shard", "2"]).status == 0)
        try FileManager.default.copyItem(atPath: corpus + "/shard-00000.zst", toPath: corpus + "/shard-00005.zst")
        let extra = try runShard(["shard", "--verify", corpus])
        #expect(extra.status != 0)
        #expect(extra.stderrText.contains("\(corpus)/shard-00005.zst: shard file not listed in the manifest"), "\(extra.stderrText)")
        try FileManager.default.removeItem(atPath: corpus + "/shard-00005.zst")
        #expect(try runShard(["shard", "--verify", corpus]).status == 0)

        let manifestPath = corpus + "/manifest.json"
        let manifest = try String(contentsOfFile: manifestPath, encoding: .utf8)
        let total = try #require(manifest.split(separator: "\n").first { $0.contains("\"totalTextBytes\"") })
        try Data(manifest.replacingOccurrences(of: String(total), with: "  \"totalTextBytes\" : 1,").utf8)
            .write(to: URL(fileURLWithPath: manifestPath))
        try expectOneLineFailure(["shard", "--verify", corpus], mentions: [manifestPath, "totalTextBytes"])
    }

    @Test func tsvInputAndModeValidation() throws {
        let dir = makeTemporaryDirectory("shard-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("tsv").path
        let ok = try runShard(["shard", "--tsv", write(dir, "p.tsv", "a\tA\nb\tB\n"), "--output", corpus])
        #expect(ok.status == 0, "\(ok.stderrText)")
        let both = try runShard(["shard", "--verify", corpus, "--export", corpus])
        #expect(both.status != 0)
    }

    /// shard reads its inputs twice: a pipe (here a FIFO) is refused with a message saying so,
    /// and nothing is written.
    @Test func aPipeAsInputIsRefusedNotReadAsEmpty() throws {
        let dir = makeTemporaryDirectory("shard-cli-pipe")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo").path, file = dir.appendingPathComponent("t.txt").path
        #expect(mkfifo(fifo, 0o600) == 0)
        try Data("a\n".utf8).write(to: URL(fileURLWithPath: file))
        let output = dir.appendingPathComponent("c").path
        let result = try runSeq2seq(["shard", "--source", fifo, "--target", file, "--output", output])
        #expect(result.status != 0 && result.stderrText.contains("is a pipe") && result.stderrText.contains(fifo), "\(result.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
