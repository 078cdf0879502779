import Basics
import Foundation
import Kernels

/// The classic long-term-dependency tasks, each a generator of labelled sequences whose length T
/// is the knob. Every sequence is a matrix [T', In] (T' = T, or T … T + T/10 for two-sequence) and a
/// target [K]; the network reads the whole sequence and answers at its end.
///
/// - `latch` (Bengio, Simard & Frasconi 1994, the "latching" problem): x_t = c·[t ≤ L] + e_t with
///   class c = ±1, L = 3 and noise e_t ~ N(0, 0.2) at every step; target 0.8·c; correct when the
///   output has the sign of c. Departure: the paper's first L inputs are trained free parameters;
///   ours are fixed at c (the network alone has to latch).
/// - `twoSequence` (Bengio et al. 1994; Hochreiter & Schmidhuber 1997, experiment 3a, N = 3): the
///   first N inputs are c = ±1, the rest N(0, 0.2) noise; the length is uniform in T … T + T/10;
///   target 1 for c = +1 and 0 for c = −1; correct when |y − target| < 0.2.
/// - `parity` (Bengio et al. 1994): x_t = ±1 uniformly; target 0.8 when the count of +1 is odd,
///   −0.8 when even; correct when the output has the target's sign.
/// - `adding` (Hochreiter & Schmidhuber 1997, experiment 4): x_t = (v_t, m_t), v_t ~ U(−1, 1); m_t = 1
///   at two positions (the first among the first min(10, T/2 − 1), the second among the first
///   T/2 − 1, distinct), 0 elsewhere; target 0.5 + (v_a + v_b)/4; correct when |y − target| < 0.04.
///   Departure: the paper also marks x_1 and x_T with −1; we leave those markers out.
/// - `temporalOrder` (Hochreiter & Schmidhuber 1997, experiment 6a; Pascanu et al. 2013): one-hot
///   symbols over {E, B, a, b, c, d, X, Y}: E first, B last, distractors a–d elsewhere, except X or
///   Y at a position t1 in [max(2, T/10), 2T/10] and another at t2 in [5T/10, 6T/10] (1-based, integer
///   division; the paper's 10–20 and 50–60 at T = 100); 4 classes XX, XY, YX, YY, target one-hot; correct when the
///   largest output is the class's.
public enum LabTask: String, Codable, CaseIterable, Sendable, Comparable {
    case latch
    case twoSequence = "two-sequence"
    case parity
    case adding
    case temporalOrder = "temporal-order"

    /// L, the latch task's informative prefix.
    public static let latchLength = 3
    /// N, the two-sequence task's informative prefix.
    public static let twoSequencePrefix = 3
    /// Variance of the Gaussian noise of latch and two-sequence.
    public static let noiseVariance = 0.2

