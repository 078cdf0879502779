/// The reduce-on-plateau learning-rate schedule, PyTorch's `ReduceLROnPlateau` with its default
/// `threshold_mode="rel"`, `threshold=1e-4`, `cooldown=0`, `min_lr=0`, `eps=1e-8`: after each
/// watched validation, a metric counts as an improvement when it is below best·(1 − 1e-4)
/// ("min" mode: perplexity) or above best·(1 + 1e-4) ("max" mode: BLEU), the first always; after
/// more than `patience` consecutive validations without one, the rate is multiplied by `factor`
/// (unless that changes it by 1e-8 or less) and the count starts again.
///
/// Kept in the checkpoint's ``TrainingState``, so a resumed run continues the same schedule.
public struct PlateauState: Codable, Equatable, Sendable {
    /// The learning rate now (Double, as PyTorch keeps it; the optimizer gets it as Float).
    public var learningRate: Double
    /// The best metric so far; nil before the first validation (PyTorch's ±inf).
    public var best: Double?
    /// Consecutive validations without an improvement (PyTorch's `num_bad_epochs`).
    public var badValidations = 0
    /// How many times the rate has been cut.
    public var reductions = 0

    /// PyTorch's relative threshold.
    public static let threshold = 1e-4
    /// PyTorch's smallest change that counts as a reduction.
    public static let minimumChange = 1e-8

    public init(learningRate: Double) {
        self.learningRate = learningRate
    }

    /// Records one validation's `metric`; `higherIsBetter` is "max" mode. Returns true when the
    /// learning rate was reduced by this step.
    public mutating func step(metric: Double, higherIsBetter: Bool, factor: Double, patience: Int) -> Bool {
        let best = self.best ?? (higherIsBetter ? -Double.infinity : .infinity)
        let improved = higherIsBetter ? metric > best * (1 + Self.threshold) : metric < best * (1 - Self.threshold)
        if improved {
            self.best = metric
            badValidations = 0
        } else {
            badValidations += 1
        }
        guard badValidations > patience else { return false }
        badValidations = 0
        let reduced = learningRate * factor
        guard learningRate - reduced > Self.minimumChange else { return false }
        learningRate = reduced
        reductions += 1
        return true
    }
}
