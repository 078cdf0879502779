import Kernels
@testable import Model
import Testing

@Suite struct LayerGradientTests {
    /// A recurrent layer of every cell with a padding mask and a non-zero initial state. The test
    /// loss is a fixed random projection of every output and of the final state:
    /// L = Σ w1·h_t + Σ w2·h_N (+ Σ w3·c_N for the LSTM).
    @Test(arguments: CellType.allCases, [false, true])
    func recurrentLayer(cell: CellType, masked: Bool) {
        let (n, b, input, hidden) = (4, 3, 5, 4)
        var rng = SeededGenerator(seed: 11)
        let store = ParameterStore(layout: RecurrentLayer.layout(cell: cell, prefix: "l", inputSize: input, hidden: hidden))
        for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.6, 0.6) }
        let layer = RecurrentLayer(cell: cell, inputSize: input, hidden: hidden, store: store, prefix: "l")
        let memory = layer.hasMemory
        var x = randomFloats(n * b * input, scale: 1, &rng)
        var h0 = randomFloats(b * hidden, scale: 0.5, &rng), c0 = randomFloats(b * hidden, scale: 0.5, &rng)
        // Row 0 full length, row 1 two real steps, row 2 one real step.
        let lengths = [4, 2, 1]
        let mask: [Float] = (0..<(n * b)).map { masked ? ($0 / b < lengths[$0 % b] ? 1 : 0) : 1 }
        let w1 = randomFloats(n * b * hidden, scale: 1, &rng)
        let w2 = randomFloats(b * hidden, scale: 1, &rng), w3 = randomFloats(b * hidden, scale: 1, &rng)

        // x, h0, c0 are captured by the forward pass; keep them in place while perturbing.
        x.withUnsafeMutableBufferPointer { xp in
            h0.withUnsafeMutableBufferPointer { hp in
                c0.withUnsafeMutableBufferPointer { cp in
                    func lossInPlace() -> Double {
                        layer.forward(input: xp.baseAddress!, steps: n, batch: b, initialHidden: hp.baseAddress!,
                                      initialCell: cp.baseAddress!, mask: mask)
                        var total = 0.0
                        for i in 0..<(n * b * hidden) { total += Double(w1[i]) * Double(layer.outputs[i]) }
                        for i in 0..<(b * hidden) {
                            total += Double(w2[i]) * Double(layer.finalHidden[i])
                            if let finalCell = layer.finalCell { total += Double(w3[i]) * Double(finalCell[i]) }
                        }
                        return total
                    }
                    _ = lossInPlace()
                    store.zeroGradients()
                    layer.backward(outputGradient: w1, finalHiddenGradient: w2, finalCellGradient: memory ? w3 : nil,
                                   computeInputGradient: true)
                    let dx = Array(UnsafeBufferPointer(start: layer.inputGradient.pointer, count: n * b * input))
                    let dh0 = Array(UnsafeBufferPointer(start: layer.initialHiddenGradient, count: b * hidden))
                    let dc0 = memory ? Array(UnsafeBufferPointer(start: layer.initialCellGradient!, count: b * hidden)) : []
                    let grads = Array(store.gradients)
                    let check = GradientCheck()
                    var bad = check.compare(label: "params", values: store.values.baseAddress!, analytic: grads,
                                            indices: Array(0..<store.count), loss: lossInPlace)
                    bad += check.compare(label: "x", values: xp.baseAddress!, analytic: dx, indices: Array(0..<dx.count), loss: lossInPlace)
                    bad += check.compare(label: "h0", values: hp.baseAddress!, analytic: dh0, indices: Array(0..<dh0.count), loss: lossInPlace)
                    if memory {
                        bad += check.compare(label: "c0", values: cp.baseAddress!, analytic: dc0, indices: Array(0..<dc0.count), loss: lossInPlace)
                    }
                    #expect(bad.isEmpty, "\(bad.prefix(5))")
                    if masked {
                        // Padded steps leave the state alone: row 2's final state is its state after step 1.
                        _ = lossInPlace()
                        let h1row2 = Array(UnsafeBufferPointer(start: layer.h.pointer + (1 * b + 2) * hidden, count: hidden))
                        let hNrow2 = Array(UnsafeBufferPointer(start: layer.finalHidden + 2 * hidden, count: hidden))
                        #expect(h1row2 == hNrow2)
                        // Inputs at padded steps get exactly zero gradient.
                        #expect(dx[((3 * b) + 2) * input ..< ((3 * b) + 3) * input].allSatisfy { $0 == 0 })
                    }
                }
            }
        }
    }

    /// A layer started from no initial state (h_0 = 0, whose product with Wh is skipped forward and
    /// backward) gives, bit for bit, the outputs, final state, weight and input gradients and dL/dc_0
    /// of the same layer started from an explicit zero state (whose products run), for every cell.
    @Test(arguments: CellType.allCases)
    func startingFromZerosIsStartingFromAZeroState(cell: CellType) {
        let (n, b, input, hidden) = (3, 4, 5, 6)
        var rng = SeededGenerator(seed: 15)
        let values = (0..<RecurrentLayer.layout(cell: cell, prefix: "l", inputSize: input, hidden: hidden)
            .reduce(0) { $0 + $1.shape.reduce(1, *) }).map { _ in rng.nextFloat(in: -0.6, 0.6) }
        let x = randomFloats(n * b * input, scale: 1, &rng), g = randomFloats(n * b * hidden, scale: 1, &rng)
        let zeros = [Float](repeating: 0, count: b * hidden)
        func run(explicitZeros: Bool) -> [[UInt32]] {
            let store = ParameterStore(layout: RecurrentLayer.layout(cell: cell, prefix: "l", inputSize: input, hidden: hidden))
            for i in 0..<store.count { store.values[i] = values[i] }
            let layer = RecurrentLayer(cell: cell, inputSize: input, hidden: hidden, store: store, prefix: "l")
            #expect(layer.startsFromZero == false)
            x.withUnsafeBufferPointer { xp in
                zeros.withUnsafeBufferPointer { zp in
                    let start = explicitZeros ? zp.baseAddress! : nil
                    layer.forward(input: xp.baseAddress!, steps: n, batch: b, initialHidden: start,
                                  initialCell: layer.hasMemory ? start : nil, mask: nil)
                }
            }
            #expect(layer.startsFromZero == !explicitZeros)
            let outputs = Array(UnsafeBufferPointer(start: layer.outputs, count: n * b * hidden))
            let final = Array(UnsafeBufferPointer(start: layer.finalHidden, count: b * hidden))
            store.zeroGradients()
            layer.backward(outputGradient: g, finalHiddenGradient: nil, finalCellGradient: nil, computeInputGradient: true)
            let dx = Array(UnsafeBufferPointer(start: layer.inputGradient.pointer, count: n * b * input))
            let dc0 = layer.initialCellGradient.map { Array(UnsafeBufferPointer(start: $0, count: b * hidden)) } ?? []
            return [outputs, final, Array(store.gradients), dx, dc0].map { $0.map(\.bitPattern) }
        }
        #expect(run(explicitZeros: false) == run(explicitZeros: true))
    }

    /// Linear + softmax cross-entropy: weights, bias and input.
    @Test func outputLayer() {
        let (rows, hidden, vocabulary) = (5, 4, 7)
        var rng = SeededGenerator(seed: 12)
        let store = ParameterStore(layout: OutputLayer.layout(vocabulary: vocabulary, hidden: hidden))
        for i in 0..<store.count { store.values[i] = rng.nextFloat(in: -0.8, 0.8) }
        let layer = OutputLayer(vocabulary: vocabulary, hidden: hidden, store: store)
        var x = randomFloats(rows * hidden, scale: 1, &rng)
        let targets: [Int32] = [1, 6, 3, 3, 0]
        x.withUnsafeMutableBufferPointer { xp in
            func run(training: Bool) -> Double { targets.withUnsafeBufferPointer { layer.forward(input: xp.baseAddress!, targets: $0, training: training) } }
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

    /// The bias gradient that `forward(training: true)` starts (the rows of the part that starts
    /// at row 0, summed while in the cache) and `backward` finishes is, bit for bit, the one
    /// `backward` sums alone; at 2 threads, so that the rows split (unless a test running beside it
    /// set the thread count to 1 meanwhile: then forward adds all rows, still the same bits),
    /// plain and label-smoothed.
    @Test(arguments: [Float(0), 0.1])
    func biasGradientStartedInForwardIsTheSameBits(epsilon: Float) {
        let (rows, hidden, vocabulary) = (40, 8, 2000)   // 80,000 values: split across threads
        let before = Parallel.threads
        defer { Parallel.threads = before }
        Parallel.threads = 2
        var rng = SeededGenerator(seed: 14)
        let values = randomFloats(vocabulary * hidden + vocabulary, scale: 0.8, &rng)
        let x = randomFloats(rows * hidden, scale: 1, &rng)
        let targets = (0..<rows).map { _ in Int32(rng.next() % UInt64(vocabulary)) }
        func run(training: Bool) -> (started: [Float], leading: Int, gradients: [Float], dx: [Float]) {
            let store = ParameterStore(layout: OutputLayer.layout(vocabulary: vocabulary, hidden: hidden))
            for i in 0..<store.count { store.values[i] = values[i] }
            let layer = OutputLayer(vocabulary: vocabulary, hidden: hidden, store: store)
            layer.labelSmoothing = epsilon
            _ = x.withUnsafeBufferPointer { xp in
                targets.withUnsafeBufferPointer { layer.forward(input: xp.baseAddress!, targets: $0, training: training) }
            }
            let started = Array(UnsafeBufferPointer(start: layer.gradBias, count: vocabulary)), leading = layer.biasGradientRows
            layer.backward()
            return (started, leading, Array(store.gradients),
                    Array(UnsafeBufferPointer(start: layer.inputGradient.pointer, count: rows * hidden)))
        }
        let split = run(training: true), alone = run(training: false)
        #expect(alone.started.allSatisfy { $0 == 0 } && alone.leading == 0)
        #expect(split.leading > 0 && split.started.contains { $0 != 0 }, "forward added no rows")
        if split.leading < rows {
            // backward added the other rows
            let finished = Array(split.gradients[(vocabulary * hidden)...])
            #expect(finished != split.started)
        }
        #expect(split.gradients.map(\.bitPattern) == alone.gradients.map(\.bitPattern))
        #expect(split.dx.map(\.bitPattern) == alone.dx.map(\.bitPattern))
    }

    /// Embedding: d/dtable of Σ w·lookup; the pad row (id 0) gets exactly zero.
    @Test func embedding() {
        let (vocabulary, width) = (6, 3)
        var rng = SeededGenerator(seed: 13)
        var table = randomFloats(vocabulary * width, scale: 1, &rng)
        let ids: [Int32] = [2, 0, 5, 2, 1]
        let w = randomFloats(ids.count * width, scale: 1, &rng)
        let store = ParameterStore(layout: [("table", [vocabulary, width])], sparse: ["table"])
        ids.withUnsafeBufferPointer {
            Embedding.backward(gradTable: store.gradients.baseAddress!, width: width, ids: $0, outputGradient: w, store: store)
        }
        let grad = Array(store.gradients)
        #expect(grad[0..<width].allSatisfy { $0 == 0 })
        var out = [Float](repeating: 0, count: ids.count * width)
        table.withUnsafeMutableBufferPointer { tp in
            func loss() -> Double {
                ids.withUnsafeBufferPointer { Embedding.forward(table: tp.baseAddress!, width: width, ids: $0, into: &out) }
                // Pad positions are masked out of any loss in the model; mirror that here.
                return (0..<out.count).reduce(0.0) { $0 + (ids[$1 / width] == 0 ? 0 : Double(w[$1]) * Double(out[$1])) }
            }
            let bad = GradientCheck().compare(label: "table", values: tp.baseAddress!, analytic: grad,
                                              indices: Array(0..<(vocabulary * width)), loss: loss)
            #expect(bad.isEmpty, "\(bad)")
        }
    }

    /// The checker must reject a gradient that is wrong (here: one coordinate off by 30 %).
    @Test func checkerFailsOnWrongGradient() {
        var x: [Float] = [0.3, -1.2, 2.0]
        func lossOf(_ p: UnsafeMutablePointer<Float>) -> Double { Double(p[0] * p[0] + 3 * p[1] + p[2] * p[0]) }
        let right: [Float] = [2 * 0.3 + 2.0, 3, 0.3]
        var wrong = right
        wrong[1] *= 1.3
        x.withUnsafeMutableBufferPointer { xp in
            let p = xp.baseAddress!
            #expect(GradientCheck().compare(label: "x", values: p, analytic: right, indices: [0, 1, 2]) { lossOf(p) }.isEmpty)
            #expect(GradientCheck().compare(label: "x", values: p, analytic: wrong, indices: [0, 1, 2]) { lossOf(p) }.count == 1)
        }
    }
}
