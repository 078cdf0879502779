/// Which weights `translate` loads.
public enum CheckpointChoice: String, Codable, Sendable, CaseIterable {
    /// `best.safetensors`: the lowest validation perplexity so far.
    case best
    /// `last.safetensors`: the latest checkpoint.
    case last
}
