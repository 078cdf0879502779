import Foundation
import Testing
@testable import Decoding

let x: Int32 = 4, y: Int32 = 5

/// Options with a fixed maximum length of `maxLength` tokens for any source.
func fixedLength(_ maxLength: Int, beam: Int, nBest: Int = 1, alpha: Double = 0,
                 earlyStopping: Bool = true) -> SearchOptions {
    SearchOptions(beamSize: beam, lengthPenalty: alpha, maxLengthRatio: 0, maxLengthOffset: maxLength,
                  nBest: nBest, earlyStopping: earlyStopping)
}

/// Log-probability of `tokens` (then eos) under a table, summed in the order the search sums.
func sequenceLogProb(_ table: (Int, [Int32]) -> [Float], sentence: Int, _ tokens: [Int32],
                     withEOS: Bool = true) -> Double {
    var total = 0.0
    for i in tokens.indices { total += Double(table(sentence, Array(tokens[..<i]))[Int(tokens[i])]) }
    if withEOS { total += Double(table(sentence, tokens)[Int(eos)]) }
    return total
}

func expectClose(_ a: Double, _ b: Double, _ tolerance: Double = 1e-6,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(abs(a - b) <= tolerance, "\(a) vs \(b)", sourceLocation: sourceLocation)
}

/// Token lists and scores match (scores to rounding; both sides sum the same Float values).
func expectSame(_ a: [[Hypothesis]], _ b: [[Hypothesis]], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.map { $0.map(\.tokens) } == b.map { $0.map(\.tokens) }, sourceLocation: sourceLocation)
    #expect(a.map(\.count) == b.map(\.count), sourceLocation: sourceLocation)
    for (ha, hb) in zip(a.joined(), b.joined()) {
        expectClose(ha.score, hb.score, 1e-9, sourceLocation: sourceLocation)
        expectClose(ha.logProb, hb.logProb, 1e-9, sourceLocation: sourceLocation)
    }
}

@Suite struct BeamSearchTests {
    /// Greedy takes x (0.6) then x (0.4): 0.24. The beam keeps y (0.4), whose eos (0.9) gives 0.36.
    static let twoStep = handTable([
        []: [x: 0.6, y: 0.4],
        [x]: [x: 0.4, eos: 0.35, y: 0.25],
        [y]: [eos: 0.9],
    ], v: 6)

    @Test func greedyAndBeamDifferOnATwoStepTable() {
        let greedyScorer = StubScorer(vocabularySize: 6, sentences: 1, table: Self.twoStep)
        let greedy = BeamSearch.greedy(greedyScorer, sourceLengths: [3], options: fixedLength(5, beam: 1))
        #expect(greedy.map { $0.map(\.tokens) } == [[[x, x]]])
        expectClose(greedy[0][0].logProb, log(0.24))
        #expect(greedy[0][0].score == greedy[0][0].logProb)  // alpha 0: the raw log-probability
        #expect(greedyScorer.violations.isEmpty, "\(greedyScorer.violations)")

        let beamScorer = StubScorer(vocabularySize: 6, sentences: 1, table: Self.twoStep)
        let beam = BeamSearch.search(beamScorer, sourceLengths: [3], options: fixedLength(5, beam: 2))
        #expect(beam.map { $0.map(\.tokens) } == [[[y]]])
        expectClose(beam[0][0].logProb, log(0.36))
        // [y]+eos finishes at step 2 and nothing live (best 0.24) can beat it: two steps only.
        #expect(beamScorer.rowsPerStep == [1, 2])
        #expect(beamScorer.violations.isEmpty, "\(beamScorer.violations)")
    }

    @Test func finishedHypothesesLeaveTheBeamAndNBestFollowsBackPointers() {
        let scorer = StubScorer(vocabularySize: 6, sentences: 1, table: Self.twoStep)
        let result = BeamSearch.search(scorer, sourceLengths: [3], options: fixedLength(5, beam: 2, nBest: 2))
        // Step 2: [y]+eos finishes and leaves; [x,x] and [x,y] refill the beam of 2 (x+eos, ranked
        // third, is not among the K best and is dropped). Step 3: both end with eos.
        #expect(result.map { $0.map(\.tokens) } == [[[y], [x, x]]])
        expectClose(result[0][0].logProb, log(0.36))
        expectClose(result[0][1].logProb, log(0.24))
        #expect(scorer.rowsPerStep == [1, 2, 2])
        #expect(scorer.rows.map(\.fed) == [[bos, x, x], [bos, x, y]])
        #expect(scorer.violations.isEmpty, "\(scorer.violations)")
        #expect(!scorer.fedTokens.contains(eos))
    }

