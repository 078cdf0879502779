import Basics
import Kernels
import Model
import Testing
@testable import Lab

@Suite("Time-weighted pseudo-Newton")
struct TimeWeightedNewtonTests {
    static func batch(_ rng: inout SplitMix64, steps: Int, rows: Int, inputs: Int) -> [Scalar] {
        (0..<(steps * rows * inputs)).map { _ in Scalar(Double(rng.next() >> 11) * 0x1p-52 - 1) }
    }

    /// With a damping far above every curvature each copy's term is g_t/μ, so μ·d is the sum of
    /// the per-step gradients: BPTT's gradient.
    @Test(arguments: [CellType.rnnTanh, .irnn])
    func perStepGradientsSumToTheBPTTGradient(cell: CellType) throws {
        let net = SequenceRegressor(cell: cell, inputSize: 2, hidden: 3, outputs: 2, seed: 4, scale: 0.6)
        var rng = SplitMix64(seed: 2)
        let x = Self.batch(&rng, steps: 5, rows: 3, inputs: 2)
        let mask: [Scalar] = [0, 1, 1] + [Scalar](repeating: 1, count: 12)
        net.parameters.zeroGradients()
        let y = net.forward(input: x, mask: mask, steps: 5, batch: 3)
        net.backward(outputGradient: y.map { $0 / 3 })
        let mu: Scalar = 1e6
        let d = try #require(net.timeWeightedNewtonDirection(damping: mu))
        for i in 0..<net.parameters.count {
            let g = net.parameters.gradients[i]
            #expect(abs(d[i] * mu - g) <= 1e-4 * max(1, abs(g)), "parameter \(i): \(d[i] * mu) vs \(g)")
        }
    }

    /// At T = 1 the diagonal Gauss–Newton curvature is exact: c_w = (1/B)·Σ_b (∂y_b/∂w)², checked
    /// against central differences of each sequence's output (c = g/d with μ → 0).
    @Test func oneStepCurvatureIsTheGaussNewtonDiagonal() throws {
        let net = SequenceRegressor(cell: .rnnTanh, inputSize: 2, hidden: 3, outputs: 1, seed: 6, scale: 0.8)
        var rng = SplitMix64(seed: 3)
        let rows = 4
        let x = Self.batch(&rng, steps: 1, rows: rows, inputs: 2)
        net.parameters.zeroGradients()
        let y = net.forward(input: x, steps: 1, batch: rows)
        net.backward(outputGradient: y.map { ($0 - 0.3) / Scalar(rows) })
        let d = try #require(net.timeWeightedNewtonDirection(damping: 1e-12))
        let g = Array(net.parameters.gradients)
        let hh = net.parameters.tensors.first { $0.name == "rnn.weight_hh" }!
        for i in 0..<net.parameters.count where !(hh.offset..<(hh.offset + 9)).contains(i) {   // h_0 = 0: Wh has none
            let v = net.parameters.values[i], eps: Scalar = 1e-2
            net.parameters.values[i] = v + eps
            let up = Array(net.forward(input: x, steps: 1, batch: rows))
            net.parameters.values[i] = v - eps
            let down = Array(net.forward(input: x, steps: 1, batch: rows))
            net.parameters.values[i] = v
            var expected = 0.0
            for r in 0..<rows {
                let slope = Double(up[r] - down[r]) / Double(2 * eps)
                expected += slope * slope / Double(rows)
            }
            let curvature = Double(g[i] / d[i])
            #expect(abs(curvature - expected) < 1e-3 + 1e-2 * expected, "parameter \(i): \(curvature) vs \(expected)")
        }
    }

    @Test func gatedCellsHaveNoTimeWeighting() {
        let net = SequenceRegressor(cell: .lstm, inputSize: 1, hidden: 2, outputs: 1, seed: 1)
        _ = net.forward(input: [0.5, -0.5], steps: 2, batch: 1)
        net.backward(outputGradient: [1])
        #expect(net.timeWeightedNewtonDirection(damping: 1) == nil)
    }

    @Test func timeWeightedPseudoNewtonLowersTheLossOfAnElmanNetwork() {
        let problem = LabProblem(task: .latch, length: 5, cell: .rnnTanh, hidden: 4, seed: 3)
        let initial = problem.evaluate()
        let outcome = PseudoNewton(learningRate: 0.05, damping: 0.1, timeWeighted: true).minimize(problem, budget: 200, seed: 1)
        #expect(outcome.finalLoss < 0.75 * initial)   // 0.32 → 0.20 here
    }
}
