import Foundation
import Testing
import TestSupport

/// The C API (libseq2seq-c.so, seq2seq.h): the C example program and the Python module, built
/// and run on the pipeline fixture's model, translate as `seq2seq translate` does.
@Suite("C API and Python module")
struct CAPICLITests {
    static let input = "one two three\n\nfour five\nsix seven eight nine\nzero one\n"
    /// The package root (three levels above this file: Tests/CLITests/...).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var library: URL { seq2seqBinary().deletingLastPathComponent().appendingPathComponent("libseq2seq-c.so") }

    @Test func theCExampleTranslatesAsTheCommandLine() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("capi")
        defer { try? FileManager.default.removeItem(at: dir) }
        let program = dir.appendingPathComponent("translate")
        let build = try runProcess(URL(fileURLWithPath: "/usr/bin/cc"), [
            Self.root.appendingPathComponent("Examples/c/translate.c").path,
            "-I", Self.root.appendingPathComponent("Sources/CSeq2Seq/include").path,
            "-L", Self.library.deletingLastPathComponent().path, "-lseq2seq-c",
            "-Wl,-rpath," + Self.library.deletingLastPathComponent().path, "-Wall", "-Werror", "-o", program.path])
        #expect(build.status == 0, "\(build.stderrText)")
        for (extra, cli) in [([String](), [String]()), (["-n", "3"], ["--n-best", "3"])] {
            let c = try runProcess(program, [p.model] + extra, stdin: Data(Self.input.utf8))
            let reference = try runSeq2seq(["translate", "--model", p.model] + cli, stdin: Data(Self.input.utf8))
            #expect(c.status == 0, "\(c.stderrText)")
            if extra.isEmpty {
                #expect(c.stdoutText == reference.stdoutText)
            } else {
                // The CLI's n-best lines carry "F0= " before the log-probability.
                #expect(c.stdoutText == reference.stdoutText.replacingOccurrences(of: "F0= ", with: ""))
            }
        }
        let missing = try runProcess(program, [dir.appendingPathComponent("nomodel").path], stdin: Data())
        #expect(missing.status == 1 && missing.stderrText.contains("nomodel"), "\(missing.stderrText)")
    }

    @Test func thePythonModuleTranslatesAsTheCommandLine() throws {
        let p = try pipeline()
        // `pip install` of the folder works (Debian's python3 with setuptools, offline: no build
        // isolation, no dependencies); the installed copy is the one imported below. pip builds in
        // a copy of the folder, so the source tree is left as it was.
        let dir = makeTemporaryDirectory("python-module")
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("source"), target = dir.appendingPathComponent("site")
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("python"), to: source)
        let install = try runProcess(URL(fileURLWithPath: "/usr/bin/python3"), ["-m", "pip", "install", "--quiet", "--no-build-isolation",
                                                                                 "--no-deps", "--no-index", "--target", target.path, source.path])
        try #require(install.status == 0, "\(install.stderrText)")
        let script = """
            import sys, seq2seq
            t = seq2seq.Translator(sys.argv[1], beam=5)
            lines = sys.stdin.read().split("\\n")[:-1]
            print("\\n".join(t.translate(lines)))
            best = t.translate(lines, n_best=True)
            assert all(isinstance(text, str) and score <= 0 for row in best for text, score, _ in row), best
            try:
                seq2seq.Translator(sys.argv[1] + "/missing")
                sys.exit("a missing model was accepted")
            except seq2seq.Seq2SeqError as error:
                assert "missing" in str(error), error
            t.close()
            """
        let python = try runProcess(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, p.model],
                                    stdin: Data(Self.input.utf8),
                                    environment: ["PYTHONPATH": target.path, "SEQ2SEQ_LIBRARY": Self.library.path])
        let reference = try runSeq2seq(["translate", "--model", p.model], stdin: Data(Self.input.utf8))
        #expect(python.status == 0, "\(python.stderrText)")
        #expect(python.stdoutText == reference.stdoutText)
    }
}
