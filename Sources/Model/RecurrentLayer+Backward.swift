import Kernels

extension RecurrentLayer {
    /// Backpropagation through time over the cached forward pass.
    ///
    /// - outputGradient: dL/dh_t for t = 1…N, [N·B, H] (nil: the outputs are unused).
    /// - finalHiddenGradient, finalCellGradient: dL/dh_N, dL/dc_N, [B, H] (nil: zero).
    /// - computeInputGradient: also form dL/dX [N·B, In] into `inputGradient`.
    ///
    /// Per step the cell turns dL/dh_t (and dL/dc_t) into gate gradients da_t (see the cell's doc);
    /// then dh_{t−1} += da_t·Wh (da_t the recurrent side's gradient when the cell keeps it apart),
    /// and over all steps dWx += daᵀ·X, dWh += daᵀ·H_{t−1}, db += Σ da, dX = da·Wx.
    /// A masked row passes (dh, dc) through unchanged and contributes no gate gradient.
    func backward(outputGradient: UnsafePointer<Scalar>?, finalHiddenGradient: UnsafePointer<Scalar>?,
                  finalCellGradient: UnsafePointer<Scalar>?, computeInputGradient: Bool) {
        beginBackward(finalHiddenGradient: finalHiddenGradient, finalCellGradient: finalCellGradient)
        let bh = batch * hidden
        for t in stride(from: steps - 1, through: 0, by: -1) {
            backwardStep(t, outputGradient: outputGradient.map { $0 + t * bh })
        }
        finishBackward(computeInputGradient: computeInputGradient)
    }

    /// Starts backpropagation through the cached sequence from dL/dh_N, dL/dc_N [B, H] (nil: zero).
    func beginBackward(finalHiddenGradient: UnsafePointer<Scalar>?, finalCellGradient: UnsafePointer<Scalar>?) {
        guard input != nil else { preconditionFailure("RecurrentLayer.backward before forward") }
        let bh = batch * hidden
        let dh = self.dh.reserve(bh), dhPrevious = self.dhPrevious.reserve(bh)
        if hasMemory {
            let d = self.dc.reserve(bh)
            if let finalCellGradient { d.update(from: finalCellGradient, count: bh) } else { d.update(repeating: 0, count: bh) }
        }
        if let finalHiddenGradient { dh.update(from: finalHiddenGradient, count: bh) } else { dh.update(repeating: 0, count: bh) }
        carried = (dh, dhPrevious)
        hiddenGradientNorms?.reserve(steps * batch)
    }

    /// Step t of backpropagation through time (steps in decreasing order): adds dL/dh_t of the
    /// output (`outputGradient` [B, H], nil: unused) to the carried gradient, turns the step's
    /// gates into their gradients and carries dL/dh_{t−1} (and dL/dc_{t−1}) on.
    func backwardStep(_ t: Int, outputGradient: UnsafePointer<Scalar>?) {
        guard var (dh, dhPrevious) = carried else { preconditionFailure("RecurrentLayer.backwardStep before beginBackward") }
        let bh = batch * hidden, gw = gateWidth
        let gates = self.gates.pointer, h = self.h.pointer
        let c: UnsafeMutablePointer<Scalar>? = hasMemory ? self.c.pointer : nil
        let recurrent: UnsafeMutablePointer<Scalar>? = cell.separateRecurrentProduct ? self.recurrent.pointer : nil
        let cacheStride = cell.cacheWidth * bh
        let cache: UnsafeMutablePointer<Scalar>? = cacheStride > 0 ? self.cache.pointer : nil
        let dc: UnsafeMutablePointer<Scalar>? = hasMemory ? self.dc.pointer : nil
        // The gradient that flows through Wh: the gates' own, or the recurrent product's.
        let throughWh = recurrent ?? gates
        let offset = t * batch * gw
        timed(profiler, "cell pointwise backward") {
            if let outputGradient { Vector.axpy(1, outputGradient, dh, count: bh) }
            if let norms = hiddenGradientNorms?.pointer {
                // ‖∂L/∂h_t‖ per row (train --log-gradient-flow), before the step's own backward.
                for b in 0..<batch { norms[t * batch + b] = Scalar(Vector.sumOfSquares(dh + b * hidden, count: hidden).squareRoot()) }
            }
            let step = CellGradientStep(
                gates: gates + offset, recurrent: recurrent.map { $0 + offset },
                previousHidden: h + t * bh, previousCell: c.map { UnsafePointer($0 + t * bh) },
                hidden: h + (t + 1) * bh, cache: cache.map { UnsafePointer($0 + t * cacheStride) },
                hiddenGradient: dh, cellGradient: dc, previousHiddenGradient: dhPrevious,
                rows: batch, width: hidden, mask: mask.map { $0 + t * batch }, norm: norm)
            if norm == nil {
                // Rows are independent: split them across the threads, as the forward step does (a
                // layer-normalized cell sums its gain gradients over the rows, so it runs whole).
                Parallel.forEachPart(batch, work: batch * gw, context: BackwardPart(cell: cell, step: step, gw: gw)) { raw, lo, hi in
                    let p = raw.load(as: BackwardPart.self)
                    p.cell.backward(p.step.restricted(to: lo..<hi, gateWidth: p.gw, cacheWidth: p.cell.cacheWidth))
                }
            } else {
                cell.backward(step)
            }
        }
        // dh_{t−1} (+)= da_t·Wh: [B, G·H]·[G·H, H]; not for the constant h_0 = 0 (see `startsFromZero`).
        let previousIsConstant = t == 0 && startsFromZero
        if !previousIsConstant {
            timed(profiler, "gemm: recurrent backward") {
                BLAS.gemm(m: batch, n: hidden, k: gw, a: throughWh + offset, lda: gw, b: wh, ldb: hidden, beta: 1,
                          c: dhPrevious, ldc: hidden)
            }
        }
        swap(&dh, &dhPrevious)
        carried = (dh, dhPrevious)
    }

