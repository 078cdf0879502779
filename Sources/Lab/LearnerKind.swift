import Kernels

/// The learners a sweep compares, by the name its records and plots use. Gradient learners
/// (BPTT) get the sweep's gradient budget; derivative-free ones its derivative-free budget.
public enum LearnerKind: String, Codable, CaseIterable, Sendable, Comparable {
    /// BPTT, SGD, learning rate 0.5.
    case sgd
    /// BPTT, SGD, learning rate 0.5, gradient norm clipped at 1.
    case sgdClip = "sgd-clip"
    /// BPTT, Adam, learning rate 0.01.
    case adam
    /// BPTT, Adam, learning rate 0.01, gradient norm clipped at 1.
    case adamClip = "adam-clip"
    /// Diagonal pseudo-Newton (``PseudoNewton``), η 0.5, μ 1.
    case pseudoNewton = "pseudo-newton"
    /// ``SimulatedAnnealing`` with its default settings.
    case annealing
    /// ``MultigridRandomSearch`` with its default settings.
    case randomSearch = "random-search"
    /// ``DiscreteErrorPropagation`` (η 0.1, w 2) on its own network of sign units
    /// (``SignRecurrentNetwork``, cell `sign` in the records), on the tasks answered by a sign
    /// (``LabTask/hasSignDecision``) only, with the gradient budget (one evaluation is a forward
    /// and a discrete backward pass).
    case discreteErrorPropagation = "discrete-error"

    public static func < (a: LearnerKind, b: LearnerKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Whether the learner uses no gradient.
    public var isDerivativeFree: Bool { self == .annealing || self == .randomSearch }

    /// Whether the learner trains the sign-unit network instead of the model family's cells.
    public var usesSignNetwork: Bool { self == .discreteErrorPropagation }

    /// The learner with the settings the sweep uses.
    public var learner: LabLearner {
        switch self {
        case .sgd: return GradientLearner(method: .sgd, learningRate: 0.5)
        case .sgdClip: return GradientLearner(method: .sgd, learningRate: 0.5, maxNorm: 1)
        case .adam: return GradientLearner(method: .adam, learningRate: 0.01)
        case .adamClip: return GradientLearner(method: .adam, learningRate: 0.01, maxNorm: 1)
        case .pseudoNewton: return PseudoNewton(learningRate: 0.5, damping: 1)
        case .annealing: return SimulatedAnnealing()
        case .randomSearch: return MultigridRandomSearch()
        case .discreteErrorPropagation: return DiscreteErrorPropagation(learningRate: 0.1, width: 2)
        }
    }
}
