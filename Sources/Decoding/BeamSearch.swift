/// Batched beam search and greedy decoding over a `StepScorer` (Sutskever et al. 2014, §3.2;
/// length normalisation of Wu et al. 2016).
///
/// Semantics, shared by `search` and `greedy`:
/// - Batched over sentences × beam. On entry row i of the scorer is sentence i; after the first
///   step each sentence is expanded to up to K rows through `reorder`, rows grouped by sentence.
/// - Length: t is the number of output tokens so far; `maxLength = ⌊a·|source|⌋ + b` counts tokens
///   without eos. At step t == maxLength the only continuation is eos (forced, scored with the
///   model's own eos log-probability), so no output is longer than maxLength tokens and every
///   hypothesis normally ends with eos. An empty source still decodes (maxLength = b).
/// - Score: `logProb / lengthPenalty(length: tokens + 1, alpha)`, the length counting the eos
///   (GNMT's |Y| is the whole output sequence, which ends with eos).
/// - Each step ranks, per sentence, every continuation of every live row by logProb, ties going to
///   the lower token id, then the lower beam index. Eos continuations among the K best are
///   finished and leave the beam; the beam is refilled with the K best non-eos continuations, so
///   it keeps K live hypotheses. Forbidden ids (`SearchOptions.forbidden`) and continuations of
///   probability zero are never taken.
/// - Early stopping (`SearchOptions.earlyStopping`): a sentence stops once it holds nBest finished
///   hypotheses and no live one can still beat the worst of them. Log-probabilities only decrease,
///   so a live hypothesis can at best reach logProb / max lp(length) over the lengths it may still
///   end at; the check is exact, never changing the result. Stopped sentences' rows are dropped.
/// - Fallback: if every continuation of a sentence has probability zero before anything finished,
///   its live hypotheses are returned as they are (no eos, length penalty of their token count).
/// - Deterministic: no hash-ordered containers; equal scores keep the earlier finished hypothesis.
public enum BeamSearch {
    /// Beam search with `options.beamSize` (K) hypotheses per sentence; K = 1 is `greedy`.
    /// Decodes `scorer.rowCount` sentences at once; `sourceLengths[i]` sets sentence i's maximum
    /// output length. Returns, per sentence in input order, up to `nBest` hypotheses, best first.
    public static func search(_ scorer: StepScorer, sourceLengths: [Int], options: SearchOptions) -> [[Hypothesis]] {
        options.beamSize == 1
            ? greedy(scorer, sourceLengths: sourceLengths, options: options)
            : beam(scorer, sourceLengths: sourceLengths, options: options)
    }

    /// One continuation of one live row: its total log-probability, token and beam index.
    struct Candidate {
        var logProb: Double
        var token: Int32
        var beam: Int32

        /// The ranking order: higher logProb, then lower token id, then lower beam index.
        func precedes(_ other: Candidate) -> Bool {
            if logProb != other.logProb { return logProb > other.logProb }
            if token != other.token { return token < other.token }
            return beam < other.beam
        }
    }

