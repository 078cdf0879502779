import Decoding
import Testing
import Training
import Translation

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
