import Kernels

/// L recurrent layers stacked: each layer one direction, or two reading opposite ways
/// (bidirectional, H/2 units each, outputs [forward | backward] concatenated to H), with optional
/// residual connections (from the second layer on, a layer's input is added to its output) and
/// inverted dropout on layer outputs (on the sum, for a residual layer). The encoder and the decoder are each one stack.
///
/// Tensors: `PREFIX.lL.*` for layer L (see ``RecurrentLayer``), `PREFIX.lL_reverse.*` for the
/// backward direction of a bidirectional layer (PyTorch's `_reverse` suffix).
///
/// Shapes: N steps of B rows, input [N·B, In], every layer's output [N·B, H], final states
/// [B, H] (for a bidirectional layer [h_forward | h_backward], each H/2 wide).
final class RecurrentStack {
    let hidden: Int
    let bidirectional: Bool
    let residual: Bool
    let dropout: Scalar
    /// Per layer, the (forward-direction) layer and, if bidirectional, the backward one.
    let forwardLayers: [RecurrentLayer]
    let backwardLayers: [RecurrentLayer]
    var layerCount: Int { forwardLayers.count }
    var hasMemory: Bool { forwardLayers[0].hasMemory }
    var profiler: PhaseProfiler? {
        didSet { for layer in forwardLayers + backwardLayers { layer.profiler = profiler } }
    }

    // Cache of the last forward pass.
    var steps = 0, batch = 0
    /// Per layer: its input (after the previous layer's dropout), [N·B, In_l].
    var layerInputs: [UnsafePointer<Scalar>] = []
    /// Per layer: [N·B, H] the concatenated directions and/or the residual sum (when used).
    let combined: [FloatBuffer]
    /// Per layer: the scaled keep mask and the dropped activations, [N·B, H].
    let dropoutSites: [(mask: FloatBuffer, output: FloatBuffer)]
    var dropped: [Bool] = []
    /// Per layer, what its output is before dropout.
    var layerOutputs: [UnsafePointer<Scalar>] = []
    /// Bidirectional: [N·B] the row involution that reverses each sentence's real steps in place
    /// (row t·B+b ↔ (len_b−1−t)·B+b for t < len_b; padding stays).
    var reversal: [Int32] = []
    /// Bidirectional, per layer: the reversed input [N·B, In_l], final states [B, H], gradients.
    let reversedInputs: [FloatBuffer]
    let finalHiddenBuffers: [FloatBuffer], finalCellBuffers: [FloatBuffer]
    let forwardGradient = FloatBuffer(), backwardGradient = FloatBuffer()
    let forwardFinal = FloatBuffer(), backwardFinal = FloatBuffer()
    let forwardFinalCell = FloatBuffer(), backwardFinalCell = FloatBuffer()
    let scratchGradient = FloatBuffer()
    /// Per layer: dL/d(input) [N·B, In_l] after `backward` when the stack combines gradients.
    let inputGradients: [FloatBuffer]
    /// Bidirectional, per layer: initial states split per direction, and their gradients joined.
    let initialBuffers: [(h: FloatBuffer, c: FloatBuffer, hr: FloatBuffer, cr: FloatBuffer)]
    let initialGradientBuffers: [(h: FloatBuffer, c: FloatBuffer)]

