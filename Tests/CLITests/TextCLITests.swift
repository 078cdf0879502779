import Foundation
import Testing
import TestSupport

// Runs the built binary on stdin and compares stdout and stderr exactly.

@Test func tokenizeIsAFilterKeepingLineCount() throws {
    let input = "Hello, world!\n\n„Ja“, 3,5 €.\r\nlast line without newline"
    let result = try runSeq2seq(["tokenize"], stdin: Data(input.utf8))
    #expect(result.status == 0)
    #expect(result.stdoutText == "Hello ￭, world ￭!\n\n„￭ Ja ￭“ ￭, 3,5 € ￭.\nlast line without newline\n")
    #expect(result.stderrText.isEmpty)
}

@Test func tokenizeOptionsReachTheTokenizer() throws {
    let result = try runSeq2seq(["tokenize", "--lowercase", "--lang", "tr", "--split-numbers", "--no-joiners"],
                                stdin: Data("İSTANBUL 3,5\n".utf8))
    #expect(result.stdoutText == "istanbul 3 , 5\n")
    let nfkc = try runSeq2seq(["tokenize", "--normalize", "nfkc"], stdin: Data("ﬁ①\n".utf8))
    #expect(nfkc.stdoutText == "fi1\n")
}

@Test func detokenizeInvertsTokenize() throws {
    let text = "L'homme dit\u{A0}: «\u{A0}Bonjour\u{A0}!\u{A0}» 東京は晴れ。 👍🏽 e-mail: a@b.org ￭\n\nx\n"
    let tokens = try runSeq2seq(["tokenize", "--lang", "fr"], stdin: Data(text.utf8))
    let back = try runSeq2seq(["detokenize"], stdin: tokens.stdout)
    #expect(back.status == 0)
    #expect(back.stdout == Data(text.utf8))
}

@Test func invalidUTF8NamesTheLine() throws {
    var input = Data("fine\nstill fine\n".utf8)
    input.append(contentsOf: [0x62, 0x61, 0x64, 0xC3, 0x28, 0x0A])
    let result = try runSeq2seq(["tokenize"], stdin: input)
    #expect(result.status != 0)
    #expect(result.stderrText.hasPrefix("seq2seq: error: stdin:3: invalid UTF-8"))
    #expect(result.stderrText.split(separator: "\n").count == 1)

    let replaced = try runSeq2seq(["tokenize", "--replace-invalid"], stdin: input)
    #expect(replaced.status == 0)
    #expect(replaced.stdoutText == "fine\nstill fine\nbad ￭\u{FFFD} ￭(\n")

    let detok = try runSeq2seq(["detokenize"], stdin: input)
    #expect(detok.stderrText.hasPrefix("seq2seq: error: stdin:3: invalid UTF-8"))
}

@Test func missingInputFileIsOneLine() throws {
    let result = try runSeq2seq(["tokenize", "--input", "/nonexistent/in.txt"])
    #expect(result.status != 0)
    #expect(result.stderrText == "seq2seq: error: /nonexistent/in.txt: cannot open: No such file or directory\n")
}

@Test func vocabWritesFileAndReportsCoverage() throws {
    let directory = makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let corpus = directory.appendingPathComponent("train.txt")
    try Data("the cat, the dog.\nthe end.\n".utf8).write(to: corpus)
    let held = directory.appendingPathComponent("test.txt")
    try Data("the bird.\n".utf8).write(to: held)
    let output = directory.appendingPathComponent("vocab/en.vocab").path
    let result = try runSeq2seq(["vocab", "--input", corpus.path, "--output", output, "--min-count", "2",
                                 "--report", held.path])
    #expect(result.status == 0, "\(result.stderrText)")
    let text = try String(contentsOfFile: output, encoding: .utf8)
    #expect(text == "#seq2seq-vocab v1 tokens=6 normalize=nfc lowercase=false lang=en split-numbers=false joiners=true\n"
            + "<pad>\t0\n<unk>\t0\n<s>\t0\n</s>\t0\nthe\t3\n￭.\t2\n")
    #expect(result.stderrText.contains("types seen 6, kept 2, dropped 4"))
    #expect(result.stderrText.contains("running tokens 9, covered 55.56%"))
    #expect(result.stderrText.contains("3 tokens, 1 out of vocabulary, OOV rate 33.33%"))

    // Pretokenized input counts space-separated tokens as they are; same file twice is deterministic.
    let again = try runSeq2seq(["vocab", "--input", corpus.path, "--output", output, "--min-count", "2"])
    #expect(again.status == 0)
    #expect(try String(contentsOfFile: output, encoding: .utf8) == text)
    let pre = try runSeq2seq(["vocab", "--pretokenized", "--input", corpus.path, "--output", output])
    #expect(pre.status == 0)
    let preText = try String(contentsOfFile: output, encoding: .utf8)
    #expect(preText.contains("\ncat,\t1\n"))
    // Recorded, so that training and translation split the same way.
    #expect(preText.hasPrefix("#seq2seq-vocab v1 tokens=") && preText.split(separator: "\n")[0].hasSuffix(" pretokenized=true"))
}

@Test func vocabRejectsBadArguments() throws {
    let result = try runSeq2seq(["vocab", "--input", "/nonexistent/a.txt", "--output", "/tmp/x.vocab"])
    #expect(result.stderrText == "seq2seq: error: /nonexistent/a.txt: cannot open: No such file or directory\n")
    let tiny = try runSeq2seq(["vocab", "--input", "a", "--output", "b", "--max-size", "3"])
    #expect(tiny.status != 0)
    #expect(tiny.stderrText.contains("--max-size 3"))
}

/// `serve --help` describes `--n-best` as what a request gets, not only as translate's line format
/// (the probe's finding 16: it printed translate's `|||` format alone).
@Test func serveHelpDescribesNBestForRequests() throws {
    let result = try runSeq2seq(["serve", "--help"])
    let text = result.stdoutText.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
    #expect(text.contains("for `serve` it is the default of a request"), "\(result.stdoutText)")
}

/// gzip or zstd bytes where text is expected (here on stdin) are named as compressed input, not
/// as invalid UTF-8 (the newcomer's finding 4), on every command that reads text lines.
@Test(arguments: [
    ("gzip", [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 207, 75, 85, 40, 41, 207, 231, 2, 0, 67, 60, 203, 153, 8, 0, 0, 0] as [UInt8]),
    ("zstd", [40, 181, 47, 253, 4, 88, 65, 0, 0, 111, 110, 101, 32, 116, 119, 111, 10, 31, 162, 32, 180] as [UInt8]),
])
func compressedStdinIsNamedAsCompressed(format: String, bytes: [UInt8]) throws {
    for command in [["tokenize", "--lang", "en"], ["detokenize"]] {
        let result = try runSeq2seq(command, stdin: Data(bytes))
        #expect(result.status != 0)
        #expect(result.stderrText.contains("\(format)-compressed input where text was expected"), "\(command): \(result.stderrText)")
        #expect(!result.stderrText.contains("invalid UTF-8"))
        #expect(result.stderrText.split(separator: "\n").count == 1, "\(result.stderrText)")
    }
}

@Test func helpExplainsJoiners() throws {
    let result = try runSeq2seq(["tokenize", "--help"])
    #expect(result.stdoutText.contains("￭"))
    #expect(result.stdoutText.contains("--replace-invalid"))
}
