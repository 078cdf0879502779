import Kernels
import Model

/// Diagonal pseudo-Newton descent after Becker & LeCun (1989), "Improving the convergence of
/// back-propagation learning with second order methods": each parameter gets its own step size
/// from the curvature h_i ≈ ∂²f/∂θ_i²,
///
///     θ_i ← θ_i − η·g_i/(|h_i| + μ),
///
/// μ keeping the step bounded where the curvature is small. One evaluation is one forward and
/// backward pass (gradients by BPTT through ``RecurrentLayer``).
///
/// Departures: Becker & LeCun obtain h_i by a second, Gauss–Newton backward pass; ours estimates
/// it from successive gradients, a diagonal secant h_i ← β·h_i + (1 − β)·Δg_i/Δθ_i (β = 0.9, the first
/// estimate taken as it is), because ``RecurrentLayer`` has no second-order backward. Bengio,
/// Simard & Frasconi (1994) use a *time-weighted* variant that keeps one curvature for every
/// unfolded time-step copy of a shared weight; ours keeps one per shared weight, so it is the
/// plain (not time-weighted) method.
public struct PseudoNewton: LabLearner {
    /// η.
    public var learningRate: Double = 0.5
    /// μ.
    public var damping: Double = 1
    /// β, the curvature estimate's memory.
    public var memory: Double = 0.9

    public init(learningRate: Double = 0.5, damping: Double = 1) {
        self.learningRate = learningRate
        self.damping = damping
    }

    public func minimize(_ objective: LabObjective, budget: Int, seed: UInt64) -> LearnerOutcome {
        let store = objective.parameters
        let theta = store.values, g = store.gradients
        let n = theta.count
        var curvature = [Double](repeating: 0, count: n), seen = [Bool](repeating: false, count: n)
        var previousGradient = [Double](repeating: 0, count: n), lastStep = [Double](repeating: 0, count: n)
        var loss = Double.nan
        store.zeroGradients()
        while objective.evaluations < budget {
            loss = objective.evaluateWithGradient()
            guard loss.isFinite, g.allSatisfy({ $0.isFinite }) else {
                return LearnerOutcome(solved: false, evaluations: objective.evaluations, finalLoss: .nan)
            }
            if objective.isSolved() {
                store.zeroGradients()
                return LearnerOutcome(solved: true, evaluations: objective.evaluations, finalLoss: loss)
            }
            for i in 0..<n {
                let gi = Double(g[i])
                if lastStep[i] != 0 {
                    let secant = (gi - previousGradient[i]) / lastStep[i]
                    curvature[i] = seen[i] ? memory * curvature[i] + (1 - memory) * secant : secant
                    seen[i] = true
                }
                let step = -learningRate * gi / (abs(curvature[i]) + damping)
                let before = theta[i]
                theta[i] += Scalar(step)
                lastStep[i] = Double(theta[i] - before)   // the step as stored
                previousGradient[i] = gi
            }
            store.zeroGradients()
        }
        return LearnerOutcome(solved: false, evaluations: objective.evaluations, finalLoss: loss)
    }
}
