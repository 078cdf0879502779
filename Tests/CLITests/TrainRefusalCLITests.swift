import Foundation
import Testing
import TestSupport

/// What `train` refuses, what a finished run does when resumed, and what a failed start leaves,
/// through the built binary (uses the pipeline fixture's corpus and model).
@Suite("train refusals through the binary")
struct TrainRefusalCLITests {
    /// `arguments` with the value after `option` replaced.
    func replacing(_ option: String, with value: String, in arguments: [String]) -> [String] {
        var arguments = arguments
        arguments[arguments.firstIndex(of: option)! + 1] = value
        return arguments
    }

    @Test func shardFolderWithNoPairsIsRefusedAndNothingIsWritten() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal")
        defer { try? FileManager.default.removeItem(at: dir) }
        // What an older `seq2seq shard` wrote for input with no usable pair.
        let empty = dir.appendingPathComponent("empty-corpus")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        try Data(#"""
            {"checksumAlgorithm": "crc32", "command": "old", "compressionLevel": 3, "format": "seq2seq-shards",
             "formatVersion": 1, "shards": [], "skippedEmpty": 2, "skippedTooLong": 0, "totalCompressedBytes": 0,
             "totalPairs": 0, "totalTextBytes": 0, "totalUncompressedBytes": 0}
            """#.utf8).write(to: empty.appendingPathComponent("manifest.json"))
        let output = dir.appendingPathComponent("model").path
        let result = try runSeq2seq(replacing("--shards", with: empty.path, in: p.trainArguments(output: output)))
        expectOneLineError(result, mentions: [empty.path, "holds no pairs"])
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test(arguments: [("", ""), ("\n\n\n", "\n\n\n"), ("one two\nthree\n", " \n\n")])
    func validationSetWithNoUsablePairIsRefusedNamingTheFile(_ source: String, _ target: String) throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let validSource = dir.appendingPathComponent("v.en").path, validTarget = dir.appendingPathComponent("v.fr").path
        try Data(source.utf8).write(to: URL(fileURLWithPath: validSource))
        try Data(target.utf8).write(to: URL(fileURLWithPath: validTarget))
        let named = target.hasPrefix(" ") ? validTarget : validSource
        let output = dir.appendingPathComponent("model").path
        let arguments = replacing("--valid-target", with: validTarget,
                                  in: replacing("--valid-source", with: validSource, in: p.trainArguments(output: output)))
        expectOneLineError(try runSeq2seq(arguments), mentions: ["\(named): "])
        #expect(!FileManager.default.fileExists(atPath: output))

        // Resuming a model with them changes nothing either.
        let (copyDir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: copyDir) }
        let before = try snapshot(copy)
        let resume = try runSeq2seq(["train", "--shards", p.shards, "--output", copy, "--resume", "--max-steps", "40",
                                     "--valid-source", validSource, "--valid-target", validTarget, "--threads", "1"])
        expectOneLineError(resume, mentions: ["\(named): "])
        #expect(try snapshot(copy) == before)
    }

    /// `--tie-embeddings`: `all` without one joint vocabulary is refused on one line before anything
    /// is written; `decoder` trains with E = H and with E ≠ H (a projection), and a resume with
    /// another setting is refused.
    @Test func tiedEmbeddingsNeedAJointVocabularyForAllAndTrainWithAnySizes() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        let base = p.trainArguments(output: output, maxSteps: 4)
        expectOneLineError(try runSeq2seq(base + ["--tie-embeddings", "all"]), mentions: ["joint vocabulary", p.sourceVocab])
        #expect(!FileManager.default.fileExists(atPath: output))
        let projected = try runSeq2seq(replacing("--output", with: output + "-projected", in: base) + ["--tie-embeddings", "decoder"])
        #expect(projected.status == 0, "\(projected.stderrText)")
        let translated = try runSeq2seq(["translate", "--model", output + "-projected", "--checkpoint", "last"], stdin: Data("one two\n".utf8))
        #expect(translated.status == 0, "\(translated.stderrText)")
        let tied = try runSeq2seq(replacing("--embedding", with: "16", in: base) + ["--tie-embeddings", "decoder"])
        #expect(tied.status == 0, "\(tied.stderrText)")
        let config = try String(contentsOfFile: output + "/config.json", encoding: .utf8)
        #expect(config.contains("\"tieEmbeddings\" : \"decoder\"") || config.contains("\"tieEmbeddings\":\"decoder\""), "\(config)")
        expectOneLineError(try runSeq2seq(["train", "--shards", p.shards, "--output", output, "--resume", "--max-steps", "8",
                                           "--tie-embeddings", "none", "--threads", "1"]), mentions: ["--tie-embeddings"])
    }

    /// `--layer-norm` trains LSTM and GRU models (recorded in config.json) and is refused on one
    /// line for the Elman cells.
    @Test func layerNormTrainsLSTMAndGRUAndIsRefusedForElmanCells() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        expectOneLineError(try runSeq2seq(p.trainArguments(output: output, maxSteps: 4) + ["--layer-norm", "--cell", "rnn-tanh"]),
                           mentions: ["--layer-norm"])
        #expect(!FileManager.default.fileExists(atPath: output))
        for cell in ["lstm", "gru"] {
            let folder = dir.appendingPathComponent(cell).path
            let run = try runSeq2seq(p.trainArguments(output: folder, maxSteps: 4) + ["--layer-norm", "--cell", cell])
            #expect(run.status == 0, "\(run.stderrText)")
            let translated = try runSeq2seq(["translate", "--model", folder, "--checkpoint", "last"], stdin: Data("one two\n".utf8))
            #expect(translated.status == 0, "\(translated.stderrText)")
            let config = try String(contentsOfFile: folder + "/config.json", encoding: .utf8)
            #expect(config.contains("\"layerNorm\" : true"), "\(config)")
        }
    }

    @Test func resumingAFinishedRunChangesNoFile() throws {
        let p = try pipeline()
        let (dir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try snapshot(copy)
        let resume = ["train", "--shards", p.shards, "--output", copy, "--resume", "--valid-source", p.validSource,
                      "--valid-target", p.validTarget, "--threads", "1"]
        for extra in [[], ["--max-steps", "30"], ["--max-steps", "20"]] {
            let result = try runSeq2seq(resume + extra)
            #expect(result.status == 0, "\(result.stderrText)")
            #expect(result.stderrText.contains("\(copy) already finished: 30 steps"), "\(result.stderrText)")
            #expect(try snapshot(copy) == before)
        }
    }

    @Test func failedStartLeavesNothingAndAPlainRetryIsAccepted() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("models/m").path
        // No pair of the corpus fits in one token: the first epoch finds nothing to train on.
        let failed = try runSeq2seq(p.trainArguments(output: output, maxSteps: 2) + ["--max-length", "1"])
        // Found once training has started: the progress lines come first, then one error line.
        #expect(failed.status != 0)
        let lines = failed.stderrText.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("seq2seq: error: ") }.count == 1, "\(failed.stderrText)")
        #expect(lines.last?.hasPrefix("seq2seq: error: \(p.shards): no training pair is usable") == true, "\(failed.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("models").path) == [])
        let retry = try runSeq2seq(p.trainArguments(output: output, maxSteps: 2))
        #expect(retry.status == 0, "\(retry.stderrText)")
        #expect(FileManager.default.fileExists(atPath: output + "/last.safetensors"))
    }

    @Test func folderLeftWithoutACheckpointIsReplacedByAPlainRetry() throws {
        let p = try pipeline()
        let (dir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        // What a start killed before its first checkpoint leaves.
        for file in ["last.safetensors", "best.safetensors"] { try FileManager.default.removeItem(atPath: copy + "/" + file) }
        let retry = try runSeq2seq(p.trainArguments(output: copy, maxSteps: 2))
        #expect(retry.status == 0, "\(retry.stderrText)")
        let log = try String(contentsOfFile: copy + "/log.jsonl", encoding: .utf8)
        #expect(!log.contains("\"step\":30"), "the old run's log lines are gone")
        #expect(FileManager.default.fileExists(atPath: copy + "/last.safetensors"))
    }

    @Test(arguments: ["file", "folder", "shards"])
    func outputThatIsNotAModelFolderIsNeverWrittenInto(_ kind: String) throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output: String
        switch kind {
        case "file":
            output = dir.appendingPathComponent("notes.txt").path
            try Data("keep\n".utf8).write(to: URL(fileURLWithPath: output))
        case "folder":
            output = dir.appendingPathComponent("stuff").path
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false)
            try Data("keep\n".utf8).write(to: URL(fileURLWithPath: output + "/notes.txt"))
        default:
            output = dir.appendingPathComponent("corpus").path
            try FileManager.default.copyItem(atPath: p.shards, toPath: output)
        }
        let before = kind == "file" ? ["": try Data(contentsOf: URL(fileURLWithPath: output))] : try snapshot(output)
        let after = { kind == "file" ? ["": try Data(contentsOf: URL(fileURLWithPath: output))] : try snapshot(output) }
        for extra in [[], ["--overwrite"]] {
            let result = try runSeq2seq(p.trainArguments(output: output) + extra)
            expectOneLineError(result, mentions: [output, kind == "file" ? "is not a folder" : "is not a seq2seq model folder"])
            #expect(try after() == before)
            let resume = try runSeq2seq(["train", "--shards", p.shards, "--output", output, "--resume", "--threads", "1"])
            expectOneLineError(resume, mentions: [output, "--resume needs a model folder"])
            #expect(try after() == before)
        }
    }

    /// Swapped vocabularies make most tokens `<unk>`: refused in one line naming the vocabulary
    /// (nothing written); `--allow-unk` starts anyway, with the rate printed and a warning.
    @Test func swappedVocabulariesAreRefusedUnlessAllowUnk() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-unk")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        let swapped = replacing("--target-vocab", with: p.sourceVocab,
                                in: replacing("--source-vocab", with: p.targetVocab, in: p.trainArguments(output: output, maxSteps: 2)))
        let refused = try runSeq2seq(swapped)
        expectOneLineError(refused, mentions: ["are <unk>", "--allow-unk"])
        #expect(refused.stderrText.contains(p.targetVocab) || refused.stderrText.contains(p.sourceVocab))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [])
        let allowed = try runSeq2seq(swapped + ["--allow-unk"])
        #expect(allowed.status == 0, "\(allowed.stderrText)")
        #expect(allowed.stderrText.contains("train: <unk> in the first 40 pairs: source "), "\(allowed.stderrText)")
        #expect(allowed.stderrText.contains("train: warning: "), "\(allowed.stderrText)")
        // The right vocabularies: the rates are printed, no warning.
        let plain = try runSeq2seq(p.trainArguments(output: dir.appendingPathComponent("ok").path, maxSteps: 2))
        #expect(plain.stderrText.contains("train: <unk> in the first 40 pairs: source 0.0 %, target 0.0 %"), "\(plain.stderrText)")
        #expect(!plain.stderrText.contains("warning"), "\(plain.stderrText)")
    }

    /// A vocabulary of the 4 specials only (from an empty file) is an error, not a file.
    @Test func vocabOfAnEmptyInputIsAnError() throws {
        let dir = makeTemporaryDirectory("vocab-empty")
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.txt")
        try Data("\n\n".utf8).write(to: empty)
        let output = dir.appendingPathComponent("v.vocab").path
        expectOneLineError(try runSeq2seq(["vocab", "--input", empty.path, "--output", output]),
                           mentions: [empty.path, "no words"])
        let once = dir.appendingPathComponent("once.txt")
        try Data("a b c\n".utf8).write(to: once)
        expectOneLineError(try runSeq2seq(["vocab", "--input", once.path, "--output", output, "--min-count", "2"]),
                           mentions: [once.path, "--min-count 2"])
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// A corpus sorted by length gets a warning at train start that names `shard --shuffle`; the
    /// same corpus shuffled by `shard --shuffle` does not.
    @Test func aLengthSortedCorpusIsWarnedAboutAndShuffleFixesIt() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-sorted")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pairs = DigitCorpus.pairs(300, seed: 31)
        let order = pairs.source.indices.sorted { (pairs.source[$0].count, $0) < (pairs.source[$1].count, $1) }
        let source = dir.appendingPathComponent("s.en"), target = dir.appendingPathComponent("s.fr")
        try Data(order.map { pairs.source[$0] + "\n" }.joined().utf8).write(to: source)
        try Data(order.map { pairs.target[$0] + "\n" }.joined().utf8).write(to: target)
        for shuffled in [false, true] {
            let shards = dir.appendingPathComponent(shuffled ? "shuffled" : "sorted").path
            let shard = try runSeq2seq(["shard", "--source", source.path, "--target", target.path, "--output", shards]
                                       + (shuffled ? ["--shuffle", "5"] : []))
            #expect(shard.status == 0, "\(shard.stderrText)")
            let run = try runSeq2seq(replacing("--shards", with: shards,
                                               in: p.trainArguments(output: dir.appendingPathComponent("m-\(shuffled)").path, maxSteps: 1)))
            #expect(run.status == 0, "\(run.stderrText)")
            #expect(run.stderrText.contains("ordered by length") != shuffled, "\(run.stderrText)")
            #expect(!shuffled || !run.stderrText.contains("shard --shuffle"))
        }
    }

    /// Without a terminal and with a `--log-every` far beyond the run, a log line still comes at
    /// least every `--log-every-seconds` (here every step, at 1 µs), in log.jsonl and on stderr.
    @Test func aSlowRunLogsAtLeastEveryNSeconds() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-log-seconds")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        let arguments = replacing("--log-every", with: "1000", in: p.trainArguments(output: output, maxSteps: 6))
        let timed = try runSeq2seq(arguments + ["--log-every-seconds", "0.000001"])
        #expect(timed.status == 0, "\(timed.stderrText)")
        let log = try String(contentsOfFile: output + "/log.jsonl", encoding: .utf8)
        #expect(log.components(separatedBy: "\"event\":\"train\"").count - 1 == 6, "\(log)")
        #expect(timed.stderrText.components(separatedBy: " ppl ").count - 1 == 6, "\(timed.stderrText)")
        // Off (0): only every --log-every steps, so none in 6 steps.
        let quiet = dir.appendingPathComponent("quiet").path
        let off = try runSeq2seq(replacing("--output", with: quiet, in: arguments) + ["--log-every-seconds", "0"])
        #expect(off.status == 0, "\(off.stderrText)")
        #expect(!(try String(contentsOfFile: quiet + "/log.jsonl", encoding: .utf8)).contains("\"event\":\"train\""))
    }

    /// `train --dry-run` prints the parameters and the estimate of the whole run and writes nothing;
    /// `--help` shows the defaults and says the vocabularies are required for a new model.
    @Test func aDryRunEstimatesTheRunAndWritesNothing() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-dry-run")
        defer { try? FileManager.default.removeItem(at: dir) }
        let arguments = p.trainArguments(output: dir.appendingPathComponent("model").path, maxSteps: 200) + ["--epochs", "100"]
        let before = try tree(dir)
        let run = try runSeq2seq(arguments + ["--dry-run"])
        #expect(run.status == 0, "\(run.stderrText)")
        #expect(run.stderrText.contains("M parameters"), "\(run.stderrText)")
        #expect(run.stderrText.contains("estimate after 5+20 steps: "), "\(run.stderrText)")
        #expect(run.stderrText.contains("steps per epoch ≈ "), "\(run.stderrText)")
        #expect(run.stderrText.contains("200 steps in the run ≈ "), "\(run.stderrText)")
        #expect(try tree(dir) == before)
        let help = try runSeq2seq(["train", "--help"]).stdoutText.replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "  +", with: " ", options: .regularExpression)
        for text in ["(default 256)", "(default 2)", "(default 64)", "(default 10;", "required for a new model", "--dry-run"] {
            #expect(help.contains(text), "train --help lacks \(text)")
        }
    }

    /// Under a file-size limit the first checkpoint fails with EFBIG (SIGXFSZ is ignored): one
    /// error line after the progress lines, and no model folder, temporary file or lock left.
    @Test func trainUnderAFileSizeLimitFailsCleanly() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-fsize")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        let errFile = dir.appendingPathComponent("err").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f 8; exec \"$0\" \"$@\" 2>\"\(errFile)\"", seq2seqBinary().path]
            + p.trainArguments(output: output, maxSteps: 3)
        try process.run()
        process.waitUntilExit()
        let stderr = try String(contentsOfFile: errFile, encoding: .utf8)
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(stderr)")
        let lines = stderr.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("seq2seq: error: ") }.count == 1 && lines.last?.contains("File too large") == true,
                "\(stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["err"])
    }

    /// Every path and its bytes under `root`, hidden files included.
    func tree(_ root: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey])
        while let url = walker?.nextObject() as? URL {
            let relative = String(url.path.dropFirst(root.path.count))
            let isFolder = try url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory == true
            files[relative] = isFolder ? Data("folder".utf8) : try Data(contentsOf: url)
        }
        return files
    }

    /// A refused start leaves the tree byte for byte as it was: no `.NAME.lock` beside the folder
    /// (the lock is taken before the checks and removed on every way out).
    @Test(arguments: ["not a model folder", "missing vocabulary", "missing shards", "finished run"])
    func aRefusedStartLeavesTheTreeByteIdentical(_ refusal: String) throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal-tree")
        defer { try? FileManager.default.removeItem(at: dir) }
        let docs = dir.appendingPathComponent("docs")
        try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: false)
        try Data("notes\n".utf8).write(to: docs.appendingPathComponent("notes.md"))
        var arguments = p.trainArguments(output: dir.appendingPathComponent("model").path)
        switch refusal {
        case "not a model folder": arguments = replacing("--output", with: docs.path, in: arguments)
        case "missing vocabulary": arguments = replacing("--source-vocab", with: dir.appendingPathComponent("en.vocab").path, in: arguments)
        case "missing shards": arguments = replacing("--shards", with: dir.appendingPathComponent("shards").path, in: arguments)
        default:
            let model = dir.appendingPathComponent("finished").path
            try FileManager.default.copyItem(atPath: p.model, toPath: model)
            arguments = ["train", "--shards", p.shards, "--output", model, "--resume", "--threads", "1"]
        }
        let before = try tree(dir)
        let result = try runSeq2seq(arguments)
        if refusal == "finished run" {
            #expect(result.status == 0, "\(result.stderrText)")
        } else {
            expectOneLineError(result, mentions: [])
        }
        let after = try tree(dir)
        #expect(after == before, "\(Set(after.keys).symmetricDifference(before.keys))")
    }

    /// A run killed before its folder was renamed into place leaves `.NAME.partial-PID`; the next
    /// train into that name removes it once that process is gone.
    @Test func aKilledRunsStagingFolderIsRemovedByTheNextRun() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal-staging")
        defer { try? FileManager.default.removeItem(at: dir) }
        var gone: Int32 = 4_000_000
        while kill(gone, 0) == 0 || errno != ESRCH { gone -= 1 }
        let stale = dir.appendingPathComponent(".model.partial-\(gone)").path
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: false)
        let result = try runSeq2seq(p.trainArguments(output: dir.appendingPathComponent("model").path, maxSteps: 2))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: stale))
    }

    /// A shipped model keeps only best.safetensors: a plain re-run refuses it (it is trained), and
    /// --resume refuses too (no checkpoint to continue) instead of restarting over its best weights.
    @Test func aFolderWithOnlyBestWeightsIsNeitherReplacedNorRestarted() throws {
        let p = try pipeline()
        let (dir, copy) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(atPath: copy + "/last.safetensors")
        let before = try snapshot(copy)
        let again = try runSeq2seq(p.trainArguments(output: copy))
        expectOneLineError(again, mentions: [copy, "--resume", "--overwrite"])
        let resumed = try runSeq2seq(["train", "--shards", p.shards, "--output", copy, "--resume", "--threads", "1"])
        expectOneLineError(resumed, mentions: [copy, "no last.safetensors"])
        #expect(try snapshot(copy) == before)
    }

    /// Sizes no machine can hold are one error line before anything is written; a batch size
    /// near Int.max is simply a batch of every pair (no overflow in the window or step count).
    @Test func hugeSizesAreRefusedOrHandledWithoutATrap() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model").path
        // Beyond ModelConfig's bounds: the bound names the option's key. Within them but beyond memory:
        // the memory check speaks.
        for (option, value, mention) in [("--hidden", "100000000", "hidden must be in 1...65536"),
                                         ("--embedding", "4000000000", "embedding must be in 1...65536"),
                                         ("--layers", "10000000", "layers must be in 1...64"),
                                         ("--hidden", "16000", "for its weights, gradients and optimizer state alone")] {
            let result = try runSeq2seq(replacing(option, with: value, in: p.trainArguments(output: output)))
            expectOneLineError(result, mentions: [mention])
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        let huge = try runSeq2seq(replacing("--batch-size", with: String(Int.max), in: p.trainArguments(output: output, maxSteps: 1)))
        #expect(huge.status == 0, "\(huge.stderrText)")
    }

    @Test func resumeOfAMissingFolderIsRefusedAndCreatesNothing() throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("train-refusal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("models/none").path
        let result = try runSeq2seq(p.trainArguments(output: output) + ["--resume"])
        expectOneLineError(result, mentions: [output, "no model folder to resume"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [])
    }
}

/// Options that do not fit together are refused on one line before anything is written, with the
/// texts TrainingOptions.validate gives the CLI and the library alike.
@Test(arguments: [
    (["--no-input-feed"], "--no-input-feed needs --attention dot, general or mlp"),
    (["--layer-norm", "--cell", "irnn"], "--layer-norm needs --cell lstm or gru"),
    (["--lr-decay-factor", "0.5"], "--lr-decay-factor and --plateau-patience need --lr-schedule plateau"),
    (["--valid-bleu-lowercase"], "--valid-bleu-lowercase needs --valid-bleu"),
])
func optionsThatDoNotFitTogetherAreRefused(_ extra: [String], _ message: String) throws {
    let p = try pipeline()
    let dir = makeTemporaryDirectory("train-misfit")
    defer { try? FileManager.default.removeItem(at: dir) }
    let output = dir.appendingPathComponent("model").path
    expectOneLineError(try runSeq2seq(p.trainArguments(output: output) + extra), mentions: [message])
    #expect(!FileManager.default.fileExists(atPath: output))
}
