/// BLEU (Papineni et al. 2002) computed exactly as sacreBLEU 2.6 computes it: the same
/// tokenizers, n-gram clipping against the per-n-gram maximum over references, closest reference
/// length (ties to the shorter), smoothing (Chen & Cherry 2014) and formatting.
///
/// Flow: each segment gives `BLEUStatistics`; corpus statistics are their sum; the score is a
/// function of the sum alone (`BLEU.score(from:)`).
public struct BLEU: SegmentMetric, Sendable {
    /// Smoothing methods of Chen & Cherry (2014) as named by sacreBLEU.
    public enum Smoothing: String, CaseIterable, Sendable {
        case none
        /// Method 1: a zero count becomes `smoothValue` (default 0.1).
        case floor
        /// Method 2: `smoothValue` (default 1) is added to counts and totals for n > 1.
        case addK = "add-k"
        /// Method 3, mteval-v13a's: the k-th zero precision becomes 1 / (2^k · total).
        case exp

        /// sacreBLEU's `SMOOTH_DEFAULTS`.
        public var defaultValue: Double? {
            switch self {
            case .floor: return 0.1
            case .addK: return 1
            case .none, .exp: return nil
            }
        }
    }

    public var tokenizer: BLEUTokenizer
    public var lowercase: Bool
    public var smooth: Smoothing
    /// Value for `floor` and `add-k`; nil means the method's default.
    public var smoothValue: Double?
    public var maxOrder: Int
    /// Average only over the orders that have n-grams (sentence BLEU); the CLI's `--sentence`
    /// turns it on, as sacreBLEU's `--sentence-level` does.
    public var effectiveOrder: Bool

    public init(tokenize: BLEUTokenizer = .thirteenA, lowercase: Bool = false,
                smooth: Smoothing = .exp, smoothValue: Double? = nil, maxOrder: Int = 4,
                effectiveOrder: Bool = false) {
        precondition(maxOrder >= 1, "BLEU maxOrder must be at least 1, got \(maxOrder)")
        self.tokenizer = tokenize
        self.lowercase = lowercase
        self.smooth = smooth
        self.smoothValue = smoothValue
        self.maxOrder = maxOrder
        self.effectiveOrder = effectiveOrder
    }

    public var zeroStatistics: BLEUStatistics { BLEUStatistics(maxOrder: maxOrder) }

    /// One `BLEUStatistics` per segment.
    public func segmentStatistics(hypotheses: [String], references: [[String]]) -> [BLEUStatistics] {
        checkStreams(hypotheses, references)
        var counter = BLEUSegmentCounter(bleu: self)
        var result: [BLEUStatistics] = []
        result.reserveCapacity(hypotheses.count)
        for i in hypotheses.indices {
            result.append(counter.statistics(hypothesis: hypotheses[i], references: references.map { $0[i] }))
        }
        return result
    }

    /// sacreBLEU's `compute_bleu` on summed statistics, operation for operation, so that the
    /// floating-point result is the same bits.
    public func score(from stats: BLEUStatistics) -> BLEUScore {
        let n = maxOrder
        var correct = stats.correct.map(Double.init)
        var total = stats.total.map(Double.init)
        let sysLen = stats.hypothesisLength, refLen = stats.referenceLength
        let value = smoothValue ?? smooth.defaultValue ?? 0

        var bp = 1.0
        if sysLen < refLen {
            bp = sysLen > 0 ? libmExp(1 - Double(refLen) / Double(sysLen)) : 0
        }
        var precisions = [Double](repeating: 0, count: n)
        if !stats.correct.contains(where: { $0 != 0 }) {
            return BLEUScore(score: 0, counts: correct, totals: total, precisions: precisions, bp: bp,
                             sysLen: sysLen, refLen: refLen)
        }
        var smoothMteval = 1.0
        var effOrder = n
        for k in 0..<n {
            if smooth == .addK && k > 0 {
                correct[k] += value
                total[k] += value
            }
            if total[k] == 0 { break }
            if effectiveOrder { effOrder = k + 1 }
            if correct[k] == 0 {
                if smooth == .exp {
                    smoothMteval *= 2
                    precisions[k] = 100 / (smoothMteval * total[k])
                } else if smooth == .floor {
                    precisions[k] = 100 * value / total[k]
                }
            } else {
                precisions[k] = 100 * correct[k] / total[k]
            }
        }
        // Python's sum(): left to right from 0; log(0) is floored to -9999999999 (my_log).
        var logSum = 0.0
        for k in 0..<effOrder { logSum += precisions[k] == 0 ? -9_999_999_999 : libmLog(precisions[k]) }
        let score = bp * libmExp(logSum / Double(effOrder))
        return BLEUScore(score: score, counts: correct, totals: total, precisions: precisions, bp: bp,
                         sysLen: sysLen, refLen: refLen)
    }

