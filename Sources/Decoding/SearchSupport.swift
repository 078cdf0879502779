/// Back-pointers of every hypothesis prefix of one search, as a flat arena: node n holds the token
/// it appended and the node it extends (-1 = the empty prefix after bos). Hypotheses share
/// prefixes, so a step appends one node per surviving row instead of copying token arrays.
struct HistoryArena {
    /// [nodes]
    private(set) var token: [Int32] = []
    /// [nodes]; -1 for a first token.
    private(set) var parent: [Int32] = []
    /// [nodes]: the source position the token is aligned to, -1 when unknown (no attention).
    private(set) var source: [Int32] = []
    /// [nodes]: the prefix's log-probability through this token (natural log).
    private(set) var cumulative: [Double] = []

    init(reserving capacity: Int) {
        token.reserveCapacity(capacity)
        parent.reserveCapacity(capacity)
        source.reserveCapacity(capacity)
        cumulative.reserveCapacity(capacity)
    }

    /// Appends `token` (aligned to `position`, if known) to the prefix ending at `parent`, the new
    /// prefix's log-probability being `logProb`, and returns the new node.
    mutating func append(token newToken: Int32, parent prefix: Int32, source position: Int32? = nil, logProb: Double) -> Int32 {
        token.append(newToken)
        parent.append(prefix)
        source.append(position ?? -1)
        cumulative.append(logProb)
        return Int32(token.count - 1)
    }

    /// The log-probability of each token of the prefix ending at `node`, first first, then, when
    /// the hypothesis `endedWithEOS`, that of eos: `total` (its log-probability) minus the prefix's.
    func tokenLogProbs(endingAt node: Int32, total: Double, endedWithEOS: Bool) -> [Double] {
        var result: [Double] = []
        var n = node
        while n >= 0 {
            let parentValue = parent[Int(n)] >= 0 ? cumulative[Int(parent[Int(n)])] : 0
            result.append(cumulative[Int(n)] - parentValue)
            n = parent[Int(n)]
        }
        result.reverse()
        if endedWithEOS { result.append(total - (node >= 0 ? cumulative[Int(node)] : 0)) }
        return result
    }

    /// The alignment of the prefix ending at `node`, first token first; nil if any is unknown.
    func alignment(endingAt node: Int32) -> [Int32]? {
        var result: [Int32] = []
        var n = node
        while n >= 0 {
            if source[Int(n)] < 0 { return nil }
            result.append(source[Int(n)])
            n = parent[Int(n)]
        }
        result.reverse()
        return result
    }

    /// The tokens of the prefix ending at `node`, first token first.
    func tokens(endingAt node: Int32) -> [Int32] {
        var result: [Int32] = []
        var n = node
        while n >= 0 {
            result.append(token[Int(n)])
            n = parent[Int(n)]
        }
        result.reverse()
        return result
    }
}

/// Per sentence, the `capacity` best finished hypotheses seen so far, best first, in flat
/// [sentences·capacity] arrays. Equal scores keep the earlier-finished one first, so a later
/// hypothesis has to beat a kept one strictly: that is what makes early stopping exact.
struct FinishedLists {
    let capacity: Int
    /// [sentences]
    private(set) var count: [Int]
    /// [sentences·capacity] each
    private(set) var score: [Double]
    private(set) var logProb: [Double]
    private(set) var node: [Int32]
    /// Whether each kept hypothesis ended with eos (not a last-resort unfinished one).
    private(set) var endedWithEOS: [Bool]

    init(sentences: Int, capacity: Int) {
        self.capacity = capacity
        count = Array(repeating: 0, count: sentences)
        score = Array(repeating: 0, count: sentences * capacity)
        logProb = score
        node = Array(repeating: -1, count: sentences * capacity)
        endedWithEOS = Array(repeating: true, count: sentences * capacity)
    }

