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
            let gt = gates + t * batch * g4
            timed(profiler, "lstm pointwise backward") {
                if let outputGradient { Vector.axpy(1, outputGradient + t * bh, dh, count: bh) }
                LSTMLayer.pointwiseBackward(
                    gates: gt, previousCell: c + t * bh, tanhCell: tanhC + t * bh, hiddenGradient: dh,
                    cellGradient: dc, previousHiddenGradient: dhPrevious, rows: batch, width: hidden,
                    mask: mask.map { $0 + t * batch })
            }
            // dh_{t−1} (+)= da_t·Wh: [B, 4H]·[4H, H].
            timed(profiler, "gemm: recurrent backward") {
                BLAS.gemm(m: batch, n: hidden, k: g4, a: gt, lda: g4, b: wh, ldb: hidden, beta: 1, c: dhPrevious, ldc: hidden)
            }
            swap(&dh, &dhPrevious)
        }
        // After an odd number of swaps the carried gradient sits in the other buffer; keep the
        // contract "dh holds dL/dh_0".
        if dh != self.dh.pointer { self.dh.pointer.update(from: dh, count: bh) }

        // Weight gradients over all steps at once.
        timed(profiler, "gemm: weight gradients") {
            BLAS.gemm(transA: true, m: g4, n: inputSize, k: rows, a: gates, lda: g4, b: input, ldb: inputSize,
                      beta: 1, c: gradWx, ldc: inputSize)
            BLAS.gemm(transA: true, m: g4, n: hidden, k: rows, a: gates, lda: g4, b: h, ldb: hidden,
                      beta: 1, c: gradWh, ldc: hidden)
        }
        timed(profiler, "lstm pointwise backward") {
            Vector.addColumnSumsInParallel(of: gates, rows: rows, width: g4, into: gradBias)
        }
        if computeInputGradient {
            let dx = inputGradient.reserve(rows * inputSize)
            timed(profiler, "gemm: input gradient") {
                BLAS.gemm(m: rows, n: inputSize, k: g4, a: gates, lda: g4, b: wx, ldb: inputSize, beta: 0, c: dx, ldc: inputSize)
            }
        }
    }

    /// The elementwise part of one backward step (see `backward` for the derivatives). `gates`
    /// [rows, 4H] activations in, pre-activation gradients out; `cellGradient` dc_t in, dc_{t−1}
    /// out; `previousHiddenGradient` receives dh for masked rows and 0 otherwise (the GEMM adds
    /// da·Wh afterwards).
    @inline(__always)
    static func pointwiseBackward(
        gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>, tanhCell: UnsafePointer<Float>,
        hiddenGradient: UnsafePointer<Float>, cellGradient: UnsafeMutablePointer<Float>,
        previousHiddenGradient: UnsafeMutablePointer<Float>, rows: Int, width: Int, mask: UnsafePointer<Float>?
    ) {
        for r in 0..<rows {
            let dhr = hiddenGradient + r &* width, dcr = cellGradient + r &* width
            let dhp = previousHiddenGradient + r &* width
            let g = gates + r &* 4 &* width
            if let mask, mask[r] == 0 {
                dhp.update(from: dhr, count: width)   // the state was passed through: so is its gradient
                g.update(repeating: 0, count: 4 &* width)
                continue
            }
            dhp.update(repeating: 0, count: width)
            let cp = previousCell + r &* width, tc = tanhCell + r &* width
            let gi = g, gf = g + width, gg = g + 2 &* width, go = g + 3 &* width
            // Eight lanes at a time with explicit SIMD (the compiler does not vectorize a loop
            // storing through five pointers it cannot prove distinct); the same operations in the
            // same order as the scalar tail, so the bits are the same.
            typealias V8 = SIMD8<Float>
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
            @inline(__always) func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
                UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
            }
            let one = V8(repeating: 1)
            var j = 0
            while j &+ 8 <= width {
                let i = load(gi + j), f = load(gf + j), u = load(gg + j), o = load(go + j), tau = load(tc + j)
                let dhv = load(dhr + j)
                let dcv = load(dcr + j) + dhv * o * (one - tau * tau)
                store(dcv * u * i * (one - i), gi + j)
                store(dcv * load(cp + j) * f * (one - f), gf + j)
                store(dcv * i * (one - u * u), gg + j)
                store(dhv * tau * o * (one - o), go + j)
                store(dcv * f, dcr + j)
                j &+= 8
            }
            while j < width {
                let i = gi[j], f = gf[j], u = gg[j], o = go[j], tau = tc[j]
                let dhv = dhr[j]
                let dcv = dcr[j] + dhv * o * (1 - tau * tau)
                gi[j] = dcv * u * i * (1 - i)
                gf[j] = dcv * cp[j] * f * (1 - f)
                gg[j] = dcv * i * (1 - u * u)
                go[j] = dhv * tau * o * (1 - o)
                dcr[j] = dcv * f
                j &+= 1
            }
        }
    }

    /// dL/dh_0 and dL/dc_0, [B, H], after `backward`.
    var initialHiddenGradient: UnsafeMutablePointer<Float> { dh.pointer }
    var initialCellGradient: UnsafeMutablePointer<Float> { dc.pointer }
}
