import Basics
import Foundation
import Kernels
import Model

/// A one-layer recurrent network of sign (hard-threshold, ±1) units with a linear read-out, the
/// network discrete error propagation (``DiscreteErrorPropagation``) trains:
///
///     a_t = W_x·x_t + W_h·h_{t−1} + b,   h_t = sign(a_t) ∈ {−1, +1}^H (sign(0) = +1),   h_0 = 0,
///     y = W_o·h_T + b_o,
///
/// with x_t [In], h_t [H], y [K]. θ is one flat ``ParameterStore`` with the tensors `wx` [H, In],
/// `wh` [H, H], `b` [H], `wo` [K, H], `bo` [K], in that order, drawn uniformly from
/// [−scale, scale] (biases 0) by a ``SplitMix64`` seeded with `seed`. At a masked (padding) step the
/// state is carried over unchanged.
public final class SignRecurrentNetwork {
    /// In, H, K.
    public let inputSize: Int, hidden: Int, outputs: Int
    /// θ and a gradient buffer of the same layout.
    public let parameters: ParameterStore
    /// The pre-activations a_t [T, B, H] and states h_t [T + 1, B, H] (h_0 first) of the last
    /// `forward`, kept for `discreteErrors`.
    public private(set) var preactivations: [Scalar] = []
    public private(set) var states: [Scalar] = []
    private var lastInput: [Scalar] = [], lastMask: [Scalar]? = nil, lastSteps = 0, lastBatch = 0

    /// A network with `inputSize` In, `hidden` H ≥ 1 and `outputs` K, weights from `seed`.
    public init(inputSize: Int, hidden: Int, outputs: Int, seed: UInt64, scale: Scalar = 0.5) {
        self.inputSize = inputSize
        self.hidden = hidden
        self.outputs = outputs
        parameters = ParameterStore(layout: [("wx", [hidden, inputSize]), ("wh", [hidden, hidden]), ("b", [hidden]),
                                             ("wo", [outputs, hidden]), ("bo", [outputs])])
        var rng = SplitMix64(seed: seed)
        let biases = Set([offset("b"), offset("bo")])
        for tensor in parameters.tensors where !biases.contains(tensor.offset) {
            let n = tensor.shape.reduce(1, *)
            for i in tensor.offset..<(tensor.offset + n) {
                parameters.values[i] = Scalar(Double(rng.next() >> 11) * 0x1p-53 * 2 - 1) * scale
            }
        }
    }

    /// The offset of a tensor of θ by name.
    func offset(_ name: String) -> Int { parameters.tensors.first { $0.name == name }!.offset }

    /// Runs the network over a time-major batch: `input` [T·B, In] (step t of sequence b at row
    /// t·B + b), `mask` [T·B] or nil, and returns y [B, K]. Keeps a_t and h_t for `discreteErrors`.
    public func forward(input: [Scalar], mask: [Scalar]?, steps: Int, batch: Int) -> [Scalar] {
        let h = hidden, n = inputSize, v = parameters.values
        let wx = offset("wx"), wh = offset("wh"), bias = offset("b"), wo = offset("wo"), bo = offset("bo")
        preactivations = [Scalar](repeating: 0, count: steps * batch * h)
        states = [Scalar](repeating: 0, count: (steps + 1) * batch * h)
        for t in 0..<steps {
            for b in 0..<batch {
                let previous = (t * batch + b) * h, current = ((t + 1) * batch + b) * h, row = (t * batch + b) * n
                if let mask, mask[t * batch + b] == 0 {
                    for i in 0..<h { states[current + i] = states[previous + i] }
                    continue
                }
                for i in 0..<h {
                    var a = v[bias + i]
                    for j in 0..<n { a += v[wx + i * n + j] * input[row + j] }
                    for j in 0..<h { a += v[wh + i * h + j] * states[previous + j] }
                    preactivations[(t * batch + b) * h + i] = a
                    states[current + i] = a >= 0 ? 1 : -1
                }
            }
        }
        var y = [Scalar](repeating: 0, count: batch * outputs)
        for b in 0..<batch {
            let last = (steps * batch + b) * h
            for k in 0..<outputs {
                var s = v[bo + k]
                for j in 0..<h { s += v[wo + k * h + j] * states[last + j] }
                y[b * outputs + k] = s
            }
        }
        lastInput = input
        lastMask = mask
        lastSteps = steps
        lastBatch = batch
        return y
    }

