/// chrF (Popović 2015) and chrF++ (Popović 2017, `wordOrder: 2`) exactly as sacreBLEU 2.6 computes
/// them: character n-grams of the text with whitespace removed, optional word n-grams after
/// splitting ASCII punctuation off word ends, per segment the single best reference by F-score,
/// corpus statistics summed, and sacreBLEU's effective-order averaging (or eps smoothing).
public struct CHRF: SegmentMetric, Sendable {
    public var charOrder: Int
    public var wordOrder: Int
    public var beta: Int
    public var lowercase: Bool
    /// Keep whitespace inside character n-grams.
    public var whitespace: Bool
    /// chrF++.py/NLTK/Moses eps smoothing instead of sacreBLEU's effective order (the default).
    public var epsSmoothing: Bool

    public init(charOrder: Int = 6, wordOrder: Int = 0, beta: Int = 2, lowercase: Bool = false,
                whitespace: Bool = false, epsSmoothing: Bool = false) {
        precondition(charOrder >= 0 && wordOrder >= 0 && charOrder + wordOrder > 0,
                     "chrF needs a positive total order, got char \(charOrder) word \(wordOrder)")
        self.charOrder = charOrder
        self.wordOrder = wordOrder
        self.beta = beta
        self.lowercase = lowercase
        self.whitespace = whitespace
        self.epsSmoothing = epsSmoothing
    }

    var order: Int { charOrder + wordOrder }

    /// `chrF2`, `chrF2++`.
    public var name: String { "chrF\(beta)" + String(repeating: "+", count: wordOrder) }

    public var zeroStatistics: CHRFStatistics { CHRFStatistics(order: order) }

    /// One `CHRFStatistics` per segment, taken from the reference with the best F-score (first on ties).
    public func segmentStatistics(hypotheses: [String], references: [[String]]) -> [CHRFStatistics] {
        checkStreams(hypotheses, references)
        var counter = CHRFSegmentCounter(chrf: self)
        return hypotheses.indices.map { i in
            counter.statistics(hypothesis: hypotheses[i], references: references.map { $0[i] })
        }
    }

    public func score(from stats: CHRFStatistics) -> CHRFScore {
        CHRFScore(score: fScore(stats), name: name)
    }

    /// sacreBLEU's `_compute_f_score`, operation for operation.
    func fScore(_ stats: CHRFStatistics) -> Double {
        let eps = 1e-16
        var score = 0.0
        var effective = 0
        let factor = Double(beta * beta)
        var avgPrec = 0.0, avgRec = 0.0
        for i in 0..<order {
            let nHyp = stats.hypothesis[i], nRef = stats.reference[i], nMatch = stats.match[i]
            let prec = nHyp > 0 ? Double(nMatch) / Double(nHyp) : eps
            let rec = nRef > 0 ? Double(nMatch) / Double(nRef) : eps
            let denom = factor * prec + rec
            score += denom > 0 ? (1 + factor) * prec * rec / denom : eps
            if nHyp > 0 && nRef > 0 {
                avgPrec += prec
                avgRec += rec
                effective += 1
            }
        }
        if epsSmoothing { return 100 * score / Double(order) }
        if effective == 0 {
            avgPrec = 0; avgRec = 0
        } else {
            avgPrec /= Double(effective)
            avgRec /= Double(effective)
        }
        if avgPrec + avgRec != 0 {
            var s = (1 + factor) * avgPrec * avgRec
            s /= (factor * avgPrec) + avgRec
            return 100 * s
        }
        return 0
    }

    /// `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:…`.
    public func signature(referenceCount: Int, version: String) -> String {
        "nrefs:\(referenceCount)|case:\(lowercase ? "lc" : "mixed")|eff:\(epsSmoothing ? "no" : "yes")"
            + "|nc:\(charOrder)|nw:\(wordOrder)|space:\(whitespace ? "yes" : "no")|version:\(version)"
    }
}

/// chrF statistics per order (character orders first, then word orders): hypothesis n-grams
/// (0 when the reference has none of that order), reference n-grams, matches.
public struct CHRFStatistics: MetricStatistics, Equatable, Sendable {
    public var hypothesis: [Int]
    public var reference: [Int]
    public var match: [Int]

    public init(order: Int) {
        hypothesis = Array(repeating: 0, count: order)
        reference = hypothesis
        match = hypothesis
    }

    public mutating func add(_ other: CHRFStatistics) {
        for i in hypothesis.indices {
            hypothesis[i] += other.hypothesis[i]
            reference[i] += other.reference[i]
            match[i] += other.match[i]
        }
    }
}

/// Reusable buffers for one segment at a time. Character n-grams chain on scalar values; word
/// n-grams chain on word ids whose unigram keys carry bit 63, so the two families never share an id.
struct CHRFSegmentCounter {
    let chrf: CHRF
    var wordTable = KeyInterner()
    var ngramTable = KeyInterner(capacity: 1024)
    var ngramOrder: [UInt8] = []
    var hypCounts = IDCounts()
    var refCounts = IDCounts()
    var hypTotals: [Int], refTotals: [Int]
    var text: [UInt32] = [], lowered: [UInt32] = [], chars: [UInt32] = [], wordIDs: [UInt32] = []

