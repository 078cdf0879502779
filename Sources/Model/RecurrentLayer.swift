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
    /// The layer normalization weights of a layer-normalized cell (``CellNorm``); nil otherwise.
    let norm: CellNorm?

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
    /// The sequence started from h_0 = 0 (no initial hidden state given): step 1's recurrent product
    /// h_0·Whᵀ is zero and skipped, and so is backward's dh_0 += da_1·Wh (nothing reads dL/dh_0 of
    /// a constant).
    private(set) var startsFromZero = false
    /// [(N+1)·B, H]: c_0 … c_N (cells with a memory).
    let c = FloatBuffer()
    /// [N·B, cacheWidth·H]: the cell's own cache (LSTM: tanh c_t).
    let cache = FloatBuffer()
    /// [H, G·H]: Whᵀ, copied at the start of each training sequence (`forward`, `beginSteps`) so
    /// that the per-step recurrent product runs as h·(Whᵀ) in the NN form: oneDNN 2.6 runs the
    /// 64-row NT product at 92–135 GFLOP/s and the NN one at 191–212 on a Zen 4 (2 threads); the
    /// reference backend gives the same bits either way. Decoding's `step` keeps the NT form
    /// (the weights may change between searches; a copy per search would not pay at few rows).
    let transposedWh = FloatBuffer()
    /// [N·B, G·H + 16]: the gate gradients at a padded row stride for the weight gradients, when the
    /// GEMM backend multiplies them faster so (`BLAS.transposedOperand`); empty otherwise.
    let restridedGates = FloatBuffer()
    /// `transposedWh`'s data while a training sequence runs, nil otherwise.
    private var sequenceWhT: UnsafePointer<Scalar>?
    /// [N·B, In]: gradient of the loss with respect to the input, after `backward`.
    let inputGradient = FloatBuffer()
    /// [N·B, In]: the inputs of a sequence run one step at a time (``beginSteps``), and P, how many
    /// of their first columns were given for all steps at once. (Also the [x_t | h_{t−1}] scratch
    /// of `forward` on packed products, which never runs stepped.)
    let stepInputs = FloatBuffer()
    var presetColumns = 0
    /// [N·B, P]: dL/d(preset columns) after ``finishBackward(computeInputGradient:)`` of a stepped sequence.
    let presetInputGradient = FloatBuffer()
    /// During backward: where dL/dh_t and the part of dL/dh_{t−1} being formed are (they swap each step).
    var carried: (dh: UnsafeMutablePointer<Scalar>, dhPrevious: UnsafeMutablePointer<Scalar>)?
    /// [B, H] each: carried gradients; after `backward`, `dh`/`dc` hold dL/dh_0 (when h_0 was given,
    /// see `startsFromZero`) and dL/dc_0.
    let dh = FloatBuffer(), dc = FloatBuffer(), dhPrevious = FloatBuffer()
    var profiler: PhaseProfiler?
    /// When set, `backward` records ‖dL/dh_t‖ (the whole gradient reaching h_t, through the output
    /// and through h_{t+1}) for t = 1…N and every row into it, [N·B]. It only reads the gradients,
    /// so the arithmetic of backward is the same with or without it (`train --log-gradient-flow`).
    var hiddenGradientNorms: FloatBuffer?

    /// The store its weight and gradient pointers point into: held, so that they stay valid as
    /// long as the layer lives (a test that dropped the store read freed memory).
    private let parameterStore: ParameterStore

    /// `layerNorm`: the layer-normalized form of the cell (LSTM and GRU; ``LayerNormLSTMCell``).
    init(cell cellType: CellType, layerNorm: Bool = false, inputSize: Int, hidden: Int, store: ParameterStore, prefix: String) {
        parameterStore = store
        self.cellType = cellType
        cell = cellType.cell(layerNormalized: layerNorm)
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
        norm = layerNorm ? CellNorm(store: store, prefix: prefix, gateWidth: gateWidth, hidden: hidden, cellState: cell.hasMemory) : nil
    }

    /// Names and shapes of the layer's tensors, in store order.
    static func layout(cell cellType: CellType, layerNorm: Bool = false, prefix: String, inputSize: Int,
                       hidden: Int) -> [(name: String, shape: [Int])] {
        let cell = cellType.cell(layerNormalized: layerNorm)
        let g = cell.gateCount * hidden
        let weights = [("\(prefix).weight_ih", [g, inputSize]), ("\(prefix).weight_hh", [g, hidden])]
        let norms = layerNorm ? CellNorm.layout(prefix: prefix, gateWidth: g, hidden: hidden, cellState: cell.hasMemory) : []
        if cell.separateRecurrentProduct {
            return weights + [("\(prefix).bias_ih", [g]), ("\(prefix).bias_hh", [g])] + norms
        }
        return weights + [("\(prefix).bias", [g])] + norms
    }

    var hasMemory: Bool { cell.hasMemory }
    /// Outputs h_1 … h_N, [N·B, H] (valid until the next forward).
    var outputs: UnsafeMutablePointer<Scalar> { h.pointer + batch * hidden }
    /// h_N, [B, H].
    var finalHidden: UnsafeMutablePointer<Scalar> { h.pointer + steps * batch * hidden }
    /// c_N, [B, H] (nil for cells without a memory).
    var finalCell: UnsafeMutablePointer<Scalar>? { hasMemory ? c.pointer + steps * batch * hidden : nil }

    /// Runs N steps. `input` [N·B, In] must stay alive until `backward`; `initialHidden`/`initialCell`
    /// [B, H] default to zeros (`initialCell` is ignored by cells without a memory; without
    /// `initialHidden` step 1's recurrent product is skipped and dL/dh_0 is not formed, see
    /// `startsFromZero`); `mask` [N·B]
    /// holds 1 for a real step and 0 for padding (nil: all real).
    ///
    /// `packed` (inference only: `backward` must not follow): each step's gates come from the
    /// prepared products on [x_t | h_{t−1}] (see ``PackedLayer``, e.g. int8) instead of one BLAS
    /// input projection over all steps plus a recurrent GEMM per step.
    func forward(input: UnsafePointer<Scalar>, steps: Int, batch: Int,
                 initialHidden: UnsafePointer<Scalar>?, initialCell: UnsafePointer<Scalar>?,
                 mask: UnsafePointer<Scalar>?, packed: PackedLayer? = nil) {
        let bh = batch * hidden, gw = gateWidth
        prepare(steps: steps, batch: batch, initialHidden: initialHidden, initialCell: initialCell, mask: mask)
        self.input = input
        let gates = self.gates.pointer
        if let packed {
            for t in 0..<steps {
                let g = gates + t * batch * gw
                products(packed, input: input + t * batch * inputSize, rows: batch, previousHidden: h.pointer + t * bh,
                         gates: g, recurrent: cell.separateRecurrentProduct ? recurrent.pointer + t * batch * gw : nil,
                         scratch: stepInputs)
                advance(step: t, rows: batch, bh: bh, skipRecurrentProduct: true)
            }
            return
        }

        copyTransposedWh()
        // Input projection of all steps at once: gates = b + X·Wxᵀ, [N·B, G·H].
        timed(profiler, "gemm: input projection") {
            Vector.fillRows(gates, rows: steps * batch, width: gw, with: bias)
            BLAS.gemm(transB: true, m: steps * batch, n: gw, k: inputSize, a: input, lda: inputSize,
                      b: wx, ldb: inputSize, beta: 1, c: gates, ldc: gw)
        }
        for t in 0..<steps { advance(step: t, rows: batch, bh: bh) }
    }

    /// Sizes the caches for N steps of B rows and writes the initial state (zeros when nil).
    func prepare(steps: Int, batch: Int, initialHidden: UnsafePointer<Scalar>?, initialCell: UnsafePointer<Scalar>?,
                 mask: UnsafePointer<Scalar>?) {
        let bh = batch * hidden, gw = gateWidth
        self.steps = steps
        self.batch = batch
        self.mask = mask
        startsFromZero = initialHidden == nil
        presetColumns = 0
        sequenceWhT = nil
        gates.reserve(steps * batch * gw)
        let h = self.h.reserve((steps + 1) * bh)
        if let initialHidden { h.update(from: initialHidden, count: bh) } else { h.update(repeating: 0, count: bh) }
        if hasMemory {
            let cells = self.c.reserve((steps + 1) * bh)
            if let initialCell { cells.update(from: initialCell, count: bh) } else { cells.update(repeating: 0, count: bh) }
        }
        if cell.cacheWidth > 0 { cache.reserve(steps * cell.cacheWidth * bh) }
        if cell.separateRecurrentProduct { recurrent.reserve(steps * batch * gw) }
    }

    /// The row stride of the transposed weight copies Whᵀ [H, G·H] and Wxᵀ [In, G·H] (training's
    /// `transposedWh`, decoding's `TransposedLayer`): G·H + 16 floats, so that no two rows lie a
    /// multiple of 4 KiB apart (G·H is often a power of two), which oneDNN 2.6 multiplies slower
    /// (cache-set conflicts while it packs B). Measured on the Zen 5 (family 26 model 2), 2 threads,
    /// the per-step h·(Whᵀ): 64×2048×512 419–427 GFLOP/s at stride 2,048, 478–489 at 2,064; with the
    /// AVX2 cap 64×1024×256 242–244 at 1,024, 253–255 at 1,040. The values are the same either way.
    static func transposedStride(gateWidth: Int) -> Int { gateWidth + 16 }

    /// Whᵀ into `transposedWh` for the sequence that starts (see there).
    private func copyTransposedWh() {
        let stride = Self.transposedStride(gateWidth: gateWidth), copy = transposedWh.reserve(hidden * stride)
        timed(profiler, "gemm: recurrent") { Vector.transpose(wh, rows: gateWidth, columns: hidden, into: copy, outputStride: stride) }
        sequenceWhT = UnsafePointer(copy)
    }

    /// Step t of the cached sequence, its gates holding b + x_t·Wxᵀ: the recurrence and the cell.
    @inline(__always)
    private func advance(step t: Int, rows: Int, bh: Int, skipRecurrentProduct: Bool = false) {
        let offset = t * batch * gateWidth, cacheStride = cell.cacheWidth * bh
        advance(gates: gates.pointer + offset, recurrent: cell.separateRecurrentProduct ? recurrent.pointer + offset : nil, rows: batch,
                previousHidden: h.pointer + t * bh, previousCell: hasMemory ? UnsafePointer(c.pointer + t * bh) : nil,
                hidden: h.pointer + (t + 1) * bh, cell: hasMemory ? c.pointer + (t + 1) * bh : nil,
                cache: cacheStride > 0 ? cache.pointer + t * cacheStride : nil, mask: mask.map { $0 + t * batch },
                skipRecurrentProduct: skipRecurrentProduct, previousHiddenIsZero: t == 0 && startsFromZero,
                transposedWh: sequenceWhT)
    }

    // MARK: One step at a time (a decoder whose next input depends on its last output)

    /// Starts a sequence of N steps of B rows run by ``forwardStep(_:input:)``, one after the other
    /// (input feeding: step t's input holds the attentional state of step t−1). The inputs are kept
    /// in the layer for `backward`. No mask: every row is real at every step.
    ///
    /// `preset` [N·B, P] (optional): the first P input columns of every step, known in advance (the
    /// target embeddings): their projection b + X_P·Wx[:, :P]ᵀ is one GEMM over all steps here, and
    /// each step then supplies only the remaining In − P columns.
    func beginSteps(steps: Int, batch: Int, initialHidden: UnsafePointer<Scalar>?, initialCell: UnsafePointer<Scalar>?,
                    preset: UnsafePointer<Scalar>? = nil, presetColumns: Int = 0) {
        precondition(presetColumns >= 0 && presetColumns <= inputSize && (preset != nil || presetColumns == 0))
        prepare(steps: steps, batch: batch, initialHidden: initialHidden, initialCell: initialCell, mask: nil)
        copyTransposedWh()
        let rows = steps * batch, gw = gateWidth, p = presetColumns
        let kept = stepInputs.reserve(rows * inputSize)
        input = UnsafePointer(kept)
        self.presetColumns = p
        guard let preset, p > 0 else { return }
        let gates = self.gates.pointer
        for r in 0..<rows { (kept + r * inputSize).update(from: preset + r * p, count: p) }
        timed(profiler, "gemm: input projection") {
            Vector.fillRows(gates, rows: rows, width: gw, with: bias)
            BLAS.gemm(transB: true, m: rows, n: gw, k: p, a: preset, lda: p, b: wx, ldb: inputSize, beta: 1, c: gates, ldc: gw)
        }
    }

    /// Step t of a sequence begun with ``beginSteps``: x_t [B, In − P] (the columns after the preset
    /// ones; copied), then gates_t = (b + preset part) + x_t·Wx[:, P:]ᵀ and ``advance``. Returns h_t, [B, H].
    func forwardStep(_ t: Int, input x: UnsafePointer<Scalar>) -> UnsafePointer<Scalar> {
        let bh = batch * hidden, gw = gateWidth, p = presetColumns, width = inputSize - p
        let kept = stepInputs.pointer + t * batch * inputSize
        for r in 0..<batch { (kept + r * inputSize + p).update(from: x + r * width, count: width) }
        let gates = self.gates.pointer + t * batch * gw
        timed(profiler, "gemm: input projection") {
            if p == 0 { for r in 0..<batch { (gates + r * gw).update(from: bias, count: gw) } }
            if width > 0 {
                BLAS.gemm(transB: true, m: batch, n: gw, k: width, a: x, lda: width, b: wx + p, ldb: inputSize,
                          beta: 1, c: gates, ldc: gw)
            }
        }
        advance(step: t, rows: batch, bh: bh)
        return UnsafePointer(h.pointer + (t + 1) * bh)
    }

    /// The arguments of the cell's pointwise step in ``advance(gates:recurrent:rows:previousHidden:previousCell:hidden:cell:cache:mask:skipRecurrentProduct:previousHiddenIsZero:transposedWh:)``, for its parts.
    private struct PointwisePart {
        let cell: RecurrentCell.Type
        let gates: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?
        let previousHidden: UnsafePointer<Scalar>, previousCell: UnsafePointer<Scalar>?
        let hidden: UnsafeMutablePointer<Scalar>, c: UnsafeMutablePointer<Scalar>?, cache: UnsafeMutablePointer<Scalar>?
        let mask: UnsafePointer<Scalar>?, norm: CellNorm?, gw: Int, h: Int
    }

    /// The recurrent part of one step, shared by training's time loop and decoding's `step`:
    /// adds h_{t−1}·Whᵀ to `gates` [R, G·H] (or forms b_hh + h_{t−1}·Whᵀ in `recurrent` when the cell
    /// keeps it apart), then the cell's pointwise step writes (h, c)_t. `gates` holds b + x_t·Wxᵀ.
    /// `previousHiddenIsZero`: h_{t−1} = 0, the product is skipped (b_hh is still written).
    @inline(__always)
    func advance(gates: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?, rows: Int,
                 previousHidden: UnsafePointer<Scalar>, previousCell: UnsafePointer<Scalar>?,
                 hidden: UnsafeMutablePointer<Scalar>, cell c: UnsafeMutablePointer<Scalar>?,
                 cache: UnsafeMutablePointer<Scalar>?, mask: UnsafePointer<Scalar>?, skipRecurrentProduct: Bool = false,
                 previousHiddenIsZero: Bool = false, transposedWh: UnsafePointer<Scalar>? = nil) {
        let gw = gateWidth
        if !skipRecurrentProduct {
            // Recurrence: gates_t += h_{t−1}·Whᵀ (or recurrent_t = b_hh + h_{t−1}·Whᵀ), with Whᵀ as a
            // copy [H, G·H] (NN) when the sequence made one, else from Wh [G·H, H] (NT).
            timed(profiler, "gemm: recurrent") {
                let target: UnsafeMutablePointer<Scalar>
                if let recurrent, let recurrentBias {
                    Vector.fillRows(recurrent, rows: rows, width: gw, with: recurrentBias)
                    target = recurrent
                } else {
                    target = gates
                }
                if previousHiddenIsZero {
                    // h_{t−1} = 0: the product adds nothing.
                } else if let transposedWh {
                    BLAS.gemm(m: rows, n: gw, k: self.hidden, a: previousHidden, lda: self.hidden,
                              b: transposedWh, ldb: Self.transposedStride(gateWidth: gw), beta: 1, c: target, ldc: gw)
                } else {
                    BLAS.gemm(transB: true, m: rows, n: gw, k: self.hidden, a: previousHidden, lda: self.hidden,
                              b: wh, ldb: self.hidden, beta: 1, c: target, ldc: gw)
                }
            }
        }
        timed(profiler, "cell pointwise forward") {
            // Rows are independent: split them across the threads BLAS uses (same bits either way).
            // A plain function of a struct of arguments, not a closure: nothing allocated per step.
            let pointwise = PointwisePart(cell: cell, gates: gates, recurrent: recurrent, previousHidden: previousHidden,
                                          previousCell: previousCell, hidden: hidden, c: c, cache: cache, mask: mask,
                                          norm: norm, gw: gw, h: self.hidden)
            Parallel.forEachPart(rows, work: rows * gw, context: pointwise) { raw, r, end in
                let p = raw.load(as: PointwisePart.self)
                let (gw, h, cacheWidth) = (p.gw, p.h, p.cell.cacheWidth)
                p.cell.forward(gates: p.gates + r * gw, recurrent: p.recurrent.map { $0 + r * gw },
                               previousHidden: p.previousHidden + r * h, previousCell: p.previousCell.map { $0 + r * h },
                               hidden: p.hidden + r * h, cell: p.c.map { $0 + r * h },
                               cache: p.cache.map { $0 + r * cacheWidth * h }, rows: end - r, width: h,
                               mask: p.mask.map { $0 + r }, norm: p.norm)
            }
        }
    }
}