    /// After `forward`: ADDS to `parameters.gradients` the discrete-error update direction for the
    /// output error `outputError` e [B, K] (∂L/∂y per sequence), and returns how many unit targets
    /// were flipped. The read-out gets its exact gradient (W_o += e·h_Tᵀ, b_o += e). Going back from
    /// t = T, each unit i of each sequence holds a real error g_i (at T: (W_oᵀe)_i; earlier: the
    /// discrete errors of step t + 1 sent back through W_h). Its DISCRETE error is
    ///
    ///     δ_i = h_i with probability p_i = min(1, |g_i|·(1 − tanh²(a_i/w))) when g_i·h_i > 0, else 0,
    ///
    /// i.e. the unit's discrete target is −h_i (a flip) with probability p_i when flipping lowers
    /// the error, and h_i (no error) otherwise; E[δ_i] = g_i·(1 − tanh²(a_i/w)) while p_i < 1, the
    /// error signal of a unit tanh(a/w)·w in the same state. δ feeds the weights as an error signal
    /// (W_x += δ x_tᵀ, W_h += δ h_{t−1}ᵀ, b += δ) and is sent back, g_{t−1} = W_hᵀδ_t. Draws come from
    /// `rng` in a fixed order (t from T down, then b, then i). `width` is w (∞ gives p_i = min(1, |g_i|);
    /// 0 flips nothing and draws nothing, leaving the true gradient, exact for the read-out and 0 before it).
    /// Gradients are summed over the batch, not averaged.
    @discardableResult
    public func discreteErrors(outputError e: [Scalar], width: Scalar, rng: inout SplitMix64) -> Int {
        let h = hidden, n = inputSize, steps = lastSteps, batch = lastBatch
        let v = parameters.values, gr = parameters.gradients
        let wx = offset("wx"), wh = offset("wh"), bias = offset("b"), wo = offset("wo"), bo = offset("bo")
        var g = [Scalar](repeating: 0, count: batch * h)
        for b in 0..<batch {
            let last = (steps * batch + b) * h
            for k in 0..<outputs {
                let ek = e[b * outputs + k]
                gr[bo + k] += ek
                for j in 0..<h {
                    gr[wo + k * h + j] += ek * states[last + j]
                    g[b * h + j] += ek * v[wo + k * h + j]
                }
            }
        }
        var flips = 0
        var delta = [Scalar](repeating: 0, count: h)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            var sent = [Scalar](repeating: 0, count: batch * h)
            for b in 0..<batch {
                if let mask = lastMask, mask[t * batch + b] == 0 {
                    for i in 0..<h { sent[b * h + i] = g[b * h + i] }
                    continue
                }
                let current = ((t + 1) * batch + b) * h, previous = (t * batch + b) * h, row = (t * batch + b) * n
                for i in 0..<h {
                    let gi = g[b * h + i], hi = states[current + i]
                    delta[i] = 0
                    guard width > 0, gi * hi > 0 else { continue }
                    let a = preactivations[(t * batch + b) * h + i]
                    let slope: Scalar = width.isFinite ? 1 - tanh(a / width) * tanh(a / width) : 1
                    let p = Double(min(1, abs(gi) * slope))
                    if Double(rng.next() >> 11) * 0x1p-53 < p {
                        delta[i] = hi
                        flips += 1
                    }
                }
                for i in 0..<h where delta[i] != 0 {
                    let d = delta[i]
                    gr[bias + i] += d
                    for j in 0..<n { gr[wx + i * n + j] += d * lastInput[row + j] }
                    for j in 0..<h {
                        gr[wh + i * h + j] += d * states[previous + j]
                        sent[b * h + j] += d * v[wh + i * h + j]
                    }
                }
            }
            g = sent
        }
        return flips
    }
}

