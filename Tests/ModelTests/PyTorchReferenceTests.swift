import Foundation
import Kernels
@testable import Model
import Testing

/// One recurrent layer (and two-layer stacks) of every cell, one-way and bidirectional, with and
/// without padding, against PyTorch's `nn.LSTM`, `nn.GRU` and `nn.RNN` on explicit weights
/// (fixtures made once by `scripts/fixtures/make_rnn_fixtures.py`, in float64): outputs at real
/// positions, final states, and the gradients of L = Σ output ⊙ G_out + Σ h_n ⊙ G_h (+ Σ c_n ⊙ G_c)
/// with respect to every weight, the input and the initial state, to 1e-5.
///
/// Loading follows PyTorch's names: `weight_ih_lL[_reverse]` → `t.lL[_reverse].weight_ih` (same
/// layout, gates i,f,g,o / r,z,n), `weight_hh_lL` → `.weight_hh`; the LSTM's and Elman RNN's one
/// fused bias is `bias_ih + bias_hh`, the GRU keeps both (`.bias_ih`, `.bias_hh`).
@Suite struct PyTorchReferenceTests {
    struct Tensor: Decodable { var shape: [Int]; var data: [Double] }
    struct Case: Decodable {
        var name: String, cell: String, num_layers: Int, bidirectional: Bool, num_directions: Int
        var input_size: Int, hidden_size: Int, steps: Int, batch: Int, lengths: [Int]
        var weights: [String: Tensor]
        var x: Tensor, h0: Tensor, c0: Tensor?
        var output: Tensor, output_mask: Tensor, h_n: Tensor, c_n: Tensor?
        var G_out: Tensor, G_h: Tensor, G_c: Tensor?
        var gradients: [String: Tensor]
    }
    struct File: Decodable { var cases: [Case] }

