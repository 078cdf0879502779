import Kernels

/// One recurrent layer over a time-major sequence, for any ``RecurrentCell``: it owns the time loop,
/// the GEMMs, the padding mask, the reading direction's state (initial and final) and the one-step
/// API that decoding uses, so training and inference run the same step code.
///
/// Tensors (inside a ``ParameterStore``, PyTorch's names and layouts, weights [out×in]):
/// `PREFIX.weight_ih` Wx [G·H, In], `PREFIX.weight_hh` Wh [G·H, H], then either one fused
/// `PREFIX.bias` [G·H] (LSTM, Elman: PyTorch's b_ih + b_hh) or `PREFIX.bias_ih` and
/// `PREFIX.bias_hh` [G·H] each (GRU).
///
/// `forward` keeps in the layer what `backward` needs (the named cache below); `backward` ADDS into
/// the parameter gradients and leaves input and initial-state gradients in the layer.
final class RecurrentLayer {
    let cellType: CellType
    let cell: RecurrentCell.Type
    let inputSize: Int
    let hidden: Int
    /// G·H, the gate block width.
    let gateWidth: Int
    /// Wx [G·H, In], Wh [G·H, H]; `bias` is the fused bias or b_ih, `recurrentBias` b_hh (GRU only).
    let wx, wh, bias, gradWx, gradWh, gradBias: UnsafeMutablePointer<Scalar>
    let recurrentBias, gradRecurrentBias: UnsafeMutablePointer<Scalar>?

    // Cache of the last forward pass (sizes for N steps of B rows).
    private(set) var steps = 0
    private(set) var batch = 0
    var input: UnsafePointer<Scalar>?
    var mask: UnsafePointer<Scalar>?
    /// [N·B, G·H] input-side pre-activations, then what the cell keeps; backward turns them into
    /// pre-activation gradients in place.
    let gates = FloatBuffer()
    /// [N·B, G·H]: h·Whᵀ + b_hh per step when the cell keeps it apart (GRU), then its gradient.
    let recurrent = FloatBuffer()
    /// [(N+1)·B, H]: h_0 … h_N (h_0 the initial state).
    let h = FloatBuffer()
    /// [(N+1)·B, H]: c_0 … c_N (cells with a memory).
    let c = FloatBuffer()
    /// [N·B, cacheWidth·H]: the cell's own cache (LSTM: tanh c_t).
    let cache = FloatBuffer()
    /// [N·B, In]: gradient of the loss with respect to the input, after `backward`.
    let inputGradient = FloatBuffer()
    /// [B, H] each: carried gradients; after `backward`, `dh`/`dc` hold dL/dh_0 and dL/dc_0.
    let dh = FloatBuffer(), dc = FloatBuffer(), dhPrevious = FloatBuffer()
    var profiler: PhaseProfiler?
    /// When set, `backward` records ‖dL/dh_t‖ (the whole gradient reaching h_t, through the output
    /// and through h_{t+1}) for t = 1…N and every row into it, [N·B]. It only reads the gradients,
    /// so the arithmetic of backward is the same with or without it (`train --log-gradient-flow`).
    var hiddenGradientNorms: FloatBuffer?

    init(cell cellType: CellType, inputSize: Int, hidden: Int, store: ParameterStore, prefix: String) {
        self.cellType = cellType
        cell = cellType.cell
        self.inputSize = inputSize
        self.hidden = hidden
        gateWidth = cell.gateCount * hidden
        let x = store.view("\(prefix).weight_ih"), r = store.view("\(prefix).weight_hh")
        precondition(x.count == gateWidth * inputSize && r.count == gateWidth * hidden,
                     "\(prefix): weights hold \(x.count) and \(r.count) floats, expected \(gateWidth)×\(inputSize) and \(gateWidth)×\(hidden)")
        (wx, gradWx, wh, gradWh) = (x.values, x.gradients, r.values, r.gradients)
        if cell.separateRecurrentProduct {
            let bi = store.view("\(prefix).bias_ih"), bh = store.view("\(prefix).bias_hh")
            precondition(bi.count == gateWidth && bh.count == gateWidth,
                         "\(prefix): biases hold \(bi.count) and \(bh.count) floats, expected \(gateWidth) each")
            (bias, gradBias, recurrentBias, gradRecurrentBias) = (bi.values, bi.gradients, bh.values, bh.gradients)
        } else {
            let b = store.view("\(prefix).bias")
            precondition(b.count == gateWidth, "\(prefix).bias holds \(b.count) floats, expected \(gateWidth)")
            (bias, gradBias, recurrentBias, gradRecurrentBias) = (b.values, b.gradients, nil, nil)
        }
    }

    /// Names and shapes of the layer's tensors, in store order.
    static func layout(cell cellType: CellType, prefix: String, inputSize: Int, hidden: Int) -> [(name: String, shape: [Int])] {
        let g = cellType.cell.gateCount * hidden
        let weights = [("\(prefix).weight_ih", [g, inputSize]), ("\(prefix).weight_hh", [g, hidden])]
        if cellType.cell.separateRecurrentProduct {
            return weights + [("\(prefix).bias_ih", [g]), ("\(prefix).bias_hh", [g])]
        }
        return weights + [("\(prefix).bias", [g])]
    }

