import Kernels

/// The layer normalization weights of a ``RecurrentLayer`` with `layerNorm` (Ba, Kiros & Hinton
/// 2016), and their gradients. Each LN normalizes one row vector v of n values,
/// LN(v) = (v − mean v) / √(var v + ε) ⊙ γ + β (biased variance, ε = 1e-5, PyTorch's `LayerNorm`).
///
/// Tensors (`PREFIX.` omitted): `layer_norm_ih.weight`/`.bias` [G·H] (the input side
/// x·Wxᵀ + b_ih), `layer_norm_hh.weight`/`.bias` [G·H] (the recurrent side h·Whᵀ + b_hh), and for
/// the LSTM `layer_norm_c.weight`/`.bias` [H] (the cell state before its tanh).
struct CellNorm {
    let inputGain, inputBias, recurrentGain, recurrentBias: UnsafeMutablePointer<Scalar>
    let gradInputGain, gradInputBias, gradRecurrentGain, gradRecurrentBias: UnsafeMutablePointer<Scalar>
    let cellGain, cellBias, gradCellGain, gradCellBias: UnsafeMutablePointer<Scalar>?

    /// ε of every LN here (PyTorch's default).
    static let epsilon: Scalar = 1e-5

    init(store: ParameterStore, prefix: String, gateWidth: Int, hidden: Int, cellState: Bool) {
        func view(_ name: String, _ count: Int) -> (values: UnsafeMutablePointer<Scalar>, gradients: UnsafeMutablePointer<Scalar>) {
            let v = store.view("\(prefix).\(name)")
            precondition(v.count == count, "\(prefix).\(name) holds \(v.count) floats, expected \(count)")
            return (v.values, v.gradients)
        }
        (inputGain, gradInputGain) = view("layer_norm_ih.weight", gateWidth)
        (inputBias, gradInputBias) = view("layer_norm_ih.bias", gateWidth)
        (recurrentGain, gradRecurrentGain) = view("layer_norm_hh.weight", gateWidth)
        (recurrentBias, gradRecurrentBias) = view("layer_norm_hh.bias", gateWidth)
        if cellState {
            let g = view("layer_norm_c.weight", hidden), b = view("layer_norm_c.bias", hidden)
            (cellGain, gradCellGain, cellBias, gradCellBias) = (g.values, g.gradients, b.values, b.gradients)
        } else {
            (cellGain, gradCellGain, cellBias, gradCellBias) = (nil, nil, nil, nil)
        }
    }

    /// The tensors of a layer with G·H = `gateWidth` (see the type's comment), in store order.
    static func layout(prefix: String, gateWidth: Int, hidden: Int, cellState: Bool) -> [(name: String, shape: [Int])] {
        var layout = [("\(prefix).layer_norm_ih.weight", [gateWidth]), ("\(prefix).layer_norm_ih.bias", [gateWidth]),
                      ("\(prefix).layer_norm_hh.weight", [gateWidth]), ("\(prefix).layer_norm_hh.bias", [gateWidth])]
        if cellState { layout += [("\(prefix).layer_norm_c.weight", [hidden]), ("\(prefix).layer_norm_c.bias", [hidden])] }
        return layout
    }

    /// γ = 1 and β = 0 everywhere (PyTorch's `LayerNorm` initialization).
    func initialize(gateWidth: Int, hidden: Int) {
        inputGain.update(repeating: 1, count: gateWidth)
        recurrentGain.update(repeating: 1, count: gateWidth)
        inputBias.update(repeating: 0, count: gateWidth)
        recurrentBias.update(repeating: 0, count: gateWidth)
        cellGain?.update(repeating: 1, count: hidden)
        cellBias?.update(repeating: 0, count: hidden)
    }

