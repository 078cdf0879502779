import Basics
import Kernels
import Model

/// A task at one length as a ``LabObjective``: a ``SequenceRegressor`` (one layer of the model
/// family's cell, linear read-out of h_T), a fixed training set and a fresh test set. The loss is
/// the mean squared error over the training set, L = (1/B)·Σ_b ½‖y_b − target_b‖², so every learner
/// (BPTT or derivative-free) minimises the same function of the same θ. Solved means every test
/// sequence is answered correctly (``LabTask/isCorrect(output:target:)``), checked only once every
/// training sequence is.
public final class LabProblem: LabObjective {
    public let task: LabTask
    /// T.
    public let length: Int
    /// The network whose parameters are θ.
    public let network: SequenceRegressor
    /// The fixed training set the loss is the mean over, and the fresh test set success is judged on.
    public let training: TaskBatch
    public let test: TaskBatch
    /// Passes over the training set so far (forward, or forward and backward).
    public private(set) var evaluations = 0
    /// θ of the last evaluation and whether it answered every training sequence correctly.
    private var lastPoint: [Scalar] = []
    private var lastAllCorrect = false

    /// The network's parameters are drawn from `seed` (see ``SequenceRegressor/init``, scale
    /// `initialScale`), the training set (`trainingCount` sequences) and test set (`testCount`) from
    /// seeds derived from it.
    public init(task: LabTask, length: Int, cell: CellType, hidden: Int, seed: UInt64,
                trainingCount: Int = 50, testCount: Int = 100, initialScale: Scalar = 0.5) {
        self.task = task
        self.length = length
        network = SequenceRegressor(cell: cell, inputSize: task.inputSize, hidden: hidden, outputs: task.outputSize,
                                    seed: SplitMix64.derive(seed, 1), scale: initialScale)
        let sets = TaskBatch.labSets(task: task, length: length, seed: seed, trainingCount: trainingCount, testCount: testCount)
        training = sets.training
        test = sets.test
    }

    /// θ: the network's parameter store.
    public var parameters: ParameterStore { network.parameters }

    /// Forward over the training set: the loss, ∂L/∂y [B, K], and whether all are correct.
    private func trainingPass() -> (loss: Double, outputGradient: [Scalar]) {
        evaluations += 1
        let y = network.forward(input: training.inputs, mask: training.mask, steps: training.steps, batch: training.batch)
        let b = training.batch
        let pass = training.squaredErrors(y, task: task)
        var dy = pass.errors
        for i in dy.indices { dy[i] = dy[i] / Scalar(b) }
        lastPoint = Array(parameters.values)
        lastAllCorrect = pass.allCorrect && pass.lossSum.isFinite
        return (pass.lossSum / Double(b), dy)
    }

    /// The training loss at the current θ.
    public func evaluate() -> Double { trainingPass().loss }

    /// The training loss at the current θ, adding ∂L/∂θ by BPTT (skipped when the loss is not finite).
    public func evaluateWithGradient() -> Double {
        let (loss, dy) = trainingPass()
        if loss.isFinite { network.backward(outputGradient: dy) }
        return loss
    }

    /// The network's time-weighted direction for the last training pass (Elman cells only).
    public func timeWeightedNewtonDirection(damping: Scalar) -> [Scalar]? {
        network.timeWeightedNewtonDirection(damping: damping)
    }

    /// Every training and every test sequence answered correctly at the current θ.
    public func isSolved() -> Bool {
        if lastPoint.elementsEqual(parameters.values) && !lastAllCorrect { return false }
        return accuracy(on: training) == 1 && accuracy(on: test) == 1
    }

    /// The fraction of `batch` answered correctly at the current θ (not counted as an evaluation).
    public func accuracy(on batch: TaskBatch) -> Double {
        let y = network.forward(input: batch.inputs, mask: batch.mask, steps: batch.steps, batch: batch.batch)
        return Double(batch.correctCount(y, task: task)) / Double(batch.batch)
    }
}

// What ``LabProblem`` and ``SignNetworkProblem`` share: their sets, their loss and their accuracy.
extension TaskBatch {
    /// The training set (`trainingCount` sequences) and test set (`testCount`) of a problem built
    /// with `seed`, from seeds derived from it: every problem with that seed has the same sequences.
    static func labSets(task: LabTask, length: Int, seed: UInt64, trainingCount: Int, testCount: Int)
        -> (training: TaskBatch, test: TaskBatch) {
        var rng = SplitMix64(seed: SplitMix64.derive(seed, 2))
        let training = TaskBatch(task: task, length: length, count: trainingCount, rng: &rng)
        var testRng = SplitMix64(seed: SplitMix64.derive(seed, 3))
        return (training, TaskBatch(task: task, length: length, count: testCount, rng: &testRng))
    }

    /// For outputs y [B, K] over this batch: Σ_b ½‖y_b − target_b‖², the errors y − target [B, K],
    /// and whether every sequence is answered correctly.
    func squaredErrors(_ y: UnsafeBufferPointer<Scalar>, task: LabTask) -> (lossSum: Double, errors: [Scalar], allCorrect: Bool) {
        let k = task.outputSize
        var loss = 0.0, allCorrect = true
        var e = [Scalar](repeating: 0, count: batch * k)
        for row in 0..<batch {
            for j in 0..<k {
                let d = y[row * k + j] - targets[row * k + j]
                loss += 0.5 * Double(d) * Double(d)
                e[row * k + j] = d
            }
            if allCorrect {
                allCorrect = task.isCorrect(output: UnsafeBufferPointer(rebasing: y[(row * k)..<(row * k + k)]),
                                            target: targets[(row * k)..<(row * k + k)])
            }
        }
        return (loss, e, allCorrect)
    }

    /// How many sequences of this batch outputs y [B, K] answer correctly.
    func correctCount(_ y: UnsafeBufferPointer<Scalar>, task: LabTask) -> Int {
        let k = task.outputSize
        var correct = 0
        for row in 0..<batch where task.isCorrect(output: UnsafeBufferPointer(rebasing: y[(row * k)..<(row * k + k)]),
                                                   target: targets[(row * k)..<(row * k + k)]) {
            correct += 1
        }
        return correct
    }
}