    /// One part of a step's pointwise backward (see `backwardStep`), on the caller's stack.
    private struct BackwardPart {
        let cell: RecurrentCell.Type, step: CellGradientStep, gw: Int
    }

    /// dL/dx_t = da_t·Wx[:, P:], [B, In − P], for step t after its ``backwardStep`` (a decoder run one
    /// step at a time needs it before the previous step; the preset columns' gradient is formed for
    /// all steps at once by ``finishBackward(computeInputGradient:)``). Valid until the next call.
    func stepInputGradient(_ t: Int) -> UnsafeMutablePointer<Scalar> {
        let gw = gateWidth, p = presetColumns, width = inputSize - p
        let dx = inputGradient.reserve(batch * max(1, width))
        timed(profiler, "gemm: input gradient") {
            BLAS.gemm(m: batch, n: width, k: gw, a: gates.pointer + t * batch * gw, lda: gw, b: wx + p, ldb: inputSize,
                      beta: 0, c: dx, ldc: width)
        }
        return dx
    }

    /// Ends backpropagation: dL/dh_0 into `dh` (when h_0 was given), the weight and bias gradients
    /// of all steps added at once, and (if asked) dL/dX [N·B, In] for all steps into `inputGradient`.
    func finishBackward(computeInputGradient: Bool) {
        guard let (dh, _) = carried, let input else { preconditionFailure("RecurrentLayer.finishBackward before beginBackward") }
        carried = nil
        let bh = batch * hidden, gw = gateWidth, rows = steps * batch
        let gates = self.gates.pointer, h = self.h.pointer
        let recurrent: UnsafeMutablePointer<Scalar>? = cell.separateRecurrentProduct ? self.recurrent.pointer : nil
        let throughWh = recurrent ?? gates
        // After an odd number of swaps the carried gradient sits in the other buffer; keep the
        // contract "dh holds dL/dh_0".
        if dh != self.dh.pointer { self.dh.pointer.update(from: dh, count: bh) }

        // Weight gradients over all steps at once, with daᵀ at the stride the backend multiplies
        // fastest, copied once for both products when they share it (see `BLAS.transposedOperand`).
        let da = timed(profiler, "gemm: weight gradients") {
            let da = BLAS.transposedOperand(gates, k: rows, m: gw, lda: gw, scratch: restridedGates)
            let throughWhOperand = recurrent == nil ? da : (a: UnsafePointer(throughWh), lda: gw)
            BLAS.gemm(transA: true, m: gw, n: inputSize, k: rows, a: da.a, lda: da.lda, b: input, ldb: inputSize,
                      beta: 1, c: gradWx, ldc: inputSize)
            BLAS.gemm(transA: true, m: gw, n: hidden, k: rows, a: throughWhOperand.a, lda: throughWhOperand.lda, b: h,
                      ldb: hidden, beta: 1, c: gradWh, ldc: hidden)
            return da
        }
        timed(profiler, "cell pointwise backward") {
            // From the operand the products just read (the same values): when it is the copy, each
            // thread sums the columns it copied, not rows the other thread's cell wrote.
            Vector.addColumnSumsInParallel(of: da.a, rows: rows, width: gw, rowStride: da.lda, into: gradBias)
            if let recurrent, let gradRecurrentBias {
                Vector.addColumnSumsInParallel(of: recurrent, rows: rows, width: gw, into: gradRecurrentBias)
            }
        }
        if presetColumns > 0 {
            // A stepped sequence's preset columns: dL/dX_P = da·Wx[:, :P] over all steps at once.
            let p = presetColumns, dx = presetInputGradient.reserve(rows * p)
            timed(profiler, "gemm: input gradient") {
                BLAS.gemm(m: rows, n: p, k: gw, a: gates, lda: gw, b: wx, ldb: inputSize, beta: 0, c: dx, ldc: p)
            }
        }
        if computeInputGradient {
            let dx = inputGradient.reserve(rows * inputSize)
            timed(profiler, "gemm: input gradient") {
                BLAS.gemm(m: rows, n: inputSize, k: gw, a: gates, lda: gw, b: wx, ldb: inputSize, beta: 0, c: dx, ldc: inputSize)
            }
        }
    }

    /// dL/dh_0, [B, H], after `backward`, of a sequence started from a given h_0 (precondition: one
    /// started from zeros skips step 1's product da·Wh and has no such gradient).
    var initialHiddenGradient: UnsafeMutablePointer<Scalar> {
        precondition(!startsFromZero, "dL/dh_0 of a sequence started from zeros (pass the initial state to get it)")
        return dh.pointer
    }
    /// dL/dc_0, [B, H], after `backward` (nil for cells without a memory).
    var initialCellGradient: UnsafeMutablePointer<Scalar>? { hasMemory ? dc.pointer : nil }
}
