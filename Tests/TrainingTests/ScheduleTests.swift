import Foundation
import Model
import ModelFolder
import RunLog
import Testing
import Translation
import Decoding
import TranslationMetrics
import Training

/// Reads a model folder's log.jsonl.
func logLines(_ path: String) throws -> [LogLine] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        .map { try JSONDecoder().decode(LogLine.self, from: Data($0.utf8)) }
}

/// Label smoothing, the plateau schedule, early stopping and validation BLEU in the training loop.
@Suite(.serialized) struct ScheduleTests {
    /// With ε > 0 the model trains on the smoothed loss (other weights than ε = 0) and the log
    /// holds it beside the plain NLL, whose perplexity is what `ppl` reports.
    @Test func labelSmoothingIsTrainedOnAndLoggedBesideThePlainLoss() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var weights: [[Float]] = []
        for (name, epsilon) in [("plain", Float?.none), ("smoothed", 0.1)] {
            var options = fixture.options(maxSteps: 6)
            options.logEvery = 3
            options.labelSmoothing = epsilon
            let trainer = try Trainer(directory: fixture.makeDirectory(name, options), shards: fixture.shards,
                                      validation: nil, resume: false, progress: quiet)
            _ = try trainer.run()
            weights.append(Array(trainer.model.parameters.values))
            let train = try logLines(fixture.path(name + "/log.jsonl")).filter { $0.event == "train" }
            #expect(train.count == 2)
            for line in train {
                let loss = try #require(line.loss), ppl = try #require(line.perplexity)
                #expect(abs(ppl - exp(loss)) < 1e-9 * ppl)
                if epsilon == nil {
                    #expect(line.smoothedLoss == nil)
                } else {
                    // The uniform part (mean −log p over V classes) is far above the NLL here.
                    let smoothed = try #require(line.smoothedLoss)
                    #expect(smoothed > loss)
                }
            }
        }
        #expect(weights[0] != weights[1])
    }

    struct PlateauCase: Decodable {
        var name: String, mode: String, factor: Double, patience: Int, lr: Double, metrics: [Double], lrs: [Double]
    }
    struct PlateauFile: Decodable { var cases: [PlateauCase] }
    static let plateauCases: [PlateauCase] = {
        guard let url = Bundle.module.url(forResource: "plateau_reference", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(PlateauFile.self, from: data) else {
            return []
        }
        return file.cases
    }()

    @Test func plateauFixtureLoads() { #expect(Self.plateauCases.count == 4) }

    /// The plateau schedule gives PyTorch's `ReduceLROnPlateau` learning rates, validation by
    /// validation, in min and max mode (fixture from scripts/fixtures/make_plateau_fixture.py).
    @Test(arguments: plateauCases.map(\.name))
    func plateauScheduleMatchesPyTorch(name: String) throws {
        let c = try #require(Self.plateauCases.first { $0.name == name })
        var plateau = PlateauState(learningRate: c.lr)
        var rates: [Double] = []
        for metric in c.metrics {
            _ = plateau.step(metric: metric, higherIsBetter: c.mode == "max", factor: c.factor, patience: c.patience)
            rates.append(plateau.learningRate)
        }
        #expect(rates == c.lrs)
    }

    /// Options of the watched schedule: select by BLEU, validate every 2 steps, cut the rate after
    /// every validation without a new best, stop after 4 of them.
    static func scheduledOptions(_ fixture: TrainingFixture, maxSteps: Int) -> TrainingOptions {
        var options = fixture.options(maxSteps: maxSteps, epochs: 30)
        options.validEvery = 2
        options.learningRateSchedule = .plateau
        options.plateauPatience = 0
        options.plateauFactor = 0.5
        options.earlyStopping = 4
        options.validBLEU = true
        options.selectBy = .bleu
        options.labelSmoothing = 0.1
        return options
    }

    /// Interrupted at step 5 and resumed, a run with the plateau schedule, early stopping,
    /// validation BLEU and label smoothing writes the same last.safetensors and best.safetensors,
    /// byte for byte (weights, optimizer moments and training state), as an uninterrupted one.
    @Test func interruptedAndResumedScheduledRunEqualsAnUninterruptedOne() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        let total = 200
        let straight = try Trainer(directory: fixture.makeDirectory("straight", Self.scheduledOptions(fixture, maxSteps: total)),
                                   shards: fixture.shards, validation: fixture.validation(), resume: false, progress: quiet)
        _ = try straight.run()
        let first = try Trainer(directory: fixture.makeDirectory("resumed", Self.scheduledOptions(fixture, maxSteps: total)),
                                shards: fixture.shards, validation: fixture.validation(), resume: false, progress: quiet)
        first.shouldStop = { [unowned first] in first.state.step >= 5 }
        #expect(try first.run().interrupted)
        let second = try Trainer(directory: ModelDirectory(opening: fixture.path("resumed")), shards: fixture.shards,
                                 validation: fixture.validation(), resume: true, progress: quiet)
        #expect(second.state.step == 5 && second.state.plateau != nil)
        _ = try second.run()
        var (a, b) = (second.state, straight.state)
        (a.trainingSeconds, b.trainingSeconds) = (0, 0)   // wall-clock time, kept out of the files
        #expect(a == b)
        #expect(straight.state.stoppedEarly == true && straight.state.step < total)
        #expect(straight.state.plateau.map { $0.reductions > 0 } == true, "the schedule never cut the rate: \(straight.state)")
        for file in ["last.safetensors", "best.safetensors"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: fixture.path("straight/" + file)))
            let b = try Data(contentsOf: URL(fileURLWithPath: fixture.path("resumed/" + file)))
            #expect(!a.isEmpty && a == b, "\(file) differs between the interrupted and the uninterrupted run")
        }
        // `checkpoint` lines carry times; a resumed run has one `start` line more (each sitting has one).
        let events = { (name: String) in
            try logLines(fixture.path(name + "/log.jsonl")).map(\.event).filter { $0 != "checkpoint" && $0 != "start" }
        }
        #expect(try events("straight") == events("resumed"))
    }

    /// The rate used after a cut is the cut rate, and the log records each cut with its new rate.
    @Test func plateauCutsAreLoggedAndUsed() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var options = Self.scheduledOptions(fixture, maxSteps: 12)
        options.earlyStopping = nil
        options.logEvery = 1
        let trainer = try Trainer(directory: fixture.makeDirectory("m", options), shards: fixture.shards,
                                  validation: fixture.validation(), resume: false, progress: quiet)
        _ = try trainer.run()
        let lines = try logLines(fixture.path("m/log.jsonl"))
        let cuts = lines.filter { $0.event == "lr_reduced" }
        #expect(!cuts.isEmpty)
        for cut in cuts {
            let next = try #require(lines.first { $0.event == "train" && $0.step == cut.step! + 1 })
            #expect(next.learningRate == Double(Float(try #require(cut.learningRate))))
        }
        let valid = lines.filter { $0.event == "valid" }
        // Steps 2, 4, …, 12 and the end of epoch 1 (step 8, 8 batches per epoch).
        #expect(valid.count == 7 && valid.allSatisfy { ($0.validBLEU ?? -1) >= 0 && $0.learningRate != nil })
    }

    /// Early stopping ends the run after N validations without a new best, says so in the log, and
    /// a resumed stopped run has nothing left to do.
    @Test func earlyStoppingStopsAfterPatienceValidationsWithoutImprovement() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var options = Self.scheduledOptions(fixture, maxSteps: 200)
        options.learningRateSchedule = nil
        options.plateauPatience = nil
        options.plateauFactor = nil
        options.earlyStopping = 2
        options.epochs = 50
        let trainer = try Trainer(directory: fixture.makeDirectory("m", options), shards: fixture.shards,
                                  validation: fixture.validation(), resume: false, progress: quiet)
        _ = try trainer.run()
        let state = trainer.state
        #expect(state.stoppedEarly == true && state.step < 200)
        let valid = try logLines(fixture.path("m/log.jsonl")).filter { $0.event == "valid" }
        let best = try #require(state.bestStep)
        // The stop came exactly 2 validated steps after the best one, none of which beat it (an
        // epoch end on a --valid-every step is logged twice but counts once).
        #expect(valid.last?.step == state.step && Set(valid.filter { $0.step! > best }.map(\.step)).count == 2)
        let bestBLEU = try #require(valid.first { $0.step == best }?.validBLEU)
        #expect(valid.filter { $0.step! > best }.allSatisfy { $0.validBLEU! <= bestBLEU })
        let stop = try #require(try logLines(fixture.path("m/log.jsonl")).first { $0.event == "early_stop" })
        #expect(stop.step == state.step && stop.bestStep == best)
        let resumed = try Trainer(directory: ModelDirectory(opening: fixture.path("m")), shards: fixture.shards,
                                  validation: fixture.validation(), resume: true, progress: quiet)
        #expect(resumed.isFinished)
    }

    /// The validation BLEU that chose best.safetensors is the BLEU of `translate --beam 1` with
    /// those weights on the validation set.
    @Test func validationBLEUIsTheGreedyTranslationScoreOfTheBestWeights() throws {
        let fixture = try TrainingFixture(pairs: 96)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: nil, epochs: 6)
        options.dropout = 0
        options.validBLEU = true
        options.selectBy = .bleu
        let trainer = try Trainer(directory: fixture.makeDirectory("m", options), shards: fixture.shards,
                                  validation: fixture.validation(), resume: false, progress: quiet)
        _ = try trainer.run()
        let best = try #require(trainer.state.bestValidBLEU)
        let translator = try Translator(directory: SavedModel(opening: fixture.path("m")), checkpoint: .best,
                                        searchOptions: SearchOptions(beamSize: 1))
        let validation = try fixture.validation()
        let hypotheses = validation.sources.map { translator.translate([$0])[0][0].text }
        let score = BLEU().corpusScore(hypotheses: hypotheses, references: [validation.references]).score
        #expect(abs(score - best) < 1e-9, "decoded \(score), logged \(best)")
        #expect(best > 0)
        let logged = try logLines(fixture.path("m/log.jsonl")).compactMap(\.validBLEU)
        #expect(logged.count == 6 && logged.max() == best)
    }

    /// Plateau, early stopping and validation BLEU need a validation set; --select-by bleu needs
    /// --valid-bleu.
    @Test func scheduleOptionsWithoutTheirValidationAreRefused() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var plateau = fixture.options(maxSteps: 2)
        plateau.learningRateSchedule = .plateau
        #expect(throws: TrainingError.self) {
            _ = try Trainer(directory: fixture.makeDirectory("p", plateau), shards: fixture.shards,
                            validation: nil, resume: false, progress: quiet)
        }
        var select = fixture.options(maxSteps: 2)
        select.selectBy = .bleu
        #expect(throws: TrainingError.self) { try select.validate() }
        var smoothing = fixture.options(maxSteps: 2)
        smoothing.labelSmoothing = 1
        #expect(throws: TrainingError.self) { try smoothing.validate() }
    }

    /// An epoch that ends on a --valid-every step is validated twice with the same weights; early
    /// stopping (patience 1) counts it once, so the repeat does not stop the run.
    @Test func anEpochEndOnAValidEveryStepIsWatchedOnce() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: 12)
        options.dropout = 0
        options.validEvery = 4
        options.earlyStopping = 1
        let trainer = try Trainer(directory: fixture.makeDirectory("m", options), shards: fixture.shards,
                                  validation: fixture.validation(), resume: false, progress: quiet)
        _ = try trainer.run()
        let valid = try logLines(fixture.path("m/log.jsonl")).filter { $0.event == "valid" }
        // 8 batches per epoch: step 8 is both a --valid-every step and the end of epoch 1.
        #expect(valid.map(\.step) == [4, 8, 8, 12])
        let ppl = valid.map { $0.validPerplexity! }
        #expect(ppl[1] < ppl[0] && ppl[2] == ppl[1], "\(ppl)")
        #expect(trainer.state.step == 12)
        #expect(trainer.state.stoppedEarly == (ppl[3] >= ppl[1] ? true : nil))
    }
}
