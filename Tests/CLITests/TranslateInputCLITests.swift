import Foundation
import Testing
import TestSupport

// translate and evaluate read their input through the one line reader (compressed files, CRLF,
// BOM), stdin still answers line by line, and text never reaches a reserved id.

@Suite("translate input through the binary")
struct TranslateInputCLITests {
    static let input = "one two three\n\nfour five\nsix seven eight nine\n"

    @Test(arguments: ["gz", "zst"])
    func translateAndEvaluateReadCompressedCRLFInputLikePlain(_ kind: String) throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("translate-input")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try runSeq2seq(["translate", "--model", p.model], stdin: Data(Self.input.utf8))
        #expect(plain.status == 0, "\(plain.stderrText)")

        let crlf = [0xEF, 0xBB, 0xBF] + Array(Self.input.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let file = dir.appendingPathComponent("in.en.\(kind)").path
        try Data(kind == "gz" ? gzipStored(crlf) : zstdRaw(crlf)).write(to: URL(fileURLWithPath: file))
        let fromFile = try runSeq2seq(["translate", "--model", p.model, "--input", file])
        #expect(fromFile.status == 0, "\(fromFile.stderrText)")
        #expect(fromFile.stdout == plain.stdout)
        let fromStdin = try runSeq2seq(["translate", "--model", p.model], stdin: Data(crlf))
        #expect(fromStdin.stdout == plain.stdout)

        // evaluate reads the same source and a compressed reference.
        let source = try String(contentsOfFile: p.testSource, encoding: .utf8)
        let reference = try String(contentsOfFile: p.testReference, encoding: .utf8)
        let packed = { (text: String) in kind == "gz" ? gzipStored(Array(text.utf8)) : zstdRaw(Array(text.utf8)) }
        let sourceFile = dir.appendingPathComponent("test.en.\(kind)").path
        let referenceFile = dir.appendingPathComponent("test.fr.\(kind)").path
        try Data(packed(source.replacingOccurrences(of: "\n", with: "\r\n"))).write(to: URL(fileURLWithPath: sourceFile))
        try Data(packed(reference)).write(to: URL(fileURLWithPath: referenceFile))
        let expected = try runSeq2seq(["evaluate", "--model", p.model, "--source", p.testSource, "--reference", p.testReference])
        let compressed = try runSeq2seq(["evaluate", "--model", p.model, "--source", sourceFile, "--reference", referenceFile])
        #expect(compressed.status == 0, "\(compressed.stderrText)")
        #expect(compressed.stdoutText.split(separator: "\n").prefix(2) == expected.stdoutText.split(separator: "\n").prefix(2))
    }

