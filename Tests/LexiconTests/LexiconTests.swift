import Basics
@testable import Lexicon
import Testing

/// IBM Model 1 against hand-computed EM and on a corpus whose word pairs are known.
@Suite struct LexicalTableTests {
    // Source ids: das 4, haus 5, buch 6. Target ids: the 4, house 5, book 6.
    static let twoPairs = ParallelIDCorpus([(source: [4, 5], target: [4, 5]), (source: [4, 6], target: [4, 6])])

    /// From the uniform table every co-occurrence counts 1/(l+1) = 1/3 per pair:
    /// c(the|das) = 2/3, c(house|das) = c(book|das) = 1/3 → p = 1/2, 1/4, 1/4;
    /// c(the|haus) = c(house|haus) = 1/3 → 1/2, 1/2; NULL as das.
    @Test func oneIterationEqualsHandComputedEM() {
        let table = LexicalTable(corpus: Self.twoPairs, sourceVocabularySize: 7, targetVocabularySize: 7)
        table.train(iterations: 1)
        let expected: [(t: Int32, s: Int, p: Double)] = [
            (4, 4, 0.5), (5, 4, 0.25), (6, 4, 0.25), (4, 5, 0.5), (5, 5, 0.5), (6, 5, 0),
            (4, 6, 0.5), (6, 6, 0.5), (5, 6, 0), (4, 7, 0.5), (5, 7, 0.25), (6, 7, 0.25),
        ]
        for e in expected {
            #expect(abs(table.probability(target: e.t, source: e.s) - e.p) < 1e-12, "p(\(e.t)|\(e.s))")
        }
        #expect(table.entryCount == 10)  // das×3, haus×2, buch×2, NULL×3
    }

    /// Iteration 2 from the table above. Pair 1, "the": p = 1/2 under NULL, das, haus → 1/3 each;
    /// "house": 1/4, 1/4, 1/2 (sum 1) → 1/4, 1/4, 1/2. Pair 2 alike with buch/book.
    /// das: c = 2/3 (the), 1/4 (house), 1/4 (book), sum 7/6 → 4/7, 3/14, 3/14;
    /// haus: 1/3 (the), 1/2 (house), sum 5/6 → 2/5, 3/5.
    @Test func twoIterationsEqualHandComputedEM() {
        let table = LexicalTable(corpus: Self.twoPairs, sourceVocabularySize: 7, targetVocabularySize: 7)
        table.train(iterations: 2)
        #expect(abs(table.probability(target: 4, source: 4) - 4.0 / 7) < 1e-12)
        #expect(abs(table.probability(target: 5, source: 4) - 3.0 / 14) < 1e-12)
        #expect(abs(table.probability(target: 6, source: 4) - 3.0 / 14) < 1e-12)
        #expect(abs(table.probability(target: 4, source: 5) - 2.0 / 5) < 1e-12)
        #expect(abs(table.probability(target: 5, source: 5) - 3.0 / 5) < 1e-12)
        #expect(table.iterations == 2)
    }

    /// A tiny corpus of 4 source words s_i ↔ target words t_i in shuffled orders and combinations:
    /// after a few iterations each source word's best target is its own translation.
    @Test func recoversKnownWordPairs() {
        let words: [Int32] = [4, 5, 6, 7], translation: [Int32: Int32] = [4: 10, 5: 8, 6: 11, 7: 9]
        var pairs: [(source: [Int32], target: [Int32])] = []
        for a in words { for b in words where b != a {
            pairs.append((source: [a, b], target: [translation[b]!, translation[a]!]))
            for c in words where c != a && c != b {
                pairs.append((source: [a, b, c], target: [translation[c]!, translation[a]!, translation[b]!]))
            }
        } }
        let table = LexicalTable(corpus: ParallelIDCorpus(pairs), sourceVocabularySize: 8, targetVocabularySize: 12)
        table.train(iterations: 5)
        for s in words {
            #expect(table.best(1, source: Int(s)) == [translation[s]!], "source \(s)")
            #expect(table.probability(target: translation[s]!, source: Int(s)) > 0.5)
        }
    }

    @Test func sameCorpusGivesTheSameBytes() {
        let corpus = ParallelIDCorpus([(source: [4, 5, 5], target: [6, 4]), (source: [5, 6], target: [5, 6, 7]),
                                       (source: [1, 4], target: [1, 7])])
        func build() -> [UInt8] {
            let table = LexicalTable(corpus: corpus, sourceVocabularySize: 7, targetVocabularySize: 8)
            table.train(iterations: 3)
            return Shortlist(table: table, topK: 2, frequent: 1).encoded()
        }
        #expect(build() == build())
    }
}