    /// Lengths limit: ⌊a·|source|⌋ + b tokens, then eos is forced and its log-probability counted.
    @Test(arguments: [(3, 0.5, 1, 2), (0, 2.0, 0, 0), (4, 1.0, 0, 4), (2, 1.5, 3, 6), (0, 2.0, 3, 3)])
    func lengthLimitForcesEOS(sourceLength: Int, ratio: Double, offset: Int, expected: Int) {
        let table = randomTable(v: 7, seed: 11, eosBias: -30)
        for beam in [1, 3] {
            let options = SearchOptions(beamSize: beam, lengthPenalty: 0.6, maxLengthRatio: ratio,
                                        maxLengthOffset: offset, nBest: beam)
            #expect(options.maxLength(sourceLength: sourceLength) == expected)
            let scorer = StubScorer(vocabularySize: 7, sentences: 1, table: table)
            let result = BeamSearch.search(scorer, sourceLengths: [sourceLength], options: options)
            #expect(result[0].count == (expected == 0 ? 1 : beam))  // a 0-token limit has one output
            for h in result[0] {
                #expect(h.tokens.count == expected)
                expectClose(h.logProb, sequenceLogProb(table, sentence: 0, h.tokens))
                expectClose(h.score, h.logProb / lengthPenalty(length: expected + 1, alpha: 0.6))
            }
            #expect(scorer.rowsPerStep.count == expected + 1)
            #expect(scorer.violations.isEmpty, "\(scorer.violations)")
        }
    }

    /// [y]: 0.45·0.667 ≈ 0.300 in 2 steps; [x,x,x,x]: 0.5·0.9³·0.686 ≈ 0.250 in 5 steps.
    static let shortOrLong = handTable([
        []: [x: 0.5, y: 0.45],
        [y]: [eos: 0.667],
        [x]: [x: 0.9], [x, x]: [x: 0.9], [x, x, x]: [x: 0.9],
        [x, x, x, x]: [eos: 0.686],
    ], v: 6)

    @Test(arguments: [(0.0, [y]), (0.6, [x, x, x, x]), (1.0, [x, x, x, x])])
    func lengthPenaltyChangesTheWinner(alpha: Double, winner: [Int32]) {
        let scorer = StubScorer(vocabularySize: 6, sentences: 1, table: Self.shortOrLong)
        let result = BeamSearch.search(scorer, sourceLengths: [5],
                                       options: fixedLength(10, beam: 2, nBest: 2, alpha: alpha))
        #expect(result[0].first?.tokens == winner)
        #expect(Set(result[0].map(\.tokens)) == [[y], [x, x, x, x]])
        for h in result[0] {
            expectClose(h.logProb, sequenceLogProb(Self.shortOrLong, sentence: 0, h.tokens))
            let expected = alpha == 0 ? h.logProb : h.logProb / pow((5 + Double(h.tokens.count + 1)) / 6, alpha)
            expectClose(h.score, expected)
        }
        #expect(scorer.violations.isEmpty, "\(scorer.violations)")
    }

    @Test func lengthPenaltyValues() {
        #expect(lengthPenalty(length: 1, alpha: 1) == 1)
        #expect(lengthPenalty(length: 7, alpha: 1) == 2)
        #expect(lengthPenalty(length: 7, alpha: 0.5) == 2.0.squareRoot())
        #expect(lengthPenalty(length: 42, alpha: 0) == 1)
    }

    /// With K at least the number of possible outputs nothing is ever pruned, so the beam must
    /// return exactly the exhaustive n-best list, whatever alpha and early stopping do.
    @Test(arguments: [(2, 13), (3, 40)], [0.0, 0.6, 1.5, -0.5])
    func wideBeamEqualsExhaustiveSearch(shape: (maxLength: Int, beam: Int), alpha: Double) {
        for early in [true, false] {
            let tables = (0..<3).map { _ in randomTable(v: 6, seed: UInt64(shape.maxLength) * 7 + 1) }
            let options = fixedLength(shape.maxLength, beam: shape.beam, nBest: 5, alpha: alpha,
                                      earlyStopping: early)
            let scorer = StubScorer(vocabularySize: 6, sentences: 3) { s, prefix in tables[s](s, prefix) }
            let result = BeamSearch.search(scorer, sourceLengths: [1, 2, 3], options: options)
            let expected = (0..<3).map { s in
                Array(exhaustive(table: tables[s], sentence: s, v: 6, maxLength: shape.maxLength,
                                 options: options).prefix(5))
            }
            expectSame(result, expected)
            #expect(scorer.violations.isEmpty, "\(scorer.violations)")
        }
    }

