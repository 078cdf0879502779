import CInt8
import Testing

/// `cint8_quantize_rows` (AVX2 where the CPU has it) against its scalar definition.
@Suite struct QuantizeRowsTests {
    /// Rows with NaN, ±∞, zeros, values on rounding ties (±0.5 steps after scaling), the
    /// extremes and random values; K around the 32-value blocks, a leading dimension past K.
    @Test(arguments: [1, 7, 31, 32, 33, 64, 100, 768])
    func sameBytesAsTheScalarDefinition(k: Int) {
        let k4 = (k + 3) / 4 * 4, lda = k + 5
        var rows: [[Float]] = []
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15 &* UInt64(k)
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
        rows.append((0..<k).map { _ in next() * 3 })
        rows.append([Float](repeating: 0, count: k))
        rows.append((0..<k).map { j in j == k / 2 ? .nan : next() })
        rows.append((0..<k).map { j in j == k - 1 ? .infinity : next() })
        rows.append((0..<k).map { j in j == 0 ? -.infinity : next() })
        // max 127: every value x.5 is a tie that rounds to even.
        rows.append((0..<k).map { j in j == 0 ? 127 : Float(j % 255) / 2 - 63.5 })
        rows.append((0..<k).map { j in j % 2 == 0 ? 1e30 : -1e-30 })
        rows.append((0..<k).map { j in j == 0 ? -Float.greatestFiniteMagnitude : 1 })
        rows.append((0..<k).map { _ in next() * 1e-38 })
        let m = rows.count
        var a = [Float](repeating: -7, count: m * lda)
        for (r, row) in rows.enumerated() { for j in 0..<k { a[r * lda + j] = row[j] } }
        func run(_ f: (UnsafePointer<Float>, Int, Int, Int, Int, UnsafeMutablePointer<Int8>, UnsafeMutablePointer<UInt8>,
                       UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<Float>) -> Void)
            -> ([Int8], [UInt8], [UInt8], [UInt32]) {
            var q = [Int8](repeating: 1, count: m * k4), magnitude = [UInt8](repeating: 1, count: m * k4)
            var shifted = magnitude, scales = [Float](repeating: 1, count: m)
            f(a, lda, m, k, k4, &q, &magnitude, &shifted, &scales)
            return (q, magnitude, shifted, scales.map(\.bitPattern))
        }
        let fast = run { cint8_quantize_rows($0, $1, $2, $3, $4, $5, $6, $7, $8) }
        let scalar = run { cint8_quantize_rows_scalar($0, $1, $2, $3, $4, $5, $6, $7, $8) }
        #expect(fast.0 == scalar.0)
        #expect(fast.1 == scalar.1)
        #expect(fast.2 == scalar.2)
        #expect(fast.3 == scalar.3)
        // The tie row really has ties: 0.5 → 0, 1.5 → 2, −0.5 → 0 (round half to even).
        if k >= 130 { #expect(scalar.0[5 * k4 + 128] == 0 && scalar.0[5 * k4 + 130] == 2) }
    }
}
