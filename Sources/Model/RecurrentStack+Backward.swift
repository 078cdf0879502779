import Kernels

extension RecurrentStack {
    /// Backpropagation through the stack's last `forward`.
    ///
    /// - outputGradient: dL/d(top output after dropout) [N·B, H], or nil when the top outputs are
    ///   unused; it is overwritten (dropout masks are applied in place).
    /// - finalHiddenGradients, finalCellGradients: per layer dL/dh_N, dL/dc_N [B, H] (nil: zero).
    ///
    /// Per layer, top down: the dropout mask, then the layer's (both directions') backward; a
    /// residual layer passes its output gradient on to its input unchanged as well.
    /// Returns dL/d(input) [N·B, In].
    func backward(outputGradient: UnsafeMutablePointer<Scalar>?, finalHiddenGradients: [UnsafePointer<Scalar>?],
                  finalCellGradients: [UnsafePointer<Scalar>?]) -> UnsafeMutablePointer<Scalar> {
        let rows = steps * batch, h = hidden
        var gradient = outputGradient
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            if let g = gradient, dropped[l] {
                let mask = dropoutSites[l].mask.pointer
                for i in 0..<(rows * h) { g[i] *= mask[i] }
            }
            let layer = forwardLayers[l]
            var inputGradient: UnsafeMutablePointer<Scalar>
            if bidirectional {
                inputGradient = backwardBothDirections(l, outputGradient: gradient, finalHidden: finalHiddenGradients[l],
                                                       finalCell: finalCellGradients[l])
            } else {
                layer.backward(outputGradient: gradient.map { UnsafePointer($0) }, finalHiddenGradient: finalHiddenGradients[l],
                               finalCellGradient: finalCellGradients[l], computeInputGradient: true)
                inputGradient = layer.inputGradient.pointer
            }
            if isResidual(l), let g = gradient {
                Vector.axpy(1, g, inputGradient, count: rows * h)
            }
            gradient = inputGradient
        }
        return gradient!
    }

    /// Splits the gradient of bidirectional layer l's output and final states between its two
    /// directions, runs both backward, and returns dL/d(input) = forward dX + backward dX put back
    /// in reading order, [N·B, In].
    private func backwardBothDirections(_ l: Int, outputGradient: UnsafeMutablePointer<Scalar>?,
                                        finalHidden: UnsafePointer<Scalar>?, finalCell: UnsafePointer<Scalar>?)
        -> UnsafeMutablePointer<Scalar> {
        let fwd = forwardLayers[l], bwd = backwardLayers[l]
        let rows = steps * batch, u = fwd.hidden, h = hidden, inputSize = fwd.inputSize
        var gf: UnsafePointer<Scalar>?, gb: UnsafePointer<Scalar>?
        if let g = outputGradient {
            let f = forwardGradient.reserve(rows * u), b = backwardGradient.reserve(rows * u)
            for r in 0..<rows {
                (f + r * u).update(from: g + r * h, count: u)
                (b + Int(reversal[r]) * u).update(from: g + r * h + u, count: u)
            }
            (gf, gb) = (UnsafePointer(f), UnsafePointer(b))
        }
        let (hf, hb) = split(finalHidden, forwardFinal, backwardFinal)
        let (cf, cb) = split(finalCell, forwardFinalCell, backwardFinalCell)
        fwd.backward(outputGradient: gf, finalHiddenGradient: hf, finalCellGradient: cf, computeInputGradient: true)
        bwd.backward(outputGradient: gb, finalHiddenGradient: hb, finalCellGradient: cb, computeInputGradient: true)
        let dx = inputGradients[l].reserve(rows * inputSize)
        dx.update(from: fwd.inputGradient.pointer, count: rows * inputSize)
        let reverse = bwd.inputGradient.pointer
        for r in 0..<rows {
            Vector.axpy(1, reverse + Int(reversal[r]) * inputSize, dx + r * inputSize, count: inputSize)
        }
        return dx
    }
}
