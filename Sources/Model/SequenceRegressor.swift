import Kernels

/// One recurrent layer of the model family's cells (``RecurrentLayer`` over an LSTM, GRU, Elman tanh
/// or IRNN cell) followed by a linear read-out of its last hidden state: the small network of the
/// long-term-dependency experiments (Bengio, Simard & Frasconi 1994; Hochreiter & Schmidhuber 1997)
/// that `seq2seq lab` trains. It runs the very time loop, GEMMs and cell steps translation uses.
///
/// Shapes: T steps, B sequences, In input features, H hidden units, K outputs.
/// Tensors, in store order: `rnn.weight_ih` [G·H, In], `rnn.weight_hh` [G·H, H], the cell's bias(es)
/// (see ``RecurrentLayer``), then `readout.weight` [K, H] and `readout.bias` [K]:
///
///     y = h_T·Wᵀ + b        ([B, K])
///
/// All parameters sit in one ``ParameterStore`` (`parameters`), so a learner may treat them as
/// one flat vector θ of `parameters.count` floats (gradient-based or derivative-free alike).
public final class SequenceRegressor {
    /// The recurrent cell of the one layer.
    public let cellType: CellType
    /// In, H and K.
    public let inputSize: Int
    public let hidden: Int
    public let outputs: Int
    /// θ and ∂L/∂θ, one flat buffer each.
    public let parameters: ParameterStore
    let layer: RecurrentLayer
    let readoutWeight, readoutBias, gradReadoutWeight, gradReadoutBias: UnsafeMutablePointer<Scalar>
    /// [B, K] the read-out of the last forward pass.
    private let output = FloatBuffer()
    /// [T·B, In] and [T·B] copies of the last forward's input and mask (the layer keeps pointers).
    private let input = FloatBuffer(), mask = FloatBuffer()
    private var hasMask = false

    /// Tensor names and shapes in store order.
    public static func layout(cell: CellType, inputSize: Int, hidden: Int, outputs: Int) -> [(name: String, shape: [Int])] {
        RecurrentLayer.layout(cell: cell, prefix: "rnn", inputSize: inputSize, hidden: hidden)
            + [("readout.weight", [outputs, hidden]), ("readout.bias", [outputs])]
    }

    /// A network whose every parameter is drawn from U(−`scale`, `scale`) with `SeededGenerator(seed:)`
    /// in store order, after which the cell sets its own initial values exactly as in a translation
    /// model (LSTM: forget bias 1; IRNN: identity recurrence, zero bias, Wx ~ N(0, 0.001²)).
    /// Sizes must be positive (a programmer error otherwise).
    public init(cell: CellType, inputSize: Int, hidden: Int, outputs: Int, seed: UInt64, scale: Scalar = 0.08) {
        precondition(inputSize > 0 && hidden > 0 && outputs > 0,
                     "SequenceRegressor needs positive sizes, got In \(inputSize), H \(hidden), K \(outputs)")
        cellType = cell
        self.inputSize = inputSize
        self.hidden = hidden
        self.outputs = outputs
        parameters = ParameterStore(layout: SequenceRegressor.layout(cell: cell, inputSize: inputSize, hidden: hidden, outputs: outputs))
        layer = RecurrentLayer(cell: cell, inputSize: inputSize, hidden: hidden, store: parameters, prefix: "rnn")
        let w = parameters.view("readout.weight"), b = parameters.view("readout.bias")
        (readoutWeight, gradReadoutWeight, readoutBias, gradReadoutBias) = (w.values, w.gradients, b.values, b.gradients)
        var rng = SeededGenerator(seed: seed)
        for i in 0..<parameters.count { parameters.values[i] = rng.nextFloat(in: -scale, scale) }
        var normal = SeededGenerator(seed: seed ^ 0x4952_4E4E)
        layer.cell.initialize(layer, normal: &normal)
    }

