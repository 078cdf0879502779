/// One aligned sentence pair, exactly as stored (no normalization, no trimming).
public struct SentencePair: Sendable, Equatable, Hashable {
    public var source: String
    public var target: String
    public init(source: String, target: String) {
        self.source = source
        self.target = target
    }
}
