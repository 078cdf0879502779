import Basics
import Model

/// The network of a trial: one of the model family's cells (``CellType``, same names), or `sign`,
/// the sign-unit network (``SignRecurrentNetwork``) that discrete error propagation trains.
public enum LabCell: String, Codable, CaseIterable, Sendable {
    case lstm
    case gru
    case rnnTanh = "rnn-tanh"
    case irnn
    case sign

    /// The lab cell of a model-family cell.
    public init(_ cell: CellType) {
        switch cell {
        case .lstm: self = .lstm
        case .gru: self = .gru
        case .rnnTanh: self = .rnnTanh
        case .irnn: self = .irnn
        }
    }

    /// The model-family cell, nil for `sign`.
    public var cellType: CellType? {
        switch self {
        case .lstm: return .lstm
        case .gru: return .gru
        case .rnnTanh: return .rnnTanh
        case .irnn: return .irnn
        case .sign: return nil
        }
    }
}

/// Identifies one trial of a sweep.
public struct TrialKey: Codable, Hashable, Sendable, Comparable {
    /// The task the trial's problem draws its sequences from.
    public var task: LabTask
    /// T.
    public var length: Int
    /// The recurrent cell of the trial's network.
    public var cell: LabCell
    /// The learner that trains it.
    public var learner: LearnerKind
    /// 0-based seed index.
    public var seed: Int

    public init(task: LabTask, length: Int, cell: LabCell, learner: LearnerKind, seed: Int) {
        self.task = task
        self.length = length
        self.cell = cell
        self.learner = learner
        self.seed = seed
    }

    /// Task, T, cell, learner, seed: the plan's order.
    public static func < (a: TrialKey, b: TrialKey) -> Bool {
        let ca = LabCell.allCases.firstIndex(of: a.cell)!, cb = LabCell.allCases.firstIndex(of: b.cell)!
        return (a.task, a.length, ca, a.learner, a.seed) < (b.task, b.length, cb, b.learner, b.seed)
    }

    /// The seed of the problem (network initialisation and data): the same for every learner, so
    /// learners are compared on identical networks and sequences. A `sign` trial takes the seed of
    /// the `rnn-tanh` trial, so it sees the very sequences the Elman network's learners see.
    public var problemSeed: UInt64 {
        let ti = UInt64(LabTask.allCases.firstIndex(of: task)!)
        let ci = UInt64(LabCell.allCases.firstIndex(of: cell == .sign ? .rnnTanh : cell)!)
        return SplitMix64.derive(0x1AB, ti, UInt64(length), ci, UInt64(seed))
    }

    /// The seed of the learner's own random choices.
    public var learnerSeed: UInt64 {
        SplitMix64.derive(problemSeed, UInt64(LearnerKind.allCases.firstIndex(of: learner)!))
    }
}

/// One line of `trials.jsonl`: a trial's key and outcome.
public struct TrialRecord: Codable, Equatable, Sendable {
    /// The trial's key, field by field (see ``TrialKey``).
    public var task: LabTask
    public var length: Int
    public var cell: LabCell
    public var learner: LearnerKind
    public var seed: Int
    /// Every test sequence answered correctly within the budget.
    public var success: Bool
    /// Evaluations used: passes over the training set (forward + backward for gradient learners,
    /// forward only for derivative-free ones); to success when `success`.
    public var evaluations: Int
    /// The training loss where the learner ended; left out of the line when it diverged (not finite).
    public var finalLoss: Double?
    /// Fraction of the test set answered correctly at the end.
    public var testAccuracy: Double
    /// Wall time of the trial in seconds (the one field that differs between identical runs).
    public var wallSeconds: Double
    /// Size of θ.
    public var parameters: Int

    /// The key the record answers.
    public var key: TrialKey { TrialKey(task: task, length: length, cell: cell, learner: learner, seed: seed) }

    /// Runs `key` under `plan`: a ``LabProblem`` of the key's cell, or a ``SignNetworkProblem``
    /// for `sign`.
    public static func run(_ key: TrialKey, plan: SweepPlan) -> TrialRecord {
        let clock = ContinuousClock(), start = clock.now
        let problem: LabObjective, accuracyOnTest: () -> Double
        if let cell = key.cell.cellType {
            let p = LabProblem(task: key.task, length: key.length, cell: cell, hidden: plan.hidden, seed: key.problemSeed,
                               trainingCount: plan.trainingCount, testCount: plan.testCount)
            problem = p
            accuracyOnTest = { p.accuracy(on: p.test) }
        } else {
            let p = SignNetworkProblem(task: key.task, length: key.length, hidden: plan.hidden, seed: key.problemSeed,
                                       trainingCount: plan.trainingCount, testCount: plan.testCount)
            problem = p
            accuracyOnTest = { p.accuracy(on: p.test) }
        }
        let budget = key.learner.isDerivativeFree ? plan.derivativeFreeBudget : plan.gradientBudget
        let outcome = key.learner.learner.minimize(problem, budget: budget, seed: key.learnerSeed)
        let accuracy = accuracyOnTest()
        let d = clock.now - start
        return TrialRecord(task: key.task, length: key.length, cell: key.cell, learner: key.learner, seed: key.seed,
                           success: outcome.solved, evaluations: outcome.evaluations,
                           finalLoss: outcome.finalLoss.isFinite ? outcome.finalLoss : nil, testAccuracy: accuracy,
                           wallSeconds: Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18,
                           parameters: problem.parameters.count)
    }
}
