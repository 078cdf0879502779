import Kernels
import Model

/// Backpropagation through time with the translation trainer's own optimizers (``SGD`` or ``Adam``
/// from the Model module), optionally with global gradient-norm clipping (Pascanu, Mikolov &
/// Bengio 2013: g ← g·min(1, τ/‖g‖)). One evaluation is one full-batch forward and backward pass over
/// the training set; the run stops when the objective is solved, the budget is spent, or the loss
/// or gradient norm stops being finite (an explosion).
public struct GradientLearner: LabLearner {
    /// The optimizer: Model's ``SGD`` or ``Adam``.
    public enum Method: String, Codable, Sendable { case sgd, adam }
    public var method: Method
    /// The optimizer's learning rate (per evaluation, on the mean loss).
    public var learningRate: Scalar
    /// τ, the clipping threshold; nil for no clipping.
    public var maxNorm: Scalar?

    /// A learner with `method`, its learning rate and an optional clipping threshold τ.
    public init(method: Method, learningRate: Scalar, maxNorm: Scalar? = nil) {
        self.method = method
        self.learningRate = learningRate
        self.maxNorm = maxNorm
    }

    public func minimize(_ objective: LabObjective, budget: Int, seed: UInt64) -> LearnerOutcome {
        let store = objective.parameters
        let optimizer: Optimizer = method == .sgd ? SGD() : Adam()
        store.zeroGradients()
        var loss = Double.nan
        while objective.evaluations < budget {
            loss = objective.evaluateWithGradient()
            let norm = gradientNorm(store)
            guard loss.isFinite, norm.isFinite else {
                return LearnerOutcome(solved: false, evaluations: objective.evaluations, finalLoss: .nan)
            }
            if objective.isSolved() {
                store.zeroGradients()
                return LearnerOutcome(solved: true, evaluations: objective.evaluations, finalLoss: loss)
            }
            let factor = maxNorm.map { clipFactor(norm: norm, maxNorm: $0) } ?? 1
            optimizer.step(store, learningRate: learningRate, gradientScale: factor)
        }
        // The budget is spent: report the last evaluated loss (before the last update).
        store.zeroGradients()
        return LearnerOutcome(solved: false, evaluations: objective.evaluations, finalLoss: loss)
    }
}
