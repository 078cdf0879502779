import Glibc
import Kernels

/// The pointwise nonlinearity of an Elman network, and the initialisation that goes with it.
protocol ElmanUnit {
    static func apply(_ x: Scalar) -> Scalar
    /// The derivative expressed through the unit's output y.
    static func derivative(output y: Scalar) -> Scalar
    /// See `RecurrentCell.initialize`.
    static func initialize(_ layer: RecurrentLayer, normal: inout SeededGenerator)
}

extension ElmanUnit {
    static func initialize(_ layer: RecurrentLayer, normal: inout SeededGenerator) {}
}

/// tanh: the classic Elman network.
enum TanhUnit: ElmanUnit {
    @inline(__always) static func apply(_ x: Scalar) -> Scalar { Activation.tanh(x) }
    @inline(__always) static func derivative(output y: Scalar) -> Scalar { 1 - y * y }
}

/// ReLU: the IRNN's unit (Le, Jaitly & Hinton 2015).
enum ReLUUnit: ElmanUnit {
    @inline(__always) static func apply(_ x: Scalar) -> Scalar { x > 0 ? x : 0 }
    @inline(__always) static func derivative(output y: Scalar) -> Scalar { y > 0 ? 1 : 0 }

    /// Le, Jaitly & Hinton (2015): the recurrent matrix Wh [H', H'] is the identity, the bias 0,
    /// and the input weights Wx [H', In] small Gaussians N(0, 0.001²) (Box–Muller on `normal`).
    static func initialize(_ layer: RecurrentLayer, normal: inout SeededGenerator) {
        let u = layer.hidden
        layer.wh.update(repeating: 0, count: u * u)
        for i in 0..<u { layer.wh[i * u + i] = 1 }
        layer.bias.update(repeating: 0, count: layer.gateWidth)
        for i in 0..<(layer.gateWidth * layer.inputSize) {
            let u1 = max(Double(normal.nextUnitFloat()), 1e-12), u2 = Double(normal.nextUnitFloat())
            layer.wx[i] = Scalar(0.001 * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
        }
    }
}

/// The Elman cell (Elman 1990), PyTorch's `nn.RNN`: one gate block, one fused bias b (PyTorch's
/// b_ih + b_hh),
///
///     h_t = f(x_t·Wxᵀ + h_{t−1}·Whᵀ + b),   da = dh ⊙ f′,   all of dh_{t−1} goes through Wh.
///
/// `gates` keeps h_t for backward (f′ is a function of the output for tanh and ReLU).
enum ElmanCell<Unit: ElmanUnit>: RecurrentCell {
    static var gateCount: Int { 1 }
    static var hasMemory: Bool { false }
    static var separateRecurrentProduct: Bool { false }
    static var cacheWidth: Int { 0 }

    static func initialize(_ layer: RecurrentLayer, normal: inout SeededGenerator) {
        Unit.initialize(layer, normal: &normal)
    }

    @inline(__always)
    static func forward(gates: UnsafeMutablePointer<Scalar>, recurrent: UnsafeMutablePointer<Scalar>?,
                        previousHidden: UnsafePointer<Scalar>, previousCell: UnsafePointer<Scalar>?,
                        hidden: UnsafeMutablePointer<Scalar>, cell: UnsafeMutablePointer<Scalar>?,
                        cache: UnsafeMutablePointer<Scalar>?, rows: Int, width: Int, mask: UnsafePointer<Scalar>?,
                        norm: CellNorm?) {
        for row in 0..<rows {
            let g = gates + row &* width, hn = hidden + row &* width, hp = previousHidden + row &* width
            if let mask, mask[row] == 0 {
                if hn != UnsafeMutablePointer(mutating: hp) { hn.update(from: hp, count: width) }
                continue
            }
            for j in 0..<width { g[j] = Unit.apply(g[j]) }
            hn.update(from: g, count: width)
        }
    }

    @inline(__always)
    static func backward(_ s: CellGradientStep) {
        let width = s.width
        for row in 0..<s.rows {
            let g = s.gates + row &* width, dh = s.hiddenGradient + row &* width, dhp = s.previousHiddenGradient + row &* width
            if let mask = s.mask, mask[row] == 0 {
                dhp.update(from: dh, count: width)
                g.update(repeating: 0, count: width)
                continue
            }
            dhp.update(repeating: 0, count: width)
            for j in 0..<width { g[j] = dh[j] * Unit.derivative(output: g[j]) }
        }
    }
}
