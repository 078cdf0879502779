import Foundation
import Testing
import TestSupport

// The whole pipeline through the built binary: vocab → shard → train → translate / evaluate /
// bleu, resume, determinism, and what each command does with bad input. One tiny model is trained
// once (``PipelineFixture``); tests that change a model folder work on a copy of it.

/// A deterministic toy corpus: English digit words → French digit words, 2–5 words a line.
enum DigitCorpus {
    static let english = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    static let french = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]

    static func pairs(_ count: Int, seed: UInt64) -> (source: [String], target: [String]) {
        var rng = TestRNG(seed: seed)
        var source: [String] = [], target: [String] = []
        for _ in 0..<count {
            let digits = (0..<Int.random(in: 2...5, using: &rng)).map { _ in Int.random(in: 0..<10, using: &rng) }
            source.append(digits.map { english[$0] }.joined(separator: " "))
            target.append(digits.map { french[$0] }.joined(separator: " ") + ".")
        }
        return (source, target)
    }
}

/// Files of one pipeline run: corpus, vocabularies, shards and one model trained for 30 steps.
final class PipelineFixture: @unchecked Sendable {
    let root: URL
    let trainSource, trainTarget, validSource, validTarget, testSource, testReference: String
    let sourceVocab, targetVocab, shards, model: String
    let vocabRuns: [ProcessResult]
    let shardRun: ProcessResult
    let trainRun: ProcessResult

    /// Built once for the whole suite; the folder is removed when the test process exits.
    static let shared = Result { try PipelineFixture(root: rootURL) }
    static let rootURL: URL = {
        let url = makeTemporaryDirectory("pipeline-cli")
        atexit { try? FileManager.default.removeItem(at: PipelineFixture.rootURL) }
        return url
    }()

    private init(root: URL) throws {
        self.root = root
        func write(_ name: String, _ lines: [String]) throws -> String {
            let path = root.appendingPathComponent(name).path
            try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let train = DigitCorpus.pairs(40, seed: 1), valid = DigitCorpus.pairs(8, seed: 2)
        let test = DigitCorpus.pairs(6, seed: 3)
        trainSource = try write("train.en", train.source)
        trainTarget = try write("train.fr", train.target)
        validSource = try write("valid.en", valid.source)
        validTarget = try write("valid.fr", valid.target)
        testSource = try write("test.en", test.source)
        testReference = try write("test.fr", test.target)
        sourceVocab = root.appendingPathComponent("vocab/en.vocab").path
        targetVocab = root.appendingPathComponent("vocab/fr.vocab").path
        vocabRuns = [
            try runSeq2seq(["vocab", "--input", trainSource, "--output", sourceVocab, "--lang", "en"]),
            try runSeq2seq(["vocab", "--input", trainTarget, "--output", targetVocab, "--lang", "fr"]),
        ]
        shards = root.appendingPathComponent("corpora/digits").path
        shardRun = try runSeq2seq(["shard", "--source", trainSource, "--target", trainTarget, "--output", shards,
                                   "--pairs-per-shard", "16"])
        model = root.appendingPathComponent("models/digits").path
        trainRun = try runSeq2seq(Self.trainArguments(
            shards: shards, sourceVocab: sourceVocab, targetVocab: targetVocab,
            validSource: validSource, validTarget: validTarget, output: model, maxSteps: 30))
    }

    /// A tiny, fast training run: 1×16 LSTM, E=8, 8 sentences a batch, Adam, one thread. The high
    /// learning rate makes 30 steps enough for non-empty, varied translations.
    static func trainArguments(shards: String, sourceVocab: String, targetVocab: String,
                               validSource: String, validTarget: String, output: String,
                               maxSteps: Int) -> [String] {
        ["train", "--shards", shards, "--source-vocab", sourceVocab, "--target-vocab", targetVocab,
         "--valid-source", validSource, "--valid-target", validTarget, "--output", output,
         "--layers", "1", "--hidden", "16", "--embedding", "8", "--batch-size", "8",
         "--max-steps", String(maxSteps), "--optimizer", "adam", "--lr", "0.05", "--threads", "1",
         "--log-every", "10", "--seed", "7"]
    }

    func trainArguments(output: String, maxSteps: Int = 30) -> [String] {
        Self.trainArguments(shards: shards, sourceVocab: sourceVocab, targetVocab: targetVocab,
                            validSource: validSource, validTarget: validTarget, output: output, maxSteps: maxSteps)
    }

    /// A copy of the trained model folder in a fresh temporary directory (removed by the caller).
    func copyOfModel() throws -> (dir: URL, model: String) {
        let dir = makeTemporaryDirectory("pipeline-cli-copy")
        let copy = dir.appendingPathComponent("model").path
        try FileManager.default.copyItem(atPath: model, toPath: copy)
        return (dir, copy)
    }
}

/// The fixture, or a test failure saying why it could not be built.
func pipeline() throws -> PipelineFixture {
    try PipelineFixture.shared.get()
}

/// Every file of a folder and its bytes, to show that a failed command changed nothing.
func snapshot(_ folder: String) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
        files[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
    }
    return files
}

