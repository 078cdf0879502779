import Foundation
import Kernels
import Model
import ModelFolder
import RunLog
import Testing
import Training

@Suite(.serialized) struct TrainerTests {
    @Test func learningRateFollowsThePaperSchedule() {
        var o = TrainingOptions()
        o.optimizer = .sgd
        #expect(o.learningRate(atEpochProgress: 0) == 0.7)
        #expect(o.learningRate(atEpochProgress: 4.99) == 0.7)
        #expect(o.learningRate(atEpochProgress: 5.0) == 0.35)
        #expect(o.learningRate(atEpochProgress: 5.49) == 0.35)
        #expect(o.learningRate(atEpochProgress: 5.5) == 0.175)
        o.optimizer = .adam
        #expect(o.learningRate(atEpochProgress: 9) == 1e-3)
    }

    @Test func sameSeedAndDataGiveIdenticalWeights() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var weights: [[Float]] = []
        for name in ["a", "b"] {
            let trainer = try Trainer(directory: fixture.makeDirectory(name, fixture.options(maxSteps: 10)),
                                      shards: fixture.shards, validation: nil, resume: false, progress: quiet)
            _ = try trainer.run()
            weights.append(Array(trainer.model.parameters.values))
        }
        #expect(weights[0] == weights[1])
    }

    /// `--log-gradient-flow` writes `gradient_flow` lines (one value per source position of the
    /// longest sentence seen) and ends with the same weights, bit for bit, as a run without it; the
    /// same under `--accumulate 2` (one training loop for both).
    @Test(arguments: [1, 2])
    func loggingTheGradientFlowKeepsTheWeightsAndWritesOneLinePerLogInterval(accumulate: Int) throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: 6)
        options.logEvery = 2
        if accumulate > 1 { options.accumulate = accumulate }
        var weights: [[Float]] = []
        for (name, flow) in [("plain", false), ("flow", true)] {
            let trainer = try Trainer(directory: fixture.makeDirectory(name, options), shards: fixture.shards,
                                      validation: nil, resume: false, progress: quiet)
            trainer.logsGradientFlow = flow
            _ = try trainer.run()
            weights.append(Array(trainer.model.parameters.values))
        }
        #expect(weights[0] == weights[1])
        let lines = try String(contentsOfFile: fixture.path("flow/log.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(LogLine.self, from: Data($0.utf8)) }
        let flow = lines.filter { $0.event == "gradient_flow" }
        #expect(flow.map(\.step) == [2, 4, 6])
        #expect(flow.allSatisfy { ($0.gradientByPosition?.count ?? 0) > 1 && $0.gradientByPosition!.allSatisfy { $0 > 0 } })
        let plain = try String(contentsOfFile: fixture.path("plain/log.jsonl"), encoding: .utf8)
        #expect(!plain.contains("gradient_flow"))
    }

    /// Interrupt after 5 steps (mid-epoch, mid-window), resume, and finish: the weights must equal
    /// those of a run that was never interrupted, bit for bit.
    @Test func resumedRunEndsWithTheSameWeightsAsAnUninterruptedOne() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let total = 13   // 64 pairs / 8 per batch = 8 steps per epoch: crosses an epoch boundary
        let straight = try Trainer(directory: fixture.makeDirectory("straight", fixture.options(maxSteps: total)),
                                   shards: fixture.shards, validation: fixture.validation(), resume: false, progress: quiet)
        _ = try straight.run()

        let first = try Trainer(directory: fixture.makeDirectory("resumed", fixture.options(maxSteps: 5)),
                                shards: fixture.shards, validation: fixture.validation(), resume: false, progress: quiet)
        _ = try first.run()
        #expect(first.state.step == 5)
        let second = try Trainer(directory: fixture.makeDirectory("resumed", fixture.options(maxSteps: total)),
                                 shards: fixture.shards, validation: fixture.validation(), resume: true, progress: quiet)
        #expect(second.state.step == 5)
        _ = try second.run()
        #expect(second.state.step == total)
        #expect(Array(second.model.parameters.values) == Array(straight.model.parameters.values))
    }

    /// Wall-clock time is kept out of the checkpoint files: two identical runs write the same bytes.
    @Test func identicalRunsWriteIdenticalCheckpointFiles() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        for name in ["a", "b"] {
            _ = try Trainer(directory: fixture.makeDirectory(name, fixture.options(maxSteps: 9)), shards: fixture.shards,
                            validation: fixture.validation(), resume: false, progress: quiet).run()
        }
        for file in ["last.safetensors", "best.safetensors"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: fixture.path("a/" + file)))
            let b = try Data(contentsOf: URL(fileURLWithPath: fixture.path("b/" + file)))
            #expect(!a.isEmpty && a == b, "\(file) differs between identical runs")
        }
    }

    /// Every start and resume writes a `start` line naming the GEMM backend in use, its
    /// instruction set, the CPU and the thread budget, at the step it starts from.
    @Test(arguments: [GemmBackend.reference, .onednn])
    func logNamesTheBackendAndCPUOfEachStart(_ backend: GemmBackend) throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        try GemmBackend.withBackend(backend) {
            _ = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 2)),
                            shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
            _ = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 4)), shards: fixture.shards,
                            validation: nil, resume: true, progress: quiet).run()
        }
        let starts = try String(contentsOfFile: fixture.path("m/log.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(LogLine.self, from: Data($0.utf8)) }.filter { $0.event == "start" }
        #expect(starts.count == 2)
        #expect(starts.first?.step == 0)
        for start in starts {
            #expect(start.gemm == backend.rawValue && start.gemmInstructionSet == backend.instructionSet)
            #expect(start.cpu == CPUInfo.current.modelName && start.cpuInstructionSet == CPUInfo.current.vectorISA)
            #expect((start.threads ?? 0) >= 1)
        }
    }

    /// A resumed run takes its training time from the log's `checkpoint` line of the checkpoint's
    /// step, so `--max-minutes` still counts the time of every sitting.
    @Test func resumeTakesTheTrainingTimeFromTheLog() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let first = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 3)),
                                shards: fixture.shards, validation: nil, resume: false, progress: quiet)
        _ = try first.run()
        let lines = try String(contentsOfFile: fixture.path("m/log.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(LogLine.self, from: Data($0.utf8)) }
        let checkpoint = try #require(lines.last { $0.event == "checkpoint" })
        #expect(checkpoint.step == 3 && checkpoint.seconds == first.state.trainingSeconds && first.state.trainingSeconds > 0)
        // Pretend the first sitting took 100 minutes: the resumed run starts from that time.
        let log = fixture.path("m/log.jsonl")
        try (try String(contentsOfFile: log, encoding: .utf8) + #"{"event":"checkpoint","seconds":6000,"step":3}"# + "\n")
            .write(toFile: log, atomically: true, encoding: .utf8)
        let resumed = try Trainer(directory: ModelDirectory(opening: fixture.path("m")), shards: fixture.shards,
                                  validation: nil, resume: true, progress: quiet)
        #expect(resumed.state.step == 3 && resumed.state.trainingSeconds == 6000)
    }

    @Test func trainingStateFromAnOlderCheckpointStillDecodesButTimeIsNoLongerWritten() throws {
        // A state as written before timing moved to log.jsonl (keys sorted, pretty-printed).
        let old = """
            {
              "bestStep" : 8,
              "bestValidPerplexity" : 20.5,
              "clippedSteps" : 2,
              "epoch" : 1,
              "epochValidPerplexities" : [
                20.5
              ],
              "pairsInEpoch" : 0,
              "skippedBatches" : 0,
              "step" : 8,
              "trainingSeconds" : 12.25
            }
            """
        let state = try JSONDecoder().decode(TrainingState.self, from: Data(old.utf8))
        #expect(state.step == 8 && state.bestStep == 8 && state.epochValidPerplexities == [20.5] && state.trainingSeconds == 12.25)
        let encoded = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        #expect(!encoded.contains("trainingSeconds") && encoded.contains("\"bestValidPerplexity\":20.5"))
    }

    @Test func stopRequestCheckpointsAndResumeContinues() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let trainer = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: nil, epochs: 2)),
                                  shards: fixture.shards, validation: nil, resume: false, progress: quiet)
        trainer.shouldStop = { [unowned trainer] in trainer.state.step >= 3 }
        let summary = try trainer.run()
        #expect(summary.interrupted)
        let reopened = try ModelDirectory(opening: fixture.path("m"))
        let resumed = try Trainer(directory: reopened, shards: fixture.shards, validation: nil, resume: true, progress: quiet)
        #expect(resumed.state.step == 3)
        #expect(Array(resumed.model.parameters.values) == Array(trainer.model.parameters.values))
    }

    @Test func validationPerplexityFallsWhileTraining() throws {
        let fixture = try TrainingFixture(pairs: 96)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: nil, epochs: 4)
        options.dropout = 0
        let trainer = try Trainer(directory: fixture.makeDirectory("m", options), shards: fixture.shards,
                                  validation: fixture.validation(), resume: false, progress: quiet)
        let summary = try trainer.run()
        let ppl = summary.state.epochValidPerplexities
        #expect(ppl.count == 4)
        #expect(ppl.last! < ppl.first!)
        #expect(FileManager.default.fileExists(atPath: fixture.path("m/best.safetensors")))
        let log = try String(contentsOfFile: fixture.path("m/log.jsonl"), encoding: .utf8)
        #expect(log.contains("\"valid_ppl\""))
    }
}

