import Kernels
#if !SCALAR_DOUBLE
import CVector
#endif

/// The LSTM cell (Hochreiter & Schmidhuber 1997, no peepholes).
///
/// Convention (the only place it is stated): the fused gate block has width 4H in the order
/// **i, f, g, o** (input, forget, candidate, output), as PyTorch's `nn.LSTM`; one bias b [4H]
/// (PyTorch's b_ih + b_hh) whose forget quarter is initialised to 1.
///
///     a = x_t·Wxᵀ + h_{t−1}·Whᵀ + b          (pre-activations, [B, 4H])
///     i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
///     c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
///
/// Derivatives, per unmasked row (⊙ elementwise, τ = tanh(c_t)):
///     dc += dh ⊙ o ⊙ (1 − τ²);  do = dh ⊙ τ;  di = dc ⊙ g;  dg = dc ⊙ i;  df = dc ⊙ c_{t−1}
///     da = [di·i(1−i), df·f(1−f), dg·(1−g²), do·o(1−o)];  dc_{t−1} = dc ⊙ f
/// `cache` holds τ = tanh(c_t), [R, H].
enum LSTMCell: RecurrentCell {
    static let gateCount = 4
    static let hasMemory = true
    static let separateRecurrentProduct = false
    static let cacheWidth = 1

    /// The forget gate (second quarter of the i, f, g, o block) starts open: its bias is 1.
    static func initialize(_ layer: RecurrentLayer, normal: inout SeededGenerator) {
        (layer.bias + layer.hidden).update(repeating: 1, count: layer.hidden)
    }

    // Alike on purpose: the RecurrentCell protocol's requirement, implemented per cell.
    @inline(__always)
    static func forward(gates: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?,
                        previousHidden: UnsafePointer<Scalar>, previousCell: UnsafePointer<Scalar>?,
                        hidden: UnsafeMutablePointer<Scalar>, cell: UnsafeMutablePointer<Scalar>?,
                        cache: UnsafeMutablePointer<Scalar>?, rows: Int, width: Int, mask: UnsafePointer<Scalar>?,
                        norm: CellNorm?) {
        let previousCell = previousCell!, cell = cell!, tanhCell = cache!
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
            // The buffer forms run CVector's kernels for this CPU (AVX-512, AVX2 or baseline).
            Activation.sigmoid(UnsafeMutableBufferPointer(start: gi, count: 2 &* width))
            Activation.tanh(UnsafeMutableBufferPointer(start: gg, count: width))
            Activation.sigmoid(UnsafeMutableBufferPointer(start: go, count: width))
            for j in 0..<width { cn[j] = gf[j] * cp[j] + gi[j] * gg[j] }
            tc.update(from: cn, count: width)
            Activation.tanh(UnsafeMutableBufferPointer(start: tc, count: width))
            for j in 0..<width { hn[j] = go[j] * tc[j] }
        }
    }

    @inline(__always)
    static func backward(_ s: CellGradientStep) {
        let previousCell = s.previousCell!, tanhCell = s.cache!, cellGradient = s.cellGradient!, width = s.width
        for r in 0..<s.rows {
            let dhr = s.hiddenGradient + r &* width, dcr = cellGradient + r &* width
            let dhp = s.previousHiddenGradient + r &* width
            let g = s.gates + r &* 4 &* width
            if let mask = s.mask, mask[r] == 0 {
                dhp.update(from: dhr, count: width)   // the state was passed through: so is its gradient
                g.update(repeating: 0, count: 4 &* width)
                continue
            }
            dhp.update(repeating: 0, count: width)
            let cp = previousCell + r &* width, tc = tanhCell + r &* width
            let gi = g, gf = g + width, gg = g + 2 &* width, go = g + 3 &* width
            #if SCALAR_DOUBLE
            // The gradient-check build: the arithmetic CVector's kernel runs, in Swift.
            for j in 0..<width {
                let i = gi[j], f = gf[j], u = gg[j], o = go[j], tau = tc[j]
                let dhv = dhr[j]
                let dcv = dcr[j] + dhv * o * (1 - tau * tau)
                gi[j] = dcv * u * i * (1 - i)
                gf[j] = dcv * cp[j] * f * (1 - f)
                gg[j] = dcv * i * (1 - u * u)
                go[j] = dhv * tau * o * (1 - o)
                dcr[j] = dcv * f
            }
            #else
            // CVector's kernel for this CPU (AVX-512, AVX2 or baseline; the same bits).
            cvector_lstm_backward(VectorKernels.path.code, gi, gf, gg, go, tc, cp, dhr, dcr, width)
            #endif
        }
    }
}
