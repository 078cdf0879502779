import Kernels

/// A decoder first layer's gate pre-activations of the embedding alone, looked up instead of
/// multiplied (int8 decoding): `table` [V, G·H] = E·W_eᵀ + b in float32 from the model's float32
/// weights (W_e the first E columns of Wx; b the fused bias, or b_ih for cells that keep the
/// recurrent product apart), and `rest`, the int8 product of Wx's other columns and, for fused
/// cells, Wh ([h̃ | h] with input feeding, [h] without; no bias). nil `rest`: Wx has no other columns
/// and the cell keeps the recurrent product apart. A step then reads 4·G·H bytes per row of the
/// table instead of G·H·E int8 weights, and the embedding's share is exact.
final class EmbeddingGates {
    let table: FloatBuffer
    /// E, the embedding columns the table replaces.
    let columns: Int
    let rest: (any WeightProduct)?

    init(table: FloatBuffer, columns: Int, rest: (any WeightProduct)?) {
        self.table = table
        self.columns = columns
        self.rest = rest
    }
}

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
    /// The decoder's first layer in int8: the embedding's part as a table (see ``EmbeddingGates``).
    var embedded: EmbeddingGates?

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

/// A decoder layer's weights transposed once for steps of many rows (float32 ``DecoderWeights``,
/// more rows than its packed products serve): Wxᵀ [In, G·H] and Whᵀ [H, G·H] (rows
/// `RecurrentLayer.transposedStride` apart), so that a step's
/// products run as x·(Wxᵀ) and h·(Whᵀ), the NN form, which oneDNN 2.6 runs faster than NT at
/// tens of rows (64×1024×256: 135 GFLOP/s NT, 191 NN on a Zen 4). The same snapshot contract as
/// the packed products; the reference backend gives the same bits either way.
final class TransposedLayer {
    let wxT: UnsafeMutablePointer<Scalar>
    let whT: UnsafeMutablePointer<Scalar>

    init(_ layer: RecurrentLayer) {
        let gw = layer.gateWidth, stride = RecurrentLayer.transposedStride(gateWidth: gw)
        wxT = .allocate(capacity: layer.inputSize * stride)
        whT = .allocate(capacity: layer.hidden * stride)
        Vector.transpose(layer.wx, rows: gw, columns: layer.inputSize, into: wxT, outputStride: stride)
        Vector.transpose(layer.wh, rows: gw, columns: layer.hidden, into: whT, outputStride: stride)
    }

    deinit {
        wxT.deallocate()
        whT.deallocate()
    }
}

extension RecurrentLayer {
    /// The products of one step on the prepared weights: gates [R, G·H] = [x | h]·[Wx | Wh]ᵀ + b in
    /// one pass (or x·Wxᵀ + b_ih into `gates` and h·Whᵀ + b_hh into `recurrent` for cells that keep
    /// the recurrent product apart). `x` [R, In], `previousHidden` [R, H]; `scratch` holds [x | h].
    func products(_ packed: PackedLayer, input x: UnsafePointer<Scalar>, rows: Int, previousHidden: UnsafePointer<Scalar>,
                  gates g: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?, scratch: FloatBuffer,
                  tokens: UnsafeBufferPointer<Int32>? = nil) {
        let gw = gateWidth, h = hidden
        if let embedded = packed.embedded, let tokens {
            embeddedProducts(embedded, packed: packed, input: x, tokens: tokens, rows: rows, previousHidden: previousHidden,
                             gates: g, recurrent: recurrent, scratch: scratch)
        } else if let joint = packed.joint {
            let xh = Self.joinRows(x, width: inputSize, previousHidden, width: h, rows: rows, into: scratch)
            joint.multiply(xh, lda: inputSize + h, rows: rows, into: g, ldc: gw)
        } else if let input = packed.input, let packedRecurrent = packed.recurrent, let recurrent {
            input.multiply(x, lda: inputSize, rows: rows, into: g, ldc: gw)
            packedRecurrent.multiply(previousHidden, lda: h, rows: rows, into: recurrent, ldc: gw)
        } else {
            preconditionFailure("PackedLayer was packed for another cell than \(cellType)")
        }
    }

    /// Rows [a_r | b_r] into `scratch`, [R, A + B], from a [R, A] and b [R, B].
    static func joinRows(_ a: UnsafePointer<Scalar>, width wa: Int, _ b: UnsafePointer<Scalar>, width wb: Int, rows: Int,
                         into scratch: FloatBuffer) -> UnsafePointer<Scalar> {
        let out = scratch.reserve(rows * (wa + wb))
        for r in 0..<rows {
            (out + r * (wa + wb)).update(from: a + r * wa, count: wa)
            (out + r * (wa + wb) + wa).update(from: b + r * wb, count: wb)
        }
        return UnsafePointer(out)
    }

