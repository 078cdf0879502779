import Foundation
import Basics
@testable import Decoding
import Kernels
@testable import Model
import Testing
@testable import Training
import Translation
import Corpus
import ModelFolder

@Suite(.serialized) struct TranslatorTests {
    /// A few pairs, overfitted, then decoded back through the whole text → text path.
    @Test func overfittedPairsTranslateBackExactly() throws {
        let fixture = try TrainingFixture(pairs: 8, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: 300, epochs: 1000)
        options.embedding = 16; options.hidden = 32; options.dropout = 0
        options.learningRate = 0.02
        let directory = try fixture.makeDirectory("m", options)
        let trainer = try Trainer(directory: directory, shards: fixture.shards,
                                  validation: nil, resume: false, progress: quiet)
        _ = try trainer.run()
        for beam in [1, 5] {
            var search = SearchOptions()
            search.beamSize = beam
            let translator = try Translator(directory: directory.saved, checkpoint: .last, searchOptions: search)
            let output = translator.translate(fixture.corpus.train.source).map { $0[0].text }
            #expect(output == fixture.corpus.train.target, "beam \(beam)")
        }
    }

    /// An ensemble of one folder given twice translates as the folder alone (the mean of two equal
    /// rows is the row), n-best lists and scores included; weights that do not fit are refused.
    @Test func anEnsembleOfTheSameModelTwiceTranslatesAsTheModel() throws {
        let fixture = try TrainingFixture(pairs: 8, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: 40, epochs: 100)
        options.embedding = 16; options.hidden = 32; options.attention = .general
        let directory = try fixture.makeDirectory("m", options)
        _ = try Trainer(directory: directory, shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        var search = SearchOptions()
        search.beamSize = 4; search.nBest = 3
        let alone = try Translator(directory: directory.saved, checkpoint: .last, searchOptions: search)
        let pair = try Translator(directories: [directory.saved, directory.saved], checkpoint: .last, weights: [2, 1],
                                  searchOptions: search)
        #expect(pair.members.count == 2 && pair.weights == [2 / 3, 1 / 3])
        let lines = fixture.corpus.train.source + ["", "unknownword one"]
        let a = alone.translate(lines), b = pair.translate(lines)
        #expect(a.map { $0.map(\.text) } == b.map { $0.map(\.text) })
        #expect(a.map { $0.map(\.alignment) } == b.map { $0.map(\.alignment) })
        for (x, y) in zip(a.joined(), b.joined()) { #expect(abs(x.logProb - y.logProb) < 1e-4) }
        #expect(throws: TranslationError.self) {
            _ = try Translator(directories: [directory.saved, directory.saved], checkpoint: .last, weights: [1])
        }
        #expect(throws: TranslationError.self) {
            _ = try Translator(directories: [directory.saved, directory.saved], checkpoint: .last, weights: [1, .nan])
        }
    }

