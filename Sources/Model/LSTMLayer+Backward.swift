import Kernels

extension LSTMLayer {
    /// Backpropagation through time over the cached forward pass.
    ///
    /// - outputGradient: dL/dh_t for t = 1…N, [N·B, H] (nil: the outputs are unused, as for the
    ///   encoder's top layer).
    /// - finalHiddenGradient, finalCellGradient: dL/dh_N, dL/dc_N, [B, H] (nil: zero).
    /// - computeInputGradient: also form dL/dX [N·B, In] into `inputGradient`.
    ///
    /// Derivatives implemented, per unmasked row (⊙ elementwise, τ = tanh(c_t)):
    ///     dc += dh ⊙ o ⊙ (1 − τ²);  do = dh ⊙ τ;  di = dc ⊙ g;  dg = dc ⊙ i;  df = dc ⊙ c_{t−1}
    ///     da = [di·i(1−i), df·f(1−f), dg·(1−g²), do·o(1−o)];  dc_{t−1} = dc ⊙ f;  dh_{t−1} = da·Wh
    ///     dWx += daᵀ·X,  dWh += daᵀ·H_{t−1},  db += Σ da,  dX = da·Wx
    /// A masked row passes (dh, dc) through unchanged and contributes no gate gradient.
    func backward(outputGradient: UnsafePointer<Float>?, finalHiddenGradient: UnsafePointer<Float>?,
                  finalCellGradient: UnsafePointer<Float>?, computeInputGradient: Bool) {
        guard let input else { preconditionFailure("LSTMLayer.backward before forward") }
        let bh = batch * hidden, g4 = 4 * hidden, rows = steps * batch
        let gates = self.gates.pointer, h = self.h.pointer, c = self.c.pointer, tanhC = self.tanhC.pointer
        var dh = self.dh.reserve(bh), dhPrevious = self.dhPrevious.reserve(bh)
        let dc = self.dc.reserve(bh)
        if let finalHiddenGradient { dh.update(from: finalHiddenGradient, count: bh) } else { dh.update(repeating: 0, count: bh) }
        if let finalCellGradient { dc.update(from: finalCellGradient, count: bh) } else { dc.update(repeating: 0, count: bh) }

        for t in stride(from: steps - 1, through: 0, by: -1) {
            if let outputGradient { Vector.axpy(1, outputGradient + t * bh, dh, count: bh) }
            let gt = gates + t * batch * g4
            let stepMask = mask.map { $0 + t * batch }
            for r in 0..<batch {
                let dhr = dh + r &* hidden, dcr = dc + r &* hidden, dhp = dhPrevious + r &* hidden
                let g = gt + r &* g4
                if let stepMask, stepMask[r] == 0 {
                    dhp.update(from: dhr, count: hidden)   // state passed through: so do its gradients
                    g.update(repeating: 0, count: g4)
                    continue
                }
                dhp.update(repeating: 0, count: hidden)
                let cp = c + (t &* bh &+ r &* hidden), tc = tanhC + (t &* bh &+ r &* hidden)
                let gi = g, gf = g + hidden, gg = g + 2 &* hidden, go = g + 3 &* hidden
                for j in 0..<hidden {
                    let i = gi[j], f = gf[j], u = gg[j], o = go[j], tau = tc[j]
                    let dhv = dhr[j]
                    let dcv = dcr[j] + dhv * o * (1 - tau * tau)
                    gi[j] = dcv * u * i * (1 - i)
                    gf[j] = dcv * cp[j] * f * (1 - f)
                    gg[j] = dcv * i * (1 - u * u)
                    go[j] = dhv * tau * o * (1 - o)
                    dcr[j] = dcv * f
                }
            }
            // dh_{t−1} (+)= da_t·Wh: [B, 4H]·[4H, H].
            BLAS.gemm(m: batch, n: hidden, k: g4, a: gt, lda: g4, b: wh, ldb: hidden, beta: 1, c: dhPrevious, ldc: hidden)
            swap(&dh, &dhPrevious)
        }
        // After an odd number of swaps the carried gradient sits in the other buffer; keep the
        // contract "dh holds dL/dh_0".
        if dh != self.dh.pointer { self.dh.pointer.update(from: dh, count: bh) }

        // Weight gradients over all steps at once.
        BLAS.gemm(transA: true, m: g4, n: inputSize, k: rows, a: gates, lda: g4, b: input, ldb: inputSize,
                  beta: 1, c: gradWx, ldc: inputSize)
        BLAS.gemm(transA: true, m: g4, n: hidden, k: rows, a: gates, lda: g4, b: h, ldb: hidden,
                  beta: 1, c: gradWh, ldc: hidden)
        Vector.addColumnSums(of: gates, rows: rows, width: g4, into: gradBias)
        if computeInputGradient {
            let dx = inputGradient.reserve(rows * inputSize)
            BLAS.gemm(m: rows, n: inputSize, k: g4, a: gates, lda: g4, b: wx, ldb: inputSize, beta: 0, c: dx, ldc: inputSize)
        }
    }

    /// dL/dh_0 and dL/dc_0, [B, H], after `backward`.
    var initialHiddenGradient: UnsafeMutablePointer<Float> { dh.pointer }
    var initialCellGradient: UnsafeMutablePointer<Float> { dc.pointer }
}
