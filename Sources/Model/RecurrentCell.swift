import Kernels

/// What differs between recurrent cells, and nothing else: the number of H-wide gate blocks, whether
/// a memory c is carried beside h, whether the recurrent product stays apart from the input
/// projection, and the pointwise step with its derivative. ``RecurrentLayer`` owns everything the
/// cells share (the time loop, the GEMMs, padding masks, the one-step API).
///
/// Shapes: rows R (B sentences, or hypotheses when decoding), width H, gate blocks G.
/// - `gates` [R, G·H]: forward receives the pre-activations x·Wxᵀ + b (plus h·Whᵀ when the
///   recurrent product is not separate) and leaves the activations the backward needs; backward
///   turns them into the gradient of the input-side pre-activations.
/// - `recurrent` [R, G·H] (separate product only): h·Whᵀ + b_hh in forward; in backward the gradient
///   of that product.
/// - `cache` [R, cacheWidth·H]: whatever else the backward needs (LSTM: tanh c).
///
/// A row whose `mask` is 0 keeps its state, (h, c)_t = (h, c)_{t−1}; its gradient passes through
/// unchanged and its gate gradients are 0.
protocol RecurrentCell {
    /// G, H-wide blocks in the fused gate pre-activation.
    static var gateCount: Int { get }
    /// The cell carries a memory c besides the hidden state h (LSTM).
    static var hasMemory: Bool { get }
    /// h·Whᵀ + b_hh is kept apart from x·Wxᵀ + b_ih (GRU: the reset gate multiplies its n block),
    /// so the layer stores two biases, `bias_ih` and `bias_hh`; otherwise one fused `bias`.
    static var separateRecurrentProduct: Bool { get }
    /// Floats per row and H kept in `cache` for backward.
    static var cacheWidth: Int { get }

    /// One step for `rows` rows. `hidden`/`cell` may alias `previousHidden`/`previousCell`
    /// (decoding updates the state in place): every element is read before it is written. `norm`:
    /// the layer's normalization weights (layer-normalized cells only).
    static func forward(gates: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?,
                        previousHidden: UnsafePointer<Scalar>, previousCell: UnsafePointer<Scalar>?,
                        hidden: UnsafeMutablePointer<Scalar>, cell: UnsafeMutablePointer<Scalar>?,
                        cache: UnsafeMutablePointer<Scalar>?, rows: Int, width: Int, mask: UnsafePointer<Scalar>?,
                        norm: CellNorm?)

    /// Sets the layer's cell-specific initial values after every parameter has been drawn from
    /// U(−0.08, 0.08) (LSTM: forget bias 1; IRNN: identity recurrence, zero bias, Wx ~ N(0, 0.001²)
    /// from `normal`). Uses the layer's own sizes (H' = H/2 per direction when bidirectional).
    static func initialize(_ layer: RecurrentLayer, normal: inout SeededGenerator)

    /// The derivative of one step. `hiddenGradient` dL/dh_t in (the output's gradient already
    /// added); `cellGradient` dL/dc_t in, dL/dc_{t−1} out; `previousHiddenGradient` receives the
    /// part of dL/dh_{t−1} that does not go through Wh (the layer adds (recurrent or gate
    /// gradient)·Wh afterwards).
    static func backward(_ step: CellGradientStep)
}

