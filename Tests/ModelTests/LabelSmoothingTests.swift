import Foundation
import Kernels
@testable import Model
import Testing

/// Label smoothing in the output layer: the finite-difference check of the smoothed loss, the
/// ε = 0 path, and PyTorch's `CrossEntropyLoss(label_smoothing:)` on explicit weights.
@Suite struct LabelSmoothingTests {
    /// d(smoothed loss)/d(weights, bias, input) against central differences, at ε = 0.1 and 0.4.
    @Test(arguments: [Float(0.1), 0.4])
    func smoothedLossGradientMatchesFiniteDifferences(epsilon: Float) {
        let (rows, hidden, vocabulary) = (5, 4, 7)
        var rng = SeededGenerator(seed: 21)
        let store = ParameterStore(layout: OutputLayer.layout(vocabulary: vocabulary, hidden: hidden))
        for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.8, 0.8) }
        let layer = OutputLayer(vocabulary: vocabulary, hidden: hidden, store: store)
        layer.labelSmoothing = epsilon
        var x = randomFloats(rows * hidden, scale: 1, &rng)
        let targets: [Int32] = [1, 6, 3, 3, 0]
        x.withUnsafeMutableBufferPointer { xp in
            func run(training: Bool) -> Double {
                _ = targets.withUnsafeBufferPointer { layer.forward(input: xp.baseAddress!, targets: $0, training: training) }
                return layer.smoothedLoss
            }
            func loss() -> Double { run(training: false) }
            _ = run(training: true)
            layer.backward()
            let dx = Array(UnsafeBufferPointer(start: layer.inputGradient.pointer, count: rows * hidden))
            let check = GradientCheck()
            var bad = check.compare(label: "params", values: store.values.baseAddress!, analytic: Array(store.gradients),
                                    indices: Array(0..<store.count), loss: loss)
            bad += check.compare(label: "x", values: xp.baseAddress!, analytic: dx, indices: Array(0..<dx.count), loss: loss)
            #expect(bad.isEmpty, "\(bad.prefix(5))")
        }
    }

    /// ε = 0: the smoothed loss is the NLL, and loss and gradients are bit-identical to a layer
    /// that never had the option set.
    @Test func zeroSmoothingIsThePlainLossBitForBit() {
        let (rows, hidden, vocabulary) = (6, 5, 9)
        var rng = SeededGenerator(seed: 22)
        let values = randomFloats(vocabulary * hidden + vocabulary, scale: 0.8, &rng)
        let x = randomFloats(rows * hidden, scale: 1, &rng)
        let targets: [Int32] = [0, 8, 2, 2, 5, 1]
        func run(setOption: Bool) -> (loss: Double, smoothed: Double, gradients: [Float], dx: [Float]) {
            let store = ParameterStore(layout: OutputLayer.layout(vocabulary: vocabulary, hidden: hidden))
            for i in 0..<store.count { store.values[i] = values[i] }
            let layer = OutputLayer(vocabulary: vocabulary, hidden: hidden, store: store)
            if setOption { layer.labelSmoothing = 0 }
            let loss = x.withUnsafeBufferPointer { xp in
                targets.withUnsafeBufferPointer { layer.forward(input: xp.baseAddress!, targets: $0, training: true) }
            }
            layer.backward()
            return (loss, layer.smoothedLoss, Array(store.gradients),
                    Array(UnsafeBufferPointer(start: layer.inputGradient.pointer, count: rows * hidden)))
        }
        let plain = run(setOption: false), zero = run(setOption: true)
        #expect(zero.loss.bitPattern == plain.loss.bitPattern)
        #expect(zero.smoothed.bitPattern == zero.loss.bitPattern)
        #expect(zero.gradients.map(\.bitPattern) == plain.gradients.map(\.bitPattern))
        #expect(zero.dx.map(\.bitPattern) == plain.dx.map(\.bitPattern))
    }

    struct Tensor: Decodable { var shape: [Int]; var data: [Double] }
    struct Case: Decodable {
        var name: String, epsilon: Double, rows: Int, hidden: Int, vocabulary: Int
        var weight: Tensor, bias: Tensor, x: Tensor, targets: [Int32]
        var loss: Double, nll: Double
        var grad_weight: Tensor, grad_bias: Tensor, grad_x: Tensor
    }
    struct File: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "label_smoothing_reference", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else {
            return []
        }
        return file.cases
    }()

    @Test func fixtureLoads() { #expect(Self.cases.count == 3) }

    /// Loss, NLL and every gradient equal PyTorch's (float64 reference) to Float precision.
    @Test(arguments: cases.map(\.name))
    func smoothedLossAndGradientsMatchPyTorch(name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let store = ParameterStore(layout: OutputLayer.layout(vocabulary: c.vocabulary, hidden: c.hidden))
        let weight = store.view("output.weight"), bias = store.view("output.bias")
        for i in 0..<weight.count { weight.values[i] = Float(c.weight.data[i]) }
        for i in 0..<bias.count { bias.values[i] = Float(c.bias.data[i]) }
        let layer = OutputLayer(vocabulary: c.vocabulary, hidden: c.hidden, store: store)
        layer.labelSmoothing = Float(c.epsilon)
        let x = c.x.data.map { Float($0) }
        let nll = x.withUnsafeBufferPointer { xp in
            c.targets.withUnsafeBufferPointer { layer.forward(input: xp.baseAddress!, targets: $0, training: true) }
        }
        layer.backward()
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-5 + 1e-5 * abs(b) }
        #expect(close(nll, c.nll), "nll \(nll) vs \(c.nll)")
        #expect(close(layer.smoothedLoss, c.loss), "loss \(layer.smoothedLoss) vs \(c.loss)")
        func expectClose(_ label: String, _ ours: [Float], _ theirs: [Double]) {
            #expect(ours.count == theirs.count)
            let bad = zip(ours, theirs).enumerated().filter { !close(Double($0.element.0), $0.element.1) }
            #expect(bad.isEmpty, "\(label): \(bad.prefix(3))")
        }
        expectClose("grad_weight", Array(UnsafeBufferPointer(start: weight.gradients, count: weight.count)), c.grad_weight.data)
        expectClose("grad_bias", Array(UnsafeBufferPointer(start: bias.gradients, count: bias.count)), c.grad_bias.data)
        expectClose("grad_x", Array(UnsafeBufferPointer(start: layer.inputGradient.pointer, count: c.rows * c.hidden)), c.grad_x.data)
    }

    /// Through the whole model (padding, reversal, dropout): the gradient `trainStep` adds is that
    /// of `lastSmoothedLossSum`, while its returned loss stays the plain NLL.
    @Test(arguments: ["lstm", "lstm dropout", "gru", "bidirectional lstm"])
    func wholeModelGradientIsThatOfTheSmoothedLoss(name: String) throws {
        let config = try #require(namedConfigs.first { $0.name == name }).config
        let model = Seq2SeqModel(config: config, seed: 21)
        model.labelSmoothing = 0.2
        let store = model.parameters
        var rng = SeededGenerator(seed: 22)
        for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.5, 0.5) }
        let batch = Batch(sources: tinySources, targets: tinyTargets)
        store.zeroGradients()
        let seed: UInt64? = config.dropout > 0 ? 99 : nil
        let (nll, _) = model.trainStep(batch, dropoutSeed: 99)
        let smoothed = model.lastSmoothedLossSum
        #expect(nll == model.forward(batch, dropoutSeed: seed) && smoothed != nll)
        let grads = Array(store.gradients)
        var bad: [GradientCheck.Mismatch] = []
        for tensor in store.tensors {
            let local = sampledIndices(tensor.shape.reduce(1, *), count: 12, rng: &rng)
            bad += GradientCheck().compare(label: tensor.name, values: store.values.baseAddress!, analytic: grads,
                                           indices: local.map { $0 + tensor.offset }) {
                _ = model.forward(batch, dropoutSeed: seed)
                return model.lastSmoothedLossSum
            }
        }
        #expect(bad.isEmpty, "\(bad.prefix(6))")
    }
}
