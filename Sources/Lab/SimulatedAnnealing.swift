import Basics
import Foundation
import Kernels
import Model

/// Simulated annealing for continuous variables (Corana, Marchesi, Martini & Ridella 1987, the
/// variant Bengio, Simard & Frasconi 1994 compared with gradient descent): one coordinate θ_i at a
/// time moves by u·v_i, u ~ U(−1, 1); the move is kept by the Metropolis rule (always when f does not
/// increase, else with probability exp(−Δf/T)). After `cyclesPerStepAdjustment` sweeps over all
/// coordinates each step v_i is adapted towards an acceptance ratio a_i of 1/2 (the hyper-rectangle
/// of trial moves grows where moves are easily accepted and shrinks where they are not):
///
///     v_i ← v_i·(1 + c·(a_i − 0.6)/0.4)   if a_i > 0.6,     v_i ← v_i/(1 + c·(0.4 − a_i)/0.4)   if a_i < 0.4,
///
/// with c = 2; after `adjustmentsPerCooling` adaptations the temperature drops, T ← r_T·T, and the
/// search restarts from the best point so far. Each trial move is one evaluation.
///
/// Departures from Corana et al.: far fewer sweeps per adaptation (N_S = 2 instead of 20) and per
/// cooling (N_T = 2 instead of max(100, 5n)), because our networks have ~100 parameters and a
/// trial must fit a budget of 10⁴–10⁵ evaluations; the initial temperature is relative to f(θ_0)
/// instead of chosen by a preliminary run; the search stops at success rather than at a
/// convergence test on f.
public struct SimulatedAnnealing: LabLearner {
    /// v_i at the start.
    public var initialStep: Scalar = 0.5
    /// T_0 = `initialTemperature`·f(θ_0).
    public var initialTemperature: Double = 0.1
    /// r_T.
    public var cooling: Double = 0.85
    public var cyclesPerStepAdjustment = 2
    public var adjustmentsPerCooling = 2

    public init() {}

    // Alike on purpose: the LabLearner protocol's requirement; every learner starts from θ, its size and its seed.
    public func minimize(_ objective: LabObjective, budget: Int, seed: UInt64) -> LearnerOutcome {
        let theta = objective.parameters.values
        let n = theta.count
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) * 0x1p-53 }
        var f = objective.evaluate()
        guard f.isFinite else { return LearnerOutcome(solved: false, evaluations: objective.evaluations, finalLoss: .nan) }
        if objective.isSolved() { return LearnerOutcome(solved: true, evaluations: objective.evaluations, finalLoss: f) }
        var best = Array(theta), bestF = f
        var steps = [Scalar](repeating: initialStep, count: n)
        var temperature = max(initialTemperature * f, 1e-12)
        var accepted = [Int](repeating: 0, count: n)
        var cycles = 0, adjustments = 0
        while objective.evaluations < budget {
            for i in 0..<n {
                guard objective.evaluations < budget else { break }
                let old = theta[i]
                theta[i] = old + Scalar(2 * uniform() - 1) * steps[i]
                let candidate = objective.evaluate()
                let keep = candidate.isFinite && (candidate <= f || uniform() < exp(-(candidate - f) / temperature))
                if keep {
                    f = candidate
                    accepted[i] += 1
                    if f < bestF {
                        bestF = f
                        best = Array(theta)
                        if objective.isSolved() {
                            return LearnerOutcome(solved: true, evaluations: objective.evaluations, finalLoss: f)
                        }
                    }
                } else {
                    theta[i] = old
                }
            }
            cycles += 1
            if cycles == cyclesPerStepAdjustment {
                let c: Scalar = 2
                for i in 0..<n {
                    let a = Scalar(accepted[i]) / Scalar(cycles)
                    if a > 0.6 { steps[i] *= 1 + c * (a - 0.6) / 0.4 } else if a < 0.4 { steps[i] /= 1 + c * (0.4 - a) / 0.4 }
                    steps[i] = min(steps[i], 10)
                }
                accepted = [Int](repeating: 0, count: n)
                cycles = 0
                adjustments += 1
                if adjustments == adjustmentsPerCooling {
                    adjustments = 0
                    temperature *= cooling
                    _ = best.withUnsafeBufferPointer { theta.update(fromContentsOf: $0) }
                    f = bestF
                }
            }
        }
        _ = best.withUnsafeBufferPointer { theta.update(fromContentsOf: $0) }
        return LearnerOutcome(solved: false, evaluations: objective.evaluations, finalLoss: bestF)
    }
}
