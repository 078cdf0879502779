import Kernels

extension RecurrentStack {
    /// Starts N steps of B rows run one at a time through every layer (a unidirectional decoder
    /// whose next input depends on its last output: input feeding). `initial` per layer (h, c)
    /// [B, H] (nil: zeros). Dropout, when applied, on every layer's output but the top one's, drawn
    /// step by step, layer by layer. `preset` [N·B, P]: the first P input columns of every step,
    /// known in advance (see ``RecurrentLayer/beginSteps(steps:batch:initialHidden:initialCell:preset:presetColumns:)``).
    func beginSteps(steps: Int, batch: Int, initial: [(h: UnsafePointer<Scalar>, c: UnsafePointer<Scalar>?)]?, applyDropout: Bool,
                    preset: UnsafePointer<Scalar>? = nil, presetColumns: Int = 0) {
        precondition(!bidirectional, "a stack run one step at a time reads one way")
        self.steps = steps
        self.batch = batch
        let rows = steps * batch
        dropped = (0..<layerCount).map { applyDropout && dropout > 0 && $0 < layerCount - 1 }
        for (l, layer) in forwardLayers.enumerated() {
            layer.beginSteps(steps: steps, batch: batch, initialHidden: initial?[l].h, initialCell: initial?[l].c,
                             preset: l == 0 ? preset : nil, presetColumns: l == 0 ? presetColumns : 0)
            if isResidual(l) { combined[l].reserve(rows * hidden) }
            if dropped[l] {
                dropoutSites[l].mask.reserve(rows * hidden)
                dropoutSites[l].output.reserve(rows * hidden)
            }
        }
    }

    /// Step t (in increasing order) of a sequence begun with ``beginSteps``: `x` [B, In − P] (the
    /// columns after the preset ones) through every layer. Returns the top layer's output of the step, [B, H] (valid until the next sequence).
    func forwardStep(_ t: Int, input x0: UnsafePointer<Scalar>, rng: inout SeededGenerator) -> UnsafePointer<Scalar> {
        let width = batch * hidden, offset = t * width
        var x = x0
        for (l, layer) in forwardLayers.enumerated() {
            var y = layer.forwardStep(t, input: x)
            if isResidual(l) {
                let sum = combined[l].pointer + offset
                for i in 0..<width { sum[i] = y[i] + x[i] }
                y = UnsafePointer(sum)
            }
            if dropped[l] {
                let p = dropout, keep = 1 / (1 - dropout)
                let mask = dropoutSites[l].mask.pointer + offset, out = dropoutSites[l].output.pointer + offset
                for i in 0..<width { mask[i] = rng.nextUnitFloat() < p ? 0 : keep }
                for i in 0..<width { out[i] = y[i] * mask[i] }
                y = UnsafePointer(out)
            }
            x = y
        }
        return x
    }

    /// Starts backpropagation through a sequence run with ``forwardStep`` (no gradient at the final states).
    func beginBackwardSteps() {
        for layer in forwardLayers { layer.beginBackward(finalHiddenGradient: nil, finalCellGradient: nil) }
    }

    /// Step t (in decreasing order) of backpropagation: from dL/d(top output) of the step [B, H]
    /// to dL/d(input) of the step, [B, In − P] (returned; valid until the next step).
    func backwardStep(_ t: Int, outputGradient: UnsafePointer<Scalar>) -> UnsafePointer<Scalar> {
        let width = batch * hidden, offset = t * width
        var gradient = outputGradient
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let layer = forwardLayers[l]
            if dropped[l] {
                // The masks of layers below the top: this gradient is the upper layer's input gradient, ours to change.
                let g = UnsafeMutablePointer(mutating: gradient), mask = dropoutSites[l].mask.pointer + offset
                for i in 0..<width { g[i] *= mask[i] }
            }
            layer.backwardStep(t, outputGradient: gradient)
            let dx = layer.stepInputGradient(t)
            if isResidual(l) { Vector.axpy(1, gradient, dx, count: width) }
            gradient = UnsafePointer(dx)
        }
        return gradient
    }

    /// Ends backpropagation through a stepped sequence: every layer's weight gradients; dL/dh_0 and
    /// dL/dc_0 then as after ``backward(outputGradient:finalHiddenGradients:finalCellGradients:)``.
    func finishBackwardSteps() {
        for layer in forwardLayers { layer.finishBackward(computeInputGradient: false) }
    }

    /// dL/d(preset input columns) [N·B, P] after ``finishBackwardSteps()``.
    var presetInputGradient: UnsafeMutablePointer<Scalar> { forwardLayers[0].presetInputGradient.pointer }
}
