import Foundation
import Model
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

    @Test func stopRequestCheckpointsAndResumeContinues() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let trainer = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: nil, epochs: 2)),
                                  shards: fixture.shards, validation: nil, resume: false, progress: quiet)
        var polls = 0
        trainer.shouldStop = { polls += 1; return polls == 3 }
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