    /// The beam algorithm for any K ≥ 1 (with K = 1 and alpha = 0 it coincides with `greedy`;
    /// with alpha > 0 it may keep searching after greedy would stop).
    static func beam(_ scorer: StepScorer, sourceLengths: [Int], options: SearchOptions) -> [[Hypothesis]] {
        let plan = SearchPlan(scorer, sourceLengths: sourceLengths, options: options)
        let sentences = sourceLengths.count
        if sentences == 0 { return [] }
        // Rows are `width` wide: V, or U with a shortlist (compact: column j is candidates[j]).
        let k = options.beamSize, v = plan.width
        let eos = options.eos
        let logProbs = UnsafeMutableBufferPointer<Float>.allocate(capacity: sentences * k * v)
        defer { logProbs.deallocate() }
        let base = logProbs.baseAddress!
        var arena = HistoryArena(reserving: plan.arenaCapacity(rowsPerSentence: k))
        var finished = FinishedLists(sentences: sentences, capacity: options.nBest)

        // Live rows, grouped by sentence in `active` order; `live[s]` rows belong to sentence s.
        var active = Array(0..<sentences)
        var live = [Int](repeating: 1, count: sentences)
        var rowLogProb = [Double](repeating: 0, count: sentences)   // [rows]
        var rowNode = [Int32](repeating: -1, count: sentences)      // [rows]
        var tokens = [Int32](repeating: options.bos, count: sentences)  // [rows] fed to the next step
        // The next step's rows, built while scanning; `parents[i]` is the old row of new row i.
        var nextActive: [Int] = [], nextLogProb: [Double] = [], nextNode: [Int32] = []
        var nextTokens: [Int32] = [], parents: [Int32] = []
        let rowCapacity = sentences * k
        nextActive.reserveCapacity(sentences)
        rowLogProb.reserveCapacity(rowCapacity); nextLogProb.reserveCapacity(rowCapacity)
        rowNode.reserveCapacity(rowCapacity); nextNode.reserveCapacity(rowCapacity)
        tokens.reserveCapacity(rowCapacity); nextTokens.reserveCapacity(rowCapacity)
        parents.reserveCapacity(rowCapacity)
        var ranked: [Candidate] = []
        ranked.reserveCapacity(k * (k + 1))
        let candidates = plan.candidates
        let topValues = UnsafeMutablePointer<Float>.allocate(capacity: k)
        let topIndices = UnsafeMutablePointer<Int32>.allocate(capacity: k)
        defer { topValues.deallocate(); topIndices.deallocate() }

        var step = 0
        while true {
            scorer.step(previousTokens: tokens, logProbs: logProbs)
            nextActive.removeAll(keepingCapacity: true)
            nextLogProb.removeAll(keepingCapacity: true)
            nextNode.removeAll(keepingCapacity: true)
            nextTokens.removeAll(keepingCapacity: true)
            parents.removeAll(keepingCapacity: true)
            let finishedPenalty = plan.penalties[min(step + 1, plan.penalties.count - 1)]
            var rowBase = 0
            for s in active {
                let rows = live[s]
                defer { rowBase &+= rows }
                if step >= plan.maxLengths[s] {
                    for r in rowBase ..< rowBase + rows {
                        let total = rowLogProb[r] + Double(plan.eosLogProb(base + r &* v))
                        finished.insert(sentence: s, score: total / finishedPenalty, logProb: total,
                                        node: rowNode[r])
                    }
                    continue
                }
                ranked.removeAll(keepingCapacity: true)
                for b in 0 ..< rows {
                    let r = rowBase &+ b
                    let row = base + r &* v
                    let eosLogProb = plan.eosLogProb(row)
                    if eosLogProb > -.infinity {
                        ranked.append(Candidate(logProb: rowLogProb[r] + Double(eosLogProb), token: eos,
                                                    beam: Int32(b)))
                    }
                    plan.mask(row)
                    let found = candidates.map { ids in
                        ids.withUnsafeBufferPointer { selectTop(k, of: row, ids: $0, values: topValues, indices: topIndices) }
                    } ?? selectTop(k, of: row, count: v, values: topValues, indices: topIndices)
                    for j in 0 ..< found {
                        ranked.append(Candidate(logProb: rowLogProb[r] + Double(topValues[j]),
                                                    token: topIndices[j], beam: Int32(b)))
                    }
                }
                sortCandidates(&ranked)
                var kept = 0
                for rank in ranked.indices {
                    let c = ranked[rank]
                    if c.token == eos {
                        // Only eos among the K best counts: a wider net would let a beam of K finish
                        // more than K hypotheses per step.
                        if rank < k {
                            finished.insert(sentence: s, score: c.logProb / finishedPenalty, logProb: c.logProb,
                                            node: rowNode[rowBase &+ Int(c.beam)])
                        }
                        continue
                    }
                    if kept == k { break }  // every later eos ranks ≥ K
                    let parent = rowBase &+ Int(c.beam)
                    parents.append(Int32(parent))
                    nextTokens.append(c.token)
                    nextLogProb.append(c.logProb)
                    nextNode.append(arena.append(token: c.token, parent: rowNode[parent],
                                                 source: scorer.alignedSourcePosition(row: parent), logProb: c.logProb))
                    kept &+= 1
                }
                if kept == 0 {
                    if finished.count[s] == 0 {
                        finishAsIs(sentence: s, rows: rowBase ..< rowBase + rows, logProb: rowLogProb,
                                   node: rowNode, penalty: plan.penalties[step], into: &finished)
                    }
                    continue
                }
                // The first kept row has the highest logProb, hence the highest reachable score.
                if options.earlyStopping, let threshold = finished.entryThreshold(sentence: s),
                   plan.bestReachableScore(logProb: nextLogProb[nextLogProb.count - kept], tokens: step + 1,
                                           sentence: s) <= threshold {
                    parents.removeLast(kept); nextTokens.removeLast(kept)
                    nextLogProb.removeLast(kept); nextNode.removeLast(kept)
                    continue
                }
                nextActive.append(s)
                live[s] = kept
            }
            step += 1
            if nextActive.isEmpty { break }
            if !isIdentity(parents, rowCount: rowBase) { scorer.reorder(parents) }
            swap(&active, &nextActive)
            swap(&rowLogProb, &nextLogProb)
            swap(&rowNode, &nextNode)
            swap(&tokens, &nextTokens)
        }
        return (0..<sentences).map { finished.hypotheses(sentence: $0, arena: arena) }
    }

    /// Insertion sort by `Candidate.precedes`: at most K·(K+1) elements, already sorted per row.
    static func sortCandidates(_ candidates: inout [Candidate]) {
        candidates.withUnsafeMutableBufferPointer { c in
            var i = 1
            while i < c.count {
                let x = c[i]
                var j = i
                while j > 0 && x.precedes(c[j &- 1]) {
                    c[j] = c[j &- 1]
                    j &-= 1
                }
                c[j] = x
                i &+= 1
            }
        }
    }

    /// Whether `parents` maps every one of `rowCount` rows to itself (no reorder needed).
    static func isIdentity(_ parents: [Int32], rowCount: Int) -> Bool {
        guard parents.count == rowCount else { return false }
        for (i, p) in parents.enumerated() where Int(p) != i { return false }
        return true
    }

    /// The fallback for a sentence whose every continuation has probability zero: its live rows
    /// become hypotheses without eos, scored with the length penalty of their token count.
    static func finishAsIs(sentence s: Int, rows: Range<Int>, logProb: [Double], node: [Int32],
                           penalty: Double, into finished: inout FinishedLists) {
        for r in rows {
            finished.insert(sentence: s, score: logProb[r] / penalty, logProb: logProb[r], node: node[r], endedWithEOS: false)
        }
    }
}
