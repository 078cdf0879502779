import Basics
import Kernels
import Model
import Testing
@testable import Lab

@Suite("SequenceRegressor")
struct SequenceRegressorTests {
    /// ∂L/∂θ of L = Σ (y·r) for fixed r, against central differences, on every parameter.
    @Test(arguments: CellType.allCases)
    func backwardMatchesFiniteDifferences(cell: CellType) {
        let net = SequenceRegressor(cell: cell, inputSize: 2, hidden: 3, outputs: 2, seed: 11, scale: 0.5)
        var rng = SplitMix64(seed: 3)
        // Weights away from the IRNN's initial identity/tiny Wx, whose ReLU pre-activations sit at
        // the kink where central differences are meaningless.
        for i in 0..<net.parameters.count { net.parameters.values[i] = Scalar(Double(rng.next() >> 11) * 0x1p-53 - 0.5) }
        let steps = 4, batch = 2
        let x = (0..<(steps * batch * 2)).map { _ in Scalar(Double(rng.next() >> 11) * 0x1p-52 - 1) }
        let mask: [Scalar] = [0, 1, 1, 1, 1, 1, 1, 1]   // the first sequence starts one step later
        let r: [Scalar] = [0.3, -0.5, 0.9, 0.2]
        func loss() -> Double {
            let y = net.forward(input: x, mask: mask, steps: steps, batch: batch)
            return zip(y, r).reduce(0) { $0 + Double($1.0 * $1.1) }
        }
        net.parameters.zeroGradients()
        _ = loss()
        net.backward(outputGradient: r)
        let analytic = Array(net.parameters.gradients)
        let eps: Scalar = 1e-2
        for i in 0..<net.parameters.count {
            let v = net.parameters.values[i]
            net.parameters.values[i] = v + eps
            let up = loss()
            net.parameters.values[i] = v - eps
            let down = loss()
            net.parameters.values[i] = v
            let numeric = (up - down) / (2 * Double(eps))
            #expect(abs(numeric - Double(analytic[i])) < 2e-3 + 2e-2 * abs(numeric), "parameter \(i): \(numeric) vs \(analytic[i])")
        }
    }
}
