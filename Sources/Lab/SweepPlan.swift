import Model

/// What a sweep runs: every task × length T × cell × learner × seed, each trial a fresh
/// ``LabProblem`` (H hidden units, a fixed training set, a fresh test set) and one learner run.
/// Derivative-free learners and pseudo-Newton run only on `derivativeFreeCells` (Bengio et al.
/// 1994 compared them on one simple recurrent network), BPTT learners on every cell, and discrete
/// error propagation only on its sign-unit network (cell `sign`) and only on the tasks answered by
/// a sign (``LabTask/hasSignDecision``).
public struct SweepPlan: Codable, Equatable, Sendable {
    public var tasks: [LabTask]
    /// The values of T.
    public var lengths: [Int]
    public var cells: [CellType]
    public var learners: [LearnerKind]
    /// Cells on which the derivative-free learners and pseudo-Newton run.
    public var derivativeFreeCells: [CellType]
    /// Trials per (task, T, cell, learner), seeds 0 ..< seeds.
    public var seeds: Int
    /// H.
    public var hidden: Int
    /// Sequences in each trial's fixed training set and fresh test set.
    public var trainingCount: Int
    public var testCount: Int
    /// Evaluations allowed to a gradient learner (full-batch forward + backward passes).
    public var gradientBudget: Int
    /// Evaluations allowed to a derivative-free learner (full-batch forward passes).
    public var derivativeFreeBudget: Int
    /// T of the Jacobian diagnostics (two-sequence, trained by Adam for `gradientBudget`).
    public var diagnosticLength: Int

    /// The default sweep (budgeted for at most 45 minutes on 2 cores, release build).
    public static let standard = SweepPlan(
        tasks: LabTask.allCases, lengths: [10, 20, 30, 50, 100], cells: CellType.allCases, learners: LearnerKind.allCases,
        derivativeFreeCells: [.rnnTanh], seeds: 5, hidden: 8, trainingCount: 50, testCount: 100,
        gradientBudget: 1000, derivativeFreeBudget: 10_000, diagnosticLength: 50)

    /// `--quick`: a smoke run of every task, cell and learner in well under a minute.
    public static let quick = SweepPlan(
        tasks: LabTask.allCases, lengths: [10, 20], cells: CellType.allCases, learners: LearnerKind.allCases,
        derivativeFreeCells: [.rnnTanh], seeds: 2, hidden: 4, trainingCount: 20, testCount: 40,
        gradientBudget: 100, derivativeFreeBudget: 400, diagnosticLength: 10)

    /// Every trial of the plan, in a fixed order (task, T, cell, learner, seed; `sign` after the
    /// model family's cells).
    public var trials: [TrialKey] {
        var keys: [TrialKey] = []
        for task in tasks {
            for length in lengths {
                for cell in cells {
                    for learner in learners where !learner.usesSignNetwork
                        && (!(learner.isDerivativeFree || learner == .pseudoNewton) || derivativeFreeCells.contains(cell)) {
                        for seed in 0..<seeds { keys.append(TrialKey(task: task, length: length, cell: LabCell(cell), learner: learner, seed: seed)) }
                    }
                }
                for learner in learners where learner.usesSignNetwork && task.hasSignDecision {
                    for seed in 0..<seeds { keys.append(TrialKey(task: task, length: length, cell: .sign, learner: learner, seed: seed)) }
                }
            }
        }
        return keys
    }

    /// The cells the plan's records name: `cells`, then `sign` when a learner trains it.
    public var recordCells: [LabCell] {
        cells.map(LabCell.init) + (learners.contains { $0.usesSignNetwork } ? [.sign] : [])
    }

    /// The cells of the evaluations charts: `derivativeFreeCells` (when in `cells`), then `sign`.
    var evaluationCells: [LabCell] {
        derivativeFreeCells.filter { cells.contains($0) }.map(LabCell.init) + (learners.contains { $0.usesSignNetwork } ? [.sign] : [])
    }

    /// Throws a ``LabError`` when a length is below a task's minimum or a count is not positive.
    public func validate() throws {
        for task in tasks {
            for length in lengths where length < task.minimumLength {
                throw LabError("\(task.rawValue) needs T ≥ \(task.minimumLength), got \(length)")
            }
        }
        if seeds < 1 || hidden < 1 || trainingCount < 1 || testCount < 1 || gradientBudget < 1 || derivativeFreeBudget < 1 {
            throw LabError("seeds, hidden, set sizes and budgets must be positive")
        }
    }
}

/// A one-line error of the lab naming the file (and line) concerned.
public struct LabError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
