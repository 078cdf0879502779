import Foundation
import Model
import ModelFolder
import Testing
import Training
import Translation

/// `train --keep-checkpoints K` and `seq2seq average`'s element-wise mean of the last K.
@Suite(.serialized) struct CheckpointAverageTests {
    /// A model trained 10 steps with a checkpoint every 2 steps, keeping the last 3 numbered ones.
    static func trainKeeping(_ fixture: TrainingFixture, name: String = "m", hidden: Int = 12) throws -> ModelDirectory {
        var options = fixture.options(maxSteps: 10)
        options.hidden = hidden
        options.saveEvery = 2
        options.keepCheckpoints = 3
        let directory = try fixture.makeDirectory(name, options)
        _ = try Trainer(directory: directory, shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        return directory
    }

    @Test func keepCheckpointsKeepsTheLastKNumberedWeightFiles() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let directory = try Self.trainKeeping(fixture)
        #expect(directory.numberedCheckpoints().map(\.step) == [6, 8, 10])
        // Each holds the weights of its step: the last equals last.safetensors' weights.
        let last = try CheckpointFile(path: directory.lastCheckpointPath, config: directory.config.model)
        let numbered = try CheckpointFile(path: directory.numberedCheckpointPath(step: 10), config: directory.config.model)
        #expect(last.weights.map(\.values) == numbered.weights.map(\.values))
    }

    /// The averaged folder's best.safetensors is the mean of the last K numbered files, summed in
    /// ascending step order in Double and rounded once, and `translate` loads the folder.
    @Test func averageIsTheElementwiseMeanOfTheLastKCheckpoints() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let directory = try Self.trainKeeping(fixture)
        let result = try CheckpointAverage.average(model: directory.path, last: 2, output: fixture.path("avg"))
        #expect(result.steps == [8, 10])
        let files = try [8, 10].map { try CheckpointFile(path: directory.numberedCheckpointPath(step: $0), config: directory.config.model) }
        let averaged = try SavedModel(opening: fixture.path("avg")).readCheckpoint(.best)
        for (t, tensor) in averaged.weights.enumerated() {
            let expected = (0..<tensor.values.count).map { i in
                Float((Double(files[0].weights[t].values[i]) + Double(files[1].weights[t].values[i])) / 2)
            }
            #expect(tensor.values == expected, "\(tensor.name)")
        }
        #expect(averaged.weights.map(\.values) != files[1].weights.map(\.values))
        let translator = try Translator(directory: SavedModel(opening: fixture.path("avg")))
        #expect(translator.translate(["one two"]).count == 1)
        #expect(!FileManager.default.fileExists(atPath: fixture.path("avg/last.safetensors")))
    }

    @Test func averagingMoreCheckpointsThanKeptIsRefusedNamingTheFolder() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let directory = try Self.trainKeeping(fixture)
        #expect { try CheckpointAverage.average(model: directory.path, last: 4, output: fixture.path("avg")) } throws: { error in
            "\(error)".contains(directory.path) && "\(error)".contains("fewer than --last 4")
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.path("avg")))
    }

    /// A checkpoint whose tensors do not fit the folder's config (here: one of a wider model
    /// copied in) is named, and no output folder is left behind.
    @Test func aMismatchedCheckpointIsNamedAndNothingIsWritten() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let directory = try Self.trainKeeping(fixture)
        let wider = try Self.trainKeeping(fixture, name: "wide", hidden: 16)
        let intruder = directory.numberedCheckpointPath(step: 12)
        try FileManager.default.copyItem(atPath: wider.numberedCheckpointPath(step: 10), toPath: intruder)
        #expect { try CheckpointAverage.average(model: directory.path, last: 3, output: fixture.path("avg")) } throws: { error in
            "\(error)".contains(intruder)
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.path("avg")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root.path).allSatisfy { !$0.hasPrefix(".avg") })
    }

    @Test func anExistingOutputIsRefusedAndLeftAlone() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let directory = try Self.trainKeeping(fixture)
        #expect { try CheckpointAverage.average(model: directory.path, last: 2, output: directory.path) } throws: { error in
            "\(error)".contains(directory.path)
        }
        #expect(directory.numberedCheckpoints().map(\.step) == [6, 8, 10])
    }
}
