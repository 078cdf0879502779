import Foundation
import Testing
import TestSupport

/// `seq2seq quantize` and `--precision int8` through the built binary, on the pipeline fixture's
/// digit model (copied: the int8 copy is written into the model folder).
@Suite("int8 through the binary")
struct Int8CLITests {
    static let input = "one two three\n\nfour five\nsix seven eight nine\nzero one\n"

    /// int8 translates every line; the stored copy gives exactly what quantizing at load gives; a
    /// stale or corrupt copy is one error line naming it.
    @Test func quantizeStoresACopyTranslateReads() throws {
        let p = try pipeline()
        let (dir, model) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let atLoad = try runSeq2seq(["translate", "--model", model, "--precision", "int8"], stdin: Data(Self.input.utf8))
        #expect(atLoad.status == 0, "\(atLoad.stderrText)")
        #expect(atLoad.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).count == 6)

        let quantize = try runSeq2seq(["quantize", "--model", model])
        #expect(quantize.status == 0, "\(quantize.stderrText)")
        #expect(quantize.stdoutText.contains("best.int8.safetensors"))
        let copy = model + "/best.int8.safetensors"
        #expect(FileManager.default.fileExists(atPath: copy))
        #expect(try FileManager.default.contentsOfDirectory(atPath: model).filter { $0.hasPrefix(".") || $0.contains("tmp") }.isEmpty)
        let fromCopy = try runSeq2seq(["translate", "--model", model, "--precision", "int8"], stdin: Data(Self.input.utf8))
        #expect(fromCopy.status == 0 && fromCopy.stdout == atLoad.stdout, "\(fromCopy.stderrText)")
        // float32 ignores the copy.
        let float = try runSeq2seq(["translate", "--model", model], stdin: Data(Self.input.utf8))
        let original = try runSeq2seq(["translate", "--model", p.model], stdin: Data(Self.input.utf8))
        #expect(float.stdout == original.stdout)
        // evaluate and the synthetic bench take the flag too.
        let evaluate = try runSeq2seq(["evaluate", "--model", model, "--source", p.testSource, "--reference", p.testReference,
                                       "--precision", "int8"])
        #expect(evaluate.status == 0, "\(evaluate.stderrText)")

        // A corrupt copy: one line naming it; nothing else is touched.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: copy))
        bytes[bytes.count - 5] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: copy))
        expectOneLineError(try runSeq2seq(["translate", "--model", model, "--precision", "int8"], stdin: Data("one\n".utf8)),
                           mentions: ["best.int8.safetensors", "corrupt"])
        // A copy of other weights (the last checkpoint's, put in best's place).
        let last = try runSeq2seq(["quantize", "--model", model, "--checkpoint", "last"])
        #expect(last.status == 0, "\(last.stderrText)")
        try FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: model + "/last.int8.safetensors", toPath: copy)
        let stale = try runSeq2seq(["translate", "--model", model, "--precision", "int8"], stdin: Data("one\n".utf8))
        expectOneLineError(stale, mentions: ["best.int8.safetensors", "other weights"])
    }

    @Test func badArgumentsAreOneLine() throws {
        let p = try pipeline()
        expectOneLineError(try runSeq2seq(["translate", "--model", p.model, "--precision", "int4"], stdin: Data("one\n".utf8)),
                           mentions: ["int4"])
        expectOneLineError(try runSeq2seq(["quantize", "--model", "/nonexistent/model"]), mentions: ["/nonexistent/model"])
        expectOneLineError(try runSeq2seq(["bench", "translate", "--precision", "int8", "--no-packed"]), mentions: ["--no-packed"])
    }
}