    init(cell: CellType, layerNorm: Bool = false, layers: Int, inputSize: Int, hidden: Int, bidirectional: Bool, residual: Bool,
         dropout: Scalar, store: ParameterStore, prefix: String) {
        self.hidden = hidden
        self.bidirectional = bidirectional
        self.residual = residual
        self.dropout = dropout
        let units = bidirectional ? hidden / 2 : hidden
        forwardLayers = (0..<layers).map {
            RecurrentLayer(cell: cell, layerNorm: layerNorm, inputSize: $0 == 0 ? inputSize : hidden, hidden: units, store: store,
                           prefix: "\(prefix).l\($0)")
        }
        backwardLayers = bidirectional ? (0..<layers).map {
            RecurrentLayer(cell: cell, layerNorm: layerNorm, inputSize: $0 == 0 ? inputSize : hidden, hidden: units, store: store,
                           prefix: "\(prefix).l\($0)_reverse")
        } : []
        combined = (0..<layers).map { _ in FloatBuffer() }
        dropoutSites = (0..<layers).map { _ in (FloatBuffer(), FloatBuffer()) }
        reversedInputs = (0..<layers).map { _ in FloatBuffer() }
        finalHiddenBuffers = (0..<layers).map { _ in FloatBuffer() }
        finalCellBuffers = (0..<layers).map { _ in FloatBuffer() }
        inputGradients = (0..<layers).map { _ in FloatBuffer() }
        initialBuffers = (0..<layers).map { _ in (FloatBuffer(), FloatBuffer(), FloatBuffer(), FloatBuffer()) }
        initialGradientBuffers = (0..<layers).map { _ in (FloatBuffer(), FloatBuffer()) }
    }

    /// Names and shapes of the stack's tensors, in store order (layer by layer, the reverse
    /// direction right after the forward one).
    static func layout(cell: CellType, layerNorm: Bool = false, layers: Int, inputSize: Int, hidden: Int, bidirectional: Bool,
                       prefix: String) -> [(name: String, shape: [Int])] {
        let units = bidirectional ? hidden / 2 : hidden
        var layout: [(name: String, shape: [Int])] = []
        for l in 0..<layers {
            let input = l == 0 ? inputSize : hidden
            layout += RecurrentLayer.layout(cell: cell, layerNorm: layerNorm, prefix: "\(prefix).l\(l)", inputSize: input, hidden: units)
            if bidirectional {
                layout += RecurrentLayer.layout(cell: cell, layerNorm: layerNorm, prefix: "\(prefix).l\(l)_reverse", inputSize: input,
                                                hidden: units)
            }
        }
        return layout
    }

    /// Whether layer l adds its input to its output.
    func isResidual(_ l: Int) -> Bool { residual && l > 0 }

    /// Layer l's output before dropout, [N·B, H], after `forward`.
    func output(layer l: Int) -> UnsafePointer<Scalar> { layerOutputs[l] }

    /// Layer l's final hidden state [B, H] (both directions concatenated when bidirectional).
    func finalHidden(layer l: Int) -> UnsafePointer<Scalar> {
        bidirectional ? UnsafePointer(finalHiddenBuffers[l].pointer) : UnsafePointer(forwardLayers[l].finalHidden)
    }

    /// Layer l's final memory [B, H] (nil for cells without one).
    func finalCell(layer l: Int) -> UnsafePointer<Scalar>? {
        guard hasMemory else { return nil }
        return bidirectional ? UnsafePointer(finalCellBuffers[l].pointer) : forwardLayers[l].finalCell.map { UnsafePointer($0) }
    }

    /// dL/dh_0 of layer l, [B, H] ([forward | backward] when bidirectional), after `backward` of a
    /// sequence started from given states (precondition; see `RecurrentLayer.startsFromZero`).
    func initialHiddenGradient(layer l: Int) -> UnsafePointer<Scalar> {
        guard bidirectional else { return UnsafePointer(forwardLayers[l].initialHiddenGradient) }
        return join(forwardLayers[l].initialHiddenGradient, backwardLayers[l].initialHiddenGradient, into: initialGradientBuffers[l].h)
    }

    /// dL/dc_0 of layer l, [B, H], after `backward` (nil for cells without a memory).
    func initialCellGradient(layer l: Int) -> UnsafePointer<Scalar>? {
        guard let forward = forwardLayers[l].initialCellGradient else { return nil }
        guard bidirectional, let backward = backwardLayers[l].initialCellGradient else { return UnsafePointer(forward) }
        return join(forward, backward, into: initialGradientBuffers[l].c)
    }

