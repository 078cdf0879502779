import Basics
import Decoding
import Foundation
import Lexicon
import Model
import ModelFolder
import Testing
import Training
import Translation

/// Translation restricted by a lexical shortlist, on a small trained model with attention.
@Suite(.serialized) struct ShortlistTranslationTests {
    static func trained(_ fixture: TrainingFixture) throws -> SavedModel {
        var options = fixture.options(maxSteps: 40)
        options.attention = .general
        let directory = try fixture.makeDirectory("m", options)
        _ = try Trainer(directory: directory, shards: fixture.shards, validation: nil, resume: false, progress: quiet).run()
        return directory.saved
    }

    /// A shortlist whose frequent list is the whole target vocabulary changes nothing: every
    /// translation, score and log-probability is bit-identical to decoding without one.
    @Test(arguments: [1, 5])
    func wholeVocabularyShortlistIsBitIdentical(beam: Int) throws {
        let fixture = try TrainingFixture(pairs: 24, pairsPerShard: 24)
        defer { fixture.cleanUp() }
        let saved = try Self.trained(fixture)
        let vs = saved.config.model.sourceVocabularySize, vt = saved.config.model.targetVocabularySize
        let everything = try Shortlist(sourceVocabularySize: vs, targetVocabularySize: vt, topK: 1,
                                       frequent: (0..<Int32(vt)).map { $0 }, lists: Array(repeating: [], count: vs))
        var search = SearchOptions()
        search.beamSize = beam
        search.nBest = beam
        let model = try saved.loadModel(.last)
        let plain = try Translator(directory: saved, model: model, searchOptions: search)
        let listed = try Translator(directory: saved, model: model, searchOptions: search, shortlist: everything)
        let lines = fixture.corpus.test.source
        for (a, b) in zip(plain.translate(lines), listed.translate(lines)) {
            #expect(a.map(\.text) == b.map(\.text))
            #expect(a.map(\.score.bitPattern) == b.map(\.score.bitPattern))
            #expect(a.map(\.logProb.bitPattern) == b.map(\.logProb.bitPattern))
        }
        // One line at a time (batch 1: the packed output path) as well.
        for line in lines.prefix(3) {
            #expect(plain.translate([line])[0].map(\.logProb.bitPattern) == listed.translate([line])[0].map(\.logProb.bitPattern))
        }
    }

    /// With a small set of output ids, no hypothesis of the search ever holds an id outside it.
    @Test(arguments: [1, 5])
    func outputStaysInsideTheSet(beam: Int) throws {
        let fixture = try TrainingFixture(pairs: 24, pairsPerShard: 24)
        defer { fixture.cleanUp() }
        let saved = try Self.trained(fixture)
        let vt = Int32(saved.config.model.targetVocabularySize)
        let model = try saved.loadModel(.last)
        let translator = try Translator(directory: saved, model: model)
        let sources = fixture.corpus.test.source.map(translator.sourceIDs).filter { !$0.isEmpty }
        // Every third ordinary id, plus </s> and <unk>.
        let ids = [TokenID.unknown, TokenID.end] + stride(from: Int32(TokenID.reservedCount) + 1, to: vt, by: 3)
        var search = translator.searchOptions
        search.beamSize = beam
        search.nBest = beam
        let scorer = ModelScorer(model: model, packed: DecoderWeights(model: model), sources: sources, outputIDs: ids)
        let hypotheses = BeamSearch.search(scorer, sourceLengths: sources.map(\.count), options: search)
        let allowed = Set(ids)
        var tokens = 0
        for hypothesis in hypotheses.flatMap({ $0 }) {
            #expect(hypothesis.tokens.allSatisfy { allowed.contains($0) }, "\(hypothesis.tokens)")
            #expect(hypothesis.logProb.isFinite)
            tokens += hypothesis.tokens.count
        }
        #expect(tokens > 0)
    }
}