@Suite struct ShortlistTests {
    static func sample() throws -> Shortlist {
        try Shortlist(sourceVocabularySize: 6, targetVocabularySize: 9, topK: 2, frequent: [1, 3, 4],
                      lists: [[], [1], [], [], [5, 8], [6, 7]])
    }

    @Test func topKAndFrequentListFromATable() {
        // das (4) → the (4) ×2, house (5), book (6); haus (5) → the, house.
        let table = LexicalTable(corpus: LexicalTableTests.twoPairs, sourceVocabularySize: 7, targetVocabularySize: 8)
        table.train(iterations: 1)
        let shortlist = Shortlist(table: table, topK: 2, frequent: 1)
        // das: p(the) = 1/2, then house and book tie at 1/4: the lower id (house, 5) wins.
        #expect(Array(shortlist.candidates(of: 4)) == [4, 5])
        #expect(Array(shortlist.candidates(of: 5)) == [4, 5])
        #expect(shortlist.candidates(of: 0).isEmpty)
        // The most frequent target word (the, 4) plus </s> (3) and <unk> (1).
        #expect(shortlist.frequent == [TokenID.unknown, TokenID.end, 4])
    }

    @Test func outputIDsAreTheSortedUnionWithTheFrequentList() throws {
        let shortlist = try Self.sample()
        #expect(shortlist.outputIDs(for: [[5], [4, 5]]) == [1, 3, 4, 5, 6, 7, 8])
        #expect(shortlist.outputIDs(for: [[2]]) == [1, 3, 4])
    }

    @Test func fileRoundTrip() throws {
        let shortlist = try Self.sample()
        #expect(try Shortlist(decoding: shortlist.encoded()) == shortlist)
    }

    /// A file with a valid checksum but `edit` applied to its fields.
    static func rewritten(_ edit: (inout [UInt32]) -> Void) throws -> [UInt8] {
        let bytes = try sample().encoded()
        let body = bytes[8..<(bytes.count - 8)]
        var words = stride(from: body.startIndex, to: body.endIndex, by: 4).map { i in
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(body[i + $1]) << (8 * UInt32($1)) }
        }
        edit(&words)
        var out = Shortlist.magic
        for w in words { withUnsafeBytes(of: w.littleEndian) { out.append(contentsOf: $0) } }
        withUnsafeBytes(of: Shortlist.fnv1a(out[...]).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    static func error(_ bytes: [UInt8]) -> String? {
        do { _ = try Shortlist(decoding: bytes); return nil } catch { return "\(error)" }
    }

    @Test func badFilesAreErrorsNotTraps() throws {
        let good = try Self.sample().encoded()
        var wrongMagic = good; wrongMagic[0] = UInt8(ascii: "X")
        #expect(Self.error(wrongMagic)?.contains("magic") == true)
        #expect(Self.error([])?.contains("magic") == true)
        for n in [9, 12, 20, 27, good.count - 9, good.count - 1] {
            #expect(Self.error(Array(good.prefix(n))) != nil, "truncated to \(n)")
        }
        #expect(Self.error(Array(good.prefix(good.count - 4)))?.contains("truncated") == true)
        var flipped = good; flipped[good.count - 12] ^= 1
        #expect(Self.error(flipped)?.contains("checksum") == true)
        // Fields (after the magic): version, Vs, Vt, k, F, frequent×3, offsets×7, targets×5.
        #expect(Self.error(try Self.rewritten { $0[0] = 2 })?.contains("version 2") == true)
        #expect(Self.error(try Self.rewritten { $0[$0.count - 1] = 9 })?.contains("target id 9") == true)   // id ≥ Vt
        #expect(Self.error(try Self.rewritten { $0[5] = 9 })?.contains("target id 9") == true)              // frequent id ≥ Vt
        #expect(Self.error(try Self.rewritten { $0[2] = 7 })?.contains("target id 8") == true)              // Vt shrunk below an id
        #expect(Self.error(try Self.rewritten { $0[1] = 1_000_000 }) != nil)                               // Vs grown
        #expect(Self.error(try Self.rewritten { $0[4] = 0xFFFF_FFFF })?.contains("truncated") == true)     // F huge
        #expect(Self.error(try Self.rewritten { $0[$0.count - 2] = 8 })?.contains("not ascending") == true)
    }
}