/// A safetensors file split into its header (as JSON) and its tensor bytes. The training state in
/// the metadata holds no wall-clock time (that lives in log.jsonl only).
func safetensorsContent(_ path: String) throws -> (header: NSDictionary, data: Data) {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let n = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    let header = try #require(try JSONSerialization.jsonObject(with: bytes[8..<8 + n]) as? [String: Any])
    if let metadata = header["__metadata__"] as? [String: String], let stateText = metadata["state"] {
        let state = try #require(try JSONSerialization.jsonObject(with: Data(stateText.utf8)) as? [String: Any])
        #expect(state["trainingSeconds"] == nil)
    }
    return (header as NSDictionary, bytes.subdata(in: 8 + n..<bytes.count))
}

/// `translate` and `evaluate` on the fixture's model both refuse `options` in one line with `message`.
func expectTranslateAndEvaluateRefuse(_ options: [String], _ message: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) throws {
    let p = try pipeline()
    let translate = try runSeq2seq(["translate", "--model", p.model] + options, stdin: Data("one\n".utf8))
    expectOneLineError(translate, mentions: [message], sourceLocation: sourceLocation)
    let evaluate = try runSeq2seq(["evaluate", "--model", p.model, "--source", p.testSource,
                                   "--reference", p.testReference] + options)
    expectOneLineError(evaluate, mentions: [message], sourceLocation: sourceLocation)
}

/// Checks the shape of a failure: non-zero exit, nothing on stdout, and exactly one line on stderr
/// in the `seq2seq: error: …` form containing every one of `mentions`.
func expectOneLineError(_ result: ProcessResult, mentions: [String],
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status != 0, "exit status", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "stdout: \(result.stdoutText)", sourceLocation: sourceLocation)
    let text = result.stderrText
    #expect(text.hasPrefix("seq2seq: error: "), "\(text)", sourceLocation: sourceLocation)
    #expect(text.hasSuffix("\n") && text.filter { $0 == "\n" }.count == 1, "not one line: \(text)",
            sourceLocation: sourceLocation)
    for mention in mentions {
        #expect(text.contains(mention), "\(text) lacks \(mention)", sourceLocation: sourceLocation)
    }
}

@Suite("pipeline through the binary")
struct PipelineCLITests {

    // MARK: vocab, shard, train

