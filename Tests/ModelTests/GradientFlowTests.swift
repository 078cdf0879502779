import Kernels
@testable import Model
import Testing

@Suite struct GradientFlowTests {
    /// Recording reads gradients only: every gradient bit is the same with and without it.
    @Test(arguments: [CellType.lstm, .gru, .rnnTanh, .irnn])
    func recordingTheGradientFlowChangesNoGradient(cell: CellType) {
        var gradients: [[Scalar]] = []
        for record in [false, true] {
            let model = Seq2SeqModel(config: tinyConfig(dropout: 0.2, cell: cell), seed: 7)
            model.recordsGradientFlow = record
            model.parameters.zeroGradients()
            _ = model.trainStep(Batch(sources: tinySources, targets: tinyTargets), dropoutSeed: 3)
            gradients.append(Array(model.parameters.gradients))
            #expect(model.sourceGradientNorms().isEmpty == !record)
        }
        #expect(gradients[0] == gradients[1])
    }

    /// With one layer the encoder's state after the last token read is what the decoder starts
    /// from: its recorded norm is the norm of the decoder's initial-state gradient, at source
    /// position len−1 when reading forwards and at position 0 when reading reversed.
    @Test(arguments: [false, true])
    func theLastReadTokenCarriesTheDecodersInitialStateGradient(reverse: Bool) {
        let model = Seq2SeqModel(config: tinyConfig(reverse: reverse, layers: 1), seed: 9)
        model.recordsGradientFlow = true
        model.parameters.zeroGradients()
        _ = model.trainStep(Batch(sources: tinySources, targets: tinyTargets), dropoutSeed: 0)
        let norms = model.sourceGradientNorms()
        #expect(norms.map(\.count) == tinySources.map(\.count))
        let h = model.config.hidden, initial = model.decoder.initialHiddenGradient(layer: 0)
        for (b, sentence) in norms.enumerated() {
            let expected = (0..<h).reduce(0.0) { $0 + Double(initial[b * h + $1] * initial[b * h + $1]) }.squareRoot()
            let lastRead = reverse ? sentence.first! : sentence.last!
            #expect(abs(lastRead - expected) < 1e-6 * max(1, expected), "sentence \(b)")
        }
    }
}
