/// SplitMix64 (Steele, Lea & Flood 2014), the project's one seeded generator: its whole state is
/// one UInt64, so a stream position can store it and a resumed run reproduces every draw exactly.
///
/// Every random choice of the project derives from it: corpus shuffles (`BatchStream`), the sample
/// corpus (`SampleCorpus`), the seeding of the model's xoshiro256** (`SeededGenerator`), per-step
/// dropout seeds and the tests' generator. It is written out here rather than taken from the
/// standard library because the mapping from a seed to numbers must never change between Swift
/// versions: the sequence for a seed is `mix(seed + k·γ)` for k = 1, 2, … with γ = `increment`.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    /// The golden-ratio increment γ added to the state before every output.
    public static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The whole state; the next output is `mix(state + γ)`.
    public var state: UInt64

    /// A generator whose first output is `mix(seed + γ)`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= SplitMix64.increment
        return SplitMix64.mix(state)
    }

    /// SplitMix64's output function (a bijective 64-bit finalizer).
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-spread seed from several values (seed, epoch, purpose, offset).
    public static func derive(_ values: UInt64...) -> UInt64 {
        var h: UInt64 = 0x6A09_E667_F3BC_C908
        for value in values { h = mix(h ^ mix(value &+ increment)) }
        return h
    }

    /// Uniform in 0..<bound (Lemire's multiply-shift with rejection, so no modulo bias).
    /// `bound` must be positive (a programmer error otherwise).
    public mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "SplitMix64.next(below:) needs a positive bound, got \(bound)")
        let b = UInt64(bound)
        while true {
            let product = next().multipliedFullWidth(by: b)
            if product.low >= (0 &- b) % b { return Int(product.high) }
        }
    }

    /// Fisher–Yates shuffle of `array` in place.
    public mutating func shuffle<T>(_ array: inout [T]) {
        var i = array.count
        while i > 1 {
            let j = next(below: i)
            i -= 1
            array.swapAt(i, j)
        }
    }
}
