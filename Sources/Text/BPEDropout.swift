import Basics

/// BPE-dropout state (Provilkov, Emelianenko & Voita 2020): each merge candidate of each step is
/// skipped with `probability`; the draws come from `generator` in word order, so the same
/// generator state gives the same segmentation.
public struct BPEDropout: Sendable, Equatable {
    /// 0...1; 0 segments like plain BPE (but draws all the same).
    public var probability: Double
    public var generator: SplitMix64

    public init(probability: Double, generator: SplitMix64) {
        self.probability = probability
        self.generator = generator
    }
}
