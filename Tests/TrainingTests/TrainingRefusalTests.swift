import Corpus
import Foundation
import Model
import Testing
import TestSupport
@testable import Training

/// What the trainer refuses, what a finished run does when resumed, and what a failed start
/// leaves behind.
@Suite(.serialized) struct TrainingRefusalTests {
    /// Every file of a folder and its bytes.
    func snapshot(_ folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        }
        return files
    }

    @Test func finishedRunResumedWithTheSameLimitsWritesNothing() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let options = fixture.options(maxSteps: 5)
        _ = try Trainer(directory: fixture.makeDirectory("m", options), shards: fixture.shards,
                        validation: fixture.validation(), resume: false, progress: quiet).run()
        let before = try snapshot(fixture.path("m"))
        #expect(before.keys.sorted() == ["best.safetensors", "config.json", "last.safetensors", "log.jsonl",
                                         "source.vocab", "target.vocab"])
        for _ in 0..<2 {
            let again = try Trainer(directory: ModelDirectory(opening: fixture.path("m")), shards: fixture.shards,
                                    validation: fixture.validation(), resume: true, progress: quiet)
            #expect(again.isFinished)
            let summary = try again.run()
            #expect(summary.alreadyFinished && !summary.interrupted && summary.state.step == 5)
            #expect(try snapshot(fixture.path("m")) == before)
        }
    }

    @Test func finishedByEpochsResumedWritesNothingAndMoreEpochsContinue() throws {
        let fixture = try TrainingFixture(pairs: 16, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: nil, epochs: 1)
        _ = try Trainer(directory: fixture.makeDirectory("m", options), shards: fixture.shards,
                        validation: fixture.validation(), resume: false, progress: quiet).run()
        let before = try snapshot(fixture.path("m"))
        let again = try Trainer(directory: ModelDirectory(opening: fixture.path("m")), shards: fixture.shards,
                                validation: fixture.validation(), resume: true, progress: quiet)
        #expect(try again.run().alreadyFinished)
        #expect(try snapshot(fixture.path("m")) == before)

        options.epochs = 2
        let opened = try ModelDirectory(opening: fixture.path("m"))
        var config = opened.config
        config.training = options
        let more = try Trainer(directory: opened.replacingConfig(config), shards: fixture.shards,
                               validation: fixture.validation(), resume: true, progress: quiet)
        #expect(!more.isFinished)
        let summary = try more.run()
        #expect(!summary.alreadyFinished && summary.state.epoch == 2 && summary.state.step == 4)
    }

    @Test func shardFolderWithNoPairsIsRefusedNamingIt() throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        // What an older `seq2seq shard` wrote for input with no usable pair.
        let empty = fixture.path("empty-shards")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        try Data(#"""
            {"checksumAlgorithm": "crc32", "command": "old", "compressionLevel": 3, "format": "seq2seq-shards",
             "formatVersion": 1, "shards": [], "skippedEmpty": 2, "skippedTooLong": 0, "totalCompressedBytes": 0,
             "totalPairs": 0, "totalTextBytes": 0, "totalUncompressedBytes": 0}
            """#.utf8).write(to: URL(fileURLWithPath: empty + "/manifest.json"))
        let shards = try ShardSet(directory: empty)
        #expect {
            _ = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 1)), shards: shards,
                            validation: nil, resume: false, progress: quiet)
        } throws: { error in
            "\(error)" == "\(empty): the shard folder holds no pairs; nothing to train on"
        }
    }

    @Test func corpusWhosePairsAreAllFilteredOutIsRefusedBeforeAnyCheckpoint() throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: nil, epochs: 2)
        options.maxLength = 1  // every sample sentence has more words than this
        let trainer = try Trainer(directory: fixture.makeDirectory("m", options), shards: fixture.shards,
                                  validation: fixture.validation(), resume: false, progress: quiet)
        #expect {
            _ = try trainer.run()
        } throws: { error in
            "\(error)".hasPrefix("\(fixture.shards.directory): no training pair is usable")
        }
        #expect(try snapshot(fixture.path("m")).keys.sorted() == ["config.json", "source.vocab", "target.vocab"])
    }

    /// (source lines, target lines, the file the error must name: "source" or "target").
    @Test(arguments: [
        ("", "", "source"),
        ("\n\n", "\n\n", "source"),
        ("  \n\t\n", "un deux\ntrois\n", "source"),
        ("one two\nthree\n", "\n \n", "target"),
        ("one\n\n", "\nun\n", "source"),
    ])
    func validationSetWithNoUsablePairIsRefusedNamingTheFile(_ source: String, _ target: String, _ named: String) throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        let sourcePath = fixture.path("v.en"), targetPath = fixture.path("v.fr")
        try Data(source.utf8).write(to: URL(fileURLWithPath: sourcePath))
        try Data(target.utf8).write(to: URL(fileURLWithPath: targetPath))
        let preparer = try PairPreparer(sourceVocabulary: fixture.source, targetVocabulary: fixture.target, maxLength: nil)
        #expect {
            _ = try ValidationSet(sourcePath: sourcePath, targetPath: targetPath, preparer: preparer, batchSize: 8)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix((named == "source" ? sourcePath : targetPath) + ": ")
                && (text.contains("no usable validation pair") || text.contains("the validation file is empty"))
                && !text.contains("\n")
        }
    }

    /// A log line that cannot be written (here: `log.jsonl` leads to /dev/full, which answers
    /// every write with "no space left on device") stops training with an error naming the log,
    /// where `FileHandle.write(_:)` used to trap.
    @Test func fullDiskWhileLoggingIsAnErrorNamingTheLog() throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: 3)
        options.logEvery = 1
        let directory = try fixture.makeDirectory("m", options)
        try FileManager.default.createSymbolicLink(atPath: directory.logPath, withDestinationPath: "/dev/full")
        let trainer = try Trainer(directory: directory, shards: fixture.shards, validation: nil, resume: false, progress: quiet)
        #expect {
            _ = try trainer.run()
        } throws: { error in
            "\(error)".hasPrefix("\(directory.logPath): cannot append to the log")
        }
    }

    @Test func parameterCountMatchesTheModelAndOverflowIsNil() throws {
        var options = TrainingOptions()
        options.embedding = 8; options.hidden = 12; options.layers = 3
        let config = options.modelConfig(sourceVocabularySize: 17, targetVocabularySize: 23)
        #expect(options.parameterCount(sourceVocabularySize: 17, targetVocabularySize: 23)
                == Seq2SeqModel(config: config, seed: 1).parameters.count)
        options.hidden = Int.max / 2
        #expect(options.parameterCount(sourceVocabularySize: 17, targetVocabularySize: 23) == nil)
    }

    @Test func modelTooLargeForMemoryIsRefusedBeforeAllocating() throws {
        var options = TrainingOptions()
        options.optimizer = .adam
        // 2×256 LSTM, E=256, V=1000/1000: about 2.9M parameters, ×16 bytes with Adam.
        let count = try #require(options.parameterCount(sourceVocabularySize: 1000, targetVocabularySize: 1000))
        try options.checkMemory(sourceVocabularySize: 1000, targetVocabularySize: 1000, memoryBytes: UInt64(count * 16))
        #expect {
            try options.checkMemory(sourceVocabularySize: 1000, targetVocabularySize: 1000, memoryBytes: UInt64(count * 16 - 1))
        } throws: { error in
            "\(error)".contains("lower --hidden, --embedding or --layers")
        }
        options.hidden = 1 << 40
        #expect(throws: TrainingError.self) {
            try options.checkMemory(sourceVocabularySize: 1000, targetVocabularySize: 1000)
        }
    }

    struct InjectedFailure: Error {}

    @Test func failedStartOfANewModelFolderLeavesNothing() throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        let list = { try FileManager.default.contentsOfDirectory(atPath: fixture.root.path).sorted() }
        let before = try list()
        let options = fixture.options(maxSteps: 1)
        let config = ModelFolderConfig(
            toolVersion: "test",
            model: options.modelConfig(sourceVocabularySize: fixture.source.count, targetVocabularySize: fixture.target.count),
            training: options, sourceTokenizer: fixture.source.options, targetTokenizer: fixture.target.options)
        #expect(throws: InjectedFailure.self) {
            _ = try ModelDirectory.createStaged(at: fixture.path("models/new/m"), config: config,
                                                sourceVocabulary: fixture.source, targetVocabulary: fixture.target,
                                                beforeRename: { throw InjectedFailure() })
        }
        // No model folder, no hidden staging folder, no parent folders made for it.
        #expect(try list() == before)

        let made = try ModelDirectory.createStaged(at: fixture.path("models/new/m"), config: config,
                                                   sourceVocabulary: fixture.source, targetVocabulary: fixture.target)
        #expect(made.path == fixture.path("models/new/m"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.path("models/new")) == ["m"])
        #expect(ModelFolderKind.inspect(made.path) == .untrainedModel)
    }

    @Test func outputKindsAreToldApart() throws {
        let fixture = try TrainingFixture(pairs: 16)
        defer { fixture.cleanUp() }
        #expect(ModelFolderKind.inspect(fixture.path("nothing")) == .absent)
        try FileManager.default.createDirectory(atPath: fixture.path("empty"), withIntermediateDirectories: false)
        #expect(ModelFolderKind.inspect(fixture.path("empty")) == .absent)
        #expect(ModelFolderKind.inspect(fixture.path("train.en")) == .other(reason: "exists and is not a folder"))
        #expect(ModelFolderKind.inspect(fixture.shards.directory) == .other(reason: "exists and is not a seq2seq model folder"))
        _ = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 1)), shards: fixture.shards,
                        validation: nil, resume: false, progress: quiet).run()
        #expect(ModelFolderKind.inspect(fixture.path("m")) == .trainedModel)
        // Only best.safetensors left (a shipped model): still trained; with no weights at all, untrained.
        try FileManager.default.removeItem(atPath: fixture.path("m/last.safetensors"))
        #expect(ModelFolderKind.inspect(fixture.path("m")) == .trainedModel)
        try? FileManager.default.removeItem(atPath: fixture.path("m/best.safetensors"))
        #expect(ModelFolderKind.inspect(fixture.path("m")) == .untrainedModel)
    }
}
