import Kernels

extension RecurrentStack {
    /// One decoding step through every layer (unidirectional stacks): layer l's state
    /// (`hidden[l]`, and `cell[l]` for cells with a memory, [R, H]) is replaced by the next one in
    /// place, through ``RecurrentLayer/step(input:rows:hidden:cell:workspace:packed:tokens:)``, the step
    /// code training runs; residual layers add their input to their output. `x` [R, In]. Returns
    /// the top layer's output, [R, H] (valid until the next step).
    /// With `tokens` and a first packed layer carrying ``EmbeddingGates``, `x` is only the first
    /// layer's input columns after the embedding (see ``RecurrentLayer/step(input:rows:hidden:cell:workspace:packed:tokens:)``).
    func step(input x0: UnsafePointer<Scalar>, rows: Int, hidden: [FloatBuffer], cell: [FloatBuffer],
              workspace: StepWorkspace, packed: [PackedLayer]?, residualSums: [FloatBuffer],
              tokens: UnsafeBufferPointer<Int32>? = nil, transposed: [TransposedLayer]? = nil) -> UnsafePointer<Scalar> {
        precondition(!bidirectional, "decoding steps a unidirectional stack")
        var x = x0
        for (l, layer) in forwardLayers.enumerated() {
            layer.step(input: x, rows: rows, hidden: hidden[l].pointer, cell: layer.hasMemory ? cell[l].pointer : nil,
                       workspace: workspace, packed: packed?[l], tokens: l == 0 ? tokens : nil, transposed: transposed?[l])
            if isResidual(l) {
                let sum = residualSums[l].reserve(rows * self.hidden)
                let layerOutput = hidden[l].pointer
                for i in 0..<(rows * self.hidden) { sum[i] = layerOutput[i] + x[i] }
                x = UnsafePointer(sum)
            } else {
                x = UnsafePointer(hidden[l].pointer)
            }
        }
        return x
    }
}
