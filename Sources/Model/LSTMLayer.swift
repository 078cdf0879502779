import Kernels

/// One LSTM layer over a time-major sequence (Hochreiter & Schmidhuber 1997, no peepholes).
///
/// Convention (the only place it is stated): the fused gate block has width 4H in the order
/// **i, f, g, o** (input, forget, candidate, output); weights are stored [out×in]:
/// `Wx` [4H, In], `Wh` [4H, H], one bias `b` [4H] whose forget quarter is initialised to 1.
///
///     a = x_t·Wxᵀ + h_{t−1}·Whᵀ + b          (pre-activations, [B, 4H])
///     i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
///     c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
///
/// A row whose mask is 0 at step t keeps its state: (h_t, c_t) = (h_{t−1}, c_{t−1}); this is how
/// padded source steps leave a sentence's final state at its last real token.
///
/// `forward` keeps in the layer what `backward` needs (the named cache below); `backward` ADDS
/// into the parameter gradients and leaves input and initial-state gradients in the layer.
final class LSTMLayer {
    let inputSize: Int
    let hidden: Int
    /// [4H, In], [4H, H], [4H] and their gradients, inside a ParameterStore.
    let wx, wh, bias, gradWx, gradWh, gradBias: UnsafeMutablePointer<Float>

    // Cache of the last forward pass (sizes for N steps of B rows).
    private(set) var steps = 0
    private(set) var batch = 0
    var input: UnsafePointer<Float>?
    var mask: UnsafePointer<Float>?
    /// [N·B, 4H] gate pre-activations, then activations (i, f, g, o); backward turns them into
    /// pre-activation gradients in place.
    let gates = FloatBuffer()
    /// [(N+1)·B, H]: h_0 … h_N (h_0 the initial state).
    let h = FloatBuffer()
    /// [(N+1)·B, H]: c_0 … c_N.
    let c = FloatBuffer()
    /// [N·B, H]: tanh(c_1) … tanh(c_N).
    let tanhC = FloatBuffer()
    /// [N·B, In]: gradient of the loss with respect to the input, after `backward`.
    let inputGradient = FloatBuffer()
    /// [B, H] each: carried gradients; after `backward`, `dh`/`dc` hold dL/dh_0 and dL/dc_0.
    let dh = FloatBuffer(), dc = FloatBuffer(), dhPrevious = FloatBuffer()
    var profiler: PhaseProfiler?

    init(inputSize: Int, hidden: Int, store: ParameterStore, prefix: String) {
        self.inputSize = inputSize
        self.hidden = hidden
        let x = store.view("\(prefix).weight_ih"), r = store.view("\(prefix).weight_hh"), b = store.view("\(prefix).bias")
        precondition(x.count == 4 * hidden * inputSize && r.count == 4 * hidden * hidden && b.count == 4 * hidden)
        (wx, gradWx, wh, gradWh, bias, gradBias) = (x.values, x.gradients, r.values, r.gradients, b.values, b.gradients)
    }

    /// Names and shapes of the layer's tensors, in store order.
    static func layout(prefix: String, inputSize: Int, hidden: Int) -> [(name: String, shape: [Int])] {
        [("\(prefix).weight_ih", [4 * hidden, inputSize]), ("\(prefix).weight_hh", [4 * hidden, hidden]),
         ("\(prefix).bias", [4 * hidden])]
    }

    /// Outputs h_1 … h_N, [N·B, H] (valid until the next forward).
    var outputs: UnsafeMutablePointer<Float> { h.pointer + batch * hidden }
    /// h_N and c_N, [B, H] each.
    var finalHidden: UnsafeMutablePointer<Float> { h.pointer + steps * batch * hidden }
    var finalCell: UnsafeMutablePointer<Float> { c.pointer + steps * batch * hidden }

    /// Runs N steps. `input` [N·B, In] must stay alive until `backward`; `initialHidden`/`initialCell`
    /// [B, H] default to zeros; `mask` [N·B] holds 1 for a real step and 0 for padding (nil: all real).
    func forward(input: UnsafePointer<Float>, steps: Int, batch: Int,
                 initialHidden: UnsafePointer<Float>?, initialCell: UnsafePointer<Float>?,
                 mask: UnsafePointer<Float>?) {
        let bh = batch * hidden, g4 = 4 * hidden
        self.steps = steps
        self.batch = batch
        self.input = input
        self.mask = mask
        let gates = self.gates.reserve(steps * batch * g4)
        let h = self.h.reserve((steps + 1) * bh)
        let c = self.c.reserve((steps + 1) * bh)
        let tanhC = self.tanhC.reserve(steps * bh)
        if let initialHidden { h.update(from: initialHidden, count: bh) } else { h.update(repeating: 0, count: bh) }
        if let initialCell { c.update(from: initialCell, count: bh) } else { c.update(repeating: 0, count: bh) }

        // Input projection of all steps at once: gates = b + X·Wxᵀ, [N·B, 4H].
        timed(profiler, "gemm: input projection") {
            for r in 0..<(steps * batch) { (gates + r * g4).update(from: bias, count: g4) }
            BLAS.gemm(transB: true, m: steps * batch, n: g4, k: inputSize, a: input, lda: inputSize,
                      b: wx, ldb: inputSize, beta: 1, c: gates, ldc: g4)
        }
        for t in 0..<steps {
            let gt = gates + t * batch * g4
            // Recurrence: gates_t += h_{t−1}·Whᵀ.
            timed(profiler, "gemm: recurrent") {
                BLAS.gemm(transB: true, m: batch, n: g4, k: hidden, a: h + t * bh, lda: hidden,
                          b: wh, ldb: hidden, beta: 1, c: gt, ldc: g4)
            }
            timed(profiler, "lstm pointwise forward") {
                LSTMLayer.pointwiseForward(
                    gates: gt, previousCell: c + t * bh, previousHidden: h + t * bh,
                    cell: c + (t + 1) * bh, hidden: h + (t + 1) * bh, tanhCell: tanhC + t * bh,
                    rows: batch, width: self.hidden, mask: mask.map { $0 + t * batch })
            }
        }
    }

    /// The fused gate nonlinearities and state update of one step for `rows` rows.
    /// `gates` [rows, 4H] pre-activations in, activations out; masked rows copy the previous state.
    @inline(__always)
    static func pointwiseForward(
        gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>, previousHidden: UnsafePointer<Float>,
        cell: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>, tanhCell: UnsafeMutablePointer<Float>,
        rows: Int, width: Int, mask: UnsafePointer<Float>?
    ) {
        for r in 0..<rows {
            let g = gates + r &* 4 &* width
            let cp = previousCell + r &* width, cn = cell + r &* width
            let hn = hidden + r &* width, tc = tanhCell + r &* width
            if let mask, mask[r] == 0 {
                cn.update(from: cp, count: width)
                hn.update(from: previousHidden + r &* width, count: width)
                tc.update(repeating: 0, count: width)
                continue
            }
            // Contiguous passes per gate kind vectorize; one interleaved loop did not (~5× slower).
            let gi = g, gf = g + width, gg = g + 2 &* width, go = g + 3 &* width
            for j in 0..<(2 &* width) { gi[j] = Activation.sigmoid(gi[j]) }
            for j in 0..<width { gg[j] = Activation.tanh(gg[j]) }
            for j in 0..<width { go[j] = Activation.sigmoid(go[j]) }
            for j in 0..<width { cn[j] = gf[j] * cp[j] + gi[j] * gg[j] }
            for j in 0..<width { tc[j] = Activation.tanh(cn[j]) }
            for j in 0..<width { hn[j] = go[j] * tc[j] }
        }
    }
}