    /// x̂ = (v − mean) / √(var + ε) of `v` [n] into `normalized`; returns 1/√(var + ε).
    @inline(__always)
    static func normalize(_ v: UnsafePointer<Scalar>, _ n: Int, into normalized: UnsafeMutablePointer<Scalar>) -> Scalar {
        var sum: Scalar = 0
        for j in 0..<n { sum += v[j] }
        let mean = sum / Scalar(n)
        var squares: Scalar = 0
        for j in 0..<n {
            let d = v[j] - mean
            squares += d * d
        }
        let inverse = 1 / (squares / Scalar(n) + epsilon).squareRoot()
        for j in 0..<n { normalized[j] = (v[j] - mean) * inverse }
        return inverse
    }

    /// dL/dv from dL/dx̂ (`gradient` [n], overwritten): r·(dx̂ − mean dx̂ − x̂·mean(dx̂ ⊙ x̂)).
    @inline(__always)
    static func normalizeBackward(_ gradient: UnsafeMutablePointer<Scalar>, normalized: UnsafePointer<Scalar>, _ n: Int,
                                  inverse: Scalar) {
        var meanGradient: Scalar = 0, meanProduct: Scalar = 0
        for j in 0..<n {
            meanGradient += gradient[j]
            meanProduct += gradient[j] * normalized[j]
        }
        meanGradient /= Scalar(n)
        meanProduct /= Scalar(n)
        for j in 0..<n { gradient[j] = inverse * (gradient[j] - meanGradient - normalized[j] * meanProduct) }
    }
}

/// The layer-normalized LSTM (Ba et al. 2016, §6.3 and eq. 20–22), gates i, f, g, o as ``LSTMCell``:
///
///     a = LN_ih(x_t·Wxᵀ + b_ih) + LN_hh(h_{t−1}·Whᵀ + b_hh)          ([B, 4H]; each LN over 4H)
///     i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
///     c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(LN_c(c_t))
///
/// The forget quarter of LN_ih's β starts at 1 (the LSTM's forget bias). `recurrent` keeps the
/// recurrent side's x̂ through forward; `cache` per row holds x̂ of the input side [4H], ĉ [H],
/// τ = tanh(LN_c(c_t)) [H], and the three inverse deviations (first value of three H-blocks).
enum LayerNormLSTMCell: RecurrentCell {
    static let gateCount = 4
    static let hasMemory = true
    static let separateRecurrentProduct = true
    static let cacheWidth = 9

    static func initialize(_ layer: RecurrentLayer, normal: inout SeededGenerator) {
        let norm = layer.norm!
        norm.initialize(gateWidth: layer.gateWidth, hidden: layer.hidden)
        (norm.inputBias + layer.hidden).update(repeating: 1, count: layer.hidden)
    }

    static func forward(gates: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?,
                        previousHidden: UnsafePointer<Scalar>, previousCell: UnsafePointer<Scalar>?,
                        hidden: UnsafeMutablePointer<Scalar>, cell: UnsafeMutablePointer<Scalar>?,
                        cache: UnsafeMutablePointer<Scalar>?, rows: Int, width h: Int, mask: UnsafePointer<Scalar>?,
                        norm: CellNorm?) {
        let norm = norm!, recurrent = recurrent!, previousCell = previousCell!, cell = cell!, cache = cache!
        let gw = 4 &* h
        for r in 0..<rows {
            let g = gates + r &* gw, u = recurrent + r &* gw, k = cache + r &* 9 &* h
            let cp = previousCell + r &* h, cn = cell + r &* h, hn = hidden + r &* h
            if let mask, mask[r] == 0 {
                cn.update(from: cp, count: h)
                hn.update(from: previousHidden + r &* h, count: h)
                k.update(repeating: 0, count: 9 &* h)
                continue
            }
            let xhat = k, chat = k + 4 &* h, tau = k + 5 &* h
            k[6 &* h] = CellNorm.normalize(g, gw, into: xhat)
            k[7 &* h] = CellNorm.normalize(u, gw, into: u)
            for j in 0..<gw {
                g[j] = (xhat[j] * norm.inputGain[j] + norm.inputBias[j]) + (u[j] * norm.recurrentGain[j] + norm.recurrentBias[j])
            }
            let gi = g, gf = g + h, gg = g + 2 &* h, go = g + 3 &* h
            Activation.sigmoid(UnsafeMutableBufferPointer(start: gi, count: 2 &* h))
            Activation.tanh(UnsafeMutableBufferPointer(start: gg, count: h))
            Activation.sigmoid(UnsafeMutableBufferPointer(start: go, count: h))
            for j in 0..<h { cn[j] = gf[j] * cp[j] + gi[j] * gg[j] }
            k[8 &* h] = CellNorm.normalize(cn, h, into: chat)
            for j in 0..<h { tau[j] = chat[j] * norm.cellGain![j] + norm.cellBias![j] }
            Activation.tanh(UnsafeMutableBufferPointer(start: tau, count: h))
            for j in 0..<h { hn[j] = go[j] * tau[j] }
        }
    }

