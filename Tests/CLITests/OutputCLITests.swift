import Foundation
import Testing
import TestSupport

// Nothing crashes, nothing is lost: standard output written through one checked writer, one error
// reporter for every subcommand, translate's streaming and its stop on SIGINT/SIGTERM, options that
// would be ignored refused, sacreBLEU's options in `bleu`. All through the built binary.

/// How a run of the binary ended: exit status, whether it exited (rather than died of a signal,
/// which is what a Swift trap does), and what it wrote.
struct Ending {
    var status: Int32
    var exited: Bool
    var stdout: Data
    var stderr: Data
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs the built binary with `stdin` bytes; standard output and error go to files, or to the given
/// paths (e.g. /dev/full, where every write fails with ENOSPC), whose content is then not captured.
func runEnding(_ arguments: [String], stdin: Data = Data(), stdoutPath: String? = nil,
               stderrPath: String? = nil) throws -> Ending {
    let dir = makeTemporaryDirectory("output-run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let files = ["in", "out", "err"].map { dir.appendingPathComponent($0) }
    try stdin.write(to: files[0])
    for f in files.dropFirst() { try Data().write(to: f) }
    let process = Process()
    process.executableURL = seq2seqBinary()
    process.arguments = arguments
    process.standardInput = try FileHandle(forReadingFrom: files[0])
    process.standardOutput = try FileHandle(forWritingTo: stdoutPath.map { URL(fileURLWithPath: $0) } ?? files[1])
    process.standardError = try FileHandle(forWritingTo: stderrPath.map { URL(fileURLWithPath: $0) } ?? files[2])
    try process.run()
    process.waitUntilExit()
    return Ending(status: process.terminationStatus, exited: process.terminationReason == .exit,
                  stdout: stdoutPath == nil ? try Data(contentsOf: files[1]) : Data(),
                  stderr: stderrPath == nil ? try Data(contentsOf: files[2]) : Data())
}

/// A running `seq2seq` whose standard output is collected as it arrives, so a test can act while it runs.
final class LiveRun: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var collected = Data()
    private let done = DispatchSemaphore(value: 0)

    /// Starts the binary; standard input is a pipe (`input`) unless `stdinFile` is given.
    init(_ arguments: [String], stdinFile: URL? = nil) throws {
        process.executableURL = seq2seqBinary()
        process.arguments = arguments
        process.standardInput = try stdinFile.map { try FileHandle(forReadingFrom: $0) } ?? input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reading = output.fileHandleForReading
        DispatchQueue.global().async {
            while true {
                let chunk = reading.availableData
                if chunk.isEmpty { break }
                self.lock.lock(); self.collected.append(chunk); self.lock.unlock()
            }
            self.done.signal()
        }
    }

    var stdout: Data { lock.lock(); defer { lock.unlock() }; return collected }
    var lineCount: Int { stdout.filter { $0 == 0x0A }.count }

    /// Waits until at least `lines` lines have been written (true) or `seconds` have passed (false).
    func waitForLines(_ lines: Int, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if lineCount >= lines { return true }
            usleep(10_000)
        }
        return false
    }

    /// Waits for the process to end and its output to be read; returns the exit status, or -1 after
    /// killing a process still running after `seconds` (a hang fails the test instead of stalling it).
    func finish(seconds: Double = 60) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            done.wait()
            return -1
        }
        process.waitUntilExit()
        done.wait()
        return process.terminationStatus
    }
}

@Suite("checked output, one error reporter, streaming and signals")
struct OutputCLITests {
    static let reference = "Der Hund läuft schnell.\r\nEs regnet heute, nicht wahr?  \n„Ja“, sagte sie.\n"
    static let hypothesis = "Der Hund rennt schnell.\nEs regnet heute nicht?\t\n„Ja“ sagte sie.\u{00A0}\n"
    static let version = "version:seq2seq-0.1.0"

    static func bleuFiles() throws -> (URL, String, String) {
        let dir = makeTemporaryDirectory("output-bleu")
        let ref = dir.appendingPathComponent("ref.de"), hyp = dir.appendingPathComponent("hyp.de")
        try Data(reference.utf8).write(to: ref)
        try Data(hypothesis.utf8).write(to: hyp)
        return (dir, ref.path, hyp.path)
    }

    // MARK: standard output and standard error that cannot be written

