import Model
import Kernels

/// What every learner of the lab optimises: a scalar function f(θ) of the flat parameter vector θ
/// held in `parameters.values` (gradient learners also use `parameters.gradients`). Derivative-free
/// learners write candidate values into θ, evaluate, and write back the point they keep.
public protocol LabObjective: AnyObject {
    /// θ (and ∂f/∂θ), one flat buffer each.
    var parameters: ParameterStore { get }
    /// f at the current θ; counts one evaluation.
    func evaluate() -> Double
    /// f at the current θ, ADDING ∂f/∂θ into `parameters.gradients` (the caller zeroes them); counts
    /// one evaluation (a forward and a backward pass).
    func evaluateWithGradient() -> Double
    /// Whether the current θ solves the problem (for a task: every test sequence correct). Not
    /// counted as an evaluation; cheap to call after an evaluation at the same θ that failed on
    /// the training set.
    func isSolved() -> Bool
    /// Evaluations so far.
    var evaluations: Int { get }
    /// After `evaluateWithGradient`: the time-weighted pseudo-Newton direction d (θ ← θ − η·d) with
    /// damping μ, when the objective can unfold its shared weights over time (see
    /// ``SequenceRegressor/timeWeightedNewtonDirection(damping:)``); nil otherwise.
    func timeWeightedNewtonDirection(damping: Scalar) -> [Scalar]?
}

extension LabObjective {
    /// Objectives without an unfolding in time (a plain function of θ) have no time weighting.
    public func timeWeightedNewtonDirection(damping: Scalar) -> [Scalar]? { nil }
}

/// The end of one learner run.
public struct LearnerOutcome: Equatable, Sendable {
    /// The objective reported the problem solved.
    public var solved: Bool
    /// Evaluations used (to success when solved, else the whole budget or until divergence).
    public var evaluations: Int
    /// f at the point the learner ended on (NaN after divergence).
    public var finalLoss: Double

    public init(solved: Bool, evaluations: Int, finalLoss: Double) {
        self.solved = solved
        self.evaluations = evaluations
        self.finalLoss = finalLoss
    }
}

/// A learner over a ``LabObjective``'s flat θ, given a budget of evaluations and a seed for its own
/// random choices (derivative-free learners); it stops at success, at the budget, or when f is no
/// longer finite.
public protocol LabLearner {
    func minimize(_ objective: LabObjective, budget: Int, seed: UInt64) -> LearnerOutcome
}