    static func load(_ name: String) -> [Case] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else {
            Issue.record("fixture \(name).json missing or unreadable")
            return []
        }
        return file.cases
    }
    static let cases = load("rnn_reference") + load("rnn_stack_reference")

    static func cellType(_ name: String) -> CellType {
        switch name {
        case "lstm": return .lstm
        case "gru": return .gru
        case "rnn_tanh": return .rnnTanh
        default: return .irnn   // rnn_relu: the IRNN's cell (its initialisation plays no part here)
        }
    }

    /// PyTorch's [D·L, B, H] state → ours per layer, [B, D·H] rows [forward | backward].
    static func perLayer(_ t: Tensor, layers: Int, directions: Int, batch: Int, hidden: Int) -> [[Float]] {
        (0..<layers).map { l in
            var out = [Float](repeating: 0, count: batch * directions * hidden)
            for d in 0..<directions {
                for b in 0..<batch {
                    for j in 0..<hidden {
                        out[b * directions * hidden + d * hidden + j] = Float(t.data[((l * directions + d) * batch + b) * hidden + j])
                    }
                }
            }
            return out
        }
    }

    @Test(arguments: cases.map(\.name))
    func matchesPyTorch(name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let cell = Self.cellType(c.cell)
        let (n, b, d, u) = (c.steps, c.batch, c.num_directions, c.hidden_size)
        let h = d * u
        let layout = RecurrentStack.layout(cell: cell, layers: c.num_layers, inputSize: c.input_size, hidden: h,
                                           bidirectional: c.bidirectional, prefix: "t")
        let store = ParameterStore(layout: layout)
        let stack = RecurrentStack(cell: cell, layers: c.num_layers, inputSize: c.input_size, hidden: h,
                                   bidirectional: c.bidirectional, residual: false, dropout: 0, store: store, prefix: "t")
        func ours(_ torchName: String) -> String {
            // weight_ih_l0_reverse → t.l0_reverse.weight_ih
            var parts = torchName.components(separatedBy: "_")
            let reverse = parts.last == "reverse"
            if reverse { parts.removeLast() }
            let layer = parts.removeLast()
            return "t.\(layer)\(reverse ? "_reverse" : "").\(parts.joined(separator: "_"))"
        }
        let fused = !cell.cell.separateRecurrentProduct
        func set(_ name: String, _ values: [Double]) {
            let view = store.view(name)
            #expect(view.count == values.count, "\(name): \(view.count) floats, fixture \(values.count)")
            for i in 0..<min(view.count, values.count) { view.values[i] = Float(values[i]) }
        }
        for (torchName, tensor) in c.weights where !torchName.hasPrefix("bias") {
            set(ours(torchName), tensor.data)
        }
        for (torchName, tensor) in c.weights where torchName.hasPrefix("bias_ih") {
            let hhName = torchName.replacingOccurrences(of: "bias_ih", with: "bias_hh")
            let hh = try #require(c.weights[hhName])
            if fused {
                set(ours(torchName).replacingOccurrences(of: ".bias_ih", with: ".bias"), zip(tensor.data, hh.data).map { $0 + $1 })
            } else {
                set(ours(torchName), tensor.data)
                set(ours(hhName), hh.data)
            }
        }

        let x = c.x.data.map(Float.init)
        var mask = [Float](repeating: 0, count: n * b)
        for t in 0..<n { for row in 0..<b where t < c.lengths[row] { mask[t * b + row] = 1 } }
        let h0 = Self.perLayer(c.h0, layers: c.num_layers, directions: d, batch: b, hidden: u)
        let c0 = c.c0.map { Self.perLayer($0, layers: c.num_layers, directions: d, batch: b, hidden: u) }
        var rng = SeededGenerator(seed: 0)
        let tolerance = { (a: Float, r: Double) in abs(Double(a) - r) <= 1e-5 + 1e-5 * abs(r) }

        try x.withUnsafeBufferPointer { xp in
            try mask.withUnsafeBufferPointer { mp in
                let initial: [(h: UnsafePointer<Float>, c: UnsafePointer<Float>?)] = (0..<c.num_layers).map { l in
                    let hp = UnsafeMutablePointer<Float>.allocate(capacity: h0[l].count)
                    hp.initialize(from: h0[l], count: h0[l].count)
                    var cp: UnsafePointer<Float>?
                    if let c0 {
                        let p = UnsafeMutablePointer<Float>.allocate(capacity: c0[l].count)
                        p.initialize(from: c0[l], count: c0[l].count)
                        cp = UnsafePointer(p)
                    }
                    return (UnsafePointer(hp), cp)
                }
                defer { for s in initial { s.h.deallocate(); s.c?.deallocate() } }
                let out = stack.forward(input: xp.baseAddress!, steps: n, batch: b, mask: mp.baseAddress!, initial: initial,
                                        applyDropout: false, dropTop: false, rng: &rng)
                // Outputs at real positions.
                var worst = 0.0
                for i in 0..<(n * b * h) where mask[i / h] == 1 {
                    #expect(tolerance(out[i], c.output.data[i]), "output[\(i)] \(out[i]) vs \(c.output.data[i])")
                    worst = max(worst, abs(Double(out[i]) - c.output.data[i]))
                }
                let top = c.num_layers - 1
                let hn = Self.perLayer(c.h_n, layers: c.num_layers, directions: d, batch: b, hidden: u)
                for l in 0..<c.num_layers {
                    let ours = stack.finalHidden(layer: l)
                    for i in 0..<(b * h) { #expect(tolerance(ours[i], Double(hn[l][i])), "h_n layer \(l) [\(i)]") }
                    if let cn = c.c_n.map({ Self.perLayer($0, layers: c.num_layers, directions: d, batch: b, hidden: u) }) {
                        let oursC = try #require(stack.finalCell(layer: l))
                        for i in 0..<(b * h) { #expect(tolerance(oursC[i], Double(cn[l][i])), "c_n layer \(l) [\(i)]") }
                    }
                }
                _ = top

                // Backward with the fixture's loss weights.
                store.zeroGradients()
                var gOut = c.G_out.data.map(Float.init)
                let gh = Self.perLayer(c.G_h, layers: c.num_layers, directions: d, batch: b, hidden: u)
                let gc = c.G_c.map { Self.perLayer($0, layers: c.num_layers, directions: d, batch: b, hidden: u) }
                let dx: [Float] = gOut.withUnsafeMutableBufferPointer { gp in
                    let ghp = gh.map { g -> UnsafePointer<Float>? in
                        let p = UnsafeMutablePointer<Float>.allocate(capacity: g.count); p.initialize(from: g, count: g.count)
                        return UnsafePointer(p)
                    }
                    let gcp = (0..<c.num_layers).map { l -> UnsafePointer<Float>? in
                        guard let g = gc?[l] else { return nil }
                        let p = UnsafeMutablePointer<Float>.allocate(capacity: g.count); p.initialize(from: g, count: g.count)
                        return UnsafePointer(p)
                    }
                    defer { for p in ghp + gcp { p?.deallocate() } }
                    let g = stack.backward(outputGradient: gp.baseAddress!, finalHiddenGradients: ghp, finalCellGradients: gcp)
                    return Array(UnsafeBufferPointer(start: g, count: n * b * c.input_size))
                }
                let gradX = try #require(c.gradients["grad_x"])
                for i in 0..<dx.count { #expect(tolerance(dx[i], gradX.data[i]), "grad_x[\(i)] \(dx[i]) vs \(gradX.data[i])") }
                let gradH0 = Self.perLayer(try #require(c.gradients["grad_h0"]), layers: c.num_layers, directions: d, batch: b, hidden: u)
                for l in 0..<c.num_layers {
                    let ours = stack.initialHiddenGradient(layer: l)
                    for i in 0..<(b * h) { #expect(tolerance(ours[i], Double(gradH0[l][i])), "grad_h0 layer \(l) [\(i)]") }
                    if let gradC0 = c.gradients["grad_c0"] {
                        let reference = Self.perLayer(gradC0, layers: c.num_layers, directions: d, batch: b, hidden: u)
                        let oursC = try #require(stack.initialCellGradient(layer: l))
                        for i in 0..<(b * h) { #expect(tolerance(oursC[i], Double(reference[l][i])), "grad_c0 layer \(l) [\(i)]") }
                    }
                }
                for (key, reference) in c.gradients where key.hasPrefix("grad_weight") || key.hasPrefix("grad_bias_ih") || (key.hasPrefix("grad_bias_hh") && !fused) {
                    var name = ours(String(key.dropFirst("grad_".count)))
                    if fused { name = name.replacingOccurrences(of: ".bias_ih", with: ".bias") }
                    let view = store.view(name)
                    for i in 0..<view.count {
                        #expect(tolerance(view.gradients[i], reference.data[i]), "\(key)[\(i)] \(view.gradients[i]) vs \(reference.data[i])")
                    }
                }
            }
        }
    }
}