    /// [B, H] rows [a_b | b_b] from two [B, H/2] matrices.
    func join(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, into buffer: FloatBuffer) -> UnsafePointer<Scalar> {
        let u = hidden / 2
        let out = buffer.reserve(batch * hidden)
        for row in 0..<batch {
            (out + row * hidden).update(from: a + row * u, count: u)
            (out + row * hidden + u).update(from: b + row * u, count: u)
        }
        return UnsafePointer(out)
    }

    /// Two [B, H/2] matrices from the rows [first | second] of a [B, H] one.
    func split(_ source: UnsafePointer<Scalar>?, _ first: FloatBuffer, _ second: FloatBuffer)
        -> (UnsafePointer<Scalar>?, UnsafePointer<Scalar>?) {
        guard let source else { return (nil, nil) }
        let u = hidden / 2
        let a = first.reserve(batch * u), b = second.reserve(batch * u)
        for row in 0..<batch {
            (a + row * u).update(from: source + row * hidden, count: u)
            (b + row * u).update(from: source + row * hidden + u, count: u)
        }
        return (UnsafePointer(a), UnsafePointer(b))
    }

    /// Runs every layer over N steps. `mask` [N·B] (1 real, 0 padding; real steps first in every
    /// row), `initial` per layer (h, c) [B, H] (nil: zeros; [forward | backward] halves when
    /// bidirectional, the backward direction starting at each row's last real step). Dropout
    /// with `rng` on every layer's output but the top one's unless `dropTop`, drawn layer by layer.
    /// Returns the top layer's output (after dropout if applied), [N·B, H]. `packed` (inference
    /// only): each layer's (and backward direction's) prepared products, see ``RecurrentLayer/forward``.
    func forward(input: UnsafePointer<Scalar>, steps: Int, batch: Int, mask: UnsafePointer<Scalar>?,
                 initial: [(h: UnsafePointer<Scalar>, c: UnsafePointer<Scalar>?)]?, applyDropout: Bool, dropTop: Bool,
                 rng: inout SeededGenerator, packed: StackProducts? = nil) -> UnsafePointer<Scalar> {
        self.steps = steps
        self.batch = batch
        layerInputs.removeAll(keepingCapacity: true)
        layerOutputs.removeAll(keepingCapacity: true)
        dropped.removeAll(keepingCapacity: true)
        if bidirectional { prepareReversal(mask: mask) }
        let rows = steps * batch, h = hidden
        var x = input
        for l in 0..<layerCount {
            layerInputs.append(x)
            let layer = forwardLayers[l]
            var y: UnsafePointer<Scalar>
            if bidirectional {
                let buffers = initialBuffers[l]
                let (hf, hb) = split(initial?[l].h, buffers.h, buffers.hr)
                let (cf, cb) = split(initial?[l].c, buffers.c, buffers.cr)
                layer.forward(input: x, steps: steps, batch: batch, initialHidden: hf, initialCell: cf, mask: mask,
                              packed: packed?.forward[l])
                y = forwardBackwardDirection(l, input: x, mask: mask, initialHidden: hb, initialCell: cb, packed: packed?.backward[l])
            } else {
                layer.forward(input: x, steps: steps, batch: batch, initialHidden: initial?[l].h, initialCell: initial?[l].c, mask: mask,
                              packed: packed?.forward[l])
                y = UnsafePointer(layer.outputs)
            }
            if isResidual(l) {
                let sum = combined[l].reserve(rows * h)
                // One pass (sum may be y itself, for a bidirectional layer: elementwise, so safe).
                for i in 0..<(rows * h) { sum[i] = y[i] + x[i] }
                y = UnsafePointer(sum)
            }
            layerOutputs.append(y)
            let drop = applyDropout && dropout > 0 && (dropTop || l < layerCount - 1)
            dropped.append(drop)
            x = drop ? applyInvertedDropout(y, count: rows * h, site: dropoutSites[l], rng: &rng) : y
        }
        return x
    }

