import Foundation
import Testing
import TestSupport

/// `mpirun`'s path, or nil when Open MPI is not installed (scripts/setup.sh installs it).
private let mpirun: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    .split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

/// A tiny corpus in 8 shards of 25 pairs (a generated number-words language pair), its
/// vocabularies, and runs of the built binary alone or under `mpirun`.
private struct MPIFixture {
    let root = makeTemporaryDirectory("mpi")

    init() throws {
        var generator = TestRNG(seed: 17)
        let english = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
        let french = ["un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"]
        var source = "", target = ""
        for _ in 0..<200 {
            let words = (0...generator.next(below: 6)).map { _ in generator.next(below: 10) }
            source += words.map { english[$0] }.joined(separator: " ") + "\n"
            target += words.map { french[$0] }.joined(separator: " ") + "\n"
        }
        try Data(source.utf8).write(to: root.appendingPathComponent("train.en"))
        try Data(target.utf8).write(to: root.appendingPathComponent("train.fr"))
        // The first 20 pairs again as the validation set.
        let firstLines = { (text: String) in text.split(separator: "\n").prefix(20).joined(separator: "\n") + "\n" }
        try Data(firstLines(source).utf8).write(to: root.appendingPathComponent("valid.en"))
        try Data(firstLines(target).utf8).write(to: root.appendingPathComponent("valid.fr"))
        for (input, vocab) in [("train.en", "en.vocab"), ("train.fr", "fr.vocab")] {
            let result = try runSeq2seq(["vocab", "--input", path(input), "--output", path(vocab)])
            #expect(result.status == 0, "\(result.stderrText)")
        }
        let shard = try runSeq2seq(["shard", "--source", path("train.en"), "--target", path("train.fr"),
                                    "--output", path("shards"), "--pairs-per-shard", "25"])
        #expect(shard.status == 0, "\(shard.stderrText)")
    }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// `train` arguments for a model in `name`: 2×16 LSTM with dropout (so every rank's dropout
    /// masks matter), batches of 8: a part of 2 of the 8 shards is 100 pairs, 13 batches; every 7
    /// steps the ranks validate and checkpoint.
    func trainArguments(_ name: String, steps: Int) -> [String] {
        ["train", "--shards", path("shards"), "--source-vocab", path("en.vocab"), "--target-vocab", path("fr.vocab"),
         "--output", path(name), "--embedding", "8", "--hidden", "16", "--batch-size", "8", "--dropout", "0.2",
         "--optimizer", "sgd", "--lr", "0.5", "--max-steps", String(steps), "--epochs", "100000", "--threads", "1",
         "--log-every", "5", "--valid-source", path("valid.en"), "--valid-target", path("valid.fr"), "--valid-every", "7"]
    }

    func file(_ name: String) throws -> Data { try Data(contentsOf: root.appendingPathComponent(name)) }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }
}

/// Starts `mpirun --quiet --oversubscribe WORDS` (`--quiet`: no help banners; as root, Open
/// MPI's consent variables; one BLAS thread per rank), stdout and stderr collected into files.
private final class MPIRun {
    let process = Process()
    let stderrURL: URL

    init(_ words: [String], in directory: URL, label: String) throws {
        let stdoutURL = directory.appendingPathComponent("\(label).stdout")
        stderrURL = directory.appendingPathComponent("\(label).stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: mpirun!)
        process.arguments = ["--quiet", "--oversubscribe"] + words
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    /// `mpirun [options] -np N seq2seq ARGS`, started.
    convenience init(ranks: Int, options: [String] = [], _ arguments: [String], in directory: URL, label: String) throws {
        try self.init(options + ["-np", String(ranks), seq2seqBinary().path] + arguments, in: directory, label: label)
    }

    /// Waits for the end; returns the exit status and stderr.
    func wait() throws -> (status: Int32, stderr: String) {
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self))
    }

