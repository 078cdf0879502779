import Foundation
import Testing
@testable import TranslationMetrics

/// Cases scored by sacreBLEU 2.6.0 (scripts/fixtures/make_metrics_fixtures.py writes them).
struct FixtureCase: Decodable, CustomStringConvertible, Sendable {
    struct Options: Decodable, Sendable {
        var tokenize: String?
        var lowercase: Bool?
        var smooth: String?
        var smooth_value: Double?
        var sentence: Bool?
        var word_order: Int?
        var whitespace: Bool?
        var eps: Bool?
    }
    struct Expected: Decodable, Sendable {
        var score: Double
        var precisions: [Double]?
        var counts: [Double]?
        var totals: [Double]?
        var bp: Double?
        var sys_len: Int?
        var ref_len: Int?
        var ratio: Double?
        var text: String
        var text_width1: String
        var signature: String
    }
    enum ExpectedValue: Decodable, Sendable {
        case corpus(Expected)
        case sentences([Expected])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let list = try? c.decode([Expected].self) { self = .sentences(list) } else {
                self = .corpus(try c.decode(Expected.self))
            }
        }
    }
    var name: String
    var metric: String
    var options: Options
    var hyps: [String]
    var refs: [[String]]
    var expected: ExpectedValue
    var description: String { name }

    var bleu: BLEU {
        BLEU(tokenize: BLEUTokenizer(rawValue: options.tokenize ?? "13a")!,
             lowercase: options.lowercase ?? false,
             smooth: BLEU.Smoothing(rawValue: options.smooth ?? "exp")!,
             smoothValue: options.smooth_value, effectiveOrder: options.sentence ?? false)
    }
    var chrf: CHRF {
        CHRF(wordOrder: options.word_order ?? 0, lowercase: options.lowercase ?? false,
             whitespace: options.whitespace ?? false, epsSmoothing: options.eps ?? false)
    }
}

enum Fixtures {
    static let all: [FixtureCase] = {
        let url = Bundle.module.url(forResource: "cases", withExtension: "json", subdirectory: "Fixtures")!
        struct File: Decodable { var cases: [FixtureCase] }
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }()
    static let bleu = all.filter { $0.metric == "bleu" }
    static let chrf = all.filter { $0.metric == "chrf" }
}

let tolerance = 1e-6

func check(_ s: BLEUScore, _ e: FixtureCase.Expected, signature: String, _ name: String) {
    #expect(abs(s.score - e.score) <= tolerance, "\(name): score \(s.score) vs \(e.score)")
    #expect(abs(s.bp - e.bp!) <= tolerance, "\(name): bp")
    #expect(abs(s.ratio - e.ratio!) <= tolerance, "\(name): ratio")
    #expect(s.sysLen == e.sys_len && s.refLen == e.ref_len, "\(name): lengths \(s.sysLen)/\(s.refLen)")
    #expect(s.counts == e.counts! && s.totals == e.totals!, "\(name): counts \(s.counts) \(s.totals)")
    #expect(zip(s.precisions, e.precisions!).allSatisfy { abs($0 - $1) <= tolerance }, "\(name): precisions")
    #expect(signature == e.signature)
    #expect(s.formatted(signature: signature) == e.text)
    #expect(s.formatted(signature: signature, width: 1) == e.text_width1)
}

@Test("BLEU agrees with sacreBLEU 2.6", arguments: Fixtures.bleu)
func bleuMatchesSacreBLEU(_ c: FixtureCase) {
    let bleu = c.bleu
    let signature = bleu.signature(referenceCount: c.refs.count, version: "2.6.0")
    switch c.expected {
    case .corpus(let e):
        check(bleu.corpusScore(hypotheses: c.hyps, references: c.refs), e, signature: signature, c.name)
    case .sentences(let list):
        for (i, e) in list.enumerated() {
            let s = bleu.sentenceScore(hypothesis: c.hyps[i], references: c.refs.map { $0[i] })
            check(s, e, signature: signature, "\(c.name)[\(i)]")
        }
    }
}

@Test("chrF and chrF++ agree with sacreBLEU 2.6", arguments: Fixtures.chrf)
func chrfMatchesSacreBLEU(_ c: FixtureCase) {
    let chrf = c.chrf
    let signature = chrf.signature(referenceCount: c.refs.count, version: "2.6.0")
    let scores: [(CHRFScore, FixtureCase.Expected)]
    switch c.expected {
    case .corpus(let e):
        scores = [(chrf.corpusScore(hypotheses: c.hyps, references: c.refs), e)]
    case .sentences(let list):
        scores = list.indices.map { i in
            (chrf.sentenceScore(hypothesis: c.hyps[i], references: c.refs.map { $0[i] }), list[i])
        }
    }
    for (s, e) in scores {
        #expect(abs(s.score - e.score) <= tolerance, "\(c.name): \(s.score) vs \(e.score)")
        #expect(signature == e.signature)
        #expect(s.formatted(signature: signature) == e.text)
        #expect(s.formatted(signature: signature, width: 1) == e.text_width1)
    }
}

@Test func fixturesAreLoaded() {
    #expect(Fixtures.bleu.count >= 30)
    #expect(Fixtures.chrf.count >= 10)
}
