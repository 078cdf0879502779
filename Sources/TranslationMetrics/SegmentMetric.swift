/// A metric computed as sacreBLEU does: per-segment sufficient statistics, summed over the corpus,
/// then a score from the sum alone. BLEU and CHRF conform; the command line drives both through it.
public protocol SegmentMetric {
    associatedtype Statistics: MetricStatistics
    associatedtype Score: MetricScore

    /// One entry per segment; `references[k][i]` is the k-th reference of segment i.
    func segmentStatistics(hypotheses: [String], references: [[String]]) -> [Statistics]
    /// The score of summed (or single-segment) statistics.
    func score(from stats: Statistics) -> Score
    /// Statistics of an empty corpus, the start of the sum.
    var zeroStatistics: Statistics { get }
    /// sacreBLEU's reproducibility signature with `version` as the tool version.
    func signature(referenceCount: Int, version: String) -> String
}

/// Statistics that add up over segments.
public protocol MetricStatistics {
    mutating func add(_ other: Self)
}

/// What a score prints: sacreBLEU's text line, the bare score, or a JSON object.
public protocol MetricScore {
    var score: Double { get }
    /// `NAME|signature = score[ verbose]`, the score with `width` decimals.
    func formatted(signature: String, width: Int) -> String
    /// The score alone with `width` decimals (`--score-only`).
    func formattedScore(width: Int) -> String
    /// One JSON object with the full-precision score; `indent` false gives one line.
    func json(signature: String, width: Int, indent: Bool) -> String
}

extension MetricScore {
    /// `f"{score:.{width}f}"`, as sacreBLEU's `--score-only` prints it.
    public func formattedScore(width: Int = 2) -> String { Format.fixed(score, width) }
}

extension SegmentMetric {
    /// Corpus-level score: statistics summed over all segments.
    public func corpusScore(hypotheses: [String], references: [[String]]) -> Score {
        score(from: segmentStatistics(hypotheses: hypotheses, references: references)
            .reduce(into: zeroStatistics) { $0.add($1) })
    }

    /// Score of one hypothesis against its references.
    public func sentenceScore(hypothesis: String, references: [String]) -> Score {
        score(from: segmentStatistics(hypotheses: [hypothesis], references: references.map { [$0] })[0])
    }
}

/// Every reference stream must be as long as the hypotheses (a programmer error here: the command
/// line reports a user-facing error before calling).
func checkStreams(_ hypotheses: [String], _ references: [[String]]) {
    for (k, stream) in references.enumerated() {
        precondition(stream.count == hypotheses.count,
                     "reference stream \(k) has \(stream.count) lines, hypotheses \(hypotheses.count)")
    }
}