    /// Inverted dropout: keeps each unit with probability 1−p and scales it by 1/(1−p).
    private func applyInvertedDropout(_ x: UnsafePointer<Scalar>, count: Int, site: (mask: FloatBuffer, output: FloatBuffer),
                                      rng: inout SeededGenerator) -> UnsafePointer<Scalar> {
        let p = dropout, keep = 1 / (1 - dropout)
        let mask = site.mask.reserve(count), out = site.output.reserve(count)
        for i in 0..<count { mask[i] = rng.nextUnitFloat() < p ? 0 : keep }
        for i in 0..<count { out[i] = x[i] * mask[i] }
        return UnsafePointer(out)
    }

    private func prepareReversal(mask: UnsafePointer<Scalar>?) {
        let b = batch
        reversal.removeAll(keepingCapacity: true)
        for r in 0..<(steps * b) { reversal.append(Int32(r)) }
        for row in 0..<b {
            var length = steps
            if let mask {
                length = 0
                while length < steps && mask[length * b + row] != 0 { length += 1 }
            }
            for t in 0..<length { reversal[t * b + row] = Int32((length - 1 - t) * b + row) }
        }
    }

    /// Runs the backward direction of bidirectional layer l over the per-sentence reversed input
    /// and returns [N·B, H] = [forward output | backward output put back in reading order].
    private func forwardBackwardDirection(_ l: Int, input x: UnsafePointer<Scalar>, mask: UnsafePointer<Scalar>?,
                                          initialHidden: UnsafePointer<Scalar>?, initialCell: UnsafePointer<Scalar>?,
                                          packed: PackedLayer?) -> UnsafePointer<Scalar> {
        let fwd = forwardLayers[l], bwd = backwardLayers[l]
        let rows = steps * batch, u = fwd.hidden, inputSize = fwd.inputSize, h = hidden
        let reversed = reversedInputs[l].reserve(rows * inputSize)
        reversal.withUnsafeBufferPointer { Vector.gatherRows(x, rows: $0, width: inputSize, into: reversed) }
        bwd.forward(input: reversed, steps: steps, batch: batch, initialHidden: initialHidden, initialCell: initialCell, mask: mask,
                    packed: packed)
        let out = combined[l].reserve(rows * h)
        for r in 0..<rows {
            (out + r * h).update(from: fwd.outputs + r * u, count: u)
            (out + r * h + u).update(from: bwd.outputs + Int(reversal[r]) * u, count: u)
        }
        let fh = finalHiddenBuffers[l].reserve(batch * h)
        for b in 0..<batch {
            (fh + b * h).update(from: fwd.finalHidden + b * u, count: u)
            (fh + b * h + u).update(from: bwd.finalHidden + b * u, count: u)
        }
        if let fc = fwd.finalCell, let bc = bwd.finalCell {
            let cells = finalCellBuffers[l].reserve(batch * h)
            for b in 0..<batch {
                (cells + b * h).update(from: fc + b * u, count: u)
                (cells + b * h + u).update(from: bc + b * u, count: u)
            }
        }
        return UnsafePointer(out)
    }
}

/// A stack's layers prepared for inference (see ``DecoderWeights``): per layer its forward
/// direction's products and, for a bidirectional stack, its backward direction's.
struct StackProducts {
    let forward: [PackedLayer]
    let backward: [PackedLayer]

    /// `pack` makes one product in the chosen precision; products are named `NAME.L.…` and
    /// `NAME.L.reverse.…`.
    init(_ stack: RecurrentStack, name: String, pack: DecoderWeights.Packer) rethrows {
        var forward: [PackedLayer] = [], backward: [PackedLayer] = []
        for (l, layer) in stack.forwardLayers.enumerated() { forward.append(try PackedLayer(layer, name: "\(name).\(l)", pack: pack)) }
        for (l, layer) in stack.backwardLayers.enumerated() { backward.append(try PackedLayer(layer, name: "\(name).\(l).reverse", pack: pack)) }
        self.forward = forward
        self.backward = backward
    }
}