    @Test func batchedSearchEqualsSearchingEachSentenceAlone() {
        let table = randomTable(v: 12, seed: 5, eosBias: 1)
        let lengths = [0, 1, 3, 2, 5]
        let options = SearchOptions(beamSize: 3, lengthPenalty: 0.6, maxLengthRatio: 1, maxLengthOffset: 2, nBest: 2)
        for search in [BeamSearch.search, BeamSearch.greedy] {
            let scorer = StubScorer(vocabularySize: 12, sentences: lengths.count, table: table)
            let batched = search(scorer, lengths, options)
            #expect(scorer.violations.isEmpty, "\(scorer.violations)")
            let alone = lengths.indices.map { s in
                let single = StubScorer(vocabularySize: 12, sentences: 1) { _, prefix in table(s, prefix) }
                return search(single, [lengths[s]], options)[0]
            }
            #expect(batched == alone)
        }
    }

    @Test func finishedSentencesDropTheirRows() {
        // Sentence 0 ends at once; sentence 1 runs to its limit of 4 tokens.
        let table: (Int, [Int32]) -> [Float] = { s, _ in
            logProbs(s == 0 ? [eos: 0.99] : [x: 0.9, eos: 1e-3], v: 6)
        }
        for beam in [1, 3] {
            let scorer = StubScorer(vocabularySize: 6, sentences: 2, table: table)
            let result = BeamSearch.search(scorer, sourceLengths: [4, 4],
                                           options: SearchOptions(beamSize: beam, maxLengthRatio: 1, maxLengthOffset: 0))
            #expect(result.map { $0.map(\.tokens) } == [[[]], [[x, x, x, x]]])
            #expect(scorer.rowsPerStep == (beam == 1 ? [2, 1, 1, 1, 1] : [2, 3, 3, 3, 3]))
            #expect(scorer.violations.isEmpty, "\(scorer.violations)")
        }
    }

    @Test(arguments: [(UInt64(1), 2, 1, 0.0), (2, 4, 2, 0.6), (3, 3, 3, 2.0), (4, 2, 2, -0.5), (5, 5, 1, 1.0)])
    func earlyStoppingNeverChangesTheResult(seed: UInt64, beam: Int, nBest: Int, alpha: Double) {
        let table = randomTable(v: 9, seed: seed, eosBias: 0.5)
        let lengths = [0, 2, 4, 3]
        var stepsTaken: [Int] = []
        var results: [[[Hypothesis]]] = []
        for early in [true, false] {
            let options = SearchOptions(beamSize: beam, lengthPenalty: alpha, maxLengthRatio: 1.5,
                                        maxLengthOffset: 2, nBest: nBest, earlyStopping: early)
            let scorer = StubScorer(vocabularySize: 9, sentences: lengths.count, table: table)
            results.append(BeamSearch.beam(scorer, sourceLengths: lengths, options: options))
            stepsTaken.append(scorer.rowsPerStep.reduce(0, +))
            #expect(scorer.violations.isEmpty, "\(scorer.violations)")
        }
        #expect(results[0] == results[1])
        #expect(stepsTaken[0] <= stepsTaken[1])
    }

    /// [y]+eos finishes first (0.30, score −1.03 at alpha 1); live [x,x] has a lower log-probability
    /// (0.235) than [y] but goes on almost surely to 6 tokens, ending at score −0.73. Stopping on a
    /// bound computed at the live hypothesis' current length (−1.09) would wrongly keep [y].
    static let lateWinner = handTable([
        []: [y: 0.5, x: 0.47],
        [y]: [eos: 0.6],
        [x]: [x: 0.5],
        [x, x]: [x: 0.999], [x, x, x]: [x: 0.999], [x, x, x, x]: [x: 0.999], [x, x, x, x, x]: [x: 0.999],
        [x, x, x, x, x, x]: [eos: 0.999],
    ], v: 6)

