import Kernels

extension SequenceRegressor {
    /// Whether ``timeWeightedNewtonDirection(damping:)`` is available: Elman cells (tanh, IRNN),
    /// whose one gate block makes the diagonal second-derivative pass below exact to state.
    public var supportsTimeWeightedNewton: Bool { cellType == .rnnTanh || cellType == .irnn }

    /// The update direction of the time-weighted pseudo-Newton method (Becker & LeCun 1989; the
    /// time weighting of Bengio, Simard & Frasconi 1994), for the last `forward` and
    /// `backward(outputGradient:)` of the mean squared error L = (1/B)·Σ ½‖y − target‖² (the
    /// gradients must hold exactly that backward's ∂L/∂θ). Each shared recurrent weight w is
    /// unfolded into its copies w_t, one per step t; each copy gets its own gradient g_t and its
    /// own diagonal curvature c_t ≈ ∂²L/∂w_t², and the direction is
    ///
    ///     d_w = Σ_t g_t / (|c_t| + μ)        (read-out weights: g / (|c| + μ)),   θ ← θ − η·d.
    ///
    /// Curvatures are Becker & LeCun's diagonal Gauss–Newton pass (second derivatives of the unit
    /// functions dropped, off-diagonal terms ignored): ∂²L/∂y² = 1/B; at h_T, q_j = Σ_k W_kj²/B; per
    /// step, s_i = f′(a_i)²·q_i for the pre-activation a = x·Wxᵀ + h_{t−1}·Whᵀ + b, then
    /// q_{t−1,j} = Σ_i Wh_ij²·s_i; c_t(Wx_ij) = Σ_b s_i·x_j², c_t(Wh_ij) = Σ_b s_i·h_{t−1,j}², c_t(b_i) =
    /// Σ_b s_i. A masked (padding) step has s = 0 and passes q through. Returns d [P] in store order,
    /// or nil for cells other than Elman's (see `supportsTimeWeightedNewton`).
    public func timeWeightedNewtonDirection(damping mu: Scalar) -> [Scalar]? {
        guard supportsTimeWeightedNewton else { return nil }
        let steps = layer.steps, batch = layer.batch, h = hidden, n = inputSize, k = outputs
        guard steps > 0, let input = layer.input else { return nil }
        let base = parameters.values.baseAddress!
        let ox = layer.wx - base, oh = layer.wh - base, ob = layer.bias - base
        let ow = readoutWeight - base, oo = readoutBias - base
        var d = [Scalar](repeating: 0, count: parameters.count)
        let g = parameters.gradients
        let invB = 1 / Scalar(batch)
        let hs = layer.h.pointer, da = layer.gates.pointer, wh = layer.wh
        let hT = layer.finalHidden

        // Read-out: its only copy.
        for o in 0..<k {
            var cb: Scalar = 0
            for j in 0..<h {
                var c: Scalar = 0
                for b in 0..<batch { c += invB * hT[b * h + j] * hT[b * h + j] }
                d[ow + o * h + j] = g[ow + o * h + j] / (abs(c) + mu)
            }
            for _ in 0..<batch { cb += invB }
            d[oo + o] = g[oo + o] / (abs(cb) + mu)
        }

        // q = ∂²L/∂h² (diagonal) at h_T, then back through the steps.
        var q = [Scalar](repeating: 0, count: batch * h)
        for b in 0..<batch {
            for j in 0..<h {
                var sum: Scalar = 0
                for o in 0..<k { sum += readoutWeight[o * h + j] * readoutWeight[o * h + j] }
                q[b * h + j] = sum * invB
            }
        }
        var s = [Scalar](repeating: 0, count: batch * h)
        let relu = cellType == .irnn
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let previous = hs + t * batch * h, current = hs + (t + 1) * batch * h
            let x = input + t * batch * n, a = da + t * batch * h
            for b in 0..<batch {
                let masked = layer.mask.map { $0[t * batch + b] == 0 } ?? false
                for i in 0..<h {
                    let y = current[b * h + i]
                    let f = masked ? 0 : (relu ? (y > 0 ? 1 : 0) : 1 - y * y)
                    s[b * h + i] = f * f * q[b * h + i]
                }
                if !masked {
                    for j in 0..<h {
                        var sum: Scalar = 0
                        for i in 0..<h { sum += wh[i * h + j] * wh[i * h + j] * s[b * h + i] }
                        q[b * h + j] = sum
                    }
                }
            }
            // This step's copies: gradient from the step's gate gradients, curvature from s.
            // Row i of a weight matrix at `offset` that multiplies v [B, m] (x for Wx, h_{t−1} for Wh).
            func addWeightCopies(row i: Int, input v: UnsafePointer<Scalar>, width m: Int, offset: Int) {
                for j in 0..<m {
                    var gw: Scalar = 0, cw: Scalar = 0
                    for b in 0..<batch {
                        let vj = v[b * m + j]
                        gw += a[b * h + i] * vj
                        cw += s[b * h + i] * vj * vj
                    }
                    d[offset + i * m + j] += gw / (abs(cw) + mu)
                }
            }
            for i in 0..<h {
                var gb: Scalar = 0, cb: Scalar = 0
                for b in 0..<batch { gb += a[b * h + i]; cb += s[b * h + i] }
                d[ob + i] += gb / (abs(cb) + mu)
                addWeightCopies(row: i, input: x, width: n, offset: ox)
                addWeightCopies(row: i, input: previous, width: h, offset: oh)
            }
        }
        return d
    }
}