    @Test func bleuToAFullDiskIsOneErrorLineNotATrap() throws {
        let (dir, ref, hyp) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        for arguments in [["bleu", ref, "-i", hyp], ["bleu", ref, "-i", hyp, "-m", "bleu", "chrf", "-f", "json"]] {
            let run = try runEnding(arguments, stdoutPath: "/dev/full")
            #expect(run.exited, "died of a signal: \(arguments)")
            #expect(run.status == 1)
            #expect(run.stderrText == "seq2seq: error: stdout: No space left on device\n", "\(run.stderrText)")
        }
    }

    /// A reader that has gone away (`| head -1`): a quiet exit with status 141 (128 + SIGPIPE), as
    /// `cat` ends there: no error line, and not a death by the signal itself.
    @Test func aReaderThatLeftIsAQuietExit() throws {
        let (dir, ref, hyp) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let errFile = dir.appendingPathComponent("err")
        try Data().write(to: errFile)
        let output = Pipe()
        let process = Process()
        process.executableURL = seq2seqBinary()
        process.arguments = ["bleu", ref, "-i", hyp]
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errFile)
        try output.fileHandleForReading.close()  // no reader left before the child writes
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 141)
        #expect(try String(contentsOf: errFile, encoding: .utf8) == "")
    }

    /// Started with standard output closed (`>&-`): a command that has output to write says so in
    /// one line and exits 1, instead of writing into /dev/null and exiting 0.
    @Test func aClosedStandardOutputIsAnError() throws {
        let (dir, ref, hyp) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = "exec \"$0\" bleu \"$1\" -i \"$2\" >&- 2>\"$3\""
        let errFile = dir.appendingPathComponent("err").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, seq2seqBinary().path, ref, hyp, errFile]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1)
        #expect(try String(contentsOfFile: errFile, encoding: .utf8)
                == "seq2seq: error: stdout: closed by the caller (Bad file descriptor)\n")
    }

    /// Under a file-size limit (`ulimit -f`) a write fails with EFBIG instead of SIGXFSZ killing the
    /// process: one error line, status 1, and no temporary file left beside the output.
    @Test(arguments: ["vocab", "shard", "bpe learn"])
    func aFileSizeLimitIsOneErrorLineAndLeavesNoTemporaryFile(_ command: String) throws {
        let dir = makeTemporaryDirectory("output-fsize")
        defer { try? FileManager.default.removeItem(at: dir) }
        // About 150 KB of distinct words: every command writes far more than the 4 KiB limit.
        let lines = (0..<6000).map { "w\($0) x\($0 * 7) y\($0 % 97) ." }
        let source = dir.appendingPathComponent("in.en"), target = dir.appendingPathComponent("in.fr")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: source)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: target)
        let out = dir.appendingPathComponent("out").path
        let arguments: [String]
        switch command {
        case "vocab": arguments = ["vocab", "--input", source.path, "--output", out]
        case "shard": arguments = ["shard", "--source", source.path, "--target", target.path, "--output", out]
        default: arguments = ["bpe", "learn", "--input", source.path, "--merges", "2000", "--output", out]
        }
        let errFile = dir.appendingPathComponent("err").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f 4; exec \"$0\" \"$@\" 2>\"\(errFile)\"", seq2seqBinary().path] + arguments
        try process.run()
        process.waitUntilExit()
        let stderr = try String(contentsOfFile: errFile, encoding: .utf8)
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(command): \(stderr)")
        #expect(stderr.hasPrefix("seq2seq: error: ") && stderr.filter { $0 == "\n" }.count == 1, "\(stderr)")
        #expect(stderr.contains("File too large"), "\(stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == ["err", "in.en", "in.fr"], "\(command) left \(left)")
    }

    /// A segment over 1 MiB (a file that is not one sentence per line) is one error line naming
    /// the file and line, instead of gigabytes of n-gram counts.
    @Test func bleuRefusesASegmentOverOneMebibyte() throws {
        let (dir, ref, _) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let huge = dir.appendingPathComponent("huge.txt")
        try Data(("a\n" + String(repeating: "w ", count: (1 << 19) + 1) + "\n").utf8).write(to: huge)
        for metric in ["bleu", "chrf"] {
            expectOneLineError(try runSeq2seq(["bleu", ref, "-i", huge.path, "-m", metric]),
                               mentions: ["\(huge.path):2: a segment of", "at most 1 MiB"])
        }
    }

    /// Found by the probe: a chrF order in the billions trapped on a 34 GB allocation, and
    /// nonsense smoothing values were scored; each is now one error line.
    @Test(arguments: [["-m", "chrf", "-cc=4294967296"], ["-m", "chrf", "-cw=101"], ["-s", "floor", "-sv=-1"],
                      ["-s", "add-k", "-sv=nan"], ["-s", "add-k", "-sv=inf"]])
    func bleuRefusesOrdersAndSmoothingValuesOutOfRange(_ options: [String]) throws {
        let (dir, ref, hyp) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        expectOneLineError(try runSeq2seq(["bleu", ref, "-i", hyp] + options), mentions: [])
    }

    /// An error line quotes the user's bytes, but a terminal must not act on them: control
    /// characters (ESC, NUL, …) are written as escapes, and the line stays one line.
    @Test func errorLinesEscapeControlCharacters() throws {
        let dir = makeTemporaryDirectory("output-escape")
        defer { try? FileManager.default.removeItem(at: dir) }
        let codes = dir.appendingPathComponent("codes.bpe")
        try Data("#version: 0.2\na\u{1B}[2Jb\u{0}c d e\n".utf8).write(to: codes)
        let run = try runSeq2seq(["bpe", "apply", "--codes", codes.path], stdin: Data("x\n".utf8))
        expectOneLineError(run, mentions: ["\\x1B[2J"])
        #expect(!run.stderrText.contains("\u{1B}") && !run.stderrText.contains("\u{0}"))
        // Reports of several lines (demo's examples) keep their line breaks.
        let dir2 = makeTemporaryDirectory("output-escape-demo")
        defer { try? FileManager.default.removeItem(at: dir2) }
        let demo = try runSeq2seq(["demo", "--root", dir2.path, "--train-size", "200", "--test-size", "20", "--epochs", "1",
                                   "--hidden", "16", "--embedding", "8", "--threads", "1"])
        #expect(demo.status == 0, "\(demo.stderrText)")
        #expect(demo.stderrText.contains("\n      → ") && !demo.stderrText.contains("\\x0A"), "\(demo.stderrText.prefix(600))")
    }

    /// `vocab --report` with a bad report file, and `plot`/`average` with standard output closed,
    /// fail before writing their outputs (the probe found the files written, then the error).
    @Test func aFailingVocabReportOrAClosedStdoutLeavesNoOutputFile() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("output-before-write")
        defer { try? FileManager.default.removeItem(at: dir) }
        let vocab = dir.appendingPathComponent("o.vocab").path
        expectOneLineError(try runSeq2seq(["vocab", "--input", p.trainSource, "--output", vocab,
                                           "--report", dir.appendingPathComponent("nope.txt").path]), mentions: ["nope.txt"])
        #expect(!FileManager.default.fileExists(atPath: vocab))
        let svg = dir.appendingPathComponent("o.svg").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$0\" plot --model \"$1\" --output \"$2\" >&- 2>/dev/null", seq2seqBinary().path, p.model, svg]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(!FileManager.default.fileExists(atPath: svg))
    }

    /// Hypotheses and references may be pipes (`-i <(command)`, /dev/stdin), not only regular files.
    @Test func bleuReadsFilesThatArePipes() throws {
        let (dir, ref, hyp) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fromFile = try runSeq2seq(["bleu", ref, "-i", hyp])
        let fromPipe = try runSeq2seq(["bleu", ref, "-i", "/dev/stdin"], stdin: Data(Self.hypothesis.utf8))
        #expect(fromPipe.status == 0, "\(fromPipe.stderrText)")
        #expect(fromPipe.stdout == fromFile.stdout)
    }

    @Test func textCommandsAndHelpToAFullDiskFail() throws {
        let runs = [
            try runEnding(["tokenize"], stdin: Data("Hello, world!\n".utf8), stdoutPath: "/dev/full"),
            try runEnding(["detokenize"], stdin: Data("Hello ￭, world ￭!\n".utf8), stdoutPath: "/dev/full"),
            try runEnding(["--help"], stdoutPath: "/dev/full"),
            try runEnding(["--version"], stdoutPath: "/dev/full"),
        ]
        for run in runs {
            #expect(run.exited && run.status == 1)
            #expect(run.stderrText == "seq2seq: error: stdout: No space left on device\n", "\(run.stderrText)")
        }
    }

    @Test func evaluateAndTranslateToAFullDiskFail() throws {
        let p = try pipeline()
        let evaluate = try runEnding(["evaluate", "--model", p.model, "--source", p.testSource,
                                      "--reference", p.testReference], stdoutPath: "/dev/full")
        #expect(evaluate.exited && evaluate.status == 1)
        #expect(evaluate.stderrText == "seq2seq: error: stdout: No space left on device\n", "\(evaluate.stderrText)")
        let translate = try runEnding(["translate", "--model", p.model], stdin: Data("one two\nthree\n".utf8),
                                      stdoutPath: "/dev/full")
        #expect(translate.exited && translate.status == 1)
        #expect(translate.stderrText == "seq2seq: error: stdout: No space left on device\n", "\(translate.stderrText)")
    }

    @Test func anUnwritableStandardErrorExitsNonZeroWithoutATrap() throws {
        let (dir, ref, _) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let failures = [
            try runEnding(["bleu", ref, "-i", "/nonexistent/hyp"], stderrPath: "/dev/full"),
            try runEnding(["tokenize", "--input", "/nonexistent/in"], stderrPath: "/dev/full"),
            try runEnding(["bleu", ref, "-i", "/nonexistent/hyp"], stdoutPath: "/dev/full", stderrPath: "/dev/full"),
            try runEnding(["bleu", "--no-such-option"], stderrPath: "/dev/full"),
        ]
        for run in failures {
            #expect(run.exited, "died of a signal")
            #expect(run.status != 0)
        }
    }

    /// Training's progress lines are informational: with standard error unwritable, training still
    /// runs to the end and writes its model.
    @Test func trainWithAnUnwritableStandardErrorStillWritesItsModel() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("output-train-stderr")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("model").path
        let run = try runEnding(p.trainArguments(output: model, maxSteps: 5), stderrPath: "/dev/full")
        #expect(run.exited && run.status == 0)
        #expect(FileManager.default.fileExists(atPath: model + "/last.safetensors"))
    }

    // MARK: one error reporter

    /// A failure while running (not while parsing the command line) of every subcommand is one line
    /// with the same prefix, and standard input is called `stdin` everywhere.
    @Test(arguments: [
        (["demo", "--root", "/dev/null/x"], "/dev/null/x"),
        (["tokenize", "--input", "/nonexistent/a"], "/nonexistent/a"),
        (["detokenize", "--input", "/nonexistent/a"], "/nonexistent/a"),
        (["vocab", "--input", "/nonexistent/a", "--output", "/nonexistent/v"], "/nonexistent/a"),
        (["shard", "--verify", "/nonexistent/shards"], "/nonexistent/shards"),
        (["train", "--shards", "/nonexistent/shards", "--output", "/nonexistent/m"], "/nonexistent/shards"),
        (["translate", "--model", "/nonexistent/m"], "/nonexistent/m"),
        (["evaluate", "--model", "/nonexistent/m", "--source", "/nonexistent/s", "--reference", "/nonexistent/r"],
         "/nonexistent/s"),
        (["bleu", "/nonexistent/ref"], "/nonexistent/ref"),
        (["plot", "--model", "/nonexistent/m"], "/nonexistent/m"),
        (["bench", "shards", "--shards", "/nonexistent/shards"], "/nonexistent/shards"),
        (["bench", "translate", "--source-vocab", "10", "--target-vocab", "10", "--embedding", "4", "--hidden", "4",
          "--batches", "x"], "--batches"),
        (["bench", "gemm", "--preset", "small", "--libraries", "nope"], "nope"),
        (["bench", "train", "--hidden", "0"], "hidden"),
    ])
    func everySubcommandReportsErrorsAsOneSeq2seqErrorLine(_ arguments: [String], _ mention: String) throws {
        let run = try runEnding(arguments, stdin: Data("a\n".utf8))
        #expect(run.exited && run.status != 0, "\(arguments)")
        #expect(run.stdout.isEmpty, "\(run.stdoutText)")
        #expect(run.stderrText.hasPrefix("seq2seq: error: ") && !run.stderrText.contains("<stdin>"),
                "\(arguments): \(run.stderrText)")
        #expect(run.stderrText.filter { $0 == "\n" }.count == 1, "not one line: \(run.stderrText)")
        #expect(run.stderrText.contains(mention), "\(run.stderrText) lacks \(mention)")
    }

    // MARK: translate: directories, refused options, streaming, signals

    @Test func translateNamesADirectoryGivenAsInput() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("output-dir-input")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try runSeq2seq(["translate", "--model", p.model, "--input", dir.path])
        expectOneLineError(run, mentions: [dir.path, "is a directory"])
    }

    /// Options a command would accept and then not act on are refused.
    @Test func optionsACommandWouldIgnoreAreRefused() throws {
        let p = try pipeline()
        let evaluate = try runSeq2seq(["evaluate", "--model", p.model, "--source", p.testSource,
                                       "--reference", p.testReference, "--n-best", "3"])
        expectOneLineError(evaluate, mentions: ["--n-best"])
        let flush = try runSeq2seq(["translate", "--model", p.model, "--flush", "--batch-size", "8"],
                                   stdin: Data("one\n".utf8))
        expectOneLineError(flush, mentions: ["--batch-size", "--flush"])
        let tooMany = try runSeq2seq(["translate", "--model", p.model, "--beam", "2", "--n-best", "3"],
                                     stdin: Data("one\n".utf8))
        expectOneLineError(tooMany, mentions: ["--n-best must be between 1 and --beam"])
        let (dir, ref, hyp) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (arguments, mention) in [(["-m", "chrf", "-tok", "intl"], "-tok applies only to BLEU"),
                                     (["-cw", "2"], "--chrf-word-order applies only to chrF"),
                                     (["-sv", "0.2"], "--smooth-value only applies to --smooth-method floor or add-k"),
                                     (["-m", "bleu", "chrf", "-sl"], "--sentence-level scores one metric at a time")] {
            expectOneLineError(try runSeq2seq(["bleu", ref, "-i", hyp] + arguments), mentions: [mention])
        }
    }

    /// Numbers too large for the arithmetic behind them (a 32-bit thread count, the length limit, the
    /// chunk size) are one-line errors, not traps.
    @Test(arguments: [
        (["--threads", "99999999999"], "--threads must be between 1 and 256"),
        (["--max-length-ratio", "1e300"], "--max-length-ratio must be between 0 and 1000"),
        (["--length-penalty", "inf"], "--length-penalty must be a finite number"),
        (["--max-length", "9223372036854775807"], "--max-length must be between 0 and 1000000"),
        (["--batch-size", "9223372036854775807"], "--batch-size must be at most 100000"),
        (["--beam", "99999999999"], "--beam must be at most 1000"),
    ])
    func hugeNumericOptionsAreOneLineErrorsNotTraps(_ options: [String], _ message: String) throws {
        try expectTranslateAndEvaluateRefuse(options, message)
    }

    /// Packing and benchmark options that a mode would not use are refused rather than ignored.
    @Test func shardAndBenchOptionsAModeWouldIgnoreAreRefused() throws {
        let p = try pipeline()
        expectOneLineError(try runSeq2seq(["shard", "--verify", p.shards, "--level", "9"]),
                           mentions: ["--level only applies when packing"])
        expectOneLineError(try runSeq2seq(["shard", "--export", p.shards, "--source", "/tmp/x", "--target", "/tmp/y",
                                           "--pairs-per-shard", "5"]),
                           mentions: ["--pairs-per-shard only applies when packing"])
        expectOneLineError(try runSeq2seq(["bench", "shards", "--shards", p.shards, "--keep"]),
                           mentions: ["--keep only applies when packing"])
        let tiny = ["--source-vocab", "10", "--target-vocab", "10", "--embedding", "4", "--hidden", "4"]
        expectOneLineError(try runSeq2seq(["bench", "translate", "--kinds", "greedy", "--beam", "3"] + tiny),
                           mentions: ["--beam only applies to --kinds beam"])
        expectOneLineError(try runSeq2seq(["bench", "translate", "--batches", "64", "--sentences", "3"] + tiny),
                           mentions: ["--sentences only applies to batch size 1"])
    }

    /// Piped input: a batch's lines come out as soon as they are translated, while the input is still
    /// open (here 2 sentences a batch, 16 batches a chunk: the first 32 of 40 lines).
    @Test func translateWritesFinishedBatchesBeforeTheInputEnds() throws {
        let p = try pipeline()
        let sources = DigitCorpus.pairs(40, seed: 11).source
        let run = try LiveRun(["translate", "--model", p.model, "--batch-size", "2"])
        run.input.fileHandleForWriting.write(Data(sources.map { $0 + "\n" }.joined().utf8))
        let early = run.waitForLines(32)
        let linesWhileOpen = run.lineCount
        try run.input.fileHandleForWriting.close()
        #expect(run.finish() == 0)
        #expect(early && linesWhileOpen == 32, "\(linesWhileOpen) lines before the input ended")
        let whole = try runSeq2seq(["translate", "--model", p.model, "--batch-size", "2"],
                                   stdin: Data(sources.map { $0 + "\n" }.joined().utf8))
        #expect(run.stdout == whole.stdout)
    }

    /// SIGTERM in the middle of a long piped run: exit status 143 and whole lines that are a prefix of
    /// the full output (every finished line, in input order).
    @Test func sigtermKeepsEveryFinishedLineWholeAndExits143() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("output-sigterm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("in.en")
        try Data(DigitCorpus.pairs(3000, seed: 12).source.map { $0 + "\n" }.joined().utf8).write(to: file)
        let arguments = ["translate", "--model", p.model, "--batch-size", "8", "--input", file.path]
        let full = try runSeq2seq(arguments)
        #expect(full.status == 0)

        let run = try LiveRun(arguments)
        #expect(run.waitForLines(1))
        kill(run.process.processIdentifier, SIGTERM)
        let status = run.finish()
        let partial = run.stdout
        #expect(status == 143 && run.process.terminationReason == .exit)
        #expect(partial.last == 0x0A, "output ends inside a line")
        #expect(partial.count < full.stdout.count, "the run finished before the signal")
        #expect(full.stdout.prefix(partial.count) == partial)
    }

    /// SIGINT while translate waits for more input (a terminal, or here a pipe left open) ends it at
    /// once with status 130; every line already answered stays written.
    @Test func sigintWhileWaitingForInputExits130() throws {
        let p = try pipeline()
        let run = try LiveRun(["translate", "--model", p.model, "--flush"])
        run.input.fileHandleForWriting.write(Data("one two\nthree\n".utf8))
        #expect(run.waitForLines(2))
        kill(run.process.processIdentifier, SIGINT)
        let status = run.finish()
        try? run.input.fileHandleForWriting.close()
        #expect(status == 130 && run.process.terminationReason == .exit)
        #expect(run.lineCount == 2)
    }

    // MARK: bleu with sacreBLEU's options (expected lines printed by sacrebleu 2.6.0 -f text/json)

    @Test("several metrics and sacreBLEU's short options print what sacreBLEU prints", arguments: [
        (["-m", "bleu", "chrf", "-lc", "-tok", "intl", "-w", "2"],
         "    BLEU|nrefs:1|case:lc|eff:no|tok:intl|smooth:exp|VERSION = 27.64 93.8/61.5/30.0/7.1 (BP = 0.829 ratio = 0.842 hyp_len = 16 ref_len = 19)\n"
         + "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|VERSION = 64.12\n"),
        (["-m", "chrf", "bleu"],
         "  BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|VERSION = 27.1 92.9/54.5/25.0/10.0 (BP = 0.807 ratio = 0.824 hyp_len = 14 ref_len = 17)\n"
         + "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|VERSION = 64.1\n"),
        (["-m", "bleu", "chrf", "-b"], "27.1\n64.1\n"),
        (["-m", "bleu", "chrf", "-b", "-f", "json"], "[\n27.1,\n64.1\n]\n"),
        (["-m", "chrf", "-cw", "2", "-cc", "4", "--chrf-beta", "3", "--chrf-lowercase", "--chrf-whitespace", "-w", "3"],
         "chrF3++|nrefs:1|case:lc|eff:yes|nc:4|nw:2|space:yes|VERSION = 69.910\n"),
        (["-s", "floor", "-sv", "0.2", "-b", "-w", "2", "-lc"], "21.53\n"),
    ])
    func sacreBLEUOptionsGiveSacreBLEUOutput(_ arguments: [String], _ expected: String) throws {
        let (dir, ref, hyp) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try runSeq2seq(["bleu", ref, "-i", hyp] + arguments)
        #expect(run.status == 0, "\(run.stderrText)")
        #expect(run.stdoutText == expected.replacingOccurrences(of: "VERSION", with: Self.version))
    }

    @Test func severalMetricsAsJSONAreOneArray() throws {
        let (dir, ref, hyp) = try Self.bleuFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try runSeq2seq(["bleu", ref, "-i", hyp, "--metrics", "chrf", "bleu", "--format", "json"])
        #expect(run.status == 0, "\(run.stderrText)")
        let array = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [[String: Any]])
        #expect(array.map { $0["name"] as? String } == ["BLEU", "chrF2"])
    }
}
