import Foundation
import Testing
@testable import Decoding

@Suite struct EnsembleScorerTests {
    static let options = fixedLength(6, beam: 4, nBest: 3)

    /// An ensemble of one member is that member: the same n-best, tokens and scores, bit for bit.
    @Test func anEnsembleOfOneIsTheModel() {
        let table = randomTable(v: 9, seed: 5, eosBias: 1)
        let alone = BeamSearch.search(StubScorer(vocabularySize: 9, sentences: 3, table: table),
                                      sourceLengths: [3, 3, 3], options: Self.options)
        let member = StubScorer(vocabularySize: 9, sentences: 3, table: table)
        let ensemble = BeamSearch.search(EnsembleScorer(members: [member], weights: [0.3]),
                                         sourceLengths: [3, 3, 3], options: Self.options)
        #expect(ensemble.map { $0.map(\.tokens) } == alone.map { $0.map(\.tokens) })
        #expect(ensemble.map { $0.map(\.score) } == alone.map { $0.map(\.score) })
        #expect(member.violations.isEmpty, "\(member.violations)")
    }

    /// Two identical members (any weights) give the single model's n-best: w·a + (1−w)·a = a.
    @Test(arguments: [[Float(1), 1], [3, 1]])
    func twoIdenticalMembersGiveTheSameNBest(_ weights: [Float]) {
        let table = randomTable(v: 9, seed: 6, eosBias: 1)
        let alone = BeamSearch.search(StubScorer(vocabularySize: 9, sentences: 2, table: table),
                                      sourceLengths: [3, 3], options: Self.options)
        let members = [StubScorer(vocabularySize: 9, sentences: 2, table: table),
                       StubScorer(vocabularySize: 9, sentences: 2, table: table)]
        let ensemble = BeamSearch.search(EnsembleScorer(members: members, weights: weights),
                                         sourceLengths: [3, 3], options: Self.options)
        #expect(ensemble.map { $0.map(\.tokens) } == alone.map { $0.map(\.tokens) })
        for (a, b) in zip(ensemble.joined(), alone.joined()) { expectClose(a.score, b.score, 1e-5) }
        // Both members saw every reorder: each holds the hypotheses the search believes it holds.
        #expect(members.allSatisfy { $0.violations.isEmpty })
        #expect(members[0].rowsPerStep == members[1].rowsPerStep)
    }

    /// The ensemble's row is the weighted mean of the members' log-probabilities: a search over
    /// it equals an exhaustive search over the mean table, and the winner is a sentence neither
    /// member ranks first (A prefers x, B prefers y, both nearly agree on z).
    @Test func theEnsembleSearchesTheWeightedMeanOfLogProbabilities() {
        let z: Int32 = 6
        let a = handTable([[]: [x: 0.5, z: 0.45, y: 0.05]], v: 7)
        let b = handTable([[]: [y: 0.5, z: 0.45, x: 0.05]], v: 7)
        let weights: [Float] = [0.75, 0.25]
        let mean: (Int, [Int32]) -> [Float] = { s, prefix in
            zip(a(s, prefix), b(s, prefix)).map { weights[0] * $0 + weights[1] * $1 }
        }
        let options = fixedLength(3, beam: 5, nBest: 3)
        let members = [StubScorer(vocabularySize: 7, sentences: 1, table: a),
                       StubScorer(vocabularySize: 7, sentences: 1, table: b)]
        let got = BeamSearch.search(EnsembleScorer(members: members, weights: [3, 1]), sourceLengths: [2], options: options)
        let expected = exhaustive(table: mean, sentence: 0, v: 7, maxLength: 3, options: options)
        #expect(got[0].map(\.tokens) == expected.prefix(3).map(\.tokens))
        for (g, e) in zip(got[0], expected) { expectClose(g.logProb, e.logProb, 1e-5) }
        #expect(got[0][0].tokens == [z])
        let aloneA = BeamSearch.search(StubScorer(vocabularySize: 7, sentences: 1, table: a), sourceLengths: [2], options: options)
        let aloneB = BeamSearch.search(StubScorer(vocabularySize: 7, sentences: 1, table: b), sourceLengths: [2], options: options)
        #expect(aloneA[0][0].tokens == [x] && aloneB[0][0].tokens == [y])
    }

