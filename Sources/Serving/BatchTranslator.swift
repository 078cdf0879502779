import Translation

/// One translation as the server answers it.
public struct ScoredTranslation: Sendable, Equatable {
    /// Detokenized text.
    public var text: String
    /// The length-normalised score the beam ranks by, log P / ((5+|y|)/6)^alpha.
    public var score: Double
    /// log P: the sum of the token log-probabilities (natural log), `</s>` included.
    public var logProb: Double

    public init(text: String, score: Double, logProb: Double) {
        self.text = text
        self.score = score
        self.logProb = logProb
    }
}

/// The decoding engine behind a `TranslationQueue`: lines in, n-best lists out, one batched search
/// per call. Called from the queue's one worker thread only, so an implementation needs no locking.
public protocol BatchTranslator: AnyObject {
    /// Translates `lines` (B ≤ the queue's batch size) together with beam K = `beam`; result i
    /// belongs to line i and holds `nBest` translations (or fewer), best first. An empty line gives
    /// one empty translation with scores 0. `1 ≤ nBest ≤ beam` is checked by the caller.
    func translate(_ lines: [String], beam: Int, nBest: Int) -> [[ScoredTranslation]]
}

extension Translator: BatchTranslator {
    /// The model's own search settings (length penalty, length limit, unknown-word policy) with
    /// the request's beam and n-best: set for this call only (the queue's worker is the only
    /// caller, so no other search sees them).
    public func translate(_ lines: [String], beam: Int, nBest: Int) -> [[ScoredTranslation]] {
        let saved = searchOptions
        searchOptions.beamSize = beam
        searchOptions.nBest = nBest
        defer { searchOptions = saved }
        return translate(lines).map { $0.map { ScoredTranslation(text: $0.text, score: $0.score, logProb: $0.logProb) } }
    }
}