    /// The smoothing part of the signature: `exp`, `floor[0.10]`, `add-k[1.00]`, `none`.
    var smoothSignature: String {
        guard let def = smooth.defaultValue else { return smooth.rawValue }
        return "\(smooth.rawValue)[\(Format.fixed(smoothValue ?? def, 2))]"
    }

    /// sacreBLEU's signature, `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:…`.
    public func signature(referenceCount: Int, version: String) -> String {
        "nrefs:\(referenceCount)|case:\(lowercase ? "lc" : "mixed")|eff:\(effectiveOrder ? "yes" : "no")"
            + "|tok:\(tokenizer.signature)|smooth:\(smoothSignature)|version:\(version)"
    }
}

/// Sufficient statistics of BLEU for one segment or a sum of segments.
public struct BLEUStatistics: MetricStatistics, Equatable, Sendable {
    public var hypothesisLength = 0
    /// Sum of closest reference lengths.
    public var referenceLength = 0
    /// Clipped matches per order 1…maxOrder.
    public var correct: [Int]
    /// Hypothesis n-grams per order 1…maxOrder.
    public var total: [Int]

    public init(maxOrder: Int) {
        correct = Array(repeating: 0, count: maxOrder)
        total = Array(repeating: 0, count: maxOrder)
    }

    public mutating func add(_ other: BLEUStatistics) {
        hypothesisLength += other.hypothesisLength
        referenceLength += other.referenceLength
        for k in correct.indices {
            correct[k] += other.correct[k]
            total[k] += other.total[k]
        }
    }
}

/// Reusable buffers for counting one segment at a time; ids are local to the segment.
struct BLEUSegmentCounter {
    let bleu: BLEU
    var tokenTable = KeyInterner()
    var ngramTable = KeyInterner(capacity: 1024)
    var ngramOrder: [UInt8] = []
    var hypCounts = IDCounts()
    var refCounts = IDCounts()
    var refMax: [Int32] = []
    var text: [UInt32] = [], lowered: [UInt32] = [], tokenized: [UInt32] = [], scratch: [UInt32] = []
    var tokenIDs: [UInt32] = []

    init(bleu: BLEU) { self.bleu = bleu }

    /// lower() → rstrip() → tokenizer → split(), as BLEU._preprocess_segment does.
    mutating func tokenize(_ line: String) {
        PythonText.load(line, lowercase: bleu.lowercase, into: &text, scratch: &lowered)
        PythonText.rstrip(&text)
        bleu.tokenizer.apply(text, into: &tokenized, scratch: &scratch)
        internTokens(tokenized, &tokenTable, into: &tokenIDs)
    }

    /// Calls `body(id)` for every n-gram (orders 1…maxOrder) of `tokenIDs`.
    @inline(__always)
    mutating func forEachNGram(_ body: (inout BLEUSegmentCounter, Int32) -> Void) {
        let len = tokenIDs.count
        let maxOrder = bleu.maxOrder
        for start in 0..<len {
            var prefix: Int32 = -1
            let end = min(start + maxOrder, len)
            for j in start..<end {
                prefix = ngramTable.id(chainKey(prefix, tokenIDs[j]))
                if Int(prefix) == ngramOrder.count { ngramOrder.append(UInt8(j - start)) }
                body(&self, prefix)
            }
        }
    }

    mutating func statistics(hypothesis: String, references: [String]) -> BLEUStatistics {
        tokenTable.reset()
        ngramTable.reset()
        ngramOrder.removeAll(keepingCapacity: true)
        var refLengths: [Int] = []
        for ref in references {
            tokenize(ref)
            refLengths.append(tokenIDs.count)
            forEachNGram { c, id in c.refCounts.add(id) }
            for id in refCounts.touched {
                let i = Int(id)
                while i >= refMax.count { refMax.append(0) }
                refMax[i] = max(refMax[i], refCounts.values[i])
            }
            refCounts.reset()
        }
        tokenize(hypothesis)
        var stats = BLEUStatistics(maxOrder: bleu.maxOrder)
        stats.hypothesisLength = tokenIDs.count
        stats.referenceLength = closestReferenceLength(tokenIDs.count, refLengths)
        forEachNGram { c, id in c.hypCounts.add(id) }
        for id in hypCounts.touched {
            let i = Int(id), order = Int(ngramOrder[i])
            let h = Int(hypCounts.values[i])
            stats.total[order] += h
            if i < refMax.count { stats.correct[order] += min(h, Int(refMax[i])) }
        }
        hypCounts.reset()
        for i in 0..<min(refMax.count, ngramTable.count) { refMax[i] = 0 }
        return stats
    }

    /// Closest reference length; on a tie the shorter one (sacreBLEU `_get_closest_ref_len`).
    func closestReferenceLength(_ hypLen: Int, _ lengths: [Int]) -> Int {
        var bestDiff = -1, best = -1
        for len in lengths {
            let diff = abs(hypLen - len)
            if bestDiff == -1 || diff < bestDiff {
                bestDiff = diff; best = len
            } else if diff == bestDiff && len < best {
                best = len
            }
        }
        return best
    }
}
