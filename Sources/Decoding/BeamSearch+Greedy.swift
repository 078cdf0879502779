extension BeamSearch {
    /// Greedy decoding: each row takes its most probable allowed token (ties: lower id) until eos
    /// or the maximum length (forced eos), with the semantics listed on `BeamSearch`. Returns one
    /// hypothesis per sentence, whatever `nBest` and `beamSize` say. Finished sentences' rows are
    /// dropped through `reorder`, so each step costs only the sentences still running.
    public static func greedy(_ scorer: StepScorer, sourceLengths: [Int], options: SearchOptions) -> [[Hypothesis]] {
        var single = options
        single.beamSize = 1
        single.nBest = 1
        let plan = SearchPlan(scorer, sourceLengths: sourceLengths, options: single)
        let sentences = sourceLengths.count
        if sentences == 0 { return [] }
        // Rows are `width` wide: V, or U with a shortlist (compact: column j is candidates[j]).
        let v = plan.width
        let logProbs = UnsafeMutableBufferPointer<Float>.allocate(capacity: sentences * v)
        defer { logProbs.deallocate() }
        let base = logProbs.baseAddress!
        var arena = HistoryArena(reserving: plan.arenaCapacity(rowsPerSentence: 1))
        var finished = FinishedLists(sentences: sentences, capacity: 1)

        // Row r decodes sentence active[r].
        var active = Array(0..<sentences)
        var rowLogProb = [Double](repeating: 0, count: sentences)
        var rowNode = [Int32](repeating: -1, count: sentences)
        var tokens = [Int32](repeating: options.bos, count: sentences)
        var parents: [Int32] = []
        parents.reserveCapacity(sentences)

        var step = 0
        while true {
            scorer.step(previousTokens: tokens, logProbs: logProbs)
            parents.removeAll(keepingCapacity: true)
            let finishedPenalty = plan.penalties[min(step + 1, plan.penalties.count - 1)]
            var kept = 0
            for r in active.indices {
                let s = active[r]
                let row = base + r &* v
                let eosLogProb = plan.eosLogProb(row)
                if step >= plan.maxLengths[s] {
                    let total = rowLogProb[r] + Double(eosLogProb)
                    finished.insert(sentence: s, score: total / finishedPenalty, logProb: total, node: rowNode[r])
                    continue
                }
                plan.mask(row)
                // mask() hides eos for beam selection; greedy ranks it too.
                if let column = plan.eosColumn { row[column] = eosLogProb }
                // The first maximum over the columns; a shortlist's columns are its ascending ids, so
                // it is the first maximum a scan of V would find with −∞ at every other id.
                var best = -Float.infinity, bestColumn = -1
                for j in 0 ..< v where row[j] > best {
                    best = row[j]
                    bestColumn = j
                }
                if bestColumn < 0 {
                    finishAsIs(sentence: s, rows: r ..< r + 1, logProb: rowLogProb, node: rowNode,
                               penalty: plan.penalties[step], into: &finished)
                    continue
                }
                let total = rowLogProb[r] + Double(best)
                if bestColumn == plan.eosColumn {
                    finished.insert(sentence: s, score: total / finishedPenalty, logProb: total, node: rowNode[r])
                    continue
                }
                // Compacting in place is safe: row `kept` ≤ r has already been read.
                parents.append(Int32(r))
                active[kept] = s
                rowLogProb[kept] = total
                let token = plan.id(column: bestColumn)
                rowNode[kept] = arena.append(token: token, parent: rowNode[r], source: scorer.alignedSourcePosition(row: r),
                                             logProb: total)
                tokens[kept] = token
                kept &+= 1
            }
            step += 1
            if kept == 0 { break }
            if kept != active.count {
                active.removeLast(active.count - kept)
                rowLogProb.removeLast(rowLogProb.count - kept)
                rowNode.removeLast(rowNode.count - kept)
                tokens.removeLast(tokens.count - kept)
                scorer.reorder(parents)
            }
        }
        return (0..<sentences).map { finished.hypotheses(sentence: $0, arena: arena) }
    }
}