/// A task at one length for the sign network (``SignRecurrentNetwork``, H hidden units): the same
/// training and test sets and the same loss as ``LabProblem`` built with the same `seed`
/// (L = (1/B)·Σ_b ½‖y_b − target_b‖²), so its records compare with the other learners' on
/// identical sequences. Solved means every training and every test sequence is answered
/// correctly. `evaluateWithGradient` adds the TRUE gradient, which is zero for every weight before
/// a sign unit (sign is flat almost everywhere) and exact for the read-out; the learner that uses
/// the sign units is ``DiscreteErrorPropagation``, through `discreteErrorPass`.
public final class SignNetworkProblem: LabObjective {
    public let task: LabTask
    /// T.
    public let length: Int
    public let network: SignRecurrentNetwork
    public let training: TaskBatch
    public let test: TaskBatch
    public private(set) var evaluations = 0
    private var lastPoint: [Scalar] = []
    private var lastAllCorrect = false

    /// The sets are drawn from the seeds ``LabProblem`` derives from `seed` (so they are the same
    /// sequences), the weights from another seed derived from it (scale `initialScale`).
    public init(task: LabTask, length: Int, hidden: Int, seed: UInt64,
                trainingCount: Int = 50, testCount: Int = 100, initialScale: Scalar = 0.5) {
        self.task = task
        self.length = length
        network = SignRecurrentNetwork(inputSize: task.inputSize, hidden: hidden, outputs: task.outputSize,
                                       seed: SplitMix64.derive(seed, 4), scale: initialScale)
        // Alike on purpose: LabProblem's set-up for another network; what both compute is shared in TaskBatch (LabProblem.swift).
        let sets = TaskBatch.labSets(task: task, length: length, seed: seed, trainingCount: trainingCount, testCount: testCount)
        training = sets.training
        test = sets.test
    }

    public var parameters: ParameterStore { network.parameters }

    /// Forward over the training set: the mean loss and ∂(½‖y_b − target_b‖²)/∂y_b [B, K] per sequence.
    private func trainingPass() -> (loss: Double, outputError: [Scalar]) {
        evaluations += 1
        let y = network.forward(input: training.inputs, mask: training.mask, steps: training.steps, batch: training.batch)
        let pass = y.withUnsafeBufferPointer { training.squaredErrors($0, task: task) }
        lastPoint = Array(parameters.values)
        lastAllCorrect = pass.allCorrect && pass.lossSum.isFinite
        return (pass.lossSum / Double(training.batch), pass.errors)
    }

    public func evaluate() -> Double { trainingPass().loss }

    /// The loss, adding the true gradient: exact for `wo` and `bo`, zero elsewhere.
    public func evaluateWithGradient() -> Double {
        let (loss, e) = trainingPass()
        guard loss.isFinite else { return loss }
        let scale = 1 / Scalar(training.batch)
        var unused = SplitMix64(seed: 0)
        network.discreteErrors(outputError: e.map { $0 * scale }, width: 0, rng: &unused)
        return loss
    }

    /// One evaluation: the loss at the current θ, and ADDS to the gradients the discrete errors of
    /// ``SignRecurrentNetwork/discreteErrors(outputError:width:rng:)`` averaged over the training
    /// set. Returns the loss (before any update).
    public func discreteErrorPass(width: Scalar, rng: inout SplitMix64) -> Double {
        let (loss, e) = trainingPass()
        guard loss.isFinite else { return loss }
        let before = Array(parameters.gradients)
        network.discreteErrors(outputError: e, width: width, rng: &rng)
        let scale = 1 / Scalar(training.batch)
        for i in 0..<parameters.count { parameters.gradients[i] = before[i] + (parameters.gradients[i] - before[i]) * scale }
        return loss
    }

