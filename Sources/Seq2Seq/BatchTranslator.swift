import Translation

/// The decoding engine behind a ``TranslationQueue``: lines in, n-best lists out, one batched
/// search per call. Called from the queue's one worker thread only, so an implementation needs no
/// locking.
public protocol BatchTranslator: AnyObject {
    /// Translates `lines` (B ≤ the queue's batch size) together with beam K = `beam`; result i
    /// belongs to line i and holds `nBest` translations (or fewer), best first. An empty line gives
    /// one empty translation with scores 0. `1 ≤ nBest ≤ beam` is checked by the caller.
    func translate(_ lines: [String], beam: Int, nBest: Int) -> [[Translation]]
}

extension TranslationEngine: BatchTranslator {
    /// The model's own search settings (length penalty, length limit, unknown-word policy) with
    /// the request's beam and n-best: set for this call only (the queue's worker is the only
    /// caller, so no other search sees them).
    public func translate(_ lines: [String], beam: Int, nBest: Int) -> [[Translation]] {
        let saved = searchOptions
        searchOptions.beamSize = beam
        searchOptions.nBest = nBest
        defer { searchOptions = saved }
        return translate(lines)
    }
}