    /// Compact rows (a shortlist given to every member) are combined the same way, and an id a
    /// member scores −∞ stays −∞ in the ensemble.
    @Test func compactRowsAndMinusInfinityCombine() {
        let inf = -Float.infinity
        let tableA: (Int, [Int32]) -> [Float] = { _, _ in [inf, -2, -3, -1, -0.5, -4] }
        let tableB: (Int, [Int32]) -> [Float] = { _, _ in [-1, -2, -3, -1, inf, -2] }
        let a = StubScorer(vocabularySize: 6, sentences: 2, table: tableA)
        let b = StubScorer(vocabularySize: 6, sentences: 2, table: tableB)
        a.candidateIDs = [0, 3, 4, 5]
        b.candidateIDs = [0, 3, 4, 5]
        let ensemble = EnsembleScorer(members: [a, b])
        #expect(ensemble.candidateIDs == [0, 3, 4, 5])
        var out = [Float](repeating: 7, count: 8)
        out.withUnsafeMutableBufferPointer { ensemble.step(previousTokens: [bos, bos], logProbs: $0) }
        #expect(out == [inf, -1, inf, -3, inf, -1, inf, -3])
    }
}

@Suite struct ForcedDecodingTests {
    /// The forced log-probability of each row is the sum of the table's entries along its tokens
    /// and eos, for rows that repeat, skip and reorder sentences, of different lengths.
    @Test func forcedLogProbabilityIsTheSumAlongTheTokens() {
        let table = randomTable(v: 8, seed: 9)
        let scorer = StubScorer(vocabularySize: 8, sentences: 3, table: table)
        let rows: [Int32] = [2, 0, 0, 2, 2]
        let targets: [[Int32]] = [[4, 5, 6], [], [7], [4, 4, 4, 4, 5], [6, 1]]
        let got = ForcedDecoding.logProbabilities(scorer, sentenceOfRow: rows, targets: targets, bos: bos, eos: eos)
        for (r, target) in targets.enumerated() {
            expectClose(got[r], sequenceLogProb(table, sentence: Int(rows[r]), target), 1e-9)
        }
        #expect(scorer.violations.isEmpty, "\(scorer.violations)")
        // Identity rows are not reordered (the protocol forbids an identity reorder).
        let plain = StubScorer(vocabularySize: 8, sentences: 2, table: table)
        let two = ForcedDecoding.logProbabilities(plain, sentenceOfRow: [0, 1], targets: [[4], [5, 6]], bos: bos, eos: eos)
        expectClose(two[1], sequenceLogProb(table, sentence: 1, [5, 6]), 1e-9)
        #expect(plain.violations.isEmpty, "\(plain.violations)")
    }

    /// A beam search's hypothesis log-probability is what forced decoding gives for its tokens.
    @Test func forcedDecodingAgreesWithTheSearch() {
        let table = randomTable(v: 9, seed: 10, eosBias: 1)
        let found = BeamSearch.search(StubScorer(vocabularySize: 9, sentences: 2, table: table), sourceLengths: [3, 3],
                                      options: fixedLength(5, beam: 3, nBest: 3))
        let hypotheses = found.enumerated().flatMap { s, list in list.map { (Int32(s), $0) } }
        let forced = ForcedDecoding.logProbabilities(StubScorer(vocabularySize: 9, sentences: 2, table: table),
                                                     sentenceOfRow: hypotheses.map(\.0), targets: hypotheses.map(\.1.tokens),
                                                     bos: bos, eos: eos)
        for (f, h) in zip(forced, hypotheses) { expectClose(f, h.1.logProb, 1e-6) }
    }
}

@Suite struct TokenLogProbabilityTests {
    /// Every hypothesis of greedy and beam search carries each token's log-probability and eos's,
    /// the table's values along its tokens, summing to its log-probability.
    @Test(arguments: [1, 4])
    func tokenLogProbabilitiesAreTheStepValuesAndSumToTheTotal(beam: Int) {
        let table = randomTable(v: 9, seed: 12, eosBias: 1)
        let found = BeamSearch.search(StubScorer(vocabularySize: 9, sentences: 3, table: table), sourceLengths: [3, 3, 3],
                                      options: fixedLength(5, beam: beam, nBest: beam))
        for (s, list) in found.enumerated() {
            for h in list {
                #expect(h.tokenLogProbs.count == h.tokens.count + 1)
                expectClose(h.tokenLogProbs.reduce(0, +), h.logProb, 1e-9)
                for (i, value) in h.tokenLogProbs.enumerated() {
                    let id = i < h.tokens.count ? h.tokens[i] : eos
                    expectClose(value, Double(table(s, Array(h.tokens[..<i]))[Int(id)]), 1e-6)
                }
            }
        }
    }
}