    /// Runs T = `steps` steps over `input` [T·B, In] (time-major: step t is rows t·B ..< (t+1)·B) from
    /// a zero state and returns the read-out y [B, K] of h_T (valid until the next forward). `mask`
    /// [T·B] holds 1 for a real step and 0 for one to skip; a row masked at its first steps (left
    /// padding) therefore starts later, which is how sequences of different lengths share a batch.
    public func forward(input x: [Scalar], mask m: [Scalar]? = nil, steps: Int, batch: Int) -> UnsafeBufferPointer<Scalar> {
        precondition(steps > 0 && batch > 0 && x.count == steps * batch * inputSize && (m == nil || m!.count == steps * batch),
                     "SequenceRegressor.forward: input holds \(x.count) floats, mask \(m?.count ?? -1), expected \(steps)×\(batch)×\(inputSize)")
        let xs = input.reserve(x.count)
        x.withUnsafeBufferPointer { xs.update(from: $0.baseAddress!, count: x.count) }
        var maskPointer: UnsafePointer<Scalar>?
        if let m {
            let ms = mask.reserve(m.count)
            m.withUnsafeBufferPointer { ms.update(from: $0.baseAddress!, count: m.count) }
            maskPointer = UnsafePointer(ms)
        }
        hasMask = m != nil
        layer.forward(input: xs, steps: steps, batch: batch, initialHidden: nil, initialCell: nil, mask: maskPointer)
        let y = output.reserve(batch * outputs)
        for r in 0..<batch { (y + r * outputs).update(from: readoutBias, count: outputs) }
        BLAS.gemm(transB: true, m: batch, n: outputs, k: hidden, a: layer.finalHidden, lda: hidden,
                  b: readoutWeight, ldb: hidden, beta: 1, c: y, ldc: outputs)
        return UnsafeBufferPointer(start: y, count: batch * outputs)
    }

    /// Backpropagation through time of the last forward pass: ADDS ∂L/∂θ into `parameters.gradients`
    /// given `outputGradient` ∂L/∂y [B, K]. Derivatives: dW += dyᵀ·h_T, db += Σ dy, dh_T = dy·W, then
    /// ``RecurrentLayer``'s backward through every step.
    public func backward(outputGradient dy: [Scalar]) {
        let batch = dy.count / outputs
        precondition(dy.count == batch * outputs && batch > 0, "SequenceRegressor.backward: gradient holds \(dy.count) floats")
        dy.withUnsafeBufferPointer { d in
            let dyp = d.baseAddress!
            BLAS.gemm(transA: true, m: outputs, n: hidden, k: batch, a: dyp, lda: outputs, b: layer.finalHidden, ldb: hidden,
                      beta: 1, c: gradReadoutWeight, ldc: hidden)
            Vector.addColumnSums(of: dyp, rows: batch, width: outputs, into: gradReadoutBias)
            let dh = [Scalar](unsafeUninitializedCapacity: batch * hidden) { buffer, count in
                BLAS.gemm(m: batch, n: hidden, k: outputs, a: dyp, lda: outputs, b: readoutWeight, ldb: hidden, beta: 0,
                          c: buffer.baseAddress!, ldc: hidden)
                count = batch * hidden
            }
            dh.withUnsafeBufferPointer {
                layer.backward(outputGradient: nil, finalHiddenGradient: $0.baseAddress!, finalCellGradient: nil, computeInputGradient: false)
            }
        }
    }

    /// The hidden states h_0 … h_T of the last forward pass, [(T+1)·B, H].
    public var hiddenStates: UnsafeBufferPointer<Scalar> {
        UnsafeBufferPointer(start: layer.h.pointer, count: (layer.steps + 1) * layer.batch * hidden)
    }

    /// The recurrent matrix whose powers carry the state: Wh [H, H] for Elman and IRNN, and for
    /// gated cells the block that feeds the candidate (LSTM's g block, GRU's n block), row-major.
    public var recurrentMatrix: [Scalar] {
        let block: Int
        switch cellType {
        case .lstm: block = 2
        case .gru: block = 2
        case .rnnTanh, .irnn: block = 0
        }
        return Array(UnsafeBufferPointer(start: layer.wh + block * hidden * hidden, count: hidden * hidden))
    }

