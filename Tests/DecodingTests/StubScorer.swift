import Foundation
import TestSupport
@testable import Decoding

/// Ids used by every test vocabulary: pad 0, unk 1, bos 2, eos 3, words from 4.
let pad: Int32 = 0, unk: Int32 = 1, bos: Int32 = 2, eos: Int32 = 3

/// A scorer driven by a table (sentence, prefix without bos) → log-probabilities [V]. It keeps each
/// row's own token history through `step` and `reorder`, so the scores it returns are those of the
/// hypothesis the search believes the row holds only if the search reorders correctly; protocol
/// misuse is recorded in `violations`.
final class StubScorer: StepScorer {
    let vocabularySize: Int
    var rowCount: Int { rows.count }
    /// Per row: its sentence and every token fed so far (bos first).
    private(set) var rows: [(sentence: Int, fed: [Int32])]
    private let table: (Int, [Int32]) -> [Float]
    private(set) var violations: [String] = []
    /// Rows scored at each step, in order.
    private(set) var rowsPerStep: [Int] = []
    /// Every token fed after bos, over the whole search.
    private(set) var fedTokens: [Int32] = []

    /// Reported as the scorer's `candidateIDs`; `step` then writes compact rows, the table's values
    /// at these ids only.
    var candidateIDs: [Int32]?

    init(vocabularySize: Int, sentences: Int, table: @escaping (Int, [Int32]) -> [Float]) {
        self.vocabularySize = vocabularySize
        self.rows = (0..<sentences).map { (sentence: $0, fed: []) }
        self.table = table
    }

    func step(previousTokens: [Int32], logProbs: UnsafeMutableBufferPointer<Float>) {
        let v = vocabularySize, width = candidateIDs?.count ?? v
        if previousTokens.count != rows.count {
            violations.append("step got \(previousTokens.count) tokens for \(rows.count) rows")
        }
        if logProbs.count < rows.count * width { violations.append("logProbs too small: \(logProbs.count)") }
        rowsPerStep.append(rows.count)
        for r in rows.indices {
            let token = previousTokens[r]
            if rows[r].fed.isEmpty {
                if token != bos { violations.append("row \(r) started with \(token), not bos") }
            } else {
                if token == bos || token == eos { violations.append("row \(r) fed \(token) after \(rows[r].fed)") }
                fedTokens.append(token)
            }
            rows[r].fed.append(token)
            let scores = table(rows[r].sentence, Array(rows[r].fed.dropFirst()))
            precondition(scores.count == v, "table row of \(scores.count) values for V = \(v)")
            if let candidateIDs {
                for (j, id) in candidateIDs.enumerated() { logProbs[r * width + j] = scores[Int(id)] }
            } else {
                for i in 0..<v { logProbs[r * v + i] = scores[i] }
            }
        }
    }

    func reorder(_ newRows: [Int32]) {
        if newRows.count == rows.count && newRows.enumerated().allSatisfy({ Int($1) == $0 }) {
            violations.append("reorder called with the identity \(newRows)")
        }
        if newRows.contains(where: { $0 < 0 || Int($0) >= rows.count }) {
            violations.append("reorder \(newRows) outside \(rows.count) rows")
            return
        }
        let fedLengths = Set(newRows.map { rows[Int($0)].fed.count })
        if fedLengths.count > 1 { violations.append("rows of different lengths kept together") }
        rows = newRows.map { rows[Int($0)] }
    }
}

/// Log-probabilities for V ids from the listed probabilities; unlisted ids get `rest`.
func logProbs(_ probabilities: [Int32: Double], v: Int, rest: Double = 1e-6) -> [Float] {
    (0..<v).map { Float(log(probabilities[Int32($0)] ?? rest)) }
}

/// A hand-written table: listed prefixes, and a fallback for the others.
func handTable(_ entries: [[Int32]: [Int32: Double]], v: Int,
               otherwise: [Int32: Double] = [eos: 1]) -> (Int, [Int32]) -> [Float] {
    let rows = entries.mapValues { logProbs($0, v: v) }
    let fallback = logProbs(otherwise, v: v)
    return { _, prefix in rows[prefix] ?? fallback }
}

/// A random but fixed log-softmax for every (sentence, prefix): the same arguments always give
/// the same vector, whatever order the search asks in.
func randomTable(v: Int, seed: UInt64, eosBias: Float = 0) -> (Int, [Int32]) -> [Float] {
    return { sentence, prefix in
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for x in [Int32(sentence), -1] + prefix {
            h = (h ^ UInt64(UInt32(bitPattern: x))) &* 0x0000_0100_0000_01b3
        }
        var rng = TestRNG(seed: h)
        var logits = (0..<v).map { _ in Float.random(in: -3...3, using: &rng) }
        logits[Int(eos)] += eosBias
        let m = logits.max()!
        let z = log(logits.reduce(0) { $0 + exp($1 - m) }) + m
        return logits.map { $0 - z }
    }
}

/// Exhaustive search: every output over the allowed ids up to `maxLength` tokens, each ended by eos,
/// scored as `BeamSearch` documents; best first (stable, so ties keep enumeration order).
func exhaustive(table: (Int, [Int32]) -> [Float], sentence: Int, v: Int, maxLength: Int,
                options: SearchOptions) -> [Hypothesis] {
    let allowed = (0..<Int32(v)).filter { $0 != eos && !options.forbidden.contains($0) }
    var all: [Hypothesis] = []
    func visit(_ prefix: [Int32], _ logProb: Double) {
        let scores = table(sentence, prefix)
        let total = logProb + Double(scores[Int(eos)])
        all.append(Hypothesis(tokens: prefix, logProb: total,
                              score: total / lengthPenalty(length: prefix.count + 1, alpha: options.lengthPenalty)))
        if prefix.count == maxLength { return }
        for t in allowed { visit(prefix + [t], logProb + Double(scores[Int(t)])) }
    }
    visit([], 0)
    return all.enumerated().sorted { a, b in
        a.element.score != b.element.score ? a.element.score > b.element.score : a.offset < b.offset
    }.map(\.element)
}