    init(chrf: CHRF) {
        self.chrf = chrf
        hypTotals = Array(repeating: 0, count: chrf.order)
        refTotals = hypTotals
    }

    static let punctuation: Set<UInt32> = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars.map(\.value))

    /// Counts every n-gram of `line` into `counts` and `totals`.
    mutating func extract(_ line: String, counts: inout IDCounts, totals: inout [Int]) {
        PythonText.load(line, lowercase: chrf.lowercase, into: &text, scratch: &lowered)
        for i in totals.indices { totals[i] = 0 }
        chars.removeAll(keepingCapacity: true)
        for c in text where chrf.whitespace || !PythonText.isSpace(c) { chars.append(c) }
        count(chars, maxOrder: chrf.charOrder, orderBase: 0, unigramTag: 0, counts: &counts, totals: &totals)
        if chrf.wordOrder > 0 {
            words(text)
            count(wordIDs, maxOrder: chrf.wordOrder, orderBase: chrf.charOrder, unigramTag: 1 << 63,
                  counts: &counts, totals: &totals)
        }
    }

    @inline(__always)
    mutating func count(_ seq: [UInt32], maxOrder: Int, orderBase: Int, unigramTag: UInt64,
                        counts: inout IDCounts, totals: inout [Int]) {
        let len = seq.count
        for start in 0..<len {
            var id = ngramTable.id(unigramTag | UInt64(seq[start]))
            note(id, order: orderBase, counts: &counts, totals: &totals)
            let end = min(start + maxOrder, len)
            var j = start + 1
            while j < end {
                id = ngramTable.id(chainKey(id, seq[j]))
                note(id, order: orderBase + j - start, counts: &counts, totals: &totals)
                j += 1
            }
        }
    }

    @inline(__always)
    mutating func note(_ id: Int32, order: Int, counts: inout IDCounts, totals: inout [Int]) {
        if Int(id) == ngramOrder.count { ngramOrder.append(UInt8(order)) }
        counts.add(id)
        totals[order] += 1
    }

    /// `_remove_punctuation`: whitespace split, then one ASCII punctuation mark split off the end,
    /// or else off the start, of each word longer than one character.
    mutating func words(_ text: [UInt32]) {
        wordIDs.removeAll(keepingCapacity: true)
        var i = 0
        let n = text.count
        while i < n {
            while i < n && PythonText.isSpace(text[i]) { i += 1 }
            if i == n { break }
            var j = i
            while j < n && !PythonText.isSpace(text[j]) { j += 1 }
            let p = Self.punctuation
            if j - i > 1 && p.contains(text[j - 1]) {
                wordIDs.append(word(text, i, j - 1)); wordIDs.append(word(text, j - 1, j))
            } else if j - i > 1 && p.contains(text[i]) {
                wordIDs.append(word(text, i, i + 1)); wordIDs.append(word(text, i + 1, j))
            } else {
                wordIDs.append(word(text, i, j))
            }
            i = j
        }
    }

    @inline(__always)
    mutating func word(_ text: [UInt32], _ lo: Int, _ hi: Int) -> UInt32 {
        var prefix: Int32 = -1
        for k in lo..<hi { prefix = wordTable.id(chainKey(prefix, text[k])) }
        return UInt32(prefix)
    }

    mutating func statistics(hypothesis: String, references: [String]) -> CHRFStatistics {
        wordTable.reset()
        ngramTable.reset()
        ngramOrder.removeAll(keepingCapacity: true)
        // Move the buffers out while `extract` mutates self (exclusive access), then back.
        var hc = IDCounts(), ht: [Int] = [], rc = IDCounts(), rt: [Int] = []
        swap(&hc, &hypCounts); swap(&ht, &hypTotals); swap(&rc, &refCounts); swap(&rt, &refTotals)
        defer { swap(&hc, &hypCounts); swap(&ht, &hypTotals); swap(&rc, &refCounts); swap(&rt, &refTotals) }
        extract(hypothesis, counts: &hc, totals: &ht)
        var best = CHRFStatistics(order: chrf.order)
        var bestF = -1.0
        for ref in references {
            extract(ref, counts: &rc, totals: &rt)
            var stats = CHRFStatistics(order: chrf.order)
            for id in hc.touched {
                let i = Int(id)
                stats.match[Int(ngramOrder[i])] += Int(min(hc.values[i], rc.count(id)))
            }
            for k in 0..<chrf.order {
                stats.hypothesis[k] = rt[k] > 0 ? ht[k] : 0
                stats.reference[k] = rt[k]
            }
            rc.reset()
            let f = chrf.fScore(stats)
            if f > bestF { bestF = f; best = stats }
        }
        hc.reset()
        return best
    }
}
