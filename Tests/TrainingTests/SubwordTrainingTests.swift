import Basics
import Corpus
import Foundation
import ModelFolder
import Testing
import Text
import Training
import Translation

// BPE in the model pipeline: the folder keeps the codes, translation applies and undoes them,
// and BPE-dropout segments each epoch afresh, reproducibly.

@Suite(.serialized) struct SubwordTrainingTests {
    @Test func modelFolderKeepsTheCodesAndTranslationAppliesThem() throws {
        let fixture = try TrainingFixture(bpeMerges: 40)
        defer { fixture.cleanUp() }
        let codes = try #require(fixture.codes)
        _ = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 2)), shards: fixture.shards,
                        validation: nil, resume: false, progress: quiet).run()
        let opened = try SavedModel(opening: fixture.path("m"))
        #expect(opened.sourceCodes == codes && opened.targetCodes == codes)
        #expect(try BPECodes(contentsOf: fixture.path("m/source.bpe")) == codes)

        let translator = try Translator(directory: opened, checkpoint: .last)
        let line = fixture.corpus.test.source[0]
        let pieces = try BPEEncoder(codes: codes, separator: SubwordJoiner.tokenizerSeparator)
            .segment(try Tokenizer(options: TokenizerOptions()).tokenize(line))
        #expect(pieces.contains { $0.hasSuffix(SubwordJoiner.tokenizerSeparator) }, "the sample must be split into pieces")
        #expect(translator.sourceIDs(line) == opened.sourceVocabulary.ids(pieces))
        // Output pieces are joined before detokenizing: no separator reaches the text.
        for translation in translator.translate([line, fixture.corpus.test.source[1]]).flatMap({ $0 }) {
            #expect(!translation.text.contains(SubwordJoiner.tokenizerSeparator))
        }
        let target = try opened.targetSegmenter()
        #expect(target.text(["wor\u{FFED}\u{FFED}", "ld", "\u{FFED}!"]) == "world!")
    }

    @Test func codesThatDoNotMatchTheVocabularyAreRefusedNamingTheFile() throws {
        let fixture = try TrainingFixture(bpeMerges: 40)
        defer { fixture.cleanUp() }
        _ = try fixture.makeDirectory("m", fixture.options(maxSteps: 2))
        let other = BPECodes(merges: [("x", "y")])
        try other.write(to: fixture.path("m/source.bpe"))
        #expect(throws: ModelFolderError(path: fixture.path("m/source.bpe"),
                                         message: "BPE codes with checksum \(other.checksum), but the vocabulary was built with \(fixture.codes!.checksum)")) {
            try SavedModel(opening: fixture.path("m"))
        }
        try FileManager.default.removeItem(atPath: fixture.path("m/source.bpe"))
        #expect(throws: ModelFolderError(path: fixture.path("m/source.bpe"),
                                         message: "missing: the vocabulary was built with BPE codes (checksum \(fixture.codes!.checksum))")) {
            try SavedModel(opening: fixture.path("m"))
        }
    }

    @Test func bpeDropoutDependsOnSeedEpochAndIndexOnly() throws {
        let fixture = try TrainingFixture(bpeMerges: 60)
        defer { fixture.cleanUp() }
        func preparer(epoch: Int, dropout: Double = 0.3) throws -> PairPreparer {
            try PairPreparer(sourceVocabulary: fixture.source, targetVocabulary: fixture.target, maxLength: nil,
                             sourceCodes: fixture.codes, targetCodes: fixture.codes, dropout: dropout, seed: 11, epoch: epoch)
        }
        let pairs = zip(fixture.corpus.train.source, fixture.corpus.train.target).map { SentencePair(source: $0, target: $1) }
        let a = try preparer(epoch: 0), b = try preparer(epoch: 0), c = try preparer(epoch: 1), plain = try preparer(epoch: 0, dropout: 0)
        let epoch0 = pairs.enumerated().map { a.prepare($1, index: $0) }
        // In reverse order (as a resumed run re-prepares from a window start): the same ids.
        let again = pairs.enumerated().reversed().map { b.prepare($1, index: $0) }.reversed()
        #expect(epoch0 == Array(again))
        #expect(epoch0 != pairs.enumerated().map { c.prepare($1, index: $0) })
        #expect(epoch0 != pairs.map { plain.prepare($0) })
        #expect(pairs.enumerated().map { plain.prepare($1, index: $0) } == pairs.map { plain.prepare($0) })
    }

    /// Training with BPE-dropout adds no `<unk>`: a dropout piece the vocabulary (counted on plain
    /// segmentation, with every character in both forms) lacks is split into pieces it holds.
    @Test func bpeDropoutAddsNoUnknownIDs() throws {
        let fixture = try TrainingFixture(bpeMerges: 60)
        defer { fixture.cleanUp() }
        let pairs = zip(fixture.corpus.train.source, fixture.corpus.train.target).map { SentencePair(source: $0, target: $1) }
        func unknowns(_ prepared: [PreparedPair?]) -> Int {
            prepared.compactMap { $0 }.reduce(0) { $0 + ($1.source + $1.target).filter { $0 == TokenID.unknown }.count }
        }
        let plain = try PairPreparer(sourceVocabulary: fixture.source, targetVocabulary: fixture.target, maxLength: nil,
                                     sourceCodes: fixture.codes, targetCodes: fixture.codes)
        #expect(unknowns(pairs.map { plain.prepare($0) }) == 0)
        // The control: the same kind of draws without the check give <unk>.
        let unchecked = try TextSegmenter(options: fixture.source.options, codes: fixture.codes)
        var draws: BPEDropout? = BPEDropout(probability: 0.3, generator: SplitMix64(seed: 5))
        #expect(pairs.flatMap { fixture.source.ids(unchecked.tokens($0.source, dropout: &draws)) }.contains(TokenID.unknown))
        for epoch in 0..<3 {
            let preparer = try PairPreparer(sourceVocabulary: fixture.source, targetVocabulary: fixture.target, maxLength: nil,
                                            sourceCodes: fixture.codes, targetCodes: fixture.codes, dropout: 0.3, seed: 5, epoch: epoch)
            let prepared = pairs.enumerated().map { preparer.prepare($1, index: $0) }
            #expect(prepared != pairs.map { plain.prepare($0) })
            #expect(unknowns(prepared) == 0, "epoch \(epoch)")
        }
    }

    /// Interrupted after 5 steps and resumed, a BPE-dropout run ends with the same weights as an
    /// uninterrupted one, bit for bit (13 steps cross an epoch boundary: a new segmentation).
    @Test func resumedBPEDropoutRunEqualsAnUninterruptedOne() throws {
        let fixture = try TrainingFixture(bpeMerges: 60)
        defer { fixture.cleanUp() }
        func options(_ steps: Int, dropout: Double? = 0.2) -> TrainingOptions {
            var o = fixture.options(maxSteps: steps)
            o.bpeDropout = dropout
            return o
        }
        let total = 13
        let straight = try Trainer(directory: fixture.makeDirectory("straight", options(total)), shards: fixture.shards,
                                   validation: fixture.validation(), resume: false, progress: quiet)
        _ = try straight.run()
        let first = try Trainer(directory: fixture.makeDirectory("resumed", options(5)), shards: fixture.shards,
                                validation: fixture.validation(), resume: false, progress: quiet)
        _ = try first.run()
        let second = try Trainer(directory: fixture.makeDirectory("resumed", options(total)), shards: fixture.shards,
                                 validation: fixture.validation(), resume: true, progress: quiet)
        _ = try second.run()
        #expect(second.state.step == total)
        #expect(Array(second.model.parameters.values) == Array(straight.model.parameters.values))
        // And dropout was in effect: without it the weights differ.
        let plain = try Trainer(directory: fixture.makeDirectory("plain", options(total, dropout: nil)), shards: fixture.shards,
                                validation: fixture.validation(), resume: false, progress: quiet)
        _ = try plain.run()
        #expect(Array(plain.model.parameters.values) != Array(straight.model.parameters.values))
    }

    /// `--accumulate` (and so MPI ranks, which run the same per-part code) trains on BPE pieces,
    /// with BPE-dropout in effect, and an interrupted run resumes to the same weights.
    @Test func accumulatingRunsSegmentWithTheCodesAndBPEDropout() throws {
        let fixture = try TrainingFixture(bpeMerges: 60)
        defer { fixture.cleanUp() }
        func options(_ steps: Int, dropout: Double? = 0.2) -> TrainingOptions {
            var o = fixture.options(maxSteps: steps)
            o.accumulate = 2
            o.bpeDropout = dropout
            return o
        }
        func run(_ name: String, _ o: TrainingOptions, resume: Bool = false) throws -> Trainer {
            let trainer = try Trainer(directory: fixture.makeDirectory(name, o), shards: fixture.shards,
                                      validation: fixture.validation(), resume: resume, progress: quiet)
            _ = try trainer.run()
            return trainer
        }
        // (Before, `run()` threw: the parts' preparers had no codes.) Interrupted at step 2, both
        // parts are in the middle of a window, which the resumed run prepares again.
        let total = 7
        let straight = try run("straight", options(total))
        _ = try run("resumed", options(2))
        let resumed = try run("resumed", options(total), resume: true)
        #expect(straight.state.step == total && resumed.state.step == total)
        #expect(Array(resumed.model.parameters.values) == Array(straight.model.parameters.values))
        let plain = try run("plain", options(total, dropout: nil))
        #expect(Array(plain.model.parameters.values) != Array(straight.model.parameters.values))
    }

    /// `--accumulate` on SentencePiece vocabularies: the parts are encoded with the model, as a
    /// single-part run's batches are (before, the parts' preparers were built without it).
    @Test func accumulatingRunsEncodeWithTheSentencePieceModel() throws {
        let fixture = try TrainingFixture(sentencePiece: true)
        defer { fixture.cleanUp() }
        var o = fixture.options(maxSteps: 2)
        o.accumulate = 2
        let trainer = try Trainer(directory: fixture.makeDirectory("m", o), shards: fixture.shards,
                                  validation: fixture.validation(), resume: false, progress: quiet)
        _ = try trainer.run()   // before, this threw: the parts' preparers had no SentencePiece model
        #expect(trainer.state.step == 2)
    }

    @Test func modelFolderKeepsTheSentencePieceModelAndTranslationUsesIt() throws {
        let fixture = try TrainingFixture(sentencePiece: true)
        defer { fixture.cleanUp() }
        let model = try #require(fixture.sentencePiece)
        _ = try Trainer(directory: fixture.makeDirectory("m", fixture.options(maxSteps: 2)), shards: fixture.shards,
                        validation: fixture.validation(), resume: false, progress: quiet).run()
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.path("m/source.spm"))) == Data(model.bytes))
        let opened = try SavedModel(opening: fixture.path("m"))
        #expect(opened.targetSentencePiece?.checksum == model.checksum)
        let translator = try Translator(directory: opened, checkpoint: .last)
        let line = fixture.corpus.test.source[0]
        #expect(translator.sourceIDs(line) == opened.sourceVocabulary.ids(model.pieces(line)))
        for translation in translator.translate([line]).flatMap({ $0 }) {
            #expect(!translation.text.contains("\u{2581}"), "pieces are decoded: ▁ becomes a space")
        }
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: fixture.path("m/target.spm")))
        #expect(throws: TextError.self) { try SavedModel(opening: fixture.path("m")) }
    }
}