    public func isSolved() -> Bool {
        if lastPoint.elementsEqual(parameters.values) && !lastAllCorrect { return false }
        return accuracy(on: training) == 1 && accuracy(on: test) == 1
    }

    /// The fraction of `batch` answered correctly at the current θ (not counted as an evaluation).
    public func accuracy(on batch: TaskBatch) -> Double {
        let y = network.forward(input: batch.inputs, mask: batch.mask, steps: batch.steps, batch: batch.batch)
        let correct = y.withUnsafeBufferPointer { batch.correctCount($0, task: task) }
        return Double(correct) / Double(batch.batch)
    }
}

/// Discrete error propagation (Bengio, Simard & Frasconi 1994, "Learning long-term dependencies
/// with gradient descent is difficult", IEEE Trans. Neural Networks 5(2):157–166, section on
/// alternative algorithms): a network of sign units is trained by propagating errors backward
/// through the unfolded network as DISCRETE targets for every unit at every step, chosen
/// stochastically so that their expectation follows the gradient, and updating the weights from
/// those discrete errors. Every error a unit receives is "flip" or "stay", a whole unit of change,
/// however far back in time the unit is. In OUR rule (below) the expectation of that discrete
/// error is the error signal of a tanh unit in the same state, so on average it still shrinks with
/// the gap the way a tanh network's gradient does; only the individual draws are ±1.
///
/// Ours, per evaluation (one pass over the whole training set): the forward pass of
/// ``SignRecurrentNetwork``; the discrete errors of
/// ``SignRecurrentNetwork/discreteErrors(outputError:width:rng:)`` (a unit is asked to flip with
/// probability min(1, |g|·(1 − tanh²(a/w))) when flipping lowers the error, g being the error sent
/// back to it); the batch mean of the resulting updates applied as θ ← θ − η·Δ. It stops at
/// success, when the budget is spent, or when the loss is not finite.
///
/// Departures from the paper: the paper's units and output are all sign units trained on-line
/// (after each sequence); ours has a LINEAR read-out trained by its exact gradient on the same
/// squared error as every other learner of the lab, and updates once per pass over the training
/// set. The flip probability min(1, |g|·(1 − tanh²(a/w))) is our choice of a rule whose expectation
/// is the error signal of a tanh unit in the same state (the paper's exact probability rule is not
/// reproduced). Errors sent back are real sums W_hᵀδ, discretised again at the unit below, rather
/// than discrete targets combined by a vote.
public struct DiscreteErrorPropagation: LabLearner {
    /// η, per evaluation, on the batch-mean update.
    public var learningRate: Scalar = 0.1
    /// w, the width of the flip-probability window around the threshold.
    public var width: Scalar = 2

    public init(learningRate: Scalar = 0.1, width: Scalar = 2) {
        self.learningRate = learningRate
        self.width = width
    }

    /// Trains a ``SignNetworkProblem``. Any other objective has no sign units to propagate discrete
    /// errors through: the learner then makes no step and reports it unsolved with NaN loss.
    public func minimize(_ objective: LabObjective, budget: Int, seed: UInt64) -> LearnerOutcome {
        guard let problem = objective as? SignNetworkProblem else {
            return LearnerOutcome(solved: false, evaluations: objective.evaluations, finalLoss: .nan)
        }
        let store = problem.parameters
        var rng = SplitMix64(seed: seed)
        store.zeroGradients()
        var loss = Double.nan
        while problem.evaluations < budget {
            loss = problem.discreteErrorPass(width: width, rng: &rng)
            guard loss.isFinite else {
                store.zeroGradients()
                return LearnerOutcome(solved: false, evaluations: problem.evaluations, finalLoss: .nan)
            }
            if problem.isSolved() {
                store.zeroGradients()
                return LearnerOutcome(solved: true, evaluations: problem.evaluations, finalLoss: loss)
            }
            for i in 0..<store.count { store.values[i] -= learningRate * store.gradients[i] }
            store.zeroGradients()
        }
        return LearnerOutcome(solved: false, evaluations: problem.evaluations, finalLoss: loss)
    }
}