    /// The Jacobian ∂h_T/∂h_t [H, H] (row i: ∂h_T[i]/∂h_t) of one sequence `input` [T, In] (batch 1),
    /// for 0 ≤ `t` < T, the product of the step Jacobians ∂h_{s}/∂h_{s−1} for s = t+1 … T. For the
    /// LSTM, c_t is held fixed (the derivative through h alone). It reruns the steps after t with H
    /// copies of the sequence started from h_t and backpropagates the H unit vectors e_i at h_T, so
    /// row i is dL/dh_t for L = h_T[i]. Leaves the parameter gradients as it found them.
    public func stateJacobian(input x: [Scalar], steps: Int, from t: Int) -> [Scalar] {
        precondition(t >= 0 && t < steps && x.count == steps * inputSize, "stateJacobian: t \(t) of \(steps) steps, input \(x.count)")
        _ = forward(input: x, steps: steps, batch: 1)
        let h = hidden, n = steps - t
        let start = Array(UnsafeBufferPointer(start: layer.h.pointer + t * h, count: h))
        let cell: [Scalar]? = layer.hasMemory ? Array(UnsafeBufferPointer(start: layer.c.pointer + t * h, count: h)) : nil
        // n steps of H identical rows, each started from (h_t, c_t).
        let xs = input.reserve(n * h * inputSize)
        x.withUnsafeBufferPointer { xp in
            for s in 0..<n {
                for r in 0..<h { (xs + (s * h + r) * inputSize).update(from: xp.baseAddress! + (t + s) * inputSize, count: inputSize) }
            }
        }
        let h0 = (0..<(h * h)).map { start[$0 % h] }
        let c0 = cell.map { c in (0..<(h * h)).map { c[$0 % h] } }
        let saved = Array(parameters.gradients)
        h0.withUnsafeBufferPointer { hp in
            if let c0 {
                c0.withUnsafeBufferPointer { cp in
                    layer.forward(input: xs, steps: n, batch: h, initialHidden: hp.baseAddress!, initialCell: cp.baseAddress!, mask: nil)
                }
            } else {
                layer.forward(input: xs, steps: n, batch: h, initialHidden: hp.baseAddress!, initialCell: nil, mask: nil)
            }
        }
        var identity = [Scalar](repeating: 0, count: h * h)
        for i in 0..<h { identity[i * h + i] = 1 }
        identity.withUnsafeBufferPointer {
            layer.backward(outputGradient: nil, finalHiddenGradient: $0.baseAddress!, finalCellGradient: nil, computeInputGradient: false)
        }
        _ = saved.withUnsafeBufferPointer { parameters.gradients.update(fromContentsOf: $0) }
        return Array(UnsafeBufferPointer(start: layer.initialHiddenGradient, count: h * h))
    }

    /// h_T [H] of one sequence `input` [T, In] started from h_t = `state` (c_t as the forward pass had
    /// it) instead of the value the sequence led to: what a finite-difference check of
    /// ``stateJacobian(input:steps:from:)`` perturbs.
    public func finalHidden(input x: [Scalar], steps: Int, from t: Int, state: [Scalar]) -> [Scalar] {
        precondition(t >= 0 && t < steps && x.count == steps * inputSize && state.count == hidden, "finalHidden: bad sizes")
        _ = forward(input: x, steps: steps, batch: 1)
        let cell: [Scalar]? = layer.hasMemory ? Array(UnsafeBufferPointer(start: layer.c.pointer + t * hidden, count: hidden)) : nil
        let tail = Array(x[(t * inputSize)...])
        let xs = input.reserve(tail.count)
        tail.withUnsafeBufferPointer { xs.update(from: $0.baseAddress!, count: tail.count) }
        state.withUnsafeBufferPointer { hp in
            if let cell {
                cell.withUnsafeBufferPointer { layer.forward(input: xs, steps: steps - t, batch: 1, initialHidden: hp.baseAddress!, initialCell: $0.baseAddress!, mask: nil) }
            } else {
                layer.forward(input: xs, steps: steps - t, batch: 1, initialHidden: hp.baseAddress!, initialCell: nil, mask: nil)
            }
        }
        return Array(UnsafeBufferPointer(start: layer.finalHidden, count: hidden))
    }
}