    var hasMemory: Bool { cell.hasMemory }
    /// Outputs h_1 … h_N, [N·B, H] (valid until the next forward).
    var outputs: UnsafeMutablePointer<Scalar> { h.pointer + batch * hidden }
    /// h_N, [B, H].
    var finalHidden: UnsafeMutablePointer<Scalar> { h.pointer + steps * batch * hidden }
    /// c_N, [B, H] (nil for cells without a memory).
    var finalCell: UnsafeMutablePointer<Scalar>? { hasMemory ? c.pointer + steps * batch * hidden : nil }

    /// Runs N steps. `input` [N·B, In] must stay alive until `backward`; `initialHidden`/`initialCell`
    /// [B, H] default to zeros (`initialCell` is ignored by cells without a memory); `mask` [N·B]
    /// holds 1 for a real step and 0 for padding (nil: all real).
    func forward(input: UnsafePointer<Scalar>, steps: Int, batch: Int,
                 initialHidden: UnsafePointer<Scalar>?, initialCell: UnsafePointer<Scalar>?,
                 mask: UnsafePointer<Scalar>?) {
        let bh = batch * hidden, gw = gateWidth
        self.steps = steps
        self.batch = batch
        self.input = input
        self.mask = mask
        let gates = self.gates.reserve(steps * batch * gw)
        let h = self.h.reserve((steps + 1) * bh)
        if let initialHidden { h.update(from: initialHidden, count: bh) } else { h.update(repeating: 0, count: bh) }
        var c: UnsafeMutablePointer<Scalar>?
        if hasMemory {
            let cells = self.c.reserve((steps + 1) * bh)
            if let initialCell { cells.update(from: initialCell, count: bh) } else { cells.update(repeating: 0, count: bh) }
            c = cells
        }
        let cacheStride = cell.cacheWidth * bh
        let cache: UnsafeMutablePointer<Scalar>? = cacheStride > 0 ? self.cache.reserve(steps * cacheStride) : nil
        let recurrent: UnsafeMutablePointer<Scalar>? = cell.separateRecurrentProduct ? self.recurrent.reserve(steps * batch * gw) : nil

        // Input projection of all steps at once: gates = b + X·Wxᵀ, [N·B, G·H].
        timed(profiler, "gemm: input projection") {
            for r in 0..<(steps * batch) { (gates + r * gw).update(from: bias, count: gw) }
            BLAS.gemm(transB: true, m: steps * batch, n: gw, k: inputSize, a: input, lda: inputSize,
                      b: wx, ldb: inputSize, beta: 1, c: gates, ldc: gw)
        }
        for t in 0..<steps {
            let offset = t * batch * gw
            advance(gates: gates + offset, recurrent: recurrent.map { $0 + offset }, rows: batch,
                    previousHidden: h + t * bh, previousCell: c.map { $0 + t * bh },
                    hidden: h + (t + 1) * bh, cell: c.map { $0 + (t + 1) * bh },
                    cache: cache.map { $0 + t * cacheStride }, mask: mask.map { $0 + t * batch })
        }
    }

    /// The recurrent part of one step, shared by training's time loop and decoding's `step`:
    /// adds h_{t−1}·Whᵀ to `gates` [R, G·H] (or forms b_hh + h_{t−1}·Whᵀ in `recurrent` when the cell
    /// keeps it apart), then the cell's pointwise step writes (h, c)_t. `gates` holds b + x_t·Wxᵀ.
    @inline(__always)
    func advance(gates: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?, rows: Int,
                 previousHidden: UnsafePointer<Scalar>, previousCell: UnsafePointer<Scalar>?,
                 hidden: UnsafeMutablePointer<Scalar>, cell c: UnsafeMutablePointer<Scalar>?,
                 cache: UnsafeMutablePointer<Scalar>?, mask: UnsafePointer<Scalar>?, skipRecurrentProduct: Bool = false) {
        let gw = gateWidth
        if !skipRecurrentProduct {
            // Recurrence: gates_t += h_{t−1}·Whᵀ (or recurrent_t = b_hh + h_{t−1}·Whᵀ).
            timed(profiler, "gemm: recurrent") {
                if let recurrent, let recurrentBias {
                    for r in 0..<rows { (recurrent + r * gw).update(from: recurrentBias, count: gw) }
                    BLAS.gemm(transB: true, m: rows, n: gw, k: self.hidden, a: previousHidden, lda: self.hidden,
                              b: wh, ldb: self.hidden, beta: 1, c: recurrent, ldc: gw)
                } else {
                    BLAS.gemm(transB: true, m: rows, n: gw, k: self.hidden, a: previousHidden, lda: self.hidden,
                              b: wh, ldb: self.hidden, beta: 1, c: gates, ldc: gw)
                }
            }
        }
        timed(profiler, "cell pointwise forward") {
            cell.forward(gates: gates, recurrent: recurrent, previousHidden: previousHidden, previousCell: previousCell,
                         hidden: hidden, cell: c, cache: cache, rows: rows, width: self.hidden, mask: mask)
        }
    }
}