    /// `mpirun [options] -np N seq2seq ARGS` to its end.
    static func run(ranks: Int, options: [String] = [], _ arguments: [String], in directory: URL,
                    label: String) throws -> (status: Int32, stderr: String) {
        try MPIRun(ranks: ranks, options: options, arguments, in: directory, label: label).wait()
    }

    /// The MPMD form `mpirun -np 1 seq2seq A : -np 1 seq2seq B …` (one rank per argument list) to its end.
    static func run(eachRank arguments: [[String]], in directory: URL, label: String) throws -> (status: Int32, stderr: String) {
        var words: [String] = []
        for (i, list) in arguments.enumerated() {
            if i > 0 { words.append(":") }
            words += ["-np", "1", seq2seqBinary().path] + list
        }
        return try MPIRun(words, in: directory, label: label).wait()
    }
}

/// The repository's root (this file is Tests/CLITests/MPICLITests.swift).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Runs `bash SCRIPT ARGS` from the repository; its status and standard output (stderr appended).
private func runScript(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [repositoryRoot.appendingPathComponent(script).path] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Runs `sh -c COMMAND`; its exit status.
private func runShell(_ command: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Whether this process may create network namespaces (root with `ip netns`): tried, then removed.
private func networkNamespacesAvailable() -> Bool {
    guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ||
            FileManager.default.isExecutableFile(atPath: "/sbin/ip") else { return false }
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/bin/sh")
    probe.arguments = ["-c", "ip netns add s2s-probe-$$ && ip netns del s2s-probe-$$"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    guard (try? probe.run()) != nil else { return false }
    probe.waitUntilExit()
    return probe.terminationStatus == 0
}

/// Data-parallel training under Open MPI through the built binary: N ranks against
/// `--accumulate N` in one process, over shared memory and over TCP, a killed rank, and ranks
/// that disagree. Serialized: each test starts several processes on a 2-core machine.
@Suite(.serialized, .enabled(if: mpirun != nil, "mpirun is not installed (scripts/setup.sh installs Open MPI)"))
struct MPICLITests {
    /// N ranks × batch 8 and one process with `--accumulate N` × batch 8, 20 updates across an
    /// epoch boundary, with dropout: the same weights (best.safetensors) and the same checkpoint
    /// (last.safetensors: weights, training state with every part's position) byte for byte.
    @Test(arguments: [(2, [String]()), (4, []), (2, ["--mca", "btl", "tcp,self"]), (4, ["--mca", "btl", "tcp,self"])])
    func ranksGiveTheWeightsOfAccumulatingAsManyBatchesBitForBit(ranks: Int, transport: [String]) throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        let single = try runSeq2seq(fixture.trainArguments("accumulated", steps: 20) + ["--accumulate", String(ranks)])
        #expect(single.status == 0, "\(single.stderrText)")
        let run = try MPIRun.run(ranks: ranks, options: transport, fixture.trainArguments("ranks", steps: 20),
                                 in: fixture.root, label: "ranks")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("error"), "\(run.stderr)")
        let weights = try fixture.file("ranks/best.safetensors")
        #expect(weights == (try fixture.file("accumulated/best.safetensors")), "weights differ")
        #expect((try fixture.file("ranks/last.safetensors")) == (try fixture.file("accumulated/last.safetensors")),
                "checkpoints differ")
        // Rank 0 alone wrote the log: one train line per 5 steps, with the exchange time.
        let log = String(decoding: try fixture.file("ranks/log.jsonl"), as: UTF8.self)
        let trainLines = log.split(separator: "\n").filter { $0.contains(#""event":"train""#) }
        #expect(trainLines.count == 4, "\(log)")
        #expect(trainLines.allSatisfy { $0.contains("allreduce_ms") && $0.contains("tokens_per_s") })
    }

    /// The exchange overlapped with the backward pass (the default: buckets summed on a thread of
    /// their own as the backward pass finishes each stage) and the exchange after it give the same
    /// weights and checkpoint byte for byte, with one part per rank and with 2 parts per rank
    /// (`--accumulate 2`: the rank's own sum of its parts is folded in stage by stage).
    @Test(arguments: [1, 2])
    func theOverlappedExchangeGivesTheBitsOfTheExchangeAfterTheBackwardPass(accumulate: Int) throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        let parts = accumulate > 1 ? ["--accumulate", String(accumulate)] : []
        let after = try MPIRun.run(ranks: 2, fixture.trainArguments("after", steps: 20) + parts + ["--no-overlap-exchange"],
                                   in: fixture.root, label: "after")
        #expect(after.status == 0, "\(after.stderr)")
        let overlapped = try MPIRun.run(ranks: 2, fixture.trainArguments("overlapped", steps: 20) + parts,
                                        in: fixture.root, label: "overlapped")
        #expect(overlapped.status == 0, "\(overlapped.stderr)")
        #expect((try fixture.file("overlapped/best.safetensors")) == (try fixture.file("after/best.safetensors")), "weights differ")
        #expect((try fixture.file("overlapped/last.safetensors")) == (try fixture.file("after/last.safetensors")), "checkpoints differ")
    }

    /// Two ranks on two "hosts": network namespaces joined by veth pairs on a bridge, each link
    /// shaped to 1 Gbit/s (`scripts/mpi-hosts.sh`), each rank's daemon started in its namespace by
    /// the launch agent, TCP only: the same weights and checkpoint as `--accumulate 2`, byte for
    /// byte. Skipped, saying so, where namespaces cannot be made (not root, no kernel support).
    @Test(.enabled(if: networkNamespacesAvailable(), "network namespaces cannot be created here (needs root and ip netns)"))
    func ranksInTwoNamespacesOverAShapedLinkGiveTheWeightsOfAccumulatingBitForBit() throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        let hosts = try runScript("scripts/mpi-hosts.sh", ["up", "2", "1gbit"])
        defer { _ = try? runScript("scripts/mpi-hosts.sh", ["down"]) }
        #expect(hosts.status == 0, "\(hosts.output)")
        let options = try runScript("scripts/mpi-hosts.sh", ["mpirun-options"]).output
            .split(separator: " ").map(String.init).filter { !$0.isEmpty && $0 != "\n" }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let single = try runSeq2seq(fixture.trainArguments("accumulated", steps: 20) + ["--accumulate", "2"])
        #expect(single.status == 0, "\(single.stderrText)")
        let run = try MPIRun.run(ranks: 2, options: options + ["--host", hosts.output.trimmingCharacters(in: .whitespacesAndNewlines)],
                                 fixture.trainArguments("ranks", steps: 20), in: fixture.root, label: "namespaces")
        #expect(run.status == 0, "\(run.stderr)")
        #expect((try fixture.file("ranks/best.safetensors")) == (try fixture.file("accumulated/best.safetensors")), "weights differ")
        #expect((try fixture.file("ranks/last.safetensors")) == (try fixture.file("accumulated/last.safetensors")), "checkpoints differ")
    }

    /// Two ranks in two namespaces, and rank 1's link cut mid-run (`ip link set … down` on the
    /// bridge side): neither rank can tell a dead peer from a slow one, so each rank's watchdog
    /// (`--mpi-timeout 3`) stops it with one line within a few seconds of the cut. `mpirun` itself
    /// only ends once it can reach rank 1's daemon again (the link back up), non-zero. The last
    /// checkpoint is whole: `--resume` over the restored link continues it to the weights of a run
    /// that never stopped (`--accumulate 2` in one process, the same bits), byte for byte.
    @Test(.enabled(if: networkNamespacesAvailable(), "network namespaces cannot be created here (needs root and ip netns)"))
    func aCutLinkStopsEveryRankWithinTheTimeoutAndResumeContinuesExactly() throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        let hosts = try runScript("scripts/mpi-hosts.sh", ["up", "2", "1gbit"])
        defer { _ = try? runScript("scripts/mpi-hosts.sh", ["down"]) }
        #expect(hosts.status == 0, "\(hosts.output)")
        let options = try runScript("scripts/mpi-hosts.sh", ["mpirun-options"]).output
            .split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            + ["--host", hosts.output.trimmingCharacters(in: .whitespacesAndNewlines)]
        var arguments = fixture.trainArguments("cut", steps: 1_000_000) + ["--save-every", "5", "--mpi-timeout", "3"]
        arguments[arguments.firstIndex(of: "--hidden")! + 1] = "64"
        let run = try MPIRun(ranks: 2, options: options, arguments, in: fixture.root, label: "cut")
        let log = fixture.path("cut/log.jsonl")
        var deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try? String(contentsOfFile: log, encoding: .utf8))?.contains(#""step":10"#) != true {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(rankProcess(0, outputPath: fixture.path("cut")) != nil && rankProcess(1, outputPath: fixture.path("cut")) != nil)
        #expect(try runShell("ip link set vs2s-h1 down") == 0)
        let cutAt = Date()
        deadline = cutAt.addingTimeInterval(30)
        while Date() < deadline, rankProcess(0, outputPath: fixture.path("cut")) != nil || rankProcess(1, outputPath: fixture.path("cut")) != nil {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let stopped = Date().timeIntervalSince(cutAt)
        #expect(rankProcess(0, outputPath: fixture.path("cut")) == nil && rankProcess(1, outputPath: fixture.path("cut")) == nil,
                "a rank still runs \(stopped) s after the cut")
        #expect(stopped < 3 + 5, "the ranks took \(stopped) s to stop with a 3 s timeout")
        #expect(try runShell("ip link set vs2s-h1 up") == 0)
        let result = try run.wait()
        #expect(result.status != 0)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("seq2seq: error:") }
        for rank in 0..<2 {
            let lines = errors.filter { $0.hasPrefix("seq2seq: error: rank \(rank) of 2: no answer from the other ranks for 3 s") }
            #expect(lines.count == 1, "rank \(rank): \(result.stderr)")
        }
        #expect(errors.count == 2, "\(result.stderr)")

        let step = try lastCheckpointStep(log)
        var resume = arguments
        resume[resume.firstIndex(of: "--max-steps")! + 1] = String(step + 5)
        let resumed = try MPIRun.run(ranks: 2, options: options, resume + ["--resume"], in: fixture.root, label: "cut-resumed")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        var straight = resume + ["--accumulate", "2"]
        straight[straight.firstIndex(of: "--output")! + 1] = fixture.path("straight")
        let straightRun = try runSeq2seq(straight)
        #expect(straightRun.status == 0, "\(straightRun.stderrText)")
        #expect((try fixture.file("cut/last.safetensors")) == (try fixture.file("straight/last.safetensors")), "checkpoints differ")
    }

    /// Elastic resume: a checkpoint of 2 ranks continues as one process (which then accumulates
    /// the 2 parts), and one of `--accumulate 2` continues as 2 ranks; either way the run ends with
    /// the weights and checkpoint of the uninterrupted one, byte for byte.
    @Test func aCheckpointResumesWithAnotherSplitOfTheSameDataParts() throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        let straight = try runSeq2seq(fixture.trainArguments("straight", steps: 20) + ["--accumulate", "2"])
        #expect(straight.status == 0, "\(straight.stderrText)")
        // 2 ranks, then one process.
        let ranks = try MPIRun.run(ranks: 2, fixture.trainArguments("ranks-then-one", steps: 10), in: fixture.root, label: "first")
        #expect(ranks.status == 0, "\(ranks.stderr)")
        let one = try runSeq2seq(fixture.trainArguments("ranks-then-one", steps: 20) + ["--resume"])
        #expect(one.status == 0, "\(one.stderrText)")
        // One process with --accumulate 2, then 2 ranks.
        let accumulated = try runSeq2seq(fixture.trainArguments("one-then-ranks", steps: 10) + ["--accumulate", "2"])
        #expect(accumulated.status == 0, "\(accumulated.stderrText)")
        let two = try MPIRun.run(ranks: 2, fixture.trainArguments("one-then-ranks", steps: 20) + ["--resume"],
                                 in: fixture.root, label: "second")
        #expect(two.status == 0, "\(two.stderr)")
        for folder in ["ranks-then-one", "one-then-ranks"] {
            #expect((try fixture.file("\(folder)/best.safetensors")) == (try fixture.file("straight/best.safetensors")), "\(folder): weights differ")
            #expect((try fixture.file("\(folder)/last.safetensors")) == (try fixture.file("straight/last.safetensors")), "\(folder): checkpoints differ")
        }
    }

    /// With BPE codes and BPE-dropout, 2 ranks still give the weights and checkpoint of one process
    /// with `--accumulate 2`, byte for byte: each part segments with the same draws (part, epoch,
    /// index in the part) in both. Before, such runs stopped: the parts had no codes.
    @Test func ranksWithBPEDropoutGiveTheWeightsOfAccumulatingBitForBit() throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        let learn = try runSeq2seq(["bpe", "learn", "--input", fixture.path("train.en"), fixture.path("train.fr"),
                                    "--merges", "15", "--output", fixture.path("joint.bpe")])
        #expect(learn.status == 0, "\(learn.stderrText)")
        for (input, vocab) in [("train.en", "en.bpe.vocab"), ("train.fr", "fr.bpe.vocab")] {
            let result = try runSeq2seq(["vocab", "--input", fixture.path(input), "--output", fixture.path(vocab),
                                         "--bpe-codes", fixture.path("joint.bpe")])
            #expect(result.status == 0, "\(result.stderrText)")
        }
        func arguments(_ name: String, dropout: String = "0.3") -> [String] {
            var a = fixture.trainArguments(name, steps: 20)
            a[a.firstIndex(of: "--source-vocab")! + 1] = fixture.path("en.bpe.vocab")
            a[a.firstIndex(of: "--target-vocab")! + 1] = fixture.path("fr.bpe.vocab")
            return a + ["--bpe-codes", fixture.path("joint.bpe"), "--bpe-dropout", dropout]
        }
        let single = try runSeq2seq(arguments("accumulated") + ["--accumulate", "2"])
        #expect(single.status == 0, "\(single.stderrText)")
        #expect(!single.stderrText.contains("warning"), "\(single.stderrText)")
        let run = try MPIRun.run(ranks: 2, options: [], arguments("ranks"), in: fixture.root, label: "ranks")
        #expect(run.status == 0, "\(run.stderr)")
        #expect((try fixture.file("ranks/best.safetensors")) == (try fixture.file("accumulated/best.safetensors")), "weights differ")
        #expect((try fixture.file("ranks/last.safetensors")) == (try fixture.file("accumulated/last.safetensors")),
                "checkpoints differ")
        // Dropout was in effect: without it the weights differ.
        let plain = try runSeq2seq(arguments("plain", dropout: "0") + ["--accumulate", "2"])
        #expect(plain.status == 0, "\(plain.stderrText)")
        #expect((try fixture.file("plain/best.safetensors")) != (try fixture.file("accumulated/best.safetensors")))
    }

    /// Kill rank 1 with SIGKILL mid-run: the job ends non-zero within 60 s, with one error line,
    /// rank 0's, saying what happened; the last checkpoint loads, and `--resume` with both ranks
    /// continues from it to the weights of a run that was never interrupted.
    @Test func aKilledRankStopsTheOthersWithOneLineAndResumeContinues() throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        var arguments = fixture.trainArguments("killed", steps: 1_000_000) + ["--save-every", "5"]
        arguments[arguments.firstIndex(of: "--hidden")! + 1] = "64"   // slower steps: a kill lands mid-run
        let run = try MPIRun(ranks: 2, arguments, in: fixture.root, label: "killed")
        let log = fixture.path("killed/log.jsonl")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try? String(contentsOfFile: log, encoding: .utf8))?.contains(#""step":10"#) != true {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let victim = try #require(rankProcess(1, outputPath: fixture.path("killed")), "rank 1 not found")
        let killedAt = Date()
        kill(victim, SIGKILL)
        let result = try run.wait()
        let seconds = Date().timeIntervalSince(killedAt)
        #expect(result.status != 0)
        #expect(seconds < 60, "took \(seconds) s")
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("seq2seq: error:") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.contains("rank 0 stopped by a signal from mpirun") == true, "\(result.stderr)")
        #expect(errors.first?.contains("--resume") == true)

        // The checkpoint is whole: resume it with both ranks to 5 steps past it, and compare with
        // a run that went there straight.
        let checkpointStep = try lastCheckpointStep(log)
        let target = checkpointStep + 5
        var resume = arguments
        resume[resume.firstIndex(of: "--max-steps")! + 1] = String(target)
        let resumed = try MPIRun.run(ranks: 2, resume + ["--resume"], in: fixture.root, label: "resumed")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming \(fixture.path("killed")) at epoch"), "\(resumed.stderr)")
        var straight = resume
        straight[straight.firstIndex(of: "--output")! + 1] = fixture.path("straight")
        let straightRun = try MPIRun.run(ranks: 2, straight, in: fixture.root, label: "straight")
        #expect(straightRun.status == 0, "\(straightRun.stderr)")
        #expect((try fixture.file("killed/best.safetensors")) == (try fixture.file("straight/best.safetensors")))

        // Resuming with a split of the corpus other than 2 data parts is refused, naming the recorded one.
        let alone = try runSeq2seq(resume + ["--resume", "--accumulate", "3"])
        expectOneLineError(alone, mentions: [fixture.path("killed"), "resume it with mpirun -np 2", "N·K = 2"])
    }

    /// A rank that hangs without dying (SIGSTOP): mpirun does not notice, so the other rank's
    /// watchdog does: after `--mpi-timeout 3` it says so in one line and the job ends non-zero.
    @Test func aHungRankStopsTheJobAfterTheTimeout() throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        var arguments = fixture.trainArguments("hung", steps: 1_000_000) + ["--save-every", "5", "--mpi-timeout", "3"]
        arguments[arguments.firstIndex(of: "--hidden")! + 1] = "64"
        let run = try MPIRun(ranks: 2, arguments, in: fixture.root, label: "hung")
        let log = fixture.path("hung/log.jsonl")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try? String(contentsOfFile: log, encoding: .utf8))?.contains(#""step":10"#) != true {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let victim = try #require(rankProcess(1, outputPath: fixture.path("hung")), "rank 1 not found")
        let stoppedAt = Date()
        kill(victim, SIGSTOP)
        let result = try run.wait()
        let seconds = Date().timeIntervalSince(stoppedAt)
        #expect(result.status != 0)
        #expect(seconds < 60, "took \(seconds) s")
        let rankZero = result.stderr.split(separator: "\n").filter { $0.hasPrefix("seq2seq: error: rank 0 of 2: ") }
        #expect(rankZero.count == 1, "\(result.stderr)")
        #expect(rankZero.first?.contains("no answer from the other ranks for 3 s") == true, "\(result.stderr)")
        #expect(rankZero.first?.contains("--resume") == true)
        // The last checkpoint is whole: both ranks resume from it and train on.
        let step = try lastCheckpointStep(log)
        var resume = arguments
        resume[resume.firstIndex(of: "--max-steps")! + 1] = String(step + 2)
        let resumed = try MPIRun.run(ranks: 2, resume + ["--resume"], in: fixture.root, label: "hung-resumed")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("done: \(step + 2) steps"), "\(resumed.stderr)")
    }

    /// Two ranks started with different model sizes: refused on one line before anything is
    /// trained or written, naming the rank and what differs.
    @Test func ranksWithDifferentArgumentsAreRefusedBeforeTraining() throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        let first = fixture.trainArguments("mismatch", steps: 10)
        var second = first
        second[second.firstIndex(of: "--hidden")! + 1] = "24"
        let result = try MPIRun.run(eachRank: [first, second], in: fixture.root, label: "mismatch")
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("seq2seq: error: the 2 MPI ranks must train the same model"), "\(result.stderr)")
        #expect(result.stderr.contains("rank 1: model size and training options"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.path("mismatch")))
    }

    /// One rank with the overlapped exchange and one without would call their collectives in
    /// different orders and hang: refused on one line before training, naming the option.
    @Test func ranksThatExchangeDifferentlyAreRefusedBeforeTraining() throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        let first = fixture.trainArguments("exchange", steps: 10)
        let result = try MPIRun.run(eachRank: [first, first + ["--no-overlap-exchange"]], in: fixture.root, label: "exchange")
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("rank 1: the gradient exchange (--no-overlap-exchange)"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.path("exchange")))
    }

    /// More ranks than shards: every rank stops on one line that says how to re-shard.
    @Test func moreRanksThanShardsAreRefusedOnOneLine() throws {
        let fixture = try MPIFixture()
        defer { fixture.cleanUp() }
        var arguments = fixture.trainArguments("toomany", steps: 10)
        arguments += ["--accumulate", "3"]   // 3 ranks × 3 = 9 parts of 8 shards
        let result = try MPIRun.run(ranks: 3, arguments, in: fixture.root, label: "toomany")
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("8 shard(s)") && result.stderr.contains("--pairs-per-shard"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.path("toomany")))
    }
}

