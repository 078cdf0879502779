/// One finished (or, as a last resort, unfinished) output sentence of a search.
public struct Hypothesis: Equatable, Sendable {
    /// Output token ids, without bos and eos.
    public var tokens: [Int32]
    /// Sum of the step log-probabilities of `tokens`, plus that of eos when the hypothesis ended
    /// with eos (always, unless every continuation had probability zero; see `BeamSearch`).
    public var logProb: Double
    /// `logProb / lengthPenalty(length:alpha:)`: the value hypotheses are ranked by.
    public var score: Double
    /// Per output token, the source position it is aligned to (the highest attention weight of the
    /// step that produced it, ``StepScorer/alignedSourcePosition(row:)``); nil when the scorer has
    /// no alignment (a model without attention).
    public var alignment: [Int32]?
    /// The log-probability of each token (natural log), then that of eos when the hypothesis ended
    /// with it: they sum to ``logProb`` (to rounding). Empty when the search did not record them.
    public var tokenLogProbs: [Double]

    public init(tokens: [Int32], logProb: Double, score: Double, alignment: [Int32]? = nil, tokenLogProbs: [Double] = []) {
        self.tokens = tokens
        self.logProb = logProb
        self.score = score
        self.alignment = alignment
        self.tokenLogProbs = tokenLogProbs
    }
}