    /// Keeps the hypothesis whose tokens end at `node` if it is among the best.
    mutating func insert(sentence s: Int, score newScore: Double, logProb newLogProb: Double, node newNode: Int32,
                         endedWithEOS ended: Bool = true) {
        let base = s &* capacity
        let n = count[s]
        // NaN sorts last rather than poisoning comparisons.
        let value = newScore.isNaN ? -Double.infinity : newScore
        var position = n
        while position > 0 && score[base &+ position &- 1] < value { position &-= 1 }
        if position >= capacity { return }
        var j = min(n, capacity - 1)
        while j > position {
            score[base &+ j] = score[base &+ j &- 1]
            logProb[base &+ j] = logProb[base &+ j &- 1]
            node[base &+ j] = node[base &+ j &- 1]
            endedWithEOS[base &+ j] = endedWithEOS[base &+ j &- 1]
            j &-= 1
        }
        score[base &+ position] = value
        logProb[base &+ position] = newLogProb
        node[base &+ position] = newNode
        endedWithEOS[base &+ position] = ended
        if n < capacity { count[s] = n &+ 1 }
    }

    /// The score a new hypothesis must strictly beat to be kept, or nil while the list has room.
    func entryThreshold(sentence s: Int) -> Double? {
        count[s] < capacity ? nil : score[s &* capacity &+ capacity &- 1]
    }

    /// Sentence s's kept hypotheses, best first.
    func hypotheses(sentence s: Int, arena: HistoryArena) -> [Hypothesis] {
        (0..<count[s]).map { j in
            let i = s * capacity + j
            return Hypothesis(tokens: arena.tokens(endingAt: node[i]), logProb: logProb[i], score: score[i],
                              alignment: node[i] < 0 ? nil : arena.alignment(endingAt: node[i]),
                              tokenLogProbs: arena.tokenLogProbs(endingAt: node[i], total: logProb[i], endedWithEOS: endedWithEOS[i]))
        }
    }
}

/// Everything a search derives once from its options and the batch.
struct SearchPlan {
    /// History nodes to reserve for `rowsPerSentence` live rows per sentence: one per row and step
    /// up to the longest maximum length, so that a search never grows its arena mid-way (no
    /// allocation per step); capped at 2^22 nodes (80 MiB), beyond which it grows as needed.
    func arenaCapacity(rowsPerSentence: Int) -> Int {
        let steps = (maxLengths.max() ?? 0) + 1
        let (rows, o1) = maxLengths.count.multipliedReportingOverflow(by: rowsPerSentence)
        let (nodes, o2) = rows.multipliedReportingOverflow(by: steps)
        return o1 || o2 ? 1 << 22 : min(nodes, 1 << 22)
    }

    let vocabularySize: Int
    /// [sentences] maximum output tokens, eos not counted.
    let maxLengths: [Int]
    /// lp(n) for n in 0...max(maxLengths)+1.
    let penalties: [Double]
    /// The scorer's `candidateIDs` (nil: all V ids).
    let candidates: [Int32]?
    /// Entries per row of the scorer's output: U = candidates.count, or V. Column j holds id j,
    /// or candidates[j].
    let width: Int
    /// The column of eos, nil when a shortlist leaves eos out (it is then never scored).
    let eosColumn: Int?
    /// Columns masked to -inf before selection: `forbidden` plus eos (eos is scored on its own).
    let masked: [Int]

