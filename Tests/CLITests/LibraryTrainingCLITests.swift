import Foundation
import Seq2Seq
import Testing
import TestSupport

/// Training through the `Seq2Seq` library (``ModelTraining``) against `seq2seq train` on the
/// pipeline's tiny corpus: the same folder bit for bit, the run's records, a stop and an exact
/// resume, and refusals as typed errors that leave nothing behind.
@Suite("training from code")
struct LibraryTrainingCLITests {
    /// The options of ``PipelineFixture/trainArguments(shards:sourceVocab:targetVocab:validSource:validTarget:output:maxSteps:)``.
    static func run(_ p: PipelineFixture, output: URL) -> ModelTraining {
        var options = TrainingOptions()
        (options.layers, options.hidden, options.embedding, options.batchSize) = (1, 16, 8, 8)
        (options.maxSteps, options.optimizer, options.learningRate, options.logEvery, options.seed) = (30, .adam, 0.05, 10, 7)
        var run = ModelTraining(shards: URL(fileURLWithPath: p.shards), output: output,
                                sourceVocabulary: URL(fileURLWithPath: p.sourceVocab),
                                targetVocabulary: URL(fileURLWithPath: p.targetVocab), options: options)
        run.validationSource = URL(fileURLWithPath: p.validSource)
        run.validationTarget = URL(fileURLWithPath: p.validTarget)
        run.threads = 1
        return run
    }

    static func sameFiles(_ a: String, _ b: String) throws -> Bool {
        try ["config.json", "last.safetensors", "best.safetensors", "source.vocab", "target.vocab"].allSatisfy {
            try Data(contentsOf: URL(fileURLWithPath: "\(a)/\($0)")) == Data(contentsOf: URL(fileURLWithPath: "\(b)/\($0)"))
        }
    }

    @Test func trainingFromCodeWritesWhatTrainWritesAndReportsEachRecord() async throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("library-training")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model")
        var events: [TrainingEvent] = []
        for try await event in Self.run(p, output: output).start().events { events.append(event) }
        #expect(try Self.sameFiles(output.path, p.model), "the library's folder differs from train's")
        let progress = events.compactMap { if case .progress(let f) = $0 { f.step } else { nil } }
        #expect(progress == [10, 20, 30])
        let validations = events.compactMap { if case .validation(let v) = $0 { v } else { nil } }
        #expect(!validations.isEmpty && validations.allSatisfy { $0.perplexity.isFinite && $0.step <= 30 },
                "\(validations)")
        #expect(validations.contains { $0.isBest })
        #expect(events.contains { if case .checkpoint(step: 30) = $0 { true } else { false } })
        guard case .finished(let outcome) = events.last else { Issue.record("no finished record last"); return }
        #expect(outcome.steps == 30 && !outcome.interrupted && !outcome.alreadyFinished && outcome.bestPerplexity != nil)
    }

    /// stop() ends the run at its next step with a checkpoint (interrupted); resuming it from code
    /// to 5 steps past it gives the weights and checkpoint of `train` run straight there, and a
    /// finished run resumed again trains nothing. (The first run has no limit to speak of: the records
    /// reach the reader after the steps, so on a loaded machine a near limit is reached before the stop.)
    @Test func aStoppedRunResumesExactly() async throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("library-training-stop")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model")
        var unlimited = Self.run(p, output: output)
        (unlimited.options.maxSteps, unlimited.options.epochs) = (1_000_000, 1_000_000)
        let first = unlimited.start()
        var stopped: TrainingOutcome?
        for try await event in first.events {
            if case .progress = event { first.stop() }
            if case .finished(let outcome) = event { stopped = outcome }
        }
        let stoppedAt = try #require(stopped?.steps)
        #expect(stopped?.interrupted == true && stoppedAt >= 10, "\(String(describing: stopped))")
        var resumed = Self.run(p, output: output)
        resumed.resume = true
        resumed.maxSteps = stoppedAt + 5
        var last: TrainingOutcome?
        for try await event in resumed.start().events { if case .finished(let outcome) = event { last = outcome } }
        #expect(last?.steps == stoppedAt + 5 && last?.interrupted == false)
        let straight = dir.appendingPathComponent("straight").path
        let cli = try runSeq2seq(p.trainArguments(output: straight, maxSteps: stoppedAt + 5) + ["--epochs", "1000000"])
        #expect(cli.status == 0, "\(cli.stderrText)")
        for file in ["last.safetensors", "best.safetensors"] {
            #expect(try Data(contentsOf: output.appendingPathComponent(file)) == Data(contentsOf: URL(fileURLWithPath: "\(straight)/\(file)")),
                    "\(file): stopped at \(stoppedAt) and resumed differs from train's straight run")
        }
        var again: TrainingOutcome?
        for try await event in resumed.start().events { if case .finished(let outcome) = event { again = outcome } }
        #expect(again?.alreadyFinished == true)
    }

    /// Options out of range are refused before anything is written, even with `overwrite` on a
    /// trained model (which would otherwise be cleared first): the model stays byte for byte.
    @Test(arguments: [("batchSize", "--batch-size"), ("epochs", "--epochs"), ("noInputFeed", "--no-input-feed")])
    func badOptionsAreRefusedBeforeAnOverwrittenModelIsTouched(_ option: String, _ flag: String) async throws {
        let p = try pipeline()
        let (dir, model) = try p.copyOfModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try snapshot(model)
        var run = Self.run(p, output: URL(fileURLWithPath: model))
        run.overwrite = true
        switch option {
        case "batchSize": run.options.batchSize = 0
        case "epochs": run.options.epochs = 0
        default: run.options.inputFeed = false
        }
        do {
            for try await _ in run.start().events {}
            Issue.record("\(option) out of range was accepted")
        } catch let Seq2SeqError.training(message) {
            #expect(message.contains(flag), "\(message)")
        }
        #expect(try snapshot(model) == before)
    }

    /// A refused start is a typed error with train's text, and leaves no folder behind.
    @Test func aRefusedStartIsATypedErrorAndLeavesNothing() async throws {
        let p = try pipeline()
        let dir = makeTemporaryDirectory("library-training-refused")
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("model")
        var run = Self.run(p, output: output)
        run.sourceVocabulary = URL(fileURLWithPath: "/nonexistent/en.vocab")
        do {
            for try await _ in run.start().events {}
            Issue.record("a missing vocabulary was accepted")
        } catch let Seq2SeqError.training(message) {
            #expect(message.contains("/nonexistent/en.vocab"), "\(message)")
        }
        run = Self.run(p, output: output)
        run.threads = 0
        await #expect(throws: Seq2SeqError.self) { for try await _ in run.start().events {} }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
