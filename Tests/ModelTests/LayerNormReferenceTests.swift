import Foundation
import Kernels
@testable import Model
import Testing

/// The layer-normalized LSTM and GRU layers against PyTorch (`F.layer_norm` and autograd, float64),
/// from `Fixtures/layer_norm_reference.json` made by `scripts/fixtures/make_layer_norm_fixtures.py`:
/// one layer over T = 3 steps of B = 2 rows, the outputs h_1…h_T (and c_T), and the gradients of
/// L = Σ G ⊙ h (+ Σ G_c ⊙ c_T) with respect to every weight (the LN gains and biases included), the
/// inputs and the initial state.
@Suite struct LayerNormReferenceTests {
    typealias Tensor = AttentionReferenceTests.Tensor
    struct Case: Decodable {
        var name: String, cell: String, steps: Int, batch: Int, input: Int, hidden: Int
        var weights: [String: Tensor]
        var x: Tensor, h0: Tensor, c0: Tensor?, G: Tensor, G_c: Tensor?, output: Tensor, c_T: Tensor?
        var gradients: [String: Tensor]
    }
    struct File: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/layer_norm_reference.json")
        return (try? JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases) ?? []
    }()

    @Test func theFixtureHoldsBothCells() {
        #expect(Self.cases.map(\.name) == ["layer-norm lstm", "layer-norm gru"])
    }

    /// The attention fixtures' comparison (|ours − PyTorch| ≤ 1e-5 + 1e-5·|PyTorch| in Float).
    static func mismatches(_ label: String, _ ours: UnsafePointer<Scalar>, _ reference: Tensor) -> Int {
        AttentionReferenceTests.compare(label, ours, reference)
    }

    @Test(arguments: cases.map(\.name))
    func aLayerMatchesPyTorch(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let cell: CellType = c.cell == "lstm" ? .lstm : .gru
        let store = ParameterStore(layout: RecurrentLayer.layout(cell: cell, layerNorm: true, prefix: "l", inputSize: c.input,
                                                                 hidden: c.hidden))
        #expect(Set(store.tensors.map(\.name)) == Set(c.weights.keys.map { "l." + $0 }))
        for (key, tensor) in c.weights {
            let view = store.view("l." + key)
            try #require(view.count == tensor.data.count)
            for i in 0..<view.count { view.values[i] = Scalar(tensor.data[i]) }
        }
        let layer = RecurrentLayer(cell: cell, layerNorm: true, inputSize: c.input, hidden: c.hidden, store: store, prefix: "l")
        let x = c.x.data.map { Scalar($0) }, h0 = c.h0.data.map { Scalar($0) }, g = c.G.data.map { Scalar($0) }
        let c0 = c.c0.map { $0.data.map { Scalar($0) } }, gc = c.G_c.map { $0.data.map { Scalar($0) } }
        var bad = 0
        x.withUnsafeBufferPointer { xp in
            h0.withUnsafeBufferPointer { hp in
                layer.forward(input: xp.baseAddress!, steps: c.steps, batch: c.batch, initialHidden: hp.baseAddress!,
                              initialCell: c0?.withUnsafeBufferPointer { UnsafePointer($0.baseAddress!) }, mask: nil)
                bad += Self.mismatches("h", layer.outputs, c.output)
                if let cT = c.c_T { bad += Self.mismatches("c_T", layer.finalCell!, cT) }
                store.zeroGradients()
                g.withUnsafeBufferPointer { gp in
                    layer.backward(outputGradient: gp.baseAddress!, finalHiddenGradient: nil,
                                   finalCellGradient: gc?.withUnsafeBufferPointer { UnsafePointer($0.baseAddress!) },
                                   computeInputGradient: true)
                }
            }
        }
        for key in c.weights.keys.sorted() {
            bad += Self.mismatches("grad " + key, store.view("l." + key).gradients, try #require(c.gradients["grad_" + key]))
        }
        bad += Self.mismatches("grad x", layer.inputGradient.pointer, try #require(c.gradients["grad_x"]))
        bad += Self.mismatches("grad h0", layer.initialHiddenGradient, try #require(c.gradients["grad_h0"]))
        if let dc0 = c.gradients["grad_c0"] { bad += Self.mismatches("grad c0", layer.initialCellGradient!, dc0) }
        #expect(bad == 0, "\(bad) values differ from PyTorch")
    }
}