    @Test(arguments: [true, false])
    func earlyStoppingBoundAllowsForTheLengthPenalty(earlyStopping: Bool) {
        let scorer = StubScorer(vocabularySize: 6, sentences: 1, table: Self.lateWinner)
        let result = BeamSearch.search(scorer, sourceLengths: [1],
                                       options: fixedLength(10, beam: 2, alpha: 1, earlyStopping: earlyStopping))
        #expect(result[0].map(\.tokens) == [[x, x, x, x, x, x]])
        expectClose(result[0][0].score, log(0.47 * 0.5 * pow(0.999, 5)) / 2)
        #expect(scorer.violations.isEmpty, "\(scorer.violations)")
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func beamOfOneEqualsGreedy(seed: UInt64) {
        let table = randomTable(v: 10, seed: seed)
        let lengths = [0, 3, 1, 6]
        for alpha in [0.0, 0.6] {
            let options = SearchOptions(beamSize: 1, lengthPenalty: alpha, maxLengthRatio: 1, maxLengthOffset: 3)
            let greedy = BeamSearch.greedy(StubScorer(vocabularySize: 10, sentences: 4, table: table),
                                           sourceLengths: lengths, options: options)
            let viaSearch = BeamSearch.search(StubScorer(vocabularySize: 10, sentences: 4, table: table),
                                              sourceLengths: lengths, options: options)
            #expect(viaSearch == greedy)
            if alpha == 0 {
                // The general beam code with K = 1 takes the same path (with alpha > 0 it may keep
                // looking after an eos, which is why `search` routes K = 1 to `greedy`).
                let scorer = StubScorer(vocabularySize: 10, sentences: 4, table: table)
                let beam = BeamSearch.beam(scorer, sourceLengths: lengths, options: options)
                #expect(beam == greedy)
                #expect(scorer.violations.isEmpty, "\(scorer.violations)")
            }
        }
    }

    @Test(arguments: [[pad, bos], [pad, unk, bos]])
    func forbiddenTokensNeverAppear(forbidden: [Int32]) {
        // The forbidden ids are the most probable ones everywhere.
        let table: (Int, [Int32]) -> [Float] = { _, _ in
            logProbs([pad: 0.4, bos: 0.3, unk: 0.15, x: 0.1, eos: 0.01, y: 0.04], v: 6)
        }
        for beam in [1, 4] {
            var options = SearchOptions(beamSize: beam, lengthPenalty: 0.6, maxLengthRatio: 1, maxLengthOffset: 2,
                                        nBest: beam)
            options.forbidden = forbidden
            let scorer = StubScorer(vocabularySize: 6, sentences: 2, table: table)
            let result = BeamSearch.search(scorer, sourceLengths: [1, 3], options: options)
            let emitted = Set(result.joined().flatMap(\.tokens))
            #expect(emitted.isDisjoint(with: forbidden))
            #expect(Set(scorer.fedTokens).isDisjoint(with: forbidden))
            #expect(emitted.contains(unk) == !forbidden.contains(unk))
            #expect(result.allSatisfy { $0.count == beam })
        }
    }

    @Test func tiesGoToLowerTokenIdsAndRepeatRunsAgree() {
        // All allowed ids equally likely: every choice is a tie.
        let uniform: (Int, [Int32]) -> [Float] = { _, _ in logProbs([unk: 0.25, eos: 0.25, x: 0.25, y: 0.25], v: 6) }
        let greedy = BeamSearch.greedy(StubScorer(vocabularySize: 6, sentences: 1, table: uniform),
                                       sourceLengths: [2], options: SearchOptions(maxLengthRatio: 1, maxLengthOffset: 0))
        #expect(greedy[0].map(\.tokens) == [[unk, unk]])  // unk (1) ranks before eos (3)

        let options = SearchOptions(beamSize: 3, lengthPenalty: 0, maxLengthRatio: 1, maxLengthOffset: 0, nBest: 3)
        let runs = (0..<2).map { _ in
            BeamSearch.search(StubScorer(vocabularySize: 6, sentences: 2, table: uniform),
                              sourceLengths: [2, 2], options: options)
        }
        #expect(runs[0] == runs[1])
        // Step 1 ranks unk, eos, x, y: [] finishes, [unk] [x] [y] live. Step 2: all 12 continuations
        // tie, so the three [·, unk] ones fill the beam; step 3 forces eos on them (lower beam first).
        #expect(runs[0][0].map(\.tokens) == [[], [unk, unk], [x, unk]])
        #expect(runs[0][1] == runs[0][0])
    }

    @Test(arguments: [
        (SearchOptions(beamSize: 0), "--beam"),
        (SearchOptions(beamSize: 2, nBest: 3), "--n-best"),
        (SearchOptions(lengthPenalty: .nan), "--length-penalty"),
        (SearchOptions(maxLengthRatio: -1), "--max-length-ratio"),
        (SearchOptions(maxLengthOffset: -1), "--max-length"),
        (SearchOptions(forbidden: [0, 3]), "end-of-sentence"),
    ])
    func invalidOptionsAreRejectedWithTheirName(options: SearchOptions, mention: String) {
        #expect(throws: DecodingError.self) { try options.validate() }
        do { try options.validate() } catch { #expect("\(error)".contains(mention), "\(error)") }
    }

    @Test func defaultsAreValid() throws {
        try SearchOptions().validate()
        #expect(SearchOptions().maxLength(sourceLength: 7) == 24)
        #expect(BeamSearch.search(StubScorer(vocabularySize: 6, sentences: 0, table: Self.twoStep),
                                  sourceLengths: [], options: SearchOptions()).isEmpty)
    }

