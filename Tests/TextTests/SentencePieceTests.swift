import Foundation
import Testing
import Text

// The C shim over Debian's libsentencepiece against `pip install sentencepiece` (fixture made by
// scripts/fixtures/make_spm_fixtures.py with a tiny model trained once by spm_train).

private struct SPMFixture: Decodable {
    struct Case: Decodable {
        var text: String
        var pieces: [String]
        var ids: [Int32]
        var decoded: String
    }
    var piece_count: Int
    var cases: [Case]

    static func load() throws -> (model: SentencePieceModel, fixture: SPMFixture) {
        let folder = Bundle.module.url(forResource: "spm", withExtension: nil, subdirectory: "Fixtures")!
        let fixture = try JSONDecoder().decode(SPMFixture.self, from: Data(contentsOf: folder.appendingPathComponent("cases.json")))
        return (try SentencePieceModel(contentsOf: folder.appendingPathComponent("tiny.model").path), fixture)
    }
}

@Test func sentencePiecePiecesAndIDsEqualThePythonPackages() throws {
    let (model, fixture) = try SPMFixture.load()
    #expect(model.pieceCount == fixture.piece_count)
    #expect(fixture.cases.count == 80)
    for item in fixture.cases {
        #expect(model.ids(item.text) == item.ids, "\(item.text)")
        #expect(model.pieces(item.text) == item.pieces, "\(item.text)")
        #expect(model.text(item.pieces) == item.decoded, "\(item.text)")
    }
}

@Test func aFileThatIsNotASentencePieceModelIsOneErrorNamingIt() throws {
    #expect(throws: TextError.self) { try SentencePieceModel(bytes: Array("#version: 0.2\na b\n".utf8), path: "x.model") }
    do {
        _ = try SentencePieceModel(bytes: Array("#version: 0.2\na b\n".utf8), path: "x.model")
    } catch let error as TextError {
        #expect("\(error)".hasPrefix("x.model:1: not a SentencePiece model ("))
        #expect(!"\(error)".contains("\n"))
    }
    #expect(throws: TextError.malformedSubwords(file: "empty.model", line: 1, hint: "not a SentencePiece model (empty file)")) {
        try SentencePieceModel(bytes: [], path: "empty.model")
    }
}

@Test func aSentencePieceSideBypassesTheTokenizerAndRoundTrips() throws {
    let (model, _) = try SPMFixture.load()
    var options = TokenizerOptions()
    options.sentencePiece = model.checksum
    let segmenter = try TextSegmenter(options: options, codes: nil, sentencePiece: model)
    let line = "Tom didn't tell me, did he?"
    #expect(segmenter.tokens(line) == model.pieces(line))
    #expect(segmenter.text(segmenter.tokens(line)) == line)
    // A vocabulary header records the model; other models are refused.
    #expect(try TokenizerOptions(summary: options.summary) == options)
    #expect(throws: TextError.self) { try TextSegmenter(options: options, codes: nil) }
}