    init(_ scorer: StepScorer, sourceLengths: [Int], options: SearchOptions) {
        do { try options.validate() } catch { preconditionFailure("\(error)") }
        let v = scorer.vocabularySize
        precondition(scorer.rowCount == sourceLengths.count,
                     "scorer has \(scorer.rowCount) rows but \(sourceLengths.count) source lengths were given")
        precondition(v > 0 && (0..<Int32(clamping: v)).contains(options.eos) && (0..<Int32(clamping: v)).contains(options.bos),
                     "bos \(options.bos) / eos \(options.eos) outside the vocabulary of size \(v)")
        vocabularySize = v
        maxLengths = sourceLengths.map { options.maxLength(sourceLength: $0) }
        let longest = (maxLengths.max() ?? 0) + 1
        penalties = (0...longest).map { lengthPenalty(length: $0, alpha: options.lengthPenalty) }
        let candidates = scorer.candidateIDs
        if let candidates {
            precondition(!candidates.isEmpty && candidates[0] >= 0 && Int(candidates[candidates.count - 1]) < v
                         && zip(candidates, candidates.dropFirst()).allSatisfy { $0 < $1 },
                         "candidateIDs must be non-empty, ascending, unique and below V = \(v)")
        }
        self.candidates = candidates
        width = candidates?.count ?? v
        // The column of an id: itself, or its position among the (ascending) candidates.
        func column(_ id: Int32) -> Int? {
            guard let candidates else { return (0..<Int32(clamping: v)).contains(id) ? Int(id) : nil }
            var lo = 0, hi = candidates.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if candidates[mid] < id { lo = mid + 1 } else { hi = mid }
            }
            return lo < candidates.count && candidates[lo] == id ? lo : nil
        }
        eosColumn = column(options.eos)
        masked = Array(Set((options.forbidden + [options.eos]).compactMap(column))).sorted()
    }

    /// A row's eos log-probability: its entry, or −∞ when a shortlist leaves eos out.
    func eosLogProb(_ row: UnsafePointer<Float>) -> Float {
        eosColumn.map { row[$0] } ?? -.infinity
    }

    /// The id of column j.
    func id(column j: Int) -> Int32 {
        candidates.map { $0[j] } ?? Int32(truncatingIfNeeded: j)
    }

    /// Best score a live hypothesis with `logProb` and `tokens` output tokens can still reach, given
    /// that log-probabilities are ≤ 0 (logProb only decreases) and it ends, with eos, at a length in
    /// tokens+1 ... maxLength+1. lp is monotone in the length for any alpha, so its extremes sit at
    /// the ends of that range: a negative logProb is best divided by the largest lp.
    func bestReachableScore(logProb: Double, tokens: Int, sentence s: Int) -> Double {
        let shortest = penalties[min(tokens &+ 1, maxLengths[s] &+ 1)]
        let longest = penalties[maxLengths[s] &+ 1]
        return logProb <= 0 ? logProb / max(shortest, longest) : logProb / min(shortest, longest)
    }

    /// Sets the masked columns of one row to -inf so selection never picks them.
    func mask(_ row: UnsafeMutablePointer<Float>) {
        for id in masked { row[id] = -.infinity }
    }
}

/// ``selectTop(_:of:count:values:indices:)`` over a compact row: `row[j]` is the value of id
/// `ids[j]` (ascending, so equal values still come in increasing id order), and `indices` receives
/// ids, not columns: the result of a scan of a V-wide row that is −∞ at every other id.
func selectTop(_ k: Int, of row: UnsafePointer<Float>, ids: UnsafeBufferPointer<Int32>,
               values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) -> Int {
    selectTop(k, count: ids.count, value: { row[$0] }, id: { ids[$0] }, values: values, indices: indices)
}

/// Partial selection: the `k` largest finite values of `row[0..<n]`, largest first, equal values
/// in increasing index order, into `values`/`indices` (room for k each). Returns how many were
/// found (fewer than k when the row has fewer finite entries; -inf and NaN are never selected).
/// One pass with a sorted k-slot window: after the window fills, almost every element costs one
/// compare against its last slot, so a V = 16 000 row costs about V compares (no sort of V).
func selectTop(_ k: Int, of row: UnsafePointer<Float>, count n: Int,
               values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) -> Int {
    selectTop(k, count: n, value: { row[$0] }, id: { Int32(truncatingIfNeeded: $0) }, values: values, indices: indices)
}

/// The one selection loop: candidate i (in 0..<n, scanned in order) has `value(i)` and id `id(i)`.
@inline(__always)
private func selectTop(_ k: Int, count n: Int, value: (Int) -> Float, id: (Int) -> Int32,
                       values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) -> Int {
    var filled = 0
    var threshold = -Float.infinity
    var i = 0
    while i < n {
        let x = value(i)
        if x > threshold {
            var position = filled < k ? filled : k &- 1
            while position > 0 && values[position &- 1] < x {
                values[position] = values[position &- 1]
                indices[position] = indices[position &- 1]
                position &-= 1
            }
            values[position] = x
            indices[position] = id(i)
            if filled < k { filled &+= 1 }
            if filled == k { threshold = values[k &- 1] }
        }
        i &+= 1
    }
    return filled
}
