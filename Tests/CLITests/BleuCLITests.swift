import Foundation
import Testing
import TestSupport

/// `seq2seq bleu` as a whole process; expected lines were printed by `sacrebleu … -f text` 2.6.0
/// on the same files, with only the signature's version changed.
/// Runs the built binary. TestSupport's `seq2seqBinary()` misses it on Linux (Bundle.main's path is
/// the build folder itself and the search starts at its parent), so look there first; stdin, stdout
/// and stderr go through files, which needs no concurrent pipe draining.
func runBleuBinary(_ arguments: [String], stdin: Data = Data()) throws -> BleuRun {
    let folder = URL(fileURLWithPath: Bundle.main.bundlePath)
    let local = folder.appendingPathComponent("seq2seq")
    let binary = FileManager.default.isExecutableFile(atPath: local.path) ? local : seq2seqBinary()
    let dir = makeTemporaryDirectory("bleu-run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let files = ["in", "out", "err"].map { dir.appendingPathComponent($0) }
    try stdin.write(to: files[0])
    for f in files.dropFirst() { try Data().write(to: f) }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.standardInput = try FileHandle(forReadingFrom: files[0])
    process.standardOutput = try FileHandle(forWritingTo: files[1])
    process.standardError = try FileHandle(forWritingTo: files[2])
    try process.run()
    process.waitUntilExit()
    return BleuRun(status: process.terminationStatus, stdout: try Data(contentsOf: files[1]),
                   stderr: try Data(contentsOf: files[2]))
}

struct BleuRun {
    var status: Int32
    var stdout: Data
    var stderr: Data
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

@Suite("seq2seq bleu")
struct BleuCLITests {
    // CRLF, trailing spaces, a trailing tab and a trailing no-break space: all stripped like sacreBLEU.
    static let reference = "Der Hund läuft schnell.\r\nEs regnet heute, nicht wahr?  \n„Ja“, sagte sie.\n"
    static let hypothesis = "Der Hund rennt schnell.\nEs regnet heute nicht?\t\n„Ja“ sagte sie.\u{00A0}\n"
    static let version = "version:seq2seq-0.1.0"

    static func files() throws -> (URL, String, String) {
        let dir = makeTemporaryDirectory("bleu-cli")
        let ref = dir.appendingPathComponent("ref.de"), hyp = dir.appendingPathComponent("hyp.de")
        try Data(reference.utf8).write(to: ref)
        try Data(hypothesis.utf8).write(to: hyp)
        return (dir, ref.path, hyp.path)
    }

    @Test("stdout equals sacreBLEU's text output", arguments: [
        (["--tokenize", "13a"], false,
         "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|VERSION = 27.1 92.9/54.5/25.0/10.0 (BP = 0.807 ratio = 0.824 hyp_len = 14 ref_len = 17)\n"),
        (["--metric", "chrf", "--chrf-word-order", "2"], true,
         "chrF2++|nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|VERSION = 63.6\n"),
        (["--sentence", "--tokenize", "intl"], false,
         "BLEU|nrefs:1|case:mixed|eff:yes|tok:intl|smooth:exp|VERSION = 30.2 80.0/50.0/16.7/12.5 (BP = 1.000 ratio = 1.000 hyp_len = 5 ref_len = 5)\n"
         + "BLEU|nrefs:1|case:mixed|eff:yes|tok:intl|smooth:exp|VERSION = 30.3 100.0/50.0/33.3/25.0 (BP = 0.670 ratio = 0.714 hyp_len = 5 ref_len = 7)\n"
         + "BLEU|nrefs:1|case:mixed|eff:yes|tok:intl|smooth:exp|VERSION = 43.0 100.0/80.0/50.0/16.7 (BP = 0.846 ratio = 0.857 hyp_len = 6 ref_len = 7)\n"),
        (["--score-only", "--width", "2", "--lowercase", "--smooth", "floor", "--smooth-value", "0.2"], false,
         "21.53\n"),
    ])
    func matchesSacreBLEU(arguments: [String], viaStdin: Bool, expected: String) throws {
        let (dir, ref, hyp) = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = viaStdin
            ? try runBleuBinary(["bleu", ref] + arguments, stdin: Data(Self.hypothesis.utf8))
            : try runBleuBinary(["bleu", ref, "-i", hyp] + arguments)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText == expected.replacingOccurrences(of: "VERSION", with: Self.version))
    }

    @Test func jsonHasFullPrecisionAndStatistics() throws {
        let (dir, ref, hyp) = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try runBleuBinary(["bleu", ref, "-i", hyp, "--format", "json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(object["name"] as? String == "BLEU")
        let score = try #require(object["score"] as? Double)
        #expect(abs(score - 27.1) < 0.05 && score != 27.1)
        #expect((object["precisions"] as? [Double])?.count == 4)
        #expect(object["hyp_len"] as? Int == 14 && object["ref_len"] as? Int == 17)
        #expect(object["bp"] is Double && object["ratio"] is Double)
        #expect((object["signature"] as? String)?.hasSuffix(Self.version) == true)
    }

    @Test func lineCountMismatchNamesBothFiles() throws {
        let (dir, ref, _) = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let short = dir.appendingPathComponent("short.de")
        try Data("one line\n".utf8).write(to: short)
        let result = try runBleuBinary(["bleu", ref, "-i", short.path])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderrText.contains("\(short.path) have 1 lines but reference \(ref) has 3"))
    }

    @Test func invalidUTF8NamesFileAndLine() throws {
        let (dir, ref, _) = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.de")
        try Data([0x61, 0x0A, 0x62, 0xFF, 0x0A, 0x63, 0x0A]).write(to: bad)
        let result = try runBleuBinary(["bleu", ref, "-i", bad.path])
        #expect(result.status != 0)
        #expect(result.stderrText.contains("\(bad.path):2: invalid UTF-8"))
    }

    @Test func emptyHypothesesAreAnError() throws {
        let (dir, ref, _) = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try runBleuBinary(["bleu", ref], stdin: Data())
        #expect(result.status != 0)
        #expect(result.stderrText == "seq2seq: error: stdin: no lines to score\n")
    }

    /// Standard input is read in Python's universal-newline mode, so a lone CR ends a line there.
    @Test func standardInputSplitsOnCarriageReturn() throws {
        let dir = makeTemporaryDirectory("bleu-cr")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ref = dir.appendingPathComponent("ref")
        try Data("a b\nc d\n".utf8).write(to: ref)
        let result = try runBleuBinary(["bleu", ref.path, "--score-only"], stdin: Data("a b\rc x\r\n".utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText == "0.0\n")
    }

    @Test func missingReferenceIsNamed() throws {
        let result = try runBleuBinary(["bleu", "/nonexistent/ref.de"], stdin: Data("a\n".utf8))
        #expect(result.status != 0)
        #expect(result.stderrText.contains("/nonexistent/ref.de: cannot open: No such file or directory"))
    }
}