    @Test func invalidUTF8InACompressedInputNamesFileAndLine() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("translate-input")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.en.gz").path
        try Data(gzipStored(Array("one\r\ntwo\n".utf8) + [0x66, 0xFF, 0x0A])).write(to: URL(fileURLWithPath: file))
        let result = try runSeq2seq(["translate", "--model", p.model, "--input", file])
        #expect(result.status != 0)
        #expect(result.stderrText.hasPrefix("seq2seq: error: \(file):3: invalid UTF-8"), "\(result.stderrText)")
        let directory = try runSeq2seq(["translate", "--model", p.model, "--input", dir.path])
        expectOneLineError(directory, mentions: ["\(dir.path): is a directory"])
    }

    /// Invalid UTF-8 on line 3 of piped input: the translations of lines 1–2 are written before the
    /// one error line (they were lost in the batch before); `--on-invalid skip` writes an empty line
    /// in its place and warns, `--on-invalid replace` translates it with U+FFFD.
    @Test func invalidUTF8KeepsTheLinesBeforeItAndOnInvalidChoosesWhatHappens() throws {
        let p = try pipeline()
        let good = ["one two", "three", "four five"]
        let bad = Data((good[0] + "\n" + good[1] + "\n").utf8) + Data([0x66, 0xFF, 0x0A]) + Data((good[2] + "\n").utf8)
        let expected = try runSeq2seq(["translate", "--model", p.model], stdin: Data(good.map { $0 + "\n" }.joined().utf8))
        let lines = expected.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

        let stopped = try runSeq2seq(["translate", "--model", p.model], stdin: bad)
        #expect(stopped.status == 1)
        #expect(stopped.stdoutText == lines[0] + "\n" + lines[1] + "\n")
        #expect(stopped.stderrText.hasPrefix("seq2seq: error: stdin:3: invalid UTF-8"), "\(stopped.stderrText)")
        #expect(stopped.stderrText.filter { $0 == "\n" }.count == 1, "\(stopped.stderrText)")

        let skipped = try runSeq2seq(["translate", "--model", p.model, "--on-invalid", "skip"], stdin: bad)
        #expect(skipped.status == 0, "\(skipped.stderrText)")
        #expect(skipped.stdoutText == [lines[0], lines[1], "", lines[2]].joined(separator: "\n") + "\n")
        #expect(skipped.stderrText.hasPrefix("translate: warning: stdin:3: invalid UTF-8"), "\(skipped.stderrText)")

        let replaced = try runSeq2seq(["translate", "--model", p.model, "--on-invalid", "replace"], stdin: bad)
        let asText = try runSeq2seq(["translate", "--model", p.model],
                                    stdin: Data((good[0] + "\n" + good[1] + "\nf\u{FFFD}\n" + good[2] + "\n").utf8))
        #expect(replaced.status == 0, "\(replaced.stderrText)")
        #expect(replaced.stdout == asText.stdout)
        expectOneLineError(try runSeq2seq(["translate", "--model", p.model, "--on-invalid", "drop"], stdin: bad),
                           mentions: ["--on-invalid"])
    }

    /// Lines arriving slowly on an open pipe (no --flush) are answered once input stalls, not after
    /// a whole chunk has arrived; SIGTERM then translates and writes every line already read before
    /// exiting 143.
    @Test func slowPipedInputIsAnsweredAndASignalWritesEveryLineRead() throws {
        let p = try pipeline()
        let sources = DigitCorpus.pairs(12, seed: 21).source
        let whole = try runSeq2seq(["translate", "--model", p.model], stdin: Data(sources.map { $0 + "\n" }.joined().utf8))
        let run = try LiveRun(["translate", "--model", p.model])
        run.input.fileHandleForWriting.write(Data((sources[0] + "\n").utf8))
        #expect(run.waitForLines(1, seconds: 30), "a stalled pipe's line was not answered")
        run.input.fileHandleForWriting.write(Data(sources[1...].map { $0 + "\n" }.joined().utf8))
        usleep(100_000)  // read, but not yet stalled for 200 ms
        kill(run.process.processIdentifier, SIGTERM)
        let status = run.finish()
        try? run.input.fileHandleForWriting.close()
        #expect(status == 143 && run.process.terminationReason == .exit)
        #expect(run.stdout == whole.stdout, "\(run.lineCount) of \(sources.count) lines written")
    }

    /// With --flush, each line's translation arrives before the next line is written: the reader
    /// never waits for more input than the current line.
    @Test func flushAnswersEachLineBeforeTheNextArrives() throws {
        let p = try pipeline()
        let process = Process()
        process.executableURL = seq2seqBinary()
        process.arguments = ["translate", "--model", p.model, "--flush", "--beam", "2"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let received = ReceivedLines()
        let reading = Thread {
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                received.append(chunk)
            }
        }
        reading.start()
        for (k, line) in ["one two\n", "three\r\n", "four five six\n"].enumerated() {
            input.fileHandleForWriting.write(Data(line.utf8))
            #expect(received.waitForLines(k + 1, seconds: 60), "no answer to line \(k + 1) while stdin stayed open")
        }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    /// A pretokenized model: `</s>`, `<s>`, `<pad>` and `<unk>` written in the source are unknown
    /// words like any other unseen word, so they all translate exactly like "qqq".
    @Test func reservedSpellingsInTheSourceAreOrdinaryUnknownWords() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("translate-reserved")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sourceVocab = dir.appendingPathComponent("en.vocab").path
        let targetVocab = dir.appendingPathComponent("fr.vocab").path
        for (input, output) in [(p.trainSource, sourceVocab), (p.trainTarget, targetVocab)] {
            let built = try runSeq2seq(["vocab", "--pretokenized", "--input", input, "--output", output])
            #expect(built.status == 0, "\(built.stderrText)")
        }
        let model = dir.appendingPathComponent("model").path
        let trained = try runSeq2seq(PipelineFixture.trainArguments(
            shards: p.shards, sourceVocab: sourceVocab, targetVocab: targetVocab,
            validSource: p.validSource, validTarget: p.validTarget, output: model, maxSteps: 10))
        #expect(trained.status == 0, "\(trained.stderrText)")

        let lines = ["one </s> two", "one <s> two", "one <pad> two", "one <unk> two", "one qqq two"]
        let result = try runSeq2seq(["translate", "--model", model, "--beam", "3", "--n-best", "3"],
                                    stdin: Data(lines.map { $0 + "\n" }.joined().utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        // "LINE ||| TEXT ||| F0= LOGPROB ||| SCORE", lines from 0: everything after the number must agree.
        let answers = Dictionary(grouping: result.stdoutText.split(separator: "\n"), by: { $0.prefix { $0 != " " } })
            .mapValues { $0.map { $0.drop { $0 != " " } } }
        #expect(answers.count == lines.count)
        for k in 0..<lines.count { #expect(answers["\(k)"] == answers["4"], "line \(k): \(lines[k])") }
    }
}

/// Lines read from a child's stdout by one thread while the test thread waits for them.
private final class ReceivedLines: @unchecked Sendable {
    private let condition = NSCondition()
    private var newlines = 0

    func append(_ data: Data) {
        condition.lock()
        newlines += data.filter { $0 == 0x0A }.count
        condition.broadcast()
        condition.unlock()
    }

    /// Whether at least `count` lines arrived within `seconds`.
    func waitForLines(_ count: Int, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while newlines < count {
            if !condition.wait(until: deadline) { return newlines >= count }
        }
        return true
    }
}
