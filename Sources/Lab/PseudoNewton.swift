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
/// By default (what `seq2seq lab` runs) the curvature of each shared weight is estimated from
/// successive gradients, a diagonal secant h_i ← β·h_i + (1 − β)·Δg_i/Δθ_i (β = 0.9, the first
/// estimate taken as it is), one curvature per shared weight: the plain method, and a departure
/// from Becker & LeCun, who obtain h_i by a second, Gauss–Newton backward pass.
///
/// With `timeWeighted` on an Elman network (tanh or IRNN) it is the time-weighted variant of
/// Bengio, Simard & Frasconi (1994): every unfolded time-step copy w_t of a shared weight gets its
/// own gradient and its own curvature from Becker & LeCun's diagonal Gauss–Newton pass, and
/// θ ← θ − η·Σ_t g_t/(|c_t| + μ) (``SequenceRegressor/timeWeightedNewtonDirection(damping:)``); other
/// objectives fall back to the secant. Untuned: in a check on short latch and two-sequence
/// problems it solved far fewer than the secant variant (see docs/guides/lab.md).
public struct PseudoNewton: LabLearner {
    /// η.
    public var learningRate: Double = 0.5
    /// μ.
    public var damping: Double = 1
    /// β, the curvature estimate's memory.
    public var memory: Double = 0.9
    /// Use the per-time-step curvatures when the objective provides them.
    public var timeWeighted = false

    /// A learner with step η = `learningRate` and damping μ = `damping`.
    public init(learningRate: Double = 0.5, damping: Double = 1, timeWeighted: Bool = false) {
        self.learningRate = learningRate
        self.damping = damping
        self.timeWeighted = timeWeighted
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
            if timeWeighted, let direction = objective.timeWeightedNewtonDirection(damping: Scalar(damping)) {
                for i in 0..<n { theta[i] -= Scalar(learningRate) * direction[i] }
                store.zeroGradients()
                continue
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