    static func backward(_ s: CellGradientStep) {
        let norm = s.norm!, recurrent = s.recurrent!, previousCell = s.previousCell!, cache = s.cache!
        let cellGradient = s.cellGradient!, h = s.width, gw = 4 &* h
        let gradCellGain = norm.gradCellGain!, gradCellBias = norm.gradCellBias!, cellGain = norm.cellGain!
        var dn = [Scalar](repeating: 0, count: h), dr = [Scalar](repeating: 0, count: gw)
        for r in 0..<s.rows {
            let g = s.gates + r &* gw, u = recurrent + r &* gw, k = cache + r &* 9 &* h
            let dh = s.hiddenGradient + r &* h, dc = cellGradient + r &* h, dhp = s.previousHiddenGradient + r &* h
            if let mask = s.mask, mask[r] == 0 {
                dhp.update(from: dh, count: h)
                g.update(repeating: 0, count: gw)
                u.update(repeating: 0, count: gw)
                continue
            }
            dhp.update(repeating: 0, count: h)
            let xhat = k, chat = k + 4 &* h, tau = k + 5 &* h
            let cp = previousCell + r &* h
            let gi = g, gf = g + h, gg = g + 2 &* h, go = g + 3 &* h
            // h = o ⊙ τ, τ = tanh(ĉ ⊙ γ_c + β_c), ĉ = LN(c_t).
            for j in 0..<h {
                let t = tau[j], o = go[j]
                dn[j] = dh[j] * o * (1 - t * t)
                gradCellGain[j] += dn[j] * chat[j]
                gradCellBias[j] += dn[j]
                dn[j] *= cellGain[j]
                go[j] = dh[j] * t * o * (1 - o)
            }
            dn.withUnsafeMutableBufferPointer { CellNorm.normalizeBackward($0.baseAddress!, normalized: chat, h, inverse: k[8 &* h]) }
            for j in 0..<h {
                let i = gi[j], f = gf[j], c = gg[j]
                let d = dc[j] + dn[j]
                gi[j] = d * c * i * (1 - i)
                gf[j] = d * cp[j] * f * (1 - f)
                gg[j] = d * i * (1 - c * c)
                dc[j] = d * f
            }
            // g now holds da [4H]; both LNs' gains and biases, then their inputs' gradients.
            dr.withUnsafeMutableBufferPointer { dr in
                let dr = dr.baseAddress!
                for j in 0..<gw {
                    let d = g[j]
                    norm.gradInputGain[j] += d * xhat[j]
                    norm.gradInputBias[j] += d
                    norm.gradRecurrentGain[j] += d * u[j]
                    norm.gradRecurrentBias[j] += d
                    g[j] = d * norm.inputGain[j]
                    dr[j] = d * norm.recurrentGain[j]
                }
                CellNorm.normalizeBackward(g, normalized: xhat, gw, inverse: k[6 &* h])
                CellNorm.normalizeBackward(dr, normalized: u, gw, inverse: k[7 &* h])
                u.update(from: dr, count: gw)
            }
        }
    }
}

