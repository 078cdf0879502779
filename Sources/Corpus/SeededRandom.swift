/// SplitMix64 (Steele, Lea & Flood 2014): a tiny generator whose whole state is one UInt64,
/// so a stream position can store it and a resumed run reproduces every shuffle exactly.
/// Corpus keeps its own generator (not the standard library's `random(in:)`) because the
/// mapping from generator output to shuffles must never change between Swift versions.
struct SplitMix64 {
    var state: UInt64

    init(state: UInt64) { self.state = state }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-spread seed from several values (seed, epoch, purpose, offset).
    static func derive(_ values: UInt64...) -> UInt64 {
        var h: UInt64 = 0x6A09_E667_F3BC_C908
        for value in values { h = mix(h ^ mix(value &+ 0x9E37_79B9_7F4A_7C15)) }
        return h
    }

    /// Uniform in 0..<bound (Lemire's multiply-shift with rejection, so no modulo bias).
    mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "SplitMix64.next(below:) needs a positive bound")
        let b = UInt64(bound)
        while true {
            let product = next().multipliedFullWidth(by: b)
            if product.low >= (0 &- b) % b { return Int(product.high) }
        }
    }

    /// Fisher–Yates shuffle.
    mutating func shuffle<T>(_ array: inout [T]) {
        var i = array.count
        while i > 1 {
            let j = next(below: i)
            i -= 1
            array.swapAt(i, j)
        }
    }
}
