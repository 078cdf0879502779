import Kernels
@testable import Model

/// Central finite differences: (L(θ+ε) − L(θ−ε)) / 2ε, with the loss summed in Double. The
/// defaults are for Float (`Scalar` in the main suite): Float rounding of the loss (~1e-6 absolute
/// on these tiny nets) over 2ε = 2e-2 gives ~1e-4 noise, hence the mixed tolerance. The
/// double-precision build (Tests/DoubleCheck, which links this file) uses ``double``.
struct GradientCheck {
    var epsilon: Scalar = 1e-2
    var absoluteTolerance: Double = 2e-3
    var relativeTolerance: Double = 2e-2

    /// For `Scalar = Double`: ε = 1e-5 (truncation ~1e-10·L‴, rounding ~1e-11), relative error 1e-6.
    static let double = GradientCheck(epsilon: 1e-5, absoluteTolerance: 1e-9, relativeTolerance: 1e-6)

    struct Mismatch: CustomStringConvertible {
        let label: String, index: Int, analytic: Double, numeric: Double
        var description: String { "\(label)[\(index)]: analytic \(analytic) numeric \(numeric)" }
    }

    /// Compares `analytic[i]` with the numeric derivative of `loss` with respect to `values[i]`
    /// for each index; returns the mismatches (empty = pass).
    func compare(label: String, values: UnsafeMutablePointer<Scalar>, analytic: [Scalar], indices: [Int],
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

func randomFloats(_ count: Int, scale: Scalar, _ rng: inout SeededGenerator) -> [Scalar] {
    (0..<count).map { _ in rng.nextFloat(in: -scale, scale) }
}
