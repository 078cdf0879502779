import Basics
import Foundation
import Kernels
import Model
import Testing
@testable import Lab

@Suite("Lab diagnostics")
struct DiagnosticsTests {
    /// Every entry of ∂h_T/∂h_t from `stateJacobian` against central differences of h_T in h_t.
    @Test(arguments: CellType.allCases)
    func jacobianProductMatchesFiniteDifferences(cell: CellType) {
        let h = 4, steps = 6
        let net = SequenceRegressor(cell: cell, inputSize: 2, hidden: h, outputs: 1, seed: 5, scale: 0.6)
        var rng = SplitMix64(seed: 8)
        if cell == .irnn {   // away from the ReLU kink at the IRNN's tiny initial input weights
            for i in 0..<net.parameters.count { net.parameters.values[i] = Scalar(Double(rng.next() >> 11) * 0x1p-53 - 0.5) }
        }
        let x = (0..<(steps * 2)).map { _ in Scalar(Double(rng.next() >> 11) * 0x1p-52 - 1) }
        for t in [0, 2, 5] {
            let j = net.stateJacobian(input: x, steps: steps, from: t)
            _ = net.forward(input: x, steps: steps, batch: 1)
            let state = Array(net.hiddenStates[(t * h)..<(t * h + h)])
            let eps: Scalar = 1e-2
            for k in 0..<h {
                var up = state, down = state
                up[k] += eps
                down[k] -= eps
                let hu = net.finalHidden(input: x, steps: steps, from: t, state: up)
                let hd = net.finalHidden(input: x, steps: steps, from: t, state: down)
                for i in 0..<h {
                    let numeric = Double(hu[i] - hd[i]) / Double(2 * eps)
                    #expect(abs(numeric - Double(j[i * h + k])) < 2e-3 + 2e-2 * abs(numeric), "t \(t), ∂h_T[\(i)]/∂h_t[\(k)]")
                }
            }
        }
    }

    @Test func jacobianOfTheLastStepIsOneStepJacobianAndLeavesGradientsAlone() {
        // Gap 1 of an Elman tanh cell: diag(1 − h_T²)·Wh.
        let h = 3
        let net = SequenceRegressor(cell: .rnnTanh, inputSize: 1, hidden: h, outputs: 1, seed: 2, scale: 0.7)
        net.parameters.gradients[0] = 0.25
        let x: [Scalar] = [0.5, -1, 0.3]
        let j = net.stateJacobian(input: x, steps: 3, from: 2)
        _ = net.forward(input: x, steps: 3, batch: 1)
        let hT = Array(net.hiddenStates[(3 * h)...]), wh = net.recurrentMatrix
        for i in 0..<h { for k in 0..<h { #expect(abs(j[i * h + k] - (1 - hT[i] * hT[i]) * wh[i * h + k]) < 1e-6) } }
        #expect(net.parameters.gradients[0] == 0.25)
    }

    @Test func spectralRadiusOfKnownMatrices() {
        // A rotation by 90° scaled by 0.5: eigenvalues ±0.5i (power iteration would not converge).
        #expect(abs(Diagnostics.spectralRadius([0, -0.5, 0.5, 0], n: 2) - 0.5) < 1e-9)
        // Triangular with a large off-diagonal entry: the eigenvalues are the diagonal, ‖A‖ is not ρ.
        #expect(abs(Diagnostics.spectralRadius([0.9, 5, 0, 0.3], n: 2) - 0.9) < 1e-6)
        #expect(abs(Diagnostics.spectralRadius([1, 0, 0, 0, 1, 0, 0, 0, 1], n: 3) - 1) < 1e-9)
        #expect(Diagnostics.spectralRadius([0, 1, 0, 0], n: 2) == 0)   // nilpotent
    }

    @Test func irnnStartsWithSpectralRadiusOneAndSpectralNormIsTheLargestSingularValue() {
        let net = SequenceRegressor(cell: .irnn, inputSize: 1, hidden: 5, outputs: 1, seed: 1)
        #expect(abs(Diagnostics.spectralRadius(net.recurrentMatrix.map(Double.init), n: 5) - 1) < 1e-9)
        // diag(3, 1) rotated: singular values 3 and 1.
        let c = Scalar(cos(0.3)), s = Scalar(sin(0.3))
        #expect(abs(Diagnostics.spectralNorm([3 * c, -3 * s, s, c], n: 2) - 3) < 1e-4)
    }

    @Test func tanhJacobianNormsShrinkWithTheGapAtASmallInitialisation() {
        let net = SequenceRegressor(cell: .rnnTanh, inputSize: 1, hidden: 4, outputs: 1, seed: 3, scale: 0.3)
        var rng = SplitMix64(seed: 1)
        let norms = Diagnostics.jacobianNorms(net, sequences: [LabTask.parity.sample(length: 20, rng: &rng)])
        #expect(norms.count == 20)
        #expect(norms[19] < norms[0] * 1e-3)
    }
}
