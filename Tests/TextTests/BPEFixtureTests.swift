import Basics
import Foundation
import Testing
import Text

// Compares seq2seq's BPE with subword-nmt 0.3.8's output recorded in Fixtures/bpe (see the
// README there and scripts/fixtures/make_bpe_fixtures.py).

enum BPEFixtures {
    static func path(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/bpe")!.path
    }

    static func lines(_ name: String) throws -> [String] {
        let text = try String(contentsOfFile: path(name), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static func learner(_ lines: [String]) -> BPELearner {
        var learner = BPELearner()
        for var line in lines { line.withUTF8 { learner.add(line: $0) } }
        return learner
    }

    static func segmented(_ encoder: BPEEncoder, _ lines: [String]) -> [String] {
        lines.map { line in
            var line = line
            var out: [UInt8] = []
            line.withUTF8 { encoder.appendSegmented(line: $0, to: &out) }
            return String(decoding: out, as: UTF8.self)
        }
    }

    static let samples = ["multi30k", "tatoeba"]
    static let glossaries = ["multi30k": ["dog", "[0-9]+", "Mann|Frau"], "tatoeba": ["Tom", "[A-Z][a-z]+", "￭'"]]
}

/// (sample, variant name, lines used, merges, minimum frequency, total symbols)
let learnCases: [(sample: String, variant: String)] = BPEFixtures.samples.flatMap { sample in
    ["", "total-symbols.", "min-frequency-5.", "first-side."].map { (sample, $0) }
}

@Test("learning gives subword-nmt's merges in the same order", arguments: learnCases)
func learningMatchesSubwordNMT(_ testCase: (sample: String, variant: String)) throws {
    var train = try BPEFixtures.lines("\(testCase.sample).train.tok")
    if testCase.variant == "first-side." { train = Array(train.prefix(train.count / 2)) }
    let learner = BPEFixtures.learner(train)
    let codes = learner.learn(merges: 1000, minimumFrequency: testCase.variant == "min-frequency-5." ? 5 : 2,
                              totalSymbols: testCase.variant == "total-symbols.")
    let expected = try BPECodes(contentsOf: BPEFixtures.path("\(testCase.sample).\(testCase.variant)codes"))
    #expect(codes.merges.count == expected.merges.count)
    let mismatch = zip(codes.merges, expected.merges).enumerated().first { $1.0 != $1.1 }
    #expect(mismatch == nil, "first different merge: \(String(describing: mismatch))")
    // And the file is byte for byte what subword-nmt wrote.
    let written = Array(codes.serialized().utf8)
    #expect(written == Array(try Data(contentsOf: URL(fileURLWithPath: BPEFixtures.path("\(testCase.sample).\(testCase.variant)codes")))))
}

let applyCases: [(sample: String, name: String)] = BPEFixtures.samples.flatMap { sample in
    ["plain", "merges-300", "separator", "vocabulary-2", "glossaries"].map { (sample, $0) }
}

@Test("applying codes gives subword-nmt's segmentation", arguments: applyCases)
func applyingMatchesSubwordNMT(_ testCase: (sample: String, name: String)) throws {
    let codes = try BPECodes(contentsOf: BPEFixtures.path("\(testCase.sample).codes"))
    let encoder: BPEEncoder
    switch testCase.name {
    case "merges-300": encoder = try BPEEncoder(codes: codes, merges: 300)
    case "separator": encoder = try BPEEncoder(codes: codes, separator: "￭￭")
    case "vocabulary-2":
        let words = try SubwordVocabulary.read(contentsOf: BPEFixtures.path("\(testCase.sample).train.vocab"), threshold: 2)
        encoder = try BPEEncoder(codes: codes, vocabulary: words)
    case "glossaries": encoder = try BPEEncoder(codes: codes, glossaries: BPEFixtures.glossaries[testCase.sample]!)
    default: encoder = try BPEEncoder(codes: codes)
    }
    let test = try BPEFixtures.lines("\(testCase.sample).test.tok")
    let expected = try BPEFixtures.lines("\(testCase.sample).test.\(testCase.name).bpe")
    let ours = BPEFixtures.segmented(encoder, test)
    #expect(ours.count == expected.count)
    let mismatch = zip(ours, expected).enumerated().first { $1.0 != $1.1 }
    #expect(mismatch == nil, "first different line: \(String(describing: mismatch))")
}

@Test("vocabulary counts equal subword-nmt get-vocab's, order included", arguments: BPEFixtures.samples)
func vocabularyMatchesGetVocab(_ sample: String) throws {
    let encoder = try BPEEncoder(codes: BPECodes(contentsOf: BPEFixtures.path("\(sample).codes")))
    var counter = SubwordVocabulary.Counter()
    for var line in BPEFixtures.segmented(encoder, try BPEFixtures.lines("\(sample).train.tok")) {
        line.withUTF8 { counter.add(line: $0) }
    }
    let expected = try String(contentsOfFile: BPEFixtures.path("\(sample).train.vocab"), encoding: .utf8)
    #expect(counter.serialized() == expected)
}
