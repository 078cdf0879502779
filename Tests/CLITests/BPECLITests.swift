import Foundation
import Testing
import TestSupport

// `seq2seq bpe`: learn, apply, vocab and undo as processes, and their one-line errors.

private let sampleText = "the lower the newer ￭.\nthe newest lowest ￭!\nlow low lower\n"

@Test func bpeLearnWritesCodesAndApplyFiltersStdin() throws {
    let dir = makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("train.tok")
    try Data(sampleText.utf8).write(to: input)
    let codes = dir.appendingPathComponent("codes")
    let learn = try runSeq2seq(["bpe", "learn", "--input", input.path, "--merges", "5", "--output", codes.path])
    #expect(learn.status == 0)
    #expect(learn.stderrText == "bpe learn: wrote \(codes.path): 5 merges from 8 distinct words\n")
    let text = try String(contentsOf: codes, encoding: .utf8)
    // What subword-nmt 0.3.8 learns and applies on the same text.
    #expect(text == "#version: 0.2\nw e\nl o\nwe r</w>\nt h\nth e</w>\n")

    let apply = try runSeq2seq(["bpe", "apply", "--codes", codes.path], stdin: Data("the lowest\n\nlower ￭.\n".utf8))
    #expect(apply.status == 0)
    #expect(apply.stdoutText == "the lo@@ we@@ s@@ t\n\nlo@@ wer ￭@@ .\n")
    let undo = try runSeq2seq(["bpe", "undo"], stdin: apply.stdout)
    #expect(undo.stdoutText == "the lowest\n\nlower ￭.\n")
    let vocab = try runSeq2seq(["bpe", "vocab"], stdin: apply.stdout)
    #expect(vocab.stdoutText == "lo@@ 2\nthe 1\nwe@@ 1\ns@@ 1\nt 1\nwer 1\n￭@@ 1\n. 1\n")
}

@Test func malformedCodesFileIsOneLineNamingFileAndLine() throws {
    let dir = makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let codes = dir.appendingPathComponent("bad.codes")
    try Data("#version: 0.2\na b\nc\n".utf8).write(to: codes)
    let result = try runSeq2seq(["bpe", "apply", "--codes", codes.path], stdin: Data("abc\n".utf8))
    #expect(result.status != 0)
    #expect(result.stdoutText.isEmpty)
    #expect(result.stderrText == "seq2seq: error: \(codes.path):3: expected two subword units separated by one space, found 'c'\n")
}

@Test func failedLearnWritesNothing() throws {
    let dir = makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("bad.tok")
    try Data([0x61, 0x20, 0x62, 0x0A, 0xC3, 0x28, 0x0A]).write(to: input)
    let codes = dir.appendingPathComponent("codes")
    let result = try runSeq2seq(["bpe", "learn", "--input", input.path, "--output", codes.path])
    #expect(result.status != 0)
    #expect(result.stderrText == "seq2seq: error: \(input.path):2: invalid UTF-8 (convert the file to UTF-8, e.g. with iconv)\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["bad.tok"])
}

@Test func vocabularyThresholdWithoutVocabularyIsRefused() throws {
    let result = try runSeq2seq(["bpe", "apply", "--codes", "x", "--vocabulary-threshold", "2"])
    #expect(result.status != 0)
    #expect(result.stderrText == "seq2seq: error: --vocabulary-threshold needs --vocabulary (see 'seq2seq bpe apply --help')\n")
}

@Test func vocabWithCodesRecordsThemAndTrainRefusesOtherCodes() throws {
    let dir = makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    func file(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }
    let source = try file("train.en", "the lower the newer.\nthe newest lowest!\n")
    let target = try file("train.fr", "le plus bas.\nle plus neuf!\n")
    let codes = try file("joint.bpe", "#version: 0.2\nl o\nlo w\nt h\nth e</w>\n")
    let other = try file("other.bpe", "#version: 0.2\na b\n")
    for (input, output) in [(source, "en.vocab"), (target, "fr.vocab")] {
        let vocab = try runSeq2seq(["vocab", "--input", input, "--output", dir.appendingPathComponent(output).path, "--bpe-codes", codes])
        #expect(vocab.status == 0)
    }
    let header = try String(contentsOf: dir.appendingPathComponent("en.vocab"), encoding: .utf8).split(separator: "\n")[0]
    #expect(header.contains(" bpe="))
    let words = try String(contentsOf: dir.appendingPathComponent("en.vocab"), encoding: .utf8)
    #expect(words.contains("low\u{FFED}\u{FFED}\t"), "pieces carry the ￭￭ separator")
    let shard = try runSeq2seq(["shard", "--source", source, "--target", target, "--output", dir.appendingPathComponent("shards").path])
    #expect(shard.status == 0)
    let base = ["train", "--shards", dir.appendingPathComponent("shards").path,
                "--source-vocab", dir.appendingPathComponent("en.vocab").path,
                "--target-vocab", dir.appendingPathComponent("fr.vocab").path,
                "--output", dir.appendingPathComponent("m").path, "--max-steps", "1"]
    let missing = try runSeq2seq(base)
    #expect(missing.status != 0)
    #expect(missing.stderrText.hasPrefix("seq2seq: error: \(dir.appendingPathComponent("en.vocab").path): built with BPE codes "))
    let wrong = try runSeq2seq(base + ["--bpe-codes", codes, other])
    #expect(wrong.stderrText.hasPrefix("seq2seq: error: \(other): these BPE codes (checksum "))
    #expect(wrong.stderrText.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m").path))
}

@Test func badGlossaryPatternIsOneErrorLine() throws {
    let dir = makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let codes = dir.appendingPathComponent("codes")
    try Data("#version: 0.2\na b</w>\n".utf8).write(to: codes)
    let result = try runSeq2seq(["bpe", "apply", "--codes", codes.path, "--glossaries", "(unclosed"], stdin: Data("ab\n".utf8))
    #expect(result.status != 0)
    #expect(result.stdoutText.isEmpty)
    #expect(result.stderrText.hasPrefix("seq2seq: error: glossary '(unclosed' is not a valid regular expression ("))
    #expect(result.stderrText.split(separator: "\n").count == 1)
}

@Test func learningFromWordsWithoutPairsWritesAnEmptyCodesFile() throws {
    let dir = makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("chars.tok")
    try Data("a b c\n\nd\n".utf8).write(to: input)
    let codes = dir.appendingPathComponent("codes")
    let learn = try runSeq2seq(["bpe", "learn", "--input", input.path, "--output", codes.path])
    #expect(learn.status == 0)
    #expect(try String(contentsOf: codes, encoding: .utf8) == "#version: 0.2\n")
    let apply = try runSeq2seq(["bpe", "apply", "--codes", codes.path], stdin: Data("ab c\n".utf8))
    #expect(apply.stdoutText == "a@@ b c\n")
}
