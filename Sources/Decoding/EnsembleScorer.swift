/// An ensemble of scorers seen by the search as one: each step's log-probabilities are the weighted
/// mean of the members' log-probabilities, Σᵢ wᵢ·log pᵢ(y | ·) with Σᵢ wᵢ = 1 (the log-linear
/// combination of Marian's and OpenNMT-py's ensembles; fairseq averages probabilities instead). The
/// mean of log-probabilities is ≤ 0 like each member's, so the search's early stopping still holds;
/// it is not renormalised (the combined row is a log of a geometric mean, which sums to at most 1).
///
/// Members keep their own state (each encodes its own source: members may read differently
/// tokenized sources) and see the same tokens and the same reorders, so row r is the same
/// hypothesis in every member. They must agree on V, on the row count and on ``candidateIDs``
/// (a shortlist is the union of the members' lists, given to every member). The alignment of a row
/// is the first member's (nil when it has no attention), in that member's source positions.
public final class EnsembleScorer: StepScorer {
    /// The members, in the order of ``weights``.
    public let members: [any StepScorer]
    /// wᵢ, normalised to sum to 1.
    public let weights: [Float]
    public let vocabularySize: Int
    /// Each member as a ``WeightedStepScorer`` when it is one (it mixes its own share in).
    private let mixers: [(any WeightedStepScorer)?]
    /// [rows, W] scratch for the members that are not (mixed here by hand).
    private var scratch: [Float] = []
    /// `members` (at least one) must have equal `vocabularySize`, `rowCount` and `candidateIDs`;
    /// `weights` (one per member, each finite and > 0; default equal) are normalised here. Breaking
    /// either is a programming error (``Translator`` checks what users give before building one).
    public init(members: [any StepScorer], weights: [Float]? = nil) {
        precondition(!members.isEmpty, "EnsembleScorer: no member")
        let weights = weights ?? [Float](repeating: 1, count: members.count)
        precondition(weights.count == members.count && weights.allSatisfy { $0.isFinite && $0 > 0 },
                     "EnsembleScorer: one finite positive weight per member")
        let v = members[0].vocabularySize, rows = members[0].rowCount, ids = members[0].candidateIDs
        precondition(members.allSatisfy { $0.vocabularySize == v && $0.rowCount == rows && $0.candidateIDs == ids },
                     "EnsembleScorer: members disagree on V, rows or candidate ids")
        let total = weights.reduce(0.0) { $0 + Double($1) }
        let normalized = weights.map { Float(Double($0) / total) }
        precondition(normalized.allSatisfy { $0 > 0 && $0.isFinite }, "EnsembleScorer: a normalised weight rounds to 0")
        self.members = members
        mixers = members.map { $0 as? any WeightedStepScorer }
        self.weights = normalized
        vocabularySize = v
    }

    public var rowCount: Int { members[0].rowCount }
    public var candidateIDs: [Int32]? { members[0].candidateIDs }

    /// Writes Σᵢ wᵢ·(member i's row) into `logProbs`, [rowCount, W] (see ``StepScorer/step``),
    /// summed in member order, each ``WeightedStepScorer`` member mixing its share in as it
    /// normalises, any other mixed here by hand in the same order. An ensemble of one is
    /// its member, bit for bit. An id a member forbids with −∞ stays −∞.
    public func step(previousTokens: [Int32], logProbs: UnsafeMutableBufferPointer<Float>) {
        guard members.count > 1 else { return members[0].step(previousTokens: previousTokens, logProbs: logProbs) }
        let count = rowCount * (candidateIDs?.count ?? vocabularySize)
        for (i, (member, w)) in zip(members, weights).enumerated() {
            if let mixer = mixers[i] {
                mixer.step(previousTokens: previousTokens, weightedInto: logProbs, weight: w, accumulate: i > 0)
                continue
            }
            // By hand, in the same order: w·l, then y + w·l.
            if scratch.count < count { scratch = [Float](repeating: 0, count: count) }
            scratch.withUnsafeMutableBufferPointer { own in
                member.step(previousTokens: previousTokens, logProbs: own)
                for j in 0..<count { logProbs[j] = i > 0 ? logProbs[j] + w * own[j] : w * own[j] }
            }
        }
    }

    public func reorder(_ rows: [Int32]) {
        for member in members { member.reorder(rows) }
    }

    public func alignedSourcePosition(row: Int) -> Int32? {
        members[0].alignedSourcePosition(row: row)
    }
}
