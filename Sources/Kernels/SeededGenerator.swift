import Basics

/// xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64: the one source of randomness of
/// the model (initialisation, dropout). Its state is Codable so that training can resume exactly.
public struct SeededGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    public var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// The state is the first four outputs of `SplitMix64(seed: seed)`, as Vigna recommends.
    public init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        s0 = seeder.next()
        s1 = seeder.next()
        s2 = seeder.next()
        s3 = seeder.next()
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits (every value exactly representable).
    @inlinable
    public mutating func nextUnitFloat() -> Scalar {
        Scalar(next() >> 40) * 0x1p-24
    }

    /// Uniform in [low, high).
    @inlinable
    public mutating func nextFloat(in low: Scalar, _ high: Scalar) -> Scalar {
        low + (high - low) * nextUnitFloat()
    }

    @inlinable @inline(__always)
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