/// The layer-normalized GRU, the analogue of ``LayerNormLSTMCell`` for ``GRUCell``'s equations:
/// each side's pre-activations are normalized over their 3H values before the gates,
///
///     x_* = LN_ih(x_t·W_iᵀ + b_i),  h_* = LN_hh(h_{t−1}·W_hᵀ + b_h)      ([B, 3H] each)
///
/// then r, z, n and h_t exactly as ``GRUCell`` (the reset gate multiplies the normalized h_n).
/// `cache` per row holds x̂ of both sides [3H each] and the two inverse deviations (first value
/// of two H-blocks).
enum LayerNormGRUCell: RecurrentCell {
    static let gateCount = 3
    static let hasMemory = false
    static let separateRecurrentProduct = true
    static let cacheWidth = 8

    static func initialize(_ layer: RecurrentLayer, normal: inout SeededGenerator) {
        layer.norm!.initialize(gateWidth: layer.gateWidth, hidden: layer.hidden)
    }

    static func forward(gates: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?,
                        previousHidden: UnsafePointer<Scalar>, previousCell: UnsafePointer<Scalar>?,
                        hidden: UnsafeMutablePointer<Scalar>, cell: UnsafeMutablePointer<Scalar>?,
                        cache: UnsafeMutablePointer<Scalar>?, rows: Int, width h: Int, mask: UnsafePointer<Scalar>?,
                        norm: CellNorm?) {
        let norm = norm!, recurrent = recurrent!, cache = cache!
        let gw = 3 &* h
        for r in 0..<rows {
            let g = gates + r &* gw, u = recurrent + r &* gw, k = cache + r &* 8 &* h
            if let mask, mask[r] == 0 {
                k.update(repeating: 0, count: 8 &* h)
            } else {
                k[6 &* h] = CellNorm.normalize(g, gw, into: k)
                k[7 &* h] = CellNorm.normalize(u, gw, into: k + gw)
                for j in 0..<gw {
                    g[j] = k[j] * norm.inputGain[j] + norm.inputBias[j]
                    u[j] = k[gw &+ j] * norm.recurrentGain[j] + norm.recurrentBias[j]
                }
            }
            GRUCell.forward(gates: g, recurrent: u, previousHidden: previousHidden + r &* h, previousCell: nil,
                            hidden: hidden + r &* h, cell: nil, cache: nil, rows: 1, width: h, mask: mask.map { $0 + r },
                            norm: nil)
        }
    }

    static func backward(_ s: CellGradientStep) {
        let norm = s.norm!, recurrent = s.recurrent!, cache = s.cache!, h = s.width, gw = 3 &* h
        for r in 0..<s.rows {
            var row = s
            row.gates = s.gates + r &* gw
            row.recurrent = recurrent + r &* gw
            row.previousHidden = s.previousHidden + r &* h
            row.hidden = s.hidden + r &* h
            row.hiddenGradient = s.hiddenGradient + r &* h
            row.previousHiddenGradient = s.previousHiddenGradient + r &* h
            row.mask = s.mask.map { $0 + r }
            row.rows = 1
            GRUCell.backward(row)
            if let mask = s.mask, mask[r] == 0 { continue }  // gate gradients already 0
            let g = row.gates, u = row.recurrent!, k = cache + r &* 8 &* h
            for j in 0..<gw {
                norm.gradInputGain[j] += g[j] * k[j]
                norm.gradInputBias[j] += g[j]
                norm.gradRecurrentGain[j] += u[j] * k[gw &+ j]
                norm.gradRecurrentBias[j] += u[j]
                g[j] *= norm.inputGain[j]
                u[j] *= norm.recurrentGain[j]
            }
            CellNorm.normalizeBackward(g, normalized: k, gw, inverse: k[6 &* h])
            CellNorm.normalizeBackward(u, normalized: k + gw, gw, inverse: k[7 &* h])
        }
    }
}
