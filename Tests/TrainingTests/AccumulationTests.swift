import Corpus
import Foundation
import Kernels
import Model
import Testing
import Training

/// `--accumulate K`: K batches, one from each of K disjoint parts of the shards, summed into one
/// update. (The fixture has 64 pairs in 4 shards of 20, 20, 20 and 4 pairs, so with K = 2 the parts
/// hold 40 and 24 pairs and the second part runs out first.)
@Suite(.serialized) struct AccumulationTests {
    /// The first update of an `--accumulate 2` run, recomputed by hand: each part's first batch's
    /// gradient from zero, summed as (+0 + g₀) + g₁, divided by both batches' sentences, clipped
    /// and applied by SGD. The weights must be equal bit for bit.
    @Test func oneAccumulatedUpdateAppliesTheSumOfBothPartsGradients() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var o = fixture.options(maxSteps: 1)
        o.accumulate = 2
        o.dropout = 0
        o.optimizer = .sgd
        o.learningRate = 0.5
        o.clipNorm = 1
        let trainer = try Trainer(directory: fixture.makeDirectory("acc", o), shards: fixture.shards, validation: nil,
                                  resume: false, progress: quiet)
        _ = try trainer.run()

        let model = Seq2SeqModel(config: o.modelConfig(sourceVocabularySize: fixture.source.count,
                                                       targetVocabularySize: fixture.target.count), seed: o.seed)
        let p = model.parameters
        var sum = [Float](repeating: 0, count: p.count)
        var sentences = 0
        for part in 0..<2 {
            let preparer = try PairPreparer(sourceVocabulary: fixture.source, targetVocabulary: fixture.target, maxLength: o.maxLength)
            let stream = try BatchStream<PreparedPair>(
                shards: fixture.shards.part(part, of: 2),
                options: BatchingOptions(batchSize: o.batchSize, tokenBudget: nil, windowSize: o.windowSize, seed: o.seed),
                epoch: 0, resumeFrom: nil, prepare: { preparer.prepare($0) }, length: { $0.length })
            let items = try #require(try stream.next())
            let batch = Batch(sources: items.map(\.source), targets: items.map(\.target))
            _ = model.trainStep(batch, dropoutSeed: 0)
            for i in 0..<p.count { sum[i] = sum[i] + p.gradients[i] }
            p.zeroGradients()
            sentences += batch.batchSize
        }
        for i in 0..<p.count { p.gradients[i] = sum[i] }
        p.markGradientsTouched(p.gradients.baseAddress!, count: p.count)
        let norm = scaleGradients(p, by: 1 / Float(sentences))
        #expect(norm > o.clipNorm, "the test should exercise clipping")
        SGD().step(p, learningRate: 0.5, gradientScale: clipFactor(norm: norm, maxNorm: o.clipNorm))
        #expect(Array(p.values) == Array(trainer.model.parameters.values))
        #expect(trainer.state.step == 1 && trainer.state.clippedSteps == 1)
    }

    /// An accumulating run interrupted mid-epoch (both parts' positions in the checkpoint) and
    /// resumed ends with the weights of an uninterrupted one; the run crosses an epoch boundary,
    /// and the shorter part runs out before the longer one within each epoch.
    @Test func resumedAccumulatingRunEqualsAnUninterruptedOne() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        func options(_ steps: Int) -> TrainingOptions {
            var o = fixture.options(maxSteps: steps)
            o.accumulate = 2
            return o
        }
        let straight = try Trainer(directory: fixture.makeDirectory("straight", options(9)), shards: fixture.shards,
                                   validation: nil, resume: false, progress: quiet)
        _ = try straight.run()
        #expect(straight.state.epoch == 1, "5 updates per epoch (40-pair part, batch 8): 9 updates cross an epoch")

        let first = try Trainer(directory: fixture.makeDirectory("resumed", options(4)), shards: fixture.shards,
                                validation: nil, resume: false, progress: quiet)
        _ = try first.run()
        let second = try Trainer(directory: fixture.makeDirectory("resumed", options(9)), shards: fixture.shards,
                                 validation: nil, resume: true, progress: quiet)
        #expect(second.state.step == 4)
        #expect(second.state.partPositions?.count == 2 && second.state.partPositions?[1] != nil,
                "4 updates: the 24-pair part has ended (3 batches) but its position is kept")
        _ = try second.run()
        #expect(Array(second.model.parameters.values) == Array(straight.model.parameters.values))
    }

    /// One epoch of an accumulating run trains on every pair once: the epoch's updates take
    /// 40 + 24 sentences between them.
    @Test func anAccumulatedEpochVisitsEveryPairOnce() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var o = fixture.options(maxSteps: nil, epochs: 1)
        o.accumulate = 2
        let trainer = try Trainer(directory: fixture.makeDirectory("m", o), shards: fixture.shards, validation: nil,
                                  resume: false, progress: quiet)
        var pairs = 0
        trainer.shouldStop = { [unowned trainer] in
            pairs = trainer.state.pairsInEpoch
            return false
        }
        _ = try trainer.run()
        #expect(trainer.state.epoch == 1 && trainer.state.step == 5)
        #expect(pairs == 64)
    }

    /// `--accumulate 1`, written out, is the single-batch path: the same weights as no option.
    @Test func accumulateOneIsTheSingleBatchRun() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var weights: [[Float]] = []
        for (name, k) in [("none", nil), ("one", 1)] as [(String, Int?)] {
            var o = fixture.options(maxSteps: 6)
            o.accumulate = k
            let trainer = try Trainer(directory: fixture.makeDirectory(name, o), shards: fixture.shards, validation: nil,
                                      resume: false, progress: quiet)
            _ = try trainer.run()
            weights.append(Array(trainer.model.parameters.values))
        }
        #expect(weights[0] == weights[1])
    }

    @Test func moreDataPartsThanShardsIsRefusedNamingTheShardFolder() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var o = fixture.options(maxSteps: 2)
        o.accumulate = 5
        #expect {
            _ = try Trainer(directory: fixture.makeDirectory("m", o), shards: fixture.shards, validation: nil,
                            resume: false, progress: quiet)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(fixture.shards.directory) && text.contains("4 shard(s)") && text.contains("--accumulate 5")
        }
    }

    /// A mid-epoch checkpoint holds one position per part; resuming it with another number of
    /// parts is refused instead of reading other batches.
    @Test func aMidEpochCheckpointIsRefusedWithAnotherNumberOfParts() throws {
        let fixture = try TrainingFixture()
        defer { fixture.cleanUp() }
        var o = fixture.options(maxSteps: 2)
        o.accumulate = 2
        _ = try Trainer(directory: fixture.makeDirectory("m", o), shards: fixture.shards, validation: nil,
                        resume: false, progress: quiet).run()
        o.accumulate = nil
        o.maxSteps = 4
        #expect {
            _ = try Trainer(directory: fixture.makeDirectory("m", o), shards: fixture.shards, validation: nil,
                            resume: true, progress: quiet)
        } throws: { error in
            "\(error)".contains("as 2 part(s)") && "\(error)".contains("reads 1")
        }
    }
}
