/// One decoding step for a set of rows (live hypotheses); the only way Decoding reaches a model.
///
/// A row is one hypothesis being extended: the scorer owns its state (for the LSTM decoder, the
/// hidden and cell vectors plus the attention context of that sentence). Search code never looks
/// inside; it feeds tokens, reads log-probabilities and says which rows survive, which is what lets
/// beam search be tested with hand-written score tables and no model (OpenNMT-py's beam tests,
/// Marian's state `select`).
///
/// On entry to a search, row i is sentence i (`rowCount` = number of sentences, each encoded once).
public protocol StepScorer: AnyObject {
    /// V: the size of the output vocabulary; every step writes V values per row (U with
    /// `candidateIDs`).
    var vocabularySize: Int { get }
    /// Current number of rows; changes only through `reorder`.
    var rowCount: Int { get }
    /// Feeds `previousTokens[r]` to row r (the first step of a search feeds bos) and writes the
    /// log-probabilities of the next token, [rowCount, W] row-major, into
    /// `logProbs[r*W ..< (r+1)*W]`, where W = V and column j is id j, or, with `candidateIDs`,
    /// W = U = candidateIDs.count and column j is id candidateIDs[j] (compact rows: the other
    /// ids are not scored at all). `previousTokens.count == rowCount` and
    /// `logProbs.count >= rowCount*W`. Values must be log-probabilities (≤ 0, e.g. a log-softmax):
    /// early stopping relies on scores never increasing as a hypothesis grows. The search may
    /// overwrite the buffer after the call (it masks forbidden ids in place).
    func step(previousTokens: [Int32], logProbs: UnsafeMutableBufferPointer<Float>)
    /// New row i continues old row `rows[i]`: rows may repeat (a hypothesis that spawns several
    /// beam entries) or be dropped (finished hypotheses and sentences). `rowCount` becomes
    /// `rows.count`. Never called with an identity permutation.
    func reorder(_ rows: [Int32])
    /// After `step`, the source position (0-based, in the sentence's token order) that row r
    /// attended to most when scoring this step's continuations, or nil when the scorer has no
    /// attention (the default). The search records it for the token it appends to that row.
    func alignedSourcePosition(row: Int) -> Int32?
    /// The only ids `step` scores during this search, ascending and non-empty (a lexical
    /// shortlist), or nil for all V (the default). `step` then writes compact rows of U entries
    /// (see `step`), and the search treats every other id, eos included, as probability zero: the
    /// result of a V-wide row that is −∞ at every other id. Constant over a search.
    var candidateIDs: [Int32]? { get }
}

extension StepScorer {
    public func alignedSourcePosition(row: Int) -> Int32? { nil }
    public var candidateIDs: [Int32]? { nil }
}

/// A scorer that writes its share of an ensemble's log-linear mix as it normalises (the model's,
/// whose logits then stay in its own scratch), so the mix costs no pass of its own. A protocol of
/// its own, not a requirement of ``StepScorer`` with a default: the search over `any StepScorer`
/// measured 10–15 % slower (int8 beam decoding, Zen 5) with one more requirement in its witness
/// table, and ``EnsembleScorer`` mixes any other scorer by hand.
public protocol WeightedStepScorer: StepScorer {
    /// ``StepScorer/step(previousTokens:logProbs:)`` as one member of an ensemble: writes
    /// weight·(the step's log-probabilities) into `logProbs`, [rowCount, W], when `accumulate` is
    /// false, and adds them to it when true (the product rounded, then the sum); `weight` finite
    /// and > 0, `logProbs.count >= rowCount·W`.
    func step(previousTokens: [Int32], weightedInto logProbs: UnsafeMutableBufferPointer<Float>,
              weight: Float, accumulate: Bool)
}
