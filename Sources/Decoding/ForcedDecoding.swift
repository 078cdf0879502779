/// Scores given target sequences under a ``StepScorer`` (forced decoding, teacher forcing at
/// inference): the sum of log p(y_t | y_<t, x) over the tokens and the closing eos, the quantity
/// beam search accumulates in ``Hypothesis/logProb``. Used to rescore n-best lists with a second
/// model (right-to-left rescoring: Liu et al. 2016; Sennrich et al. 2016).
public enum ForcedDecoding {
    /// Log-probabilities, natural log, one per row.
    ///
    /// - Parameters:
    ///   - scorer: encoded with one row per sentence (as a search starts), scoring all V ids
    ///     (`candidateIDs` nil: a forced token may be any id).
    ///   - sentenceOfRow: [R], the sentence whose source row r is scored against; rows may repeat
    ///     a sentence (the n-best of one sentence) or skip one. The scorer is reordered to these rows.
    ///   - targets: [R] sequences without bos and eos, ids below V.
    ///   - bos, eos: the ids fed first and scored last.
    /// - Returns: [R] Σ_t log p, eos included, summed in Double in step order.
    public static func logProbabilities(_ scorer: any StepScorer, sentenceOfRow: [Int32], targets: [[Int32]],
                                        bos: Int32, eos: Int32) -> [Double] {
        precondition(sentenceOfRow.count == targets.count, "ForcedDecoding: \(sentenceOfRow.count) rows, \(targets.count) targets")
        precondition(scorer.candidateIDs == nil, "ForcedDecoding: the scorer must score all V ids")
        let v = scorer.vocabularySize, rows = targets.count
        precondition(targets.allSatisfy { $0.allSatisfy { $0 >= 0 && Int($0) < v } }, "ForcedDecoding: a target id outside 0..<\(v)")
        guard rows > 0 else { return [] }
        let identity = rows == scorer.rowCount && sentenceOfRow.enumerated().allSatisfy { Int($0.element) == $0.offset }
        if !identity { scorer.reorder(sentenceOfRow) }
        var totals = [Double](repeating: 0, count: rows)
        // live[i]: the row (of `targets`) the scorer's row i holds; a row leaves once its eos is scored.
        var live = Array(0..<rows)
        var buffer = [Float](repeating: 0, count: rows * v)
        var t = 0  // the step: scores targets[r][t], or eos at t = targets[r].count
        while !live.isEmpty {
            let previous = live.map { t == 0 ? bos : targets[$0][t - 1] }
            buffer.withUnsafeMutableBufferPointer { scorer.step(previousTokens: previous, logProbs: $0) }
            var kept: [Int32] = []
            for (i, r) in live.enumerated() {
                let y = t < targets[r].count ? targets[r][t] : eos
                totals[r] += Double(buffer[i * v + Int(y)])
                if t < targets[r].count { kept.append(Int32(i)) }
            }
            if kept.count < live.count && !kept.isEmpty { scorer.reorder(kept) }
            live = kept.map { live[Int($0)] }
            t += 1
        }
        return totals
    }
}