@Suite struct ModelDirectoryTests {
    @Test func anInvalidNetworkConfigIsRefusedBeforeTheFolderIsCreated() throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: 1)
        options.hidden = 100_000
        #expect {
            _ = try fixture.makeDirectory("m", options)
        } throws: { error in
            "\(error)".contains("config.json") && "\(error)".contains("hidden") && !"\(error)".contains("\n")
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.path("m")))
    }

    /// The training state lives in the metadata, outside the checksum: counters that would
    /// overflow when training goes on are refused with the file's name.
    @Test(arguments: [("step", "9223372036854775807"), ("epoch", "-1"), ("clippedSteps", "281474976710657")])
    func aTrainingStateCounterOutOfRangeIsRefused(key: String, value: String) throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        _ = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 2)),
                        shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        let path = fixture.path("m/last.safetensors")
        let decoded = try SafeTensors.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        var metadata = decoded.metadata
        let state = try #require(metadata["state"])
        let edited = state.replacing(try Regex("\"\(key)\" : [0-9]+"), with: "\"\(key)\" : \(value)")
        #expect(edited != state)
        metadata["state"] = edited
        try Data(SafeTensors.encode(arrays: decoded.tensors, metadata: metadata)).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try Trainer(directory: ModelDirectory(opening: fixture.path("m")), shards: fixture.shards,
                            validation: nil, resume: true, progress: quiet)
        } throws: { error in
            "\(error)".hasPrefix(path + ": ") && "\(error)".contains(key) && !"\(error)".contains("\n")
        }
    }

    @Test func aCorruptCheckpointStopsResumeWithTheFileName() throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        _ = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 2)),
                        shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        let path = fixture.path("m/last.safetensors")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 5] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try Trainer(directory: ModelDirectory(opening: fixture.path("m")), shards: fixture.shards,
                            validation: nil, resume: true, progress: quiet)
        } throws: { error in
            "\(error)".hasPrefix(path + ": ") && "\(error)".contains("checksum")
        }
    }

    /// A hand-edited training section (a batch size of 0 or below) is one error naming config.json
    /// when the folder is opened, not a trap when the validation set is batched.
    @Test(arguments: [0, -3])
    func badTrainingOptionsInConfigAreRefusedNamingTheFile(batchSize: Int) throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        _ = try fixture.makeDirectory("m", fixture.options(maxSteps: 1))
        let configPath = fixture.path("m/config.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any])
        var training = try #require(object["training"] as? [String: Any])
        training["batchSize"] = batchSize
        object["training"] = training
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: configPath))
        #expect {
            _ = try ModelDirectory(opening: fixture.path("m"))
        } throws: { error in
            "\(error)".hasPrefix(configPath + ": ") && "\(error)".contains("batch") && !"\(error)".contains("\n")
        }
    }

    @Test func foreignOrFutureConfigIsRejectedWithTheFileName() throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        _ = try fixture.makeDirectory("m", fixture.options(maxSteps: 1))
        let configPath = fixture.path("m/config.json")
        var text = try String(contentsOfFile: configPath, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 99")
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        #expect {
            _ = try ModelDirectory(opening: fixture.path("m"))
        } throws: { error in
            "\(error)".contains("config.json") && "\(error)".contains("version 99")
        }
    }

    @Test func truncatedCheckpointIsAClearError() throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        let trainer = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 1)),
                                  shards: fixture.shards, validation: nil, resume: false, progress: quiet)
        _ = try trainer.run()
        let path = fixture.path("m/last.safetensors")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        let directory = try ModelDirectory(opening: fixture.path("m"))
        let model = Seq2SeqModel(config: directory.config.model, seed: 0)
        #expect {
            try directory.loadWeights(into: model, choice: .last)
        } throws: { error in
            "\(error)".contains("last.safetensors")
        }
    }
}