/// `bench allreduce` times the exchange only under mpirun and says so otherwise.
@Suite(.serialized, .enabled(if: mpirun != nil, "mpirun is not installed (scripts/setup.sh installs Open MPI)"))
struct BenchAllreduceCLITests {
    @Test func underMpirunRankZeroReportsBothExchanges() throws {
        let dir = makeTemporaryDirectory("bench-allreduce")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try MPIRun.run(ranks: 2, ["bench", "allreduce", "--floats", "1000", "--repeat", "3"], in: dir, label: "bench")
        #expect(run.status == 0, "\(run.stderr)")
        let output = String(decoding: try Data(contentsOf: dir.appendingPathComponent("bench.stdout")), as: UTF8.self)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 3, "\(output)")
        #expect(lines.first?.hasPrefix("2 ranks on ") == true && lines.first?.contains("(1000 floats), 3 exchanges") == true)
        #expect(lines.dropFirst().first?.hasPrefix("fixed-order sum (training): median ") == true, "\(output)")
        #expect(lines.last?.hasPrefix("MPI_Allreduce (Open MPI's order): median ") == true, "\(output)")
    }

    @Test func withoutMpirunItIsRefusedOnOneLine() throws {
        expectOneLineError(try runSeq2seq(["bench", "allreduce"]), mentions: ["run it under mpirun"])
    }
}

/// The pid of the `seq2seq` process of MPI rank `rank` whose command line names `outputPath`.
private func rankProcess(_ rank: Int, outputPath: String) -> pid_t? {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for entry in entries {
        guard let pid = pid_t(entry),
              let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
        let arguments = commandLine.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if arguments.first?.hasSuffix("seq2seq") == true, arguments.contains(outputPath),
           variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") {
            return pid
        }
    }
    return nil
}

/// The step of the last `checkpoint` line of a log.jsonl.
private func lastCheckpointStep(_ path: String) throws -> Int {
    struct Line: Decodable { var event: String; var step: Int? }
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    let steps = lines.compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        .filter { $0.event == "checkpoint" }.compactMap(\.step)
    return try #require(steps.last)
}
