import Kernels

/// Scratch space of one-step decoding, reused from step to step: gates [R, G·H], the recurrent
/// product [R, G·H] (cells that keep it apart), the cell's cache [R, cacheWidth·H] and the joined
/// input [R, In + H] of the packed path.
final class StepWorkspace {
    let gates = FloatBuffer(), recurrent = FloatBuffer(), cache = FloatBuffer(), joined = FloatBuffer()
}

/// A layer's weights prepared for decoding steps (see ``DecoderWeights``): for cells with one
/// fused product `[Wx | Wh]` with the bias (a step's gates in one pass over the weights); for cells
/// that keep the recurrent product apart (GRU), Wx with b_ih and Wh with b_hh.
struct PackedLayer {
    let joint: (any WeightProduct)?
    let input: (any WeightProduct)?
    let recurrent: (any WeightProduct)?

    /// `pack` makes one product in the decoder's precision; `name` prefixes the products' names
    /// (`.joint`, or `.input` and `.recurrent`).
    init(_ layer: RecurrentLayer, name: String, pack: DecoderWeights.Packer) rethrows {
        if let recurrentBias = layer.recurrentBias {
            joint = nil
            input = try pack("\(name).input", [(UnsafePointer(layer.wx), layer.inputSize)], layer.gateWidth, layer.bias)
            recurrent = try pack("\(name).recurrent", [(UnsafePointer(layer.wh), layer.hidden)], layer.gateWidth, recurrentBias)
        } else {
            joint = try pack("\(name).joint", [(UnsafePointer(layer.wx), layer.inputSize), (UnsafePointer(layer.wh), layer.hidden)],
                             layer.gateWidth, layer.bias)
            input = nil
            recurrent = nil
        }
    }
}

extension RecurrentLayer {
    /// The products of one step on the prepared weights: gates [R, G·H] = [x | h]·[Wx | Wh]ᵀ + b in
    /// one pass (or x·Wxᵀ + b_ih into `gates` and h·Whᵀ + b_hh into `recurrent` for cells that keep
    /// the recurrent product apart). `x` [R, In], `previousHidden` [R, H]; `scratch` holds [x | h].
    func products(_ packed: PackedLayer, input x: UnsafePointer<Scalar>, rows: Int, previousHidden: UnsafePointer<Scalar>,
                  gates g: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?, scratch: FloatBuffer) {
        let gw = gateWidth, h = hidden
        if let joint = packed.joint {
            let width = inputSize + h
            let xh = scratch.reserve(rows * width)
            for r in 0..<rows {
                (xh + r * width).update(from: x + r * inputSize, count: inputSize)
                (xh + r * width + inputSize).update(from: previousHidden + r * h, count: h)
            }
            joint.multiply(xh, lda: width, rows: rows, into: g, ldc: gw)
        } else if let input = packed.input, let packedRecurrent = packed.recurrent, let recurrent {
            input.multiply(x, lda: inputSize, rows: rows, into: g, ldc: gw)
            packedRecurrent.multiply(previousHidden, lda: h, rows: rows, into: recurrent, ldc: gw)
        } else {
            preconditionFailure("PackedLayer was packed for another cell than \(cellType)")
        }
    }

    /// One decoding step for `rows` rows through the same ``advance`` that training's time loop
    /// runs: the state (`hidden`, and `cell` for cells with a memory, [R, H] each) is replaced by the
    /// next one, in place; `x` [R, In] is this step's input. With `packed` (at most
    /// ``DecoderWeights/maximumRows`` rows) the products come from the prepared weights instead of BLAS.
    func step(input x: UnsafePointer<Scalar>, rows: Int, hidden: UnsafeMutablePointer<Scalar>,
              cell c: UnsafeMutablePointer<Scalar>?, workspace: StepWorkspace, packed: PackedLayer?) {
        let gw = gateWidth, h = self.hidden
        let g = workspace.gates.reserve(rows * gw)
        let recurrent: UnsafeMutablePointer<Scalar>? = cell.separateRecurrentProduct ? workspace.recurrent.reserve(rows * gw) : nil
        let cache: UnsafeMutablePointer<Scalar>? = cell.cacheWidth > 0 ? workspace.cache.reserve(rows * cell.cacheWidth * h) : nil
        if let packed {
            products(packed, input: x, rows: rows, previousHidden: hidden, gates: g, recurrent: recurrent, scratch: workspace.joined)
        } else {
            for r in 0..<rows { (g + r * gw).update(from: bias, count: gw) }
            BLAS.gemm(transB: true, m: rows, n: gw, k: inputSize, a: x, lda: inputSize,
                      b: wx, ldb: inputSize, beta: 1, c: g, ldc: gw)
        }
        // In place: each element of (h, c) is read before it is overwritten.
        advance(gates: g, recurrent: recurrent, rows: rows, previousHidden: hidden, previousCell: c.map { UnsafePointer($0) },
                hidden: hidden, cell: c, cache: cache, mask: nil, skipRecurrentProduct: packed != nil)
    }
}
