import Kernels
@testable import Model

/// Central finite differences in Float: (L(θ+ε) − L(θ−ε)) / 2ε, with the loss summed in Double.
/// Float rounding of the loss (~1e-6 absolute on these tiny nets) over 2ε = 2e-2 gives ~1e-4 noise,
/// hence the mixed absolute/relative tolerance.
struct GradientCheck {
    var epsilon: Float = 1e-2
    var absoluteTolerance: Double = 2e-3
    var relativeTolerance: Double = 2e-2

    struct Mismatch: CustomStringConvertible {
        let label: String, index: Int, analytic: Double, numeric: Double
        var description: String { "\(label)[\(index)]: analytic \(analytic) numeric \(numeric)" }
    }

    /// Compares `analytic[i]` with the numeric derivative of `loss` with respect to `values[i]`
    /// for each index; returns the mismatches (empty = pass).
    func compare(label: String, values: UnsafeMutablePointer<Float>, analytic: [Float], indices: [Int],
                 loss: () -> Double) -> [Mismatch] {
        var bad: [Mismatch] = []
        for i in indices {
            let saved = values[i]
            values[i] = saved + epsilon
            let plus = loss()
            values[i] = saved - epsilon
            let minus = loss()
            values[i] = saved
            let numeric = (plus - minus) / (2 * Double(epsilon))
            let a = Double(analytic[i])
            if abs(a - numeric) > absoluteTolerance + relativeTolerance * max(abs(a), abs(numeric)) {
                bad.append(Mismatch(label: label, index: i, analytic: a, numeric: numeric))
            }
        }
        return bad
    }
}

/// `count` indices spread over 0..<n (all of them when n is small).
func sampledIndices(_ n: Int, count: Int, rng: inout SeededGenerator) -> [Int] {
    if n <= count { return Array(0..<n) }
    return (0..<count).map { _ in Int(rng.next() % UInt64(n)) }
}

func randomFloats(_ count: Int, scale: Float, _ rng: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in rng.nextFloat(in: -scale, scale) }
}
