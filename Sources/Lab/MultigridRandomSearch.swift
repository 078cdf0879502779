import Basics
import Kernels
import Model

/// Multigrid random search, the simplest derivative-free baseline of Bengio, Simard & Frasconi
/// (1994): candidates are drawn uniformly in the hyper-cube of half-width r around the best point
/// found so far, θ' = θ* + r·u, u ~ U(−1, 1)ⁿ; an improvement moves the centre there. After
/// `failuresPerLevel` draws in a row without improvement the grid is refined, r ← r/2; below
/// `minimumRadius` the search returns to the coarsest level r_0 (around the same centre), so it
/// alternates global and local moves. Each candidate is one evaluation.
///
/// The paper only names the method and its outcome; the schedule (halving, the failure count,
/// the restart at r_0) is our reading of "multigrid" and not taken from it.
public struct MultigridRandomSearch: LabLearner {
    /// r_0.
    public var initialRadius: Scalar = 1
    public var minimumRadius: Scalar = 1e-3
    public var failuresPerLevel = 20

    public init() {}

    public func minimize(_ objective: LabObjective, budget: Int, seed: UInt64) -> LearnerOutcome {
        let theta = objective.parameters.values
        let n = theta.count
        var rng = SplitMix64(seed: seed)
        var bestF = objective.evaluate()
        guard bestF.isFinite else { return LearnerOutcome(solved: false, evaluations: objective.evaluations, finalLoss: .nan) }
        if objective.isSolved() { return LearnerOutcome(solved: true, evaluations: objective.evaluations, finalLoss: bestF) }
        var best = Array(theta)
        var radius = initialRadius, failures = 0
        while objective.evaluations < budget {
            for i in 0..<n { theta[i] = best[i] + radius * Scalar(Double(rng.next() >> 11) * 0x1p-52 - 1) }
            let f = objective.evaluate()
            if f.isFinite && f < bestF {
                bestF = f
                best = Array(theta)
                failures = 0
                if objective.isSolved() { return LearnerOutcome(solved: true, evaluations: objective.evaluations, finalLoss: f) }
            } else {
                failures += 1
                if failures == failuresPerLevel {
                    failures = 0
                    radius /= 2
                    if radius < minimumRadius { radius = initialRadius }
                }
            }
        }
        _ = best.withUnsafeBufferPointer { theta.update(fromContentsOf: $0) }
        return LearnerOutcome(solved: false, evaluations: objective.evaluations, finalLoss: bestF)
    }
}
