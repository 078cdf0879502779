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

    public static func < (a: LearnerKind, b: LearnerKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Whether the learner uses no gradient.
    public var isDerivativeFree: Bool { self == .annealing || self == .randomSearch }

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
        }
    }
}