    /// Members must share the target vocabulary: a folder with another one is refused, naming both.
    @Test func membersWithDifferentTargetVocabulariesAreRefused() throws {
        let fixture = try TrainingFixture(pairs: 8, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        let first = try fixture.makeDirectory("a", fixture.options(maxSteps: 1))
        _ = try Trainer(directory: first, shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        let swapped = try fixture.makeDirectory("b", fixture.options(maxSteps: 1), swapVocabularies: true)
        _ = try Trainer(directory: swapped, shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        do {
            _ = try Translator(directories: [first.saved, swapped.saved], checkpoint: .last)
            Issue.record("an ensemble with another target vocabulary was accepted")
        } catch let error as TranslationError {
            #expect(error.description.contains(swapped.saved.path) && error.description.contains(first.saved.path))
            #expect(error.description.contains("target vocabulary"))
        }
    }

    /// `--target-order right-to-left`: the model learns the targets backwards (its prepared pairs
    /// are reversed) and the translator reads its output forwards again, so overfitted pairs
    /// translate back exactly, as a left-to-right model's do.
    @Test func aRightToLeftModelTranslatesOverfittedPairsBackInReadingOrder() throws {
        let fixture = try TrainingFixture(pairs: 8, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: 300, epochs: 1000)
        options.embedding = 16; options.hidden = 32; options.dropout = 0
        options.learningRate = 0.02; options.targetOrder = .rightToLeft; options.attention = .dot
        let directory = try fixture.makeDirectory("r2l", options)
        #expect(directory.config.model.targetOrder == .rightToLeft)
        let trainer = try Trainer(directory: directory, shards: fixture.shards, validation: nil, resume: false, progress: quiet)
        let preparer = try trainer.pairPreparer(dropoutSeed: 0)
        let pair = try #require(preparer.prepare(SentencePair(source: fixture.corpus.train.source[0], target: fixture.corpus.train.target[0])))
        #expect(pair.target == preparer.targetIDs(fixture.corpus.train.target[0]).reversed())
        _ = try trainer.run()
        let reopened = try SavedModel(opening: directory.saved.path)
        #expect(reopened.config.model.targetOrder == .rightToLeft)
        for beam in [1, 5] {
            var search = SearchOptions()
            search.beamSize = beam
            let translator = try Translator(directory: reopened, checkpoint: .last, searchOptions: search)
            let output = translator.translate(fixture.corpus.train.source).map { $0[0].text }
            #expect(output == fixture.corpus.train.target, "beam \(beam)")
        }
    }

    /// Rescoring a model's finalists with the model itself: forced decoding gives back the search's
    /// log-probabilities (F1 = F0), so any λ keeps the search's n-best; rescoring with a
    /// right-to-left model reverses the ids it scores (an R2L model that learned the pairs prefers
    /// the right translations, so the 1-best stays right) and λ outside [0, 1] is refused.
    @Test func rescoringWithTheModelItselfKeepsTheNBestAndForcedScoresMatchTheSearch() throws {
        let fixture = try TrainingFixture(pairs: 8, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: 300, epochs: 1000)
        options.embedding = 16; options.hidden = 32; options.dropout = 0; options.learningRate = 0.02; options.attention = .dot
        let forward = try fixture.makeDirectory("l2r", options)
        _ = try Trainer(directory: forward, shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        options.targetOrder = .rightToLeft
        let backward = try fixture.makeDirectory("r2l", options)
        _ = try Trainer(directory: backward, shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        var search = SearchOptions()
        search.beamSize = 4; search.nBest = 4
        let plain = try Translator(directory: forward.saved, checkpoint: .last, searchOptions: search)
        let lines = fixture.corpus.train.source
        let expected = plain.translate(lines)
        for weight in [0.0, 0.5, 1.0] {
            let selfRescored = try Translator(directory: forward.saved, checkpoint: .last, searchOptions: search)
            try selfRescored.rescore(with: [forward.saved], checkpoint: .last, weight: weight)
            let got = selfRescored.translate(lines)
            #expect(got.map { $0.map(\.text) } == expected.map { $0.map(\.text) }, "λ \(weight)")
            for (g, e) in zip(got.joined(), expected.joined()) {
                #expect(abs(g.rescoringLogProb! - e.logProb) < 1e-3, "\(g.rescoringLogProb!) vs \(e.logProb)")
                #expect(abs(g.score - e.score) < 1e-3)
            }
        }
        search.nBest = 1
        let rescored = try Translator(directory: forward.saved, checkpoint: .last, searchOptions: search)
        try rescored.rescore(with: [backward.saved], checkpoint: .last, weight: 0.5)
        #expect(rescored.translate(lines).map { $0[0].text } == fixture.corpus.train.target)
        #expect(throws: TranslationError.self) { try rescored.rescore(with: [backward.saved], checkpoint: .last, weight: 1.5) }
    }

    /// `--tie-embeddings decoder`: the checkpoint holds the shared tensor once (no
    /// `output.weight`), the output layer reads the target embedding's values, and the model
    /// learns and translates overfitted pairs back like an untied one.
    @Test func aTiedModelStoresTheSharedTensorOnceAndTranslates() throws {
        let fixture = try TrainingFixture(pairs: 8, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        var options = fixture.options(maxSteps: 300, epochs: 1000)
        options.embedding = 32; options.hidden = 32; options.dropout = 0
        options.learningRate = 0.02; options.tieEmbeddings = .decoder
        let directory = try fixture.makeDirectory("tied", options)
        let trainer = try Trainer(directory: directory, shards: fixture.shards, validation: nil, resume: false, progress: quiet)
        #expect(trainer.model.output.weight == trainer.model.targetEmbedding.values)
        _ = try trainer.run()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.saved.path + "/last.safetensors")))
        let names = try SafeTensors.decode(bytes).tensors.map(\.name)
        #expect(names.contains("target_embedding") && !names.contains("output.weight"))
        let translator = try Translator(directory: SavedModel(opening: directory.saved.path), checkpoint: .last)
        #expect(translator.translate(fixture.corpus.train.source).map { $0[0].text } == fixture.corpus.train.target)
    }

    @Test func emptyLineGivesEmptyTranslation() throws {
        let fixture = try TrainingFixture(pairs: 8, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        let directory = try fixture.makeDirectory("m", fixture.options(maxSteps: 1))
        _ = try Trainer(directory: directory, shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        let translator = try Translator(directory: directory.saved, checkpoint: .last)
        let output = translator.translate(["", "one", "   "])
        #expect(output[0][0].text == "")
        #expect(output[2][0].text == "")
        #expect(output.count == 3)
    }
}

/// `--replace-unk` and `--alignment` on a small model whose attention is known: every weight is
/// zero but those that make the encoder output of an unknown source word [tanh 3, 0] and of every
/// known word 0, and the decoder's query [tanh 3, 0], so dot attention peaks on the unknown word;
/// the output layer's bias makes <unk> the best first token, and the length limit is one token.
@Suite(.serialized) struct AttentionTranslationTests {
    func knownAttentionModel(_ fixture: TrainingFixture) throws -> ModelDirectory {
        var options = fixture.options(maxSteps: 1)
        options.embedding = 2; options.hidden = 2; options.layers = 1; options.dropout = 0
        options.cell = .rnnTanh; options.attention = .dot
        let directory = try fixture.makeDirectory("attention", options)
        let trainer = try Trainer(directory: directory, shards: fixture.shards, validation: nil, resume: false, progress: quiet)
        _ = try trainer.run()
        let store = trainer.model.parameters
        for i in 0..<store.count { store.values[i] = 0 }
        func set(_ name: String, _ index: Int, _ value: Float) { store.view(name).values[index] = value }
        set("encoder.l0.weight_ih", 0, 1); set("encoder.l0.weight_ih", 3, 1)   // Wx = I: h_s = tanh(e_s)
        set("source_embedding", 2 * 1, 3)                                          // <unk> (id 1) = [3, 0]
        set("decoder.l0.bias", 0, 3)                                               // query h_t = [tanh 3, 0]
        set("output.bias", 1, 5)                                                   // <unk> scores best
        try directory.saveCheckpoint(model: trainer.model, optimizer: trainer.optimizer, state: trainer.state)
        return directory
    }

    func search(beam: Int) -> SearchOptions {
        var options = SearchOptions()
        options.beamSize = beam
        options.maxLengthRatio = 0.01   // ⌊0.01·|source|⌋ + 1 = one output token
        options.maxLengthOffset = 1
        return options
    }

    @Test(arguments: [1, 3])
    func unknownWordIsReplacedByTheAttendedSourceToken(beam: Int) throws {
        let fixture = try TrainingFixture(pairs: 8, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        let directory = try knownAttentionModel(fixture)
        let lines = ["three hundred Zürich", "Zürich seven", "two"]
        let replacing = try Translator(directory: directory.saved, checkpoint: .last, searchOptions: search(beam: beam),
                                       unknownWords: .replace)
        let replaced = replacing.translate(lines).map { $0[0] }
        #expect(replaced.map(\.text) == ["Zürich", "Zürich", "two"])
        #expect(replaced.map(\.alignmentPairs) == ["2-0", "0-0", "0-0"])
        let keeping = try Translator(directory: directory.saved, checkpoint: .last, searchOptions: search(beam: beam),
                                     unknownWords: .keep)
        #expect(keeping.translate(lines).map { $0[0].text } == ["<unk>", "<unk>", "<unk>"])
    }

    @Test func replacingNeedsAttention() throws {
        let fixture = try TrainingFixture(pairs: 8, pairsPerShard: 8)
        defer { fixture.cleanUp() }
        let directory = try fixture.makeDirectory("plain", fixture.options(maxSteps: 1))
        _ = try Trainer(directory: directory, shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        #expect(throws: TranslationError.self) {
            _ = try Translator(directory: directory.saved, checkpoint: .last, unknownWords: .replace)
        }
        let plain = try Translator(directory: directory.saved, checkpoint: .last)
        #expect(plain.translate(["three"])[0][0].alignment == nil)
    }
}

/// Beam search with K = 1 (and no length penalty) equals greedy decoding on attentional models
/// with random weights, tokens and alignments alike, each hypothesis carrying its own input feed.
@Test(arguments: [AttentionType.dot, .general, .mlp], [true, false])
func beamOfOneEqualsGreedyWithAttention(attention: AttentionType, inputFeed: Bool) {
    let config = ModelConfig(sourceVocabularySize: 30, targetVocabularySize: 25, embedding: 6, hidden: 8, layers: 2,
                             cell: .gru, attention: attention, inputFeed: inputFeed)
    let model = Seq2SeqModel(config: config, seed: 3)
    var rng = SeededGenerator(seed: 4)
    for i in 0..<model.parameters.count { model.parameters.values[i] = rng.nextFloat(in: -0.6, 0.6) }
    let sources: [[Int32]] = (0..<6).map { n in (0...(n % 4 + 1)).map { _ in Int32(4 + rng.next() % 26) } }
    var options = SearchOptions()
    options.bos = TokenID.start; options.eos = TokenID.end
    options.beamSize = 1; options.lengthPenalty = 0; options.forbidden = [TokenID.pad, TokenID.start]
    let greedy = BeamSearch.greedy(ModelScorer(model: model, sources: sources), sourceLengths: sources.map(\.count), options: options)
    let beam = BeamSearch.beam(ModelScorer(model: model, packed: DecoderWeights(model: model), sources: sources),
                               sourceLengths: sources.map(\.count), options: options)
    #expect(greedy.map { $0.map(\.tokens) } == beam.map { $0.map(\.tokens) })
    #expect(greedy.map { $0.map(\.alignment) } == beam.map { $0.map(\.alignment) })
    #expect(greedy.allSatisfy { $0[0].alignment?.count == $0[0].tokens.count })
}
