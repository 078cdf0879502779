import Foundation
import Testing
import TestSupport

// Every command reads lines through the one line reader: the same lines from a plain, .gz or .zst
// file and from stdin, with CRLF, a byte-order mark and a missing final newline handled alike, one
// error for invalid UTF-8 and for a directory.

/// Writes `bytes` as the given kind of input in `dir` and returns the command-line arguments that
/// read it (`--input`-style flag given by the caller) and the stdin to send.
private func input(_ kind: String, _ bytes: [UInt8], in dir: URL, name: String = "in.txt") throws -> (path: String?, stdin: Data?) {
    let path = dir.appendingPathComponent(name).path
    switch kind {
    case "plain": try Data(bytes).write(to: URL(fileURLWithPath: path)); return (path, nil)
    case "gz": try Data(gzipStored(bytes)).write(to: URL(fileURLWithPath: path + ".gz")); return (path + ".gz", nil)
    case "zst": try Data(zstdRaw(bytes)).write(to: URL(fileURLWithPath: path + ".zst")); return (path + ".zst", nil)
    default: return (nil, Data(bytes))
    }
}

private let kinds = ["plain", "gz", "zst", "stdin"]
private let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

@Suite("one line reader for every command")
struct LineInputCLITests {
    @Test(arguments: kinds)
    func pretokenizedCRLFAndBOMReadLikePlainLF(_ kind: String) throws {
        let dir = makeTemporaryDirectory("lines-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, stdin) = try input(kind, bom + Array("a dog runs .\r\nthe cat\r\n\r\nlast\r".utf8), in: dir)
        let expected = "a dog runs .\nthe cat\n\nlast\n"

        let tokenized = try runSeq2seq(["tokenize", "--pretokenized"] + (path.map { ["--input", $0] } ?? []), stdin: stdin)
        #expect(tokenized.status == 0, "\(tokenized.stderrText)")
        #expect(tokenized.stdoutText == expected)

        let detokenized = try runSeq2seq(["detokenize"] + (path.map { ["--input", $0] } ?? []), stdin: stdin)
        #expect(detokenized.stdoutText == expected)

        if let path {  // vocab reads files only
            let vocab = dir.appendingPathComponent("v.vocab").path
            let built = try runSeq2seq(["vocab", "--pretokenized", "--input", path, "--output", vocab])
            #expect(built.status == 0, "\(built.stderrText)")
            let words = try String(contentsOfFile: vocab, encoding: .utf8).split(separator: "\n").dropFirst(5)
                .map { String($0.split(separator: "\t")[0]) }
            #expect(words.sorted() == [".", "a", "cat", "dog", "last", "runs", "the"])
        }
    }

    @Test(arguments: kinds)
    func invalidUTF8IsOneErrorNamingFileAndLine(_ kind: String) throws {
        let dir = makeTemporaryDirectory("lines-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, stdin) = try input(kind, Array("fine\r\n".utf8) + [0x62, 0xC3, 0x28, 0x0A], in: dir)
        let name = path ?? "stdin"
        for command in [["tokenize"], ["detokenize"]] + (path == nil ? [] : [["vocab", "--output", dir.appendingPathComponent("v").path]]) {
            let result = try runSeq2seq(command + (path.map { ["--input", $0] } ?? []), stdin: stdin)
            #expect(result.status != 0)
            #expect(result.stderrText.hasPrefix("seq2seq: error: \(name):2: invalid UTF-8"), "\(command): \(result.stderrText)")
            #expect(result.stderrText.split(separator: "\n").count == 1)
        }
    }

    @Test func directoryAsInputIsAnError() throws {
        let dir = makeTemporaryDirectory("lines-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("t.txt").path
        try Data("a\n".utf8).write(to: URL(fileURLWithPath: text))
        for arguments in [["tokenize", "--input", dir.path], ["detokenize", "--input", dir.path],
                          ["vocab", "--input", dir.path, "--output", dir.appendingPathComponent("v").path],
                          ["shard", "--source", dir.path, "--target", text, "--output", dir.appendingPathComponent("s").path],
                          ["bleu", dir.path, "-i", text], ["bleu", text, "-i", dir.path]] {
            let result = try runSeq2seq(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderrText.contains("\(dir.path): is a directory"), "\(arguments): \(result.stderrText)")
        }
    }

    /// `shard` packs what every other command reads: no "\r" and no BOM reach the stored pairs,
    /// from compressed files too.
    @Test(arguments: ["plain", "gz", "zst"])
    func shardStoresTheSameLinesAsEveryCommandReads(_ kind: String) throws {
        let dir = makeTemporaryDirectory("lines-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try input(kind, bom + Array("ein Hund .\r\nzwei\r".utf8), in: dir, name: "s.de").path!
        let target = try input(kind, Array("a dog .\r\ntwo\n".utf8), in: dir, name: "t.en").path!
        let shards = dir.appendingPathComponent("corpus").path
        let packed = try runSeq2seq(["shard", "--source", source, "--target", target, "--output", shards])
        #expect(packed.status == 0, "\(packed.stderrText)")
        let outS = dir.appendingPathComponent("out.de").path, outT = dir.appendingPathComponent("out.en").path
        let exported = try runSeq2seq(["shard", "--export", shards, "--source", outS, "--target", outT])
        #expect(exported.status == 0, "\(exported.stderrText)")
        #expect(try String(contentsOfFile: outS, encoding: .utf8) == "ein Hund .\nzwei\n")
        #expect(try String(contentsOfFile: outT, encoding: .utf8) == "a dog .\ntwo\n")
    }

    @Test func bleuReadsCompressedFilesAndCRLFLikePlainOnes() throws {
        let dir = makeTemporaryDirectory("lines-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = Array("the dog runs fast .\r\nit rains today\r\n".utf8)
        let hypothesis = Array("the dog runs .\nit rains today\n".utf8)
        let plainRef = try input("plain", Array("the dog runs fast .\nit rains today\n".utf8), in: dir, name: "plain.en").path!
        let plainHyp = try input("plain", hypothesis, in: dir, name: "plain.hyp").path!
        let expected = try runSeq2seq(["bleu", plainRef, "-i", plainHyp])
        #expect(expected.status == 0, "\(expected.stderrText)")
        for kind in ["gz", "zst"] {
            let ref = try input(kind, bom + reference, in: dir, name: "ref.en").path!
            let hyp = try input(kind, hypothesis, in: dir, name: "hyp.en").path!
            let result = try runSeq2seq(["bleu", ref, "-i", hyp])
            #expect(result.status == 0, "\(kind): \(result.stderrText)")
            #expect(result.stdout == expected.stdout, "\(kind)")
        }
    }
}
