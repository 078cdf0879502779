import Foundation
import Testing
import TestSupport

/// `seq2seq shortlist` and `translate --shortlist/--no-shortlist` through the built binary, on the
/// pipeline fixture's digit model (copied: the shortlist is written into the model folder).
@Suite("shortlist through the binary")
struct ShortlistCLITests {
    static let input = "one two three\n\nfour five\nsix seven eight nine\nzero one\n"

    @Test func buildsDeterministicallyAndTranslateUsesIt() throws {
        let p = try pipeline()
        let (dir, model) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = model + "/shortlist.bin"

        let build = try runSeq2seq(["shortlist", "--model", model, "--shards", p.shards, "--top-k", "2", "--frequent", "3"])
        #expect(build.status == 0, "\(build.stderrText)")
        #expect(build.stderrText.contains("read 40 pairs"), "\(build.stderrText)")
        let first = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(first.prefix(8) == Data("S2SSHORT".utf8))
        let again = try runSeq2seq(["shortlist", "--model", model, "--shards", p.shards, "--top-k", "2", "--frequent", "3"])
        #expect(again.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == first, "same shards, same bytes")
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: model).filter { $0.hasPrefix(".") || $0.contains("tmp") }.isEmpty)

        // Restricted (the default) and unrestricted both answer every line.
        let listed = try runSeq2seq(["translate", "--model", model], stdin: Data(Self.input.utf8))
        let plain = try runSeq2seq(["translate", "--model", model, "--no-shortlist"], stdin: Data(Self.input.utf8))
        #expect(listed.status == 0 && plain.status == 0, "\(listed.stderrText) \(plain.stderrText)")
        #expect(listed.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).count == 6)
        // --no-shortlist is what the model folder without a shortlist gives.
        let original = try runSeq2seq(["translate", "--model", p.model], stdin: Data(Self.input.utf8))
        #expect(plain.stdout == original.stdout)

        // A frequent list as large as the vocabulary keeps every id the search may emit (all but
        // <pad> and <s>, which it never emits): the translations stay the same. (Their scores
        // move slightly: the softmax then renormalises without the mass of <pad> and <s>.)
        let whole = try runSeq2seq(["shortlist", "--model", model, "--shards", p.shards, "--frequent", "1000"])
        #expect(whole.status == 0, "\(whole.stderrText)")
        let wholeOutput = try runSeq2seq(["translate", "--model", model], stdin: Data(Self.input.utf8))
        #expect(wholeOutput.status == 0 && wholeOutput.stdout == plain.stdout, "\(wholeOutput.stdoutText) vs \(plain.stdoutText)")

        // evaluate takes the same flags.
        let evaluate = try runSeq2seq(["evaluate", "--model", model, "--source", p.testSource, "--reference", p.testReference,
                                       "--no-shortlist"])
        #expect(evaluate.status == 0, "\(evaluate.stderrText)")
    }

    @Test func aCorruptShortlistIsOneErrorLineAndNoShortlistIgnoresIt() throws {
        let p = try pipeline()
        let (dir, model) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try runSeq2seq(["shortlist", "--model", model, "--shards", p.shards])
        #expect(build.status == 0, "\(build.stderrText)")
        let file = URL(fileURLWithPath: model + "/shortlist.bin")
        var bytes = try Data(contentsOf: file)
        bytes.removeLast(3)
        try bytes.write(to: file)
        let translate = try runSeq2seq(["translate", "--model", model], stdin: Data("one\n".utf8))
        expectOneLineError(translate, mentions: ["shortlist.bin", "truncated"])
        let ignored = try runSeq2seq(["translate", "--model", model, "--no-shortlist"], stdin: Data("one\n".utf8))
        #expect(ignored.status == 0, "\(ignored.stderrText)")
    }

    @Test func badArgumentsWriteNothing() throws {
        let p = try pipeline()
        let (dir, model) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try snapshot(model)
        expectOneLineError(try runSeq2seq(["shortlist", "--model", model, "--shards", p.shards, "--top-k", "0"]),
                           mentions: ["--top-k"])
        expectOneLineError(try runSeq2seq(["shortlist", "--model", model, "--shards", dir.path + "/none"]),
                           mentions: ["none"])
        expectOneLineError(try runSeq2seq(["shortlist", "--model", dir.path + "/nomodel", "--shards", p.shards]),
                           mentions: ["nomodel"])
        #expect(try snapshot(model) == before)
    }
}