    /// ``products`` with the embedding's part looked up: gates = table[token] + rest([x | h])
    /// (fused cells) or table[token] + rest(x) and the recurrent product apart. `x` [R, In − E]:
    /// the input columns after the embedding (h̃ with input feeding; not read when In = E).
    private func embeddedProducts(_ embedded: EmbeddingGates, packed: PackedLayer, input x: UnsafePointer<Scalar>,
                                  tokens: UnsafeBufferPointer<Int32>, rows: Int, previousHidden: UnsafePointer<Scalar>,
                                  gates g: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?,
                                  scratch: FloatBuffer) {
        let gw = gateWidth, h = hidden, width = inputSize - embedded.columns
        if packed.joint != nil, let rest = embedded.rest {
            if width == 0 {
                rest.multiply(previousHidden, lda: h, rows: rows, into: g, ldc: gw)
            } else {
                let xh = Self.joinRows(x, width: width, previousHidden, width: h, rows: rows, into: scratch)
                rest.multiply(xh, lda: width + h, rows: rows, into: g, ldc: gw)
            }
        } else if let packedRecurrent = packed.recurrent, let recurrent {
            if let rest = embedded.rest {
                rest.multiply(x, lda: width, rows: rows, into: g, ldc: gw)
            } else {
                g.update(repeating: 0, count: rows * gw)
            }
            packedRecurrent.multiply(previousHidden, lda: h, rows: rows, into: recurrent, ldc: gw)
        } else {
            preconditionFailure("EmbeddingGates without the products of a \(cellType) layer")
        }
        let table = embedded.table.pointer
        for (r, token) in tokens.enumerated() {
            Vector.axpy(1, table + Int(token) * gw, g + r * gw, count: gw)
        }
    }

    /// One decoding step for `rows` rows through the same ``advance`` that training's time loop
    /// runs: the state (`hidden`, and `cell` for cells with a memory, [R, H] each) is replaced by the
    /// next one, in place; `x` [R, In] is this step's input. With `packed` (at most
    /// ``DecoderWeights/maximumRows`` rows) the products come from the prepared weights instead of BLAS.
    /// With `tokens` (rows ids) and `packed` carrying ``EmbeddingGates``, `x` holds only the input
    /// columns after the embedding, [R, In − E], and the embedding's part comes from the table.
    /// Without `packed`, `transposed` (when given) runs the BLAS products in the NN form.
    func step(input x: UnsafePointer<Scalar>, rows: Int, hidden: UnsafeMutablePointer<Scalar>,
              cell c: UnsafeMutablePointer<Scalar>?, workspace: StepWorkspace, packed: PackedLayer?,
              tokens: UnsafeBufferPointer<Int32>? = nil, transposed: TransposedLayer? = nil) {
        let gw = gateWidth, h = self.hidden
        let g = workspace.gates.reserve(rows * gw)
        let recurrent: UnsafeMutablePointer<Scalar>? = cell.separateRecurrentProduct ? workspace.recurrent.reserve(rows * gw) : nil
        let cache: UnsafeMutablePointer<Scalar>? = cell.cacheWidth > 0 ? workspace.cache.reserve(rows * cell.cacheWidth * h) : nil
        if let packed {
            products(packed, input: x, rows: rows, previousHidden: hidden, gates: g, recurrent: recurrent, scratch: workspace.joined,
                     tokens: tokens)
        } else {
            Vector.fillRows(g, rows: rows, width: gw, with: bias)
            if let transposed {
                BLAS.gemm(m: rows, n: gw, k: inputSize, a: x, lda: inputSize, b: transposed.wxT,
                          ldb: RecurrentLayer.transposedStride(gateWidth: gw), beta: 1, c: g, ldc: gw)
            } else {
                BLAS.gemm(transB: true, m: rows, n: gw, k: inputSize, a: x, lda: inputSize,
                          b: wx, ldb: inputSize, beta: 1, c: g, ldc: gw)
            }
        }
        // In place: each element of (h, c) is read before it is overwritten.
        advance(gates: g, recurrent: recurrent, rows: rows, previousHidden: hidden, previousCell: c.map { UnsafePointer($0) },
                hidden: hidden, cell: c, cache: cache, mask: nil, skipRecurrentProduct: packed != nil,
                transposedWh: packed == nil ? transposed.map { UnsafePointer($0.whT) } : nil)
    }
}