/// The buffers of one time step's backward pass, the same for every cell (`RecurrentCell.backward`):
/// R rows (the batch), width H, G gates.
struct CellGradientStep {
    /// The step's gate activations from forward [R×G·H], overwritten with the gradients of their
    /// pre-activations.
    var gates: UnsafeMutablePointer<Scalar>
    /// The separate recurrent product (GRU) [R×G·H], overwritten with its gradient; nil otherwise.
    var recurrent: UnsafeMutablePointer<Scalar>?
    /// h_{t−1} [R×H] and, for cells with memory (LSTM), c_{t−1} [R×H].
    var previousHidden: UnsafePointer<Scalar>
    var previousCell: UnsafePointer<Scalar>?
    /// h_t [R×H].
    var hidden: UnsafePointer<Scalar>
    /// What forward kept for backward [R×cacheWidth·H] (LSTM: tanh c_t); nil when cacheWidth is 0.
    var cache: UnsafePointer<Scalar>?
    /// dL/dh_t in [R×H] (the output's gradient already added).
    var hiddenGradient: UnsafePointer<Scalar>
    /// dL/dc_t in, dL/dc_{t−1} out [R×H] (cells with memory).
    var cellGradient: UnsafeMutablePointer<Scalar>?
    /// Receives the part of dL/dh_{t−1} that does not go through Wh [R×H].
    var previousHiddenGradient: UnsafeMutablePointer<Scalar>
    var rows: Int
    var width: Int
    /// 1 for a real row, 0 for padding at this step [R]; nil when every row is real.
    var mask: UnsafePointer<Scalar>?
    /// The layer normalization weights and their gradients (layer-normalized cells); nil otherwise.
    var norm: CellNorm? = nil

    /// The same step restricted to rows `range` (a row's gradients depend on that row alone when
    /// `norm` is nil): every pointer moved to the first row, `rows` = the range's count.
    /// `gateWidth` is G·H; `cacheWidth` the cell's.
    func restricted(to range: Range<Int>, gateWidth: Int, cacheWidth: Int) -> CellGradientStep {
        let r = range.lowerBound, h = width
        var part = self
        part.gates = gates + r * gateWidth
        part.recurrent = recurrent.map { $0 + r * gateWidth }
        part.previousHidden = previousHidden + r * h
        part.previousCell = previousCell.map { $0 + r * h }
        part.hidden = hidden + r * h
        part.cache = cache.map { $0 + r * cacheWidth * h }
        part.hiddenGradient = hiddenGradient + r * h
        part.cellGradient = cellGradient.map { $0 + r * h }
        part.previousHiddenGradient = previousHiddenGradient + r * h
        part.mask = mask.map { $0 + r }
        part.rows = range.count
        return part
    }
}

extension RecurrentCell {
    /// Most cells keep the uniform draw as it is.
    static func initialize(_ layer: RecurrentLayer, normal: inout SeededGenerator) {}
}

/// The recurrent cells a model can be built from (`train --cell`).
public enum CellType: String, Codable, CaseIterable, Sendable {
    /// Long short-term memory (Hochreiter & Schmidhuber 1997), gates i, f, g, o; forget bias 1.
    case lstm
    /// Gated recurrent unit (Cho et al. 2014) with PyTorch's equations: gates r, z, n, the reset gate
    /// applied after the hidden product, h' = (1 − z) ⊙ n + z ⊙ h.
    case gru
    /// Elman network, h' = tanh(x·Wxᵀ + h·Whᵀ + b).
    case rnnTanh = "rnn-tanh"
    /// IRNN (Le, Jaitly & Hinton 2015): h' = relu(x·Wxᵀ + h·Whᵀ + b) with Wh initialised to the
    /// identity, b to 0 and Wx to small values (see `Seq2SeqModel.init`).
    case irnn

    /// The cell's equations; `layerNormalized`: the layer-normalized form (LSTM and GRU only).
    func cell(layerNormalized: Bool) -> RecurrentCell.Type {
        guard layerNormalized else { return cell }
        switch self {
        case .lstm: return LayerNormLSTMCell.self
        case .gru: return LayerNormGRUCell.self
        case .rnnTanh, .irnn: preconditionFailure("layer normalization is defined for LSTM and GRU cells")
        }
    }

    /// Whether `--layer-norm` is defined for the cell (LSTM and GRU).
    public var supportsLayerNorm: Bool { self == .lstm || self == .gru }

    var cell: RecurrentCell.Type {
        switch self {
        case .lstm: return LSTMCell.self
        case .gru: return GRUCell.self
        case .rnnTanh: return ElmanCell<TanhUnit>.self
        case .irnn: return ElmanCell<ReLUUnit>.self
        }
    }
}