    /// A scorer that names its candidate ids (a shortlist; −∞ everywhere else) gets exactly the
    /// hypotheses of the same scores without the list: the search only scans fewer ids. Ties
    /// included (the table's values are rounded to few levels).
    @Test(arguments: [1, 3, 5])
    func candidateIDsChangeNoResult(beam: Int) {
        let v = 40
        let ids: [Int32] = [eos, 5, 6, 9, 13, 14, 21, 30, 39]
        let base = randomTable(v: v, seed: 17, eosBias: 0.5)
        let table: (Int, [Int32]) -> [Float] = { sentence, prefix in
            let row = base(sentence, prefix)
            return (0..<v).map { ids.contains(Int32($0)) ? (row[$0] * 4).rounded() / 4 : -.infinity }
        }
        let options = SearchOptions(beamSize: beam, lengthPenalty: 0.6, maxLengthRatio: 2, maxLengthOffset: 1, nBest: beam,
                                    bos: bos, eos: eos)
        let lengths = [3, 1, 4, 2]
        let plain = StubScorer(vocabularySize: v, sentences: lengths.count, table: table)
        let listed = StubScorer(vocabularySize: v, sentences: lengths.count, table: table)
        listed.candidateIDs = ids
        let a = BeamSearch.search(plain, sourceLengths: lengths, options: options)
        let b = BeamSearch.search(listed, sourceLengths: lengths, options: options)
        #expect(a == b)
        #expect(!a.flatMap { $0 }.isEmpty)
        #expect(plain.violations.isEmpty && listed.violations.isEmpty)
    }

    /// With candidate ids a step writes compact rows (column j is ids[j]): the values the table has
    /// at every other id are never seen, so even values that would win there (0, the highest
    /// log-probability) or poison comparisons (NaN) change nothing; forbidden ids inside and outside
    /// the list are honoured; and eos left out of the list scores −∞ even when it is forced at the
    /// maximum length.
    @Test(arguments: [1, 3, 5])
    func compactRowsEqualFullRowsWithMinusInfinityOutside(beam: Int) {
        let v = 40
        let ids: [Int32] = [eos, 5, 6, 9, 13, 14, 21, 30, 39]
        let base = randomTable(v: v, seed: 23, eosBias: 0.5)
        func table(outside: Float, list: [Int32]) -> (Int, [Int32]) -> [Float] {
            { sentence, prefix in
                let row = base(sentence, prefix)
                return (0..<v).map { list.contains(Int32($0)) ? (row[$0] * 4).rounded() / 4 : outside }
            }
        }
        let options = SearchOptions(beamSize: beam, lengthPenalty: 0.6, maxLengthRatio: 2, maxLengthOffset: 1, nBest: beam,
                                    bos: bos, eos: eos, forbidden: [unk, 9, 7])
        let lengths = [3, 1, 4, 2]
        func run(outside: Float, list: [Int32], listed: Bool) -> [[Hypothesis]] {
            let scorer = StubScorer(vocabularySize: v, sentences: lengths.count, table: table(outside: outside, list: list))
            if listed { scorer.candidateIDs = list }
            let result = BeamSearch.search(scorer, sourceLengths: lengths, options: options)
            #expect(scorer.violations.isEmpty)
            return result
        }
        let reference = run(outside: -.infinity, list: ids, listed: false)
        #expect(run(outside: 0, list: ids, listed: true) == reference)
        #expect(run(outside: .nan, list: ids, listed: true) == reference)
        #expect(!reference.flatMap { $0 }.flatMap(\.tokens).contains(9))
        // Without eos among the candidates nothing ever ends with a finite score: every hypothesis
        // is the one forced to end at the maximum length, at −∞, the same as with eos at −∞.
        let noEOS = ids.filter { $0 != eos }
        let unfinished = run(outside: -.infinity, list: noEOS, listed: false)
        let listedNoEOS = run(outside: 0, list: noEOS, listed: true)
        #expect(listedNoEOS == unfinished)
        #expect(listedNoEOS.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.logProb == -.infinity } })
    }
}