    /// Orders tasks as they are listed (the order of plans, tables and charts).
    public static func < (a: LabTask, b: LabTask) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Whether the answer is a sign (latch, parity: correct when the output has the target's
    /// sign), the tasks the sign-unit network of ``DiscreteErrorPropagation`` is run on.
    public var hasSignDecision: Bool { self == .latch || self == .parity }

    /// In, features per step.
    public var inputSize: Int {
        switch self {
        case .latch, .twoSequence, .parity: return 1
        case .adding: return 2
        case .temporalOrder: return 8
        }
    }

    /// K, outputs of the read-out.
    public var outputSize: Int { self == .temporalOrder ? 4 : 1 }

    /// The shortest T the task is defined for.
    public var minimumLength: Int {
        switch self {
        case .latch: return LabTask.latchLength + 1
        case .twoSequence: return LabTask.twoSequencePrefix + 1
        case .parity: return 1
        case .adding: return 6
        case .temporalOrder: return 10
        }
    }

    /// One labelled sequence of length T (`length` ≥ `minimumLength`, a programmer error
    /// otherwise; the CLI validates it), drawn from `rng`.
    public func sample(length: Int, rng: inout SplitMix64) -> TaskSequence {
        precondition(length >= minimumLength, "\(rawValue) needs T ≥ \(minimumLength), got \(length)")
        switch self {
        case .latch:
            let c: Scalar = rng.next(below: 2) == 0 ? 1 : -1
            let x = (0..<length).map { t in (t < LabTask.latchLength ? c : 0) + LabTask.noise(&rng) }
            return TaskSequence(inputs: x, steps: length, target: [0.8 * c])
        case .twoSequence:
            let c: Scalar = rng.next(below: 2) == 0 ? 1 : -1
            let n = length + rng.next(below: length / 10 + 1)
            let x = (0..<n).map { t in t < LabTask.twoSequencePrefix ? c : LabTask.noise(&rng) }
            return TaskSequence(inputs: x, steps: n, target: [c > 0 ? 1 : 0])
        case .parity:
            let bits = (0..<length).map { _ in rng.next(below: 2) == 0 }
            return LabTask.parity(bits)
        case .adding:
            let values = (0..<length).map { _ in Scalar(Double(rng.next() >> 11) * 0x1p-53 * 2 - 1) }
            let half = length / 2 - 1
            let first = rng.next(below: min(10, half))
            var second = rng.next(below: half - 1)
            if second >= first { second += 1 }
            return LabTask.adding(values: values, marked: (first, second))
        case .temporalOrder:
            // 1-based windows [max(2, T/10), max(that, 2T/10)] and [5T/10, 6T/10]; indices are 0-based.
            let low1 = max(2, length / 10), high1 = max(low1, 2 * length / 10)
            let low2 = 5 * length / 10, high2 = 6 * length / 10
            let t1 = low1 - 1 + rng.next(below: high1 - low1 + 1)
            let t2 = low2 - 1 + rng.next(below: high2 - low2 + 1)
            let a = rng.next(below: 2), b = rng.next(below: 2)
            var symbols = (0..<length).map { _ in 2 + rng.next(below: 4) }
            symbols[t1] = 6 + a
            symbols[t2] = 6 + b
            return LabTask.temporalOrder(symbols: symbols)
        }
    }

    /// A parity sequence from its bits (true = +1): target 0.8 for an odd count of +1, else −0.8.
    public static func parity(_ bits: [Bool]) -> TaskSequence {
        let odd = bits.filter { $0 }.count % 2 == 1
        return TaskSequence(inputs: bits.map { $0 ? 1 : -1 }, steps: bits.count, target: [odd ? 0.8 : -0.8])
    }

    /// An adding sequence from its values v [T] and the two marked positions (0-based): rows (v_t, m_t),
    /// target 0.5 + (v_a + v_b)/4.
    public static func adding(values: [Scalar], marked: (Int, Int)) -> TaskSequence {
        var x: [Scalar] = []
        for (t, v) in values.enumerated() { x += [v, t == marked.0 || t == marked.1 ? 1 : 0] }
        return TaskSequence(inputs: x, steps: values.count, target: [0.5 + (values[marked.0] + values[marked.1]) / 4])
    }

    /// Symbols of the temporal-order alphabet, in one-hot column order.
    public static let alphabet = ["E", "B", "a", "b", "c", "d", "X", "Y"]

    /// A temporal-order sequence from symbol indices into `alphabet` (the first and last are
    /// replaced by E and B): one-hot rows; the class is read from the X/Y symbols in order
    /// (XX 0, XY 1, YX 2, YY 3) and the target is its one-hot vector. Exactly two X/Y symbols are
    /// expected (a programmer error otherwise).
    public static func temporalOrder(symbols: [Int]) -> TaskSequence {
        var s = symbols
        s[0] = 0
        s[s.count - 1] = 1
        let relevant = s.filter { $0 >= 6 }.map { $0 - 6 }
        precondition(relevant.count == 2, "a temporal-order sequence holds exactly two X/Y symbols, got \(relevant.count)")
        let label = relevant[0] * 2 + relevant[1]
        var x = [Scalar](repeating: 0, count: s.count * 8)
        for (t, symbol) in s.enumerated() { x[t * 8 + symbol] = 1 }
        var target = [Scalar](repeating: 0, count: 4)
        target[label] = 1
        return TaskSequence(inputs: x, steps: s.count, target: target)
    }

    /// Whether an output y [K] answers the target [K] correctly (see the task list above).
    public func isCorrect(output y: UnsafeBufferPointer<Scalar>, target: ArraySlice<Scalar>) -> Bool {
        let t = Array(target)
        switch self {
        case .latch, .parity: return (y[0] > 0) == (t[0] > 0)
        case .twoSequence: return abs(y[0] - t[0]) < 0.2
        case .adding: return abs(y[0] - t[0]) < 0.04
        case .temporalOrder:
            let best = (0..<4).max { y[$0] < y[$1] }!
            return t[best] == 1
        }
    }

    /// N(0, 0.2) by Box–Muller from two uniform draws.
    static func noise(_ rng: inout SplitMix64) -> Scalar {
        let u1 = max(Double(rng.next() >> 11) * 0x1p-53, 1e-300), u2 = Double(rng.next() >> 11) * 0x1p-53
        return Scalar(noiseVariance.squareRoot() * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

/// One labelled sequence: `inputs` [T, In] row-major (step t is row t), `target` [K].
public struct TaskSequence: Equatable, Sendable {
    /// [T, In], row t the input of step t.
    public var inputs: [Scalar]
    /// T, this sequence's length.
    public var steps: Int
    /// [K], the answer expected at the last step.
    public var target: [Scalar]

    /// A sequence from its parts (`inputs.count` must be `steps`·In).
    public init(inputs: [Scalar], steps: Int, target: [Scalar]) {
        self.inputs = inputs
        self.steps = steps
        self.target = target
    }
}

/// Sequences of possibly different lengths in one time-major batch: shorter ones are padded at the
/// START with masked steps, so every sequence ends at the last step, where the read-out looks.
public struct TaskBatch: Sendable {
    /// [T·B, In], step t of sequence b at row t·B + b (T the longest length).
    public var inputs: [Scalar]
    /// [T·B]: 1 for a real step, 0 for padding; nil when all sequences have length T.
    public var mask: [Scalar]?
    /// T, the longest length in the batch.
    public var steps: Int
    /// B, the number of sequences.
    public var batch: Int
    /// [B, K].
    public var targets: [Scalar]

    /// Packs `sequences` (at least one, all with the same In and K).
    public init(_ sequences: [TaskSequence], inputSize: Int) {
        let steps = sequences.map(\.steps).max() ?? 0, batch = sequences.count
        var inputs = [Scalar](repeating: 0, count: steps * batch * inputSize)
        var mask = [Scalar](repeating: 1, count: steps * batch)
        for (b, sequence) in sequences.enumerated() {
            let pad = steps - sequence.steps
            for t in 0..<steps {
                if t < pad { mask[t * batch + b] = 0; continue }
                for i in 0..<inputSize { inputs[(t * batch + b) * inputSize + i] = sequence.inputs[(t - pad) * inputSize + i] }
            }
        }
        self.inputs = inputs
        self.mask = mask.contains(0) ? mask : nil
        self.steps = steps
        self.batch = batch
        targets = sequences.flatMap(\.target)
    }

    /// `count` fresh sequences of `task` at length T from `rng`.
    public init(task: LabTask, length: Int, count: Int, rng: inout SplitMix64) {
        var sequences: [TaskSequence] = []
        for _ in 0..<count { sequences.append(task.sample(length: length, rng: &rng)) }
        self.init(sequences, inputSize: task.inputSize)
    }
}