    @Test func trainWritesACompleteModelFolder() throws {
        let p = try pipeline()
        for run in p.vocabRuns { #expect(run.status == 0, "\(run.stderrText)") }
        #expect(p.shardRun.status == 0, "\(p.shardRun.stderrText)")
        #expect(p.shardRun.stderrText.contains("40 of 40 pairs in 3 shards"), "\(p.shardRun.stderrText)")
        let run = p.trainRun
        #expect(run.status == 0, "\(run.stderrText)")
        #expect(run.stdout.isEmpty)

        let files = try FileManager.default.contentsOfDirectory(atPath: p.model).sorted()
        #expect(files == ["best.safetensors", "config.json", "last.safetensors", "log.jsonl",
                          "source.vocab", "target.vocab"])
        let config = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: p.model + "/config.json"))) as? [String: Any])
        #expect(config["format"] as? String == "seq2seq-model")
        #expect(config["formatVersion"] as? Int == 1)
        #expect(((config["model"] as? [String: Any])?["encoder"] as? [String: Any])?["hidden"] as? Int == 16)
        // The vocabularies travel with the model, byte for byte.
        #expect(try Data(contentsOf: URL(fileURLWithPath: p.model + "/source.vocab"))
                == Data(contentsOf: URL(fileURLWithPath: p.sourceVocab)))
        #expect(try Data(contentsOf: URL(fileURLWithPath: p.model + "/target.vocab"))
                == Data(contentsOf: URL(fileURLWithPath: p.targetVocab)))

        // log.jsonl: every line a JSON object; train lines every 10 steps, validation lines too.
        let log = try String(contentsOfFile: p.model + "/log.jsonl", encoding: .utf8)
        let entries = try log.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
        let trainSteps = entries.filter { $0["event"] as? String == "train" }.compactMap { $0["step"] as? Int }
        #expect(trainSteps == [10, 20, 30])
        #expect(entries.contains { $0["event"] as? String == "valid" && $0["valid_ppl"] is Double })

        // stderr is not a terminal: plain lines, no bar redraws or escape codes.
        let stderr = run.stderrText
        #expect(!stderr.contains("\r") && !stderr.contains("\u{1B}"))
        for step in [10, 20, 30] {
            #expect(stderr.split(separator: "\n").contains { $0.hasPrefix("epoch ") && $0.contains(" step \(step)/30 loss ") },
                    "no log line for step \(step): \(stderr)")
        }
        #expect(stderr.contains("step 0: validation perplexity"))
        #expect(stderr.contains("done: 30 steps"))
    }

    @Test func trainRefusesAnExistingModelAndLeavesItAlone() throws {
        let p = try pipeline()
        let before = try snapshot(p.model)
        let result = try runSeq2seq(p.trainArguments(output: p.model))
        expectOneLineError(result, mentions: [p.model, "already holds a model", "--resume", "--overwrite"])
        #expect(try snapshot(p.model) == before)
    }

    @Test func resumeContinuesFromTheLastCheckpoint() throws {
        let p = try pipeline()
        let (dir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try runSeq2seq(["train", "--shards", p.shards, "--output", copy, "--resume",
                                     "--max-steps", "40", "--valid-source", p.validSource,
                                     "--valid-target", p.validTarget, "--threads", "1"])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stderrText.contains("resuming \(copy) at epoch"), "\(result.stderrText)")
        #expect(result.stderrText.contains("step 30\n"), "\(result.stderrText)")
        #expect(result.stderrText.contains("done: 40 steps"), "\(result.stderrText)")
        let log = try String(contentsOfFile: copy + "/log.jsonl", encoding: .utf8)
        #expect(log.contains("\"event\":\"train\"") && log.contains("\"step\":40"))
        let state = try #require(safetensorsContent(copy + "/last.safetensors").header["__metadata__"] as? [String: String])
        #expect(state["step"] == "40")
    }

    /// Same seed, same data: the same checkpoint files, byte for byte (no wall-clock time in them);
    /// and a run resumed at step 30 ends at step 40 exactly where an uninterrupted 40-step run does.
    @Test func trainingIsDeterministicAndResumeIsExact() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("pipeline-cli-determinism")
        defer { try? FileManager.default.removeItem(at: dir) }
        let again = dir.appendingPathComponent("again").path
        let rerun = try runSeq2seq(p.trainArguments(output: again))
        #expect(rerun.status == 0, "\(rerun.stderrText)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: again + "/best.safetensors"))
                == Data(contentsOf: URL(fileURLWithPath: p.model + "/best.safetensors")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: again + "/last.safetensors"))
                == Data(contentsOf: URL(fileURLWithPath: p.model + "/last.safetensors")))
        let first = try safetensorsContent(p.model + "/last.safetensors")
        let second = try safetensorsContent(again + "/last.safetensors")
        #expect(!first.data.isEmpty && first.data == second.data)
        #expect(first.header == second.header)

        let straight = dir.appendingPathComponent("straight").path
        let resumed = dir.appendingPathComponent("resumed").path
        try FileManager.default.copyItem(atPath: p.model, toPath: resumed)
        let a = try runSeq2seq(p.trainArguments(output: straight, maxSteps: 40))
        let b = try runSeq2seq(["train", "--shards", p.shards, "--output", resumed, "--resume", "--max-steps", "40",
                                "--valid-source", p.validSource, "--valid-target", p.validTarget, "--threads", "1"])
        #expect(a.status == 0 && b.status == 0, "\(a.stderrText)\n\(b.stderrText)")
        // Tensor bytes: weights and Adam moments.
        #expect(try safetensorsContent(straight + "/last.safetensors").data
                == safetensorsContent(resumed + "/last.safetensors").data)
    }

    /// A run resumed after its last epoch's validation (`--epochs 2`: 10 steps) and taken to 15
    /// ends as the run that went to 15 at once, checkpoint and best weights byte for byte: the
    /// validation that closes a run that never validated is decided by the recorded state, not by
    /// what this process saw (the resumed process used to validate again at 15, and keep it best).
    @Test func aRunResumedAfterItsLastValidationEndsAsTheUninterruptedOne() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("pipeline-cli-resume-closing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let resumed = dir.appendingPathComponent("resumed").path, straight = dir.appendingPathComponent("straight").path
        let first = try runSeq2seq(p.trainArguments(output: resumed, maxSteps: 30) + ["--epochs", "2"])
        #expect(first.status == 0, "\(first.stderrText)")
        let second = try runSeq2seq(p.trainArguments(output: resumed, maxSteps: 15) + ["--epochs", "10", "--resume"])
        #expect(second.status == 0, "\(second.stderrText)")
        let once = try runSeq2seq(p.trainArguments(output: straight, maxSteps: 15))
        #expect(once.status == 0, "\(once.stderrText)")
        for file in ["last.safetensors", "best.safetensors"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(resumed)/\(file)")) == Data(contentsOf: URL(fileURLWithPath: "\(straight)/\(file)")), "\(file)")
        }
    }

    /// Ctrl-C (SIGINT) or SIGTERM saves a checkpoint at the current step and exits 128 + the signal
    /// (130, 143: the probe's finding 14 saw 130 for SIGTERM); --resume goes on from it. While the
    /// run goes on, no second train may write the same folder.
    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func interruptSavesACheckpointThatResumeContinues(stopSignal: Int32, expectedStatus: Int32) throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("pipeline-cli-interrupt")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        let errorFile = dir.appendingPathComponent("stderr")
        try Data().write(to: errorFile)
        let process = Process()
        process.executableURL = seq2seqBinary()
        process.arguments = p.trainArguments(output: output, maxSteps: 10_000_000) + ["--epochs", "1000000"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        // The handler is installed before the "model:" line; wait for a few epochs past it.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = String(decoding: try Data(contentsOf: errorFile), as: UTF8.self)
            if text.contains("epoch 3: validation") || !process.isRunning { break }
            usleep(10_000)
        }
        // While it runs, a second train on the same folder (resumed or new) is refused, and
        // changes nothing.
        if process.isRunning {
            let second = try runSeq2seq(["train", "--shards", p.shards, "--output", output, "--resume", "--threads", "1"])
            expectOneLineError(second, mentions: [output, "another seq2seq train"])
            let fresh = try runSeq2seq(p.trainArguments(output: output) + ["--overwrite"])
            expectOneLineError(fresh, mentions: [output, "another seq2seq train"])
        }
        kill(process.processIdentifier, stopSignal)
        // Never hang the suite: a run that ignores the signal is killed and the test fails.
        let stopDeadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < stopDeadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("train did not stop within 30 s of signal \(stopSignal)")
        }
        process.waitUntilExit()
        let stderr = String(decoding: try Data(contentsOf: errorFile), as: UTF8.self)
        #expect(process.terminationStatus == expectedStatus, "\(stderr)")
        let line = try #require(stderr.split(separator: "\n").first { $0.hasPrefix("interrupted at step ") }, "\(stderr)")
        let step = try #require(Int(line.dropFirst("interrupted at step ".count).prefix { $0.isNumber }))
        #expect(line.hasSuffix("checkpoint saved, continue with --resume"))
        let metadata = try #require(safetensorsContent(output + "/last.safetensors").header["__metadata__"] as? [String: String])
        #expect(metadata["step"] == String(step))

        let resume = try runSeq2seq(["train", "--shards", p.shards, "--output", output, "--resume",
                                     "--max-steps", String(step + 3), "--threads", "1"])
        #expect(resume.status == 0, "\(resume.stderrText)")
        #expect(resume.stderrText.contains("step \(step)\n"), "\(resume.stderrText)")
        #expect(resume.stderrText.contains("done: \(step + 3) steps"), "\(resume.stderrText)")
    }

    // MARK: translate

    static let input = "one two three\n\nfour five\nsix seven eight nine\n"

    @Test func translateAnswersEveryLineInOrder() throws {
        let p = try pipeline()
        let result = try runSeq2seq(["translate", "--model", p.model], stdin: Data(Self.input.utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stderr.isEmpty, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 5 && lines.last == "", "\(result.stdoutText)")
        #expect(lines[1] == "")
        // This model's best translation of every non-empty line is non-empty.
        #expect(!lines[0].isEmpty && !lines[2].isEmpty && !lines[3].isEmpty, "\(result.stdoutText)")

        // --input FILE gives exactly what stdin gives.
        let dir = makeTemporaryDirectory("pipeline-cli-translate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("in.en")
        try Data(Self.input.utf8).write(to: file)
        let fromFile = try runSeq2seq(["translate", "--model", p.model, "--input", file.path])
        #expect(fromFile.status == 0)
        #expect(fromFile.stdout == result.stdout)

        // Lines of different lengths are decoded in one length-sorted batch either way, so the
        // reversed input must give exactly the reversed output.
        let reversedInput = Self.input.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .reversed().map { $0 + "\n" }.joined()
        let reversed = try runSeq2seq(["translate", "--model", p.model], stdin: Data(reversedInput.utf8))
        #expect(reversed.status == 0)
        #expect(reversed.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().reversed()
                == lines.dropLast())
    }

    @Test func greedyAndLastCheckpointWork() throws {
        let p = try pipeline()
        for arguments in [["--beam", "1"], ["--checkpoint", "last"], ["--flush", "--beam", "2"]] {
            let result = try runSeq2seq(["translate", "--model", p.model] + arguments, stdin: Data(Self.input.utf8))
            #expect(result.status == 0, "\(arguments): \(result.stderrText)")
            let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 5 && lines[1] == "" && lines[4] == "", "\(arguments): \(result.stdoutText)")
        }
    }

    /// Empty input, a last line without newline, CRLF line ends and a line far longer than anything
    /// seen in training: one output line per input line, each ending in "\n".
    @Test func edgeInputs() throws {
        let p = try pipeline()
        let empty = try runSeq2seq(["translate", "--model", p.model], stdin: Data())
        #expect(empty.status == 0 && empty.stdout.isEmpty && empty.stderr.isEmpty)

        let plain = try runSeq2seq(["translate", "--model", p.model], stdin: Data("one two\nthree four\n".utf8))
        let crlf = try runSeq2seq(["translate", "--model", p.model], stdin: Data("one two\r\nthree four".utf8))
        #expect(plain.status == 0 && crlf.status == 0)
        #expect(crlf.stdoutText == plain.stdoutText && plain.stdoutText.filter { $0 == "\n" }.count == 2)

        let long = Array(repeating: "one two three four five six seven eight nine zero", count: 100).joined(separator: " ")
        let result = try runSeq2seq(["translate", "--model", p.model, "--beam", "2"], stdin: Data((long + "\nsix\n").utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText.filter { $0 == "\n" }.count == 2)
    }

    @Test func modelWithoutCheckpointIsNamed() throws {
        let p = try pipeline()
        let (dir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in ["last.safetensors", "best.safetensors"] { try FileManager.default.removeItem(atPath: copy + "/" + file) }
        let result = try runSeq2seq(["translate", "--model", copy], stdin: Data("one\n".utf8))
        expectOneLineError(result, mentions: [copy, "no checkpoint yet"])
    }

    /// `--n-best K`: Moses/Marian n-best lines `N ||| TEXT ||| F0= LOGPROB ||| SCORE` with N from 0, K
    /// lines per input line, best first; the first of each is the 1-best translation with the same beam.
    @Test func nBestWritesMosesMarianLinesNumberedFromZero() throws {
        let p = try pipeline()
        let nBest = try runSeq2seq(["translate", "--model", p.model, "--beam", "3", "--n-best", "2"],
                                   stdin: Data(Self.input.utf8))
        #expect(nBest.status == 0, "\(nBest.stderrText)")
        let oneBest = try runSeq2seq(["translate", "--model", p.model, "--beam", "3"], stdin: Data(Self.input.utf8))
        let best = oneBest.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

        var entries: [Int: [(text: String, score: Double, logProb: Double)]] = [:]
        for line in nBest.stdoutText.split(separator: "\n") {
            let fields = line.components(separatedBy: " ||| ")
            try #require(fields.count == 4, "\(line)")
            let number = try #require(Int(fields[0]), "\(line)")
            try #require(fields[2].hasPrefix("F0= "), "\(line)")
            let logProb = try #require(Double(fields[2].dropFirst(4))), score = try #require(Double(fields[3]))
            #expect(fields[2].split(separator: ".").last?.count == 4 && fields[3].split(separator: ".").last?.count == 4)
            entries[number, default: []].append((fields[1], score, logProb))
        }
        #expect(entries.keys.sorted() == [0, 1, 2, 3])
        for number in [0, 2, 3] {
            let list = try #require(entries[number])
            #expect(list.count == 2, "line \(number): \(list)")
            #expect(list[0].text == best[number])
            #expect(list[0].score >= list[1].score)
            #expect(list.allSatisfy { $0.logProb < 0 && !$0.text.isEmpty })
        }
        // The empty line: one empty translation with scores 0.
        #expect(entries[1]?.count == 1 && entries[1]?[0].text == "" && entries[1]?[0].logProb == 0)
    }

    // MARK: evaluate

    /// evaluate prints BLEU and chrF exactly as `seq2seq bleu` does on the same translations,
    /// which are exactly what `translate` writes, then a speed line.
    /// An empty test set is an error naming it, as `bleu` refuses an empty system, not a BLEU of 0.
    @Test func evaluateOnAnEmptyTestSetIsAnError() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("pipeline-cli-evaluate-empty")
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.en").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let result = try runSeq2seq(["evaluate", "--model", p.model, "--source", empty, "--reference", empty])
        expectOneLineError(result, mentions: [empty, "no lines"])
    }

    @Test func evaluateMatchesTranslateAndBleu() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("pipeline-cli-evaluate")
        defer { try? FileManager.default.removeItem(at: dir) }
        let hypotheses = dir.appendingPathComponent("hyp.fr").path
        let result = try runSeq2seq(["evaluate", "--model", p.model, "--source", p.testSource,
                                     "--reference", p.testReference, "--output", hypotheses])
        #expect(result.status == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "\(result.stdoutText)")
        #expect(lines[0].hasPrefix("BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:seq2seq-"))
        #expect(lines[1].hasPrefix("chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:seq2seq-"))
        #expect(lines[2].hasPrefix("6 sentences in ") && lines[2].contains(" sentences/s (beam 5, batch 64)"),
                "\(lines[2])")

        let translated = try runSeq2seq(["translate", "--model", p.model, "--input", p.testSource])
        #expect(try Data(contentsOf: URL(fileURLWithPath: hypotheses)) == translated.stdout)
        let bleu = try runSeq2seq(["bleu", p.testReference, "--input", hypotheses])
        #expect(bleu.status == 0, "\(bleu.stderrText)")
        #expect(bleu.stdoutText == lines[0] + "\n", "\(bleu.stdoutText)")
        let chrf = try runSeq2seq(["bleu", p.testReference, "--input", hypotheses, "--metric", "chrf"])
        #expect(chrf.stdoutText == lines[1] + "\n", "\(chrf.stdoutText)")
    }

    @Test func evaluateNamesMismatchedReference() throws {
        let p = try pipeline()
        let result = try runSeq2seq(["evaluate", "--model", p.model, "--source", p.testSource,
                                     "--reference", p.validTarget])
        expectOneLineError(result, mentions: ["\(p.validTarget) has 8 lines", "\(p.testSource) has 6"])
    }

    // MARK: bad input

    @Test func trainWithoutShardFolderWritesNothing() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("pipeline-cli-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("no-such-corpus").path
        let output = dir.appendingPathComponent("model").path
        var arguments = p.trainArguments(output: output)
        arguments[arguments.firstIndex(of: p.shards)!] = missing
        let result = try runSeq2seq(arguments)
        expectOneLineError(result, mentions: [missing])
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// A shard that is missing, cut short or altered in place (same size) is named before any
    /// model folder is made.
    @Test(arguments: ["missing", "truncated", "altered"])
    func trainWithABrokenShardWritesNothing(_ damage: String) throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("pipeline-cli-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("corpus").path
        try FileManager.default.copyItem(atPath: p.shards, toPath: corpus)
        let shard = corpus + "/shard-00001.zst"
        if damage == "missing" {
            try FileManager.default.removeItem(atPath: shard)
        } else if damage == "truncated" {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: shard))
        } else {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
            bytes[bytes.count / 2] ^= 0x40
            try bytes.write(to: URL(fileURLWithPath: shard))
        }
        let output = dir.appendingPathComponent("model").path
        var arguments = p.trainArguments(output: output)
        arguments[arguments.firstIndex(of: p.shards)!] = corpus
        let result = try runSeq2seq(arguments)
        let expected = ["missing": "missing shard", "truncated": "truncated", "altered": "checksum mismatch"][damage]!
        expectOneLineError(result, mentions: [shard, expected])
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func trainWithMismatchedValidationFilesWritesNothing() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("pipeline-cli-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let shortTarget = dir.appendingPathComponent("valid-short.fr").path
        try Data(DigitCorpus.pairs(7, seed: 2).target.map { $0 + "\n" }.joined().utf8)
            .write(to: URL(fileURLWithPath: shortTarget))
        let output = dir.appendingPathComponent("model").path
        var arguments = p.trainArguments(output: output)
        arguments[arguments.firstIndex(of: p.validTarget)!] = shortTarget
        let result = try runSeq2seq(arguments)
        expectOneLineError(result, mentions: ["\(p.validSource) has 8 lines", "\(shortTarget) has 7"])
        // A failed start leaves no half-made model folder behind (which would block the next run).
        #expect(!FileManager.default.fileExists(atPath: output))

        // Resuming with them changes nothing in the model folder either.
        let (copyDir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: copyDir) }
        let before = try snapshot(copy)
        let resume = try runSeq2seq(["train", "--shards", p.shards, "--output", copy, "--resume", "--max-steps", "40",
                                     "--valid-source", p.validSource, "--valid-target", shortTarget, "--threads", "1"])
        expectOneLineError(resume, mentions: ["\(p.validSource) has 8 lines", "\(shortTarget) has 7"])
        #expect(try snapshot(copy) == before)
    }

    @Test func translateNamesTheLineOfInvalidUTF8() throws {
        let p = try pipeline()
        var input = Data("one two\nthree\n".utf8)
        input.append(contentsOf: [0x66, 0xFF, 0x6F, 0x0A])
        input.append(contentsOf: Data("four\n".utf8))
        // The translations of the lines before the fault are written first (two lines).
        let before = try runSeq2seq(["translate", "--model", p.model], stdin: Data("one two\nthree\n".utf8))
        let fromStdin = try runSeq2seq(["translate", "--model", p.model], stdin: input)
        var stdinError = fromStdin
        stdinError.stdout = Data()
        expectOneLineError(stdinError, mentions: ["stdin:3: invalid UTF-8"])
        #expect(fromStdin.stdout == before.stdout)

        let dir = makeTemporaryDirectory("pipeline-cli-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.en").path
        try input.write(to: URL(fileURLWithPath: file))
        let fromFile = try runSeq2seq(["translate", "--model", p.model, "--input", file])
        var fileError = fromFile
        fileError.stdout = Data()
        expectOneLineError(fileError, mentions: ["\(file):3: invalid UTF-8"])
        #expect(fromFile.stdout == before.stdout)
        let evaluate = try runSeq2seq(["evaluate", "--model", p.model, "--source", file, "--reference", file])
        expectOneLineError(evaluate, mentions: ["\(file):3: invalid UTF-8"])
    }

    @Test func modelFromAnotherVersionIsRefused() throws {
        let p = try pipeline()
        let (dir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let configPath = copy + "/config.json"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        #expect(config.contains("\"formatVersion\" : 1,"))
        try Data(config.replacingOccurrences(of: "\"formatVersion\" : 1,", with: "\"formatVersion\" : 99,").utf8)
            .write(to: URL(fileURLWithPath: configPath))
        let before = try snapshot(copy)
        let translate = try runSeq2seq(["translate", "--model", copy], stdin: Data("one\n".utf8))
        expectOneLineError(translate, mentions: [configPath, "version 99", "reads version 1", "retrain"])
        let resume = try runSeq2seq(["train", "--shards", p.shards, "--output", copy, "--resume", "--threads", "1"])
        expectOneLineError(resume, mentions: [configPath, "version 99"])
        #expect(try snapshot(copy) == before)
    }

    @Test(arguments: ["last", "best"])
    func truncatedCheckpointIsNamed(_ checkpoint: String) throws {
        let p = try pipeline()
        let (dir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = copy + "/\(checkpoint).safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: file))
        let translate = try runSeq2seq(["translate", "--model", copy, "--checkpoint", checkpoint],
                                       stdin: Data("one\n".utf8))
        expectOneLineError(translate, mentions: [file, "truncated"])
        // A header cut short is named too.
        try bytes.prefix(20).write(to: URL(fileURLWithPath: file))
        let evaluate = try runSeq2seq(["evaluate", "--model", copy, "--checkpoint", checkpoint,
                                       "--source", p.testSource, "--reference", p.testReference])
        expectOneLineError(evaluate, mentions: [file, "truncated"])
        if checkpoint == "last" {
            let before = try snapshot(copy)
            // --max-steps rewrites config.json on resume, but only after the checkpoint has loaded.
            let resume = try runSeq2seq(["train", "--shards", p.shards, "--output", copy, "--resume",
                                         "--max-steps", "50", "--threads", "1"])
            expectOneLineError(resume, mentions: [file, "truncated"])
            #expect(try snapshot(copy) == before)
        }
    }

    /// The issue's crashes, through the binary: a config value that trapped, hung or allocated
    /// 66 GB, and a weights file with one flipped byte that loaded silently, are each one error
    /// line naming the file (and key), for translate, evaluate and train --resume alike, and the
    /// folder is left as it was.
    @Test(arguments: [
        ("config.json", #""hidden" : 16,"#, #""hidden" : -32,"#, "hidden"),
        ("config.json", #""layers" : 1,"#, #""layers" : 0,"#, "layers"),
        ("config.json", #""layers" : 1,"#, #""layers" : 1000000000000,"#, "layers"),
        ("config.json", #""embedding" : 8,"#, #""embedding" : 2147483648,"#, "embedding"),
        ("best.safetensors", "", "", "checksum"),
        ("last.safetensors", "", "", "checksum"),
    ])
    func aDamagedModelFolderIsOneLineNamingTheFile(file: String, original: String, replacement: String, mention: String) throws {
        let p = try pipeline()
        let (dir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = copy + "/" + file
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        if original.isEmpty {
            bytes[bytes.count - 13] ^= 0x04   // inside the last tensor
        } else {
            // The first occurrence is the model section's (keys are sorted: model before training).
            var text = String(decoding: bytes, as: UTF8.self)
            let range = try #require(text.range(of: original))
            text.replaceSubrange(range, with: replacement)
            bytes = Array(text.utf8)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let before = try snapshot(copy)
        let checkpoint = file == "last.safetensors" ? "last" : "best"
        let translate = try runSeq2seq(["translate", "--model", copy, "--checkpoint", checkpoint], stdin: Data("one\n".utf8))
        expectOneLineError(translate, mentions: [path, mention])
        let evaluate = try runSeq2seq(["evaluate", "--model", copy, "--checkpoint", checkpoint,
                                       "--source", p.testSource, "--reference", p.testReference])
        expectOneLineError(evaluate, mentions: [path, mention])
        if file != "best.safetensors" {
            let resume = try runSeq2seq(["train", "--shards", p.shards, "--output", copy, "--resume",
                                         "--max-steps", "50", "--threads", "1"])
            expectOneLineError(resume, mentions: [path, mention])
        }
        #expect(try snapshot(copy) == before)
    }

    @Test func missingModelFolderIsNamed() throws {
        let missing = makeTemporaryDirectory("pipeline-cli-bad").appendingPathComponent("models/none").path
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: missing).deletingLastPathComponent()
            .deletingLastPathComponent().path) }
        let result = try runSeq2seq(["translate", "--model", missing], stdin: Data("one\n".utf8))
        expectOneLineError(result, mentions: [missing, "no such model folder"])
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    /// A file where the model folder belongs (e.g. a vocabulary) is named as a file, not as missing
    /// (the newcomer's finding 5: `--model vocab/de.vocab` said "no such model folder").
    @Test func fileGivenAsModelFolderIsNamedAsAFile() throws {
        let dir = makeTemporaryDirectory("pipeline-cli-file-model")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("de.vocab").path
        try Data("<pad>\t0\n".utf8).write(to: URL(fileURLWithPath: file))
        let result = try runSeq2seq(["translate", "--model", file], stdin: Data("one\n".utf8))
        expectOneLineError(result, mentions: [file, "is a file, not a model folder"])
        #expect(!result.stderrText.contains("no such model folder"))
    }

    @Test(arguments: [
        (["--beam", "0"], "--beam must be at least 1"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--length-penalty=-1"], "--length-penalty must be >= 0"),
    ])
    func badSearchOptionsAreOneLine(_ options: [String], _ message: String) throws {
        try expectTranslateAndEvaluateRefuse(options, message)
    }

    /// A bad command line is one line naming the subcommand's help, not a usage block.
    @Test(arguments: [
        (["vocab", "--input", "x", "--output", "y", "--min-count", "0"], "--min-count must be at least 1"),
        (["shard", "--verify"], "--verify"),
        (["bench", "gemm", "--preset", "big"], "'seq2seq bench gemm --help'"),
        (["bench", "int8", "--rows", "0"], "'seq2seq bench int8 --help'"),
        (["bench", "int8", "--kernels", "sse9"], "sse9"),
        (["bench", "int8", "--shapes", "huge"], "huge"),
        (["bench", "translate", "--preset", "x"], "--preset"),
        (["bleu"], "'seq2seq bleu --help'"),
        (["translate", "--model", "m", "--no-such-option"], "--no-such-option"),
    ])
    func badCommandLinesAreOneLine(_ arguments: [String], _ mention: String) throws {
        expectOneLineError(try runSeq2seq(arguments), mentions: [mention])
    }

    @Test func badTrainingOptionsAreOneLine() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("pipeline-cli-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        let result = try runSeq2seq(p.trainArguments(output: output) + ["--dropout", "1.5"])
        expectOneLineError(result, mentions: ["--dropout must be in [0, 1)"])
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
