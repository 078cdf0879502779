import Decoding
import Foundation
import ModelFolder
import Seq2Seq
import Testing
import Translation

/// The `Seq2Seq` library's front door on the tiny model: the same translations as the engine the
/// CLI runs, concurrent callers batched and answered each with their own sentences, the blocking
/// variant, typed errors for bad options and folders, and shutdown.
@Suite struct LibraryTests {
    static var folder: URL { URL(fileURLWithPath: TinyModel.folder) }

    @Test func translatesAsTheEngineDoes() async throws {
        let translator = try Translator(model: Self.folder, options: .init(beam: 5, nBest: 2, checkpoint: .last))
        let sentences = Array(TinyModel.sentences.prefix(6)) + [""]
        let got = try await translator.translate(sentences)
        var search = TinyModel.translator.searchOptions
        search.beamSize = 5; search.nBest = 2
        let saved = TinyModel.translator.searchOptions
        TinyModel.translator.searchOptions = search
        let expected = TinyModel.translator.translate(sentences)
        TinyModel.translator.searchOptions = saved
        func fields(_ text: String, _ tokens: [String], _ score: Double, _ logProb: Double, _ each: [Double], _ alignment: [Int]?) -> String {
            "\(text)|\(tokens)|\(score)|\(logProb)|\(each)|\(alignment ?? [])"
        }
        let ours = got.map { $0.map { fields($0.text, $0.tokens, $0.score, $0.logProb, $0.tokenLogProbs, $0.alignment) } }
        let engine = expected.map { $0.map { fields($0.text, $0.tokens, $0.score, $0.logProb, $0.tokenLogProbs, $0.alignment) } }
        #expect(ours == engine)
        #expect(got[0].count == 2 && got.joined().allSatisfy { $0.text.isEmpty == $0.tokens.isEmpty })
        #expect(try translator.translateSync(sentences) == got)
        await translator.shutdown()
    }

    /// Rescoring through the library is the engine's (`translate --rescore-with`): the model
    /// rescoring itself at λ 0.3 gives the engine's n-best texts and scores under the same rescoring.
    @Test func rescoringIsTheEnginesRescoring() async throws {
        let options = TranslatorOptions(beam: 4, nBest: 2, checkpoint: .last, rescoring: [Self.folder], rescoringWeight: 0.3)
        let translator = try Translator(model: Self.folder, options: options)
        let sentences = Array(TinyModel.sentences.prefix(5))
        let got = try await translator.translate(sentences)
        var search = SearchOptions(beamSize: 4)
        search.nBest = 2
        let engine = try TranslationEngine(directory: SavedModel(opening: TinyModel.folder), checkpoint: .last, searchOptions: search)
        try engine.rescore(with: [SavedModel(opening: TinyModel.folder)], checkpoint: .last, weight: 0.3)
        let expected = engine.translate(sentences)
        #expect(got.map { $0.map { "\($0.text)|\($0.score)" } } == expected.map { $0.map { "\($0.text)|\($0.score)" } })
        await translator.shutdown()
    }

    /// Eight callers at once, each with its own sentences, get their own translations in their
    /// own order (what one caller alone gets), whatever batches the queue made of them.
    @Test func concurrentCallersGetTheirOwnTranslations() async throws {
        let translator = try Translator(model: Self.folder, options: .init(beam: 3, checkpoint: .last, batchSize: 8, maxWait: 0.02))
        let requests = (0..<8).map { k in (0..<(1 + k % 3)).map { TinyModel.sentences[(k + $0) % TinyModel.sentences.count] } }
        var alone: [[String]] = []
        for request in requests { alone.append(try await translator.translate(request).map { $0[0].text }) }
        let together = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for (k, request) in requests.enumerated() {
                group.addTask { (k, try await translator.translate(request).map { $0[0].text }) }
            }
            var answers = [[String]](repeating: [], count: requests.count)
            for try await (k, texts) in group { answers[k] = texts }
            return answers
        }
        #expect(together == alone)
        await translator.shutdown()
        await #expect(throws: Seq2SeqError.shuttingDown) { try await translator.translate(["one"]) }
    }

    @Test(arguments: [
        (TranslatorOptions(beam: 0), "beam"), (TranslatorOptions(beam: 2, nBest: 3), "nBest"),
        (TranslatorOptions(lengthPenalty: .nan), "lengthPenalty"), (TranslatorOptions(threads: 0), "threads"),
        (TranslatorOptions(batchSize: 0), "batchSize"), (TranslatorOptions(maxWait: -1), "maxWait"),
        (TranslatorOptions(weights: [1, 2]), "weights"), (TranslatorOptions(rescoringWeight: 1.5), "rescoringWeight"),
    ])
    func badOptionsAreTypedErrorsNamingTheOption(_ options: TranslatorOptions, _ name: String) {
        do {
            _ = try Translator(model: Self.folder, options: options)
            Issue.record("accepted \(options)")
        } catch let error as Seq2SeqError {
            guard case .invalidOption(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains(name), "\(message)")
        } catch {
            Issue.record("untyped \(error)")
        }
    }

    @Test func aMissingFolderIsAModelErrorNamingIt() {
        do {
            _ = try Translator(model: URL(fileURLWithPath: "/nonexistent/model"))
            Issue.record("accepted a missing folder")
        } catch let error as Seq2SeqError {
            guard case .model(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("/nonexistent/model"), "\(message)")
        } catch {
            Issue.record("untyped \(error)")
        }
    }
}

/// The library's tokenizer and scores on their own.
@Suite struct LibraryToolsTests {
    @Test func tokenizeThenDetokenizeRestoresTheText() throws {
        let tokenizer = try WordTokenizer(language: "de")
        let text = "Ein Hund läuft, schnell!"
        let tokens = tokenizer.tokenize(text)
        #expect(tokens.count == 6)
        #expect(tokenizer.detokenize(tokens) == text)
    }

    @Test func scoresAreSacreBLEUsAndRefuseMismatchedReferences() throws {
        let hypotheses = ["the cat sat on the mat", "a dog runs"]
        #expect(abs(try Scores.bleu(hypotheses: hypotheses, references: [hypotheses]) - 100) < 1e-9)
        #expect(abs(try Scores.chrF(hypotheses: hypotheses, references: [hypotheses]) - 100) < 1e-9)
        let upper = ["The Cat Sat On The Mat"], lower = [["the cat sat on the mat"]]
        #expect(abs(try Scores.bleu(hypotheses: upper, references: lower, lowercase: true) - 100) < 1e-9)
        #expect(try Scores.bleu(hypotheses: upper, references: lower) < 1)
        #expect(throws: Seq2SeqError.self) { try Scores.bleu(hypotheses: hypotheses, references: [["one"]]) }
        #expect(throws: Seq2SeqError.self) { try Scores.chrF(hypotheses: hypotheses, references: []) }
    }
}
