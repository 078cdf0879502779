import Kernels
import Testing

/// Operands for the int8 tests: A [m×K] and W [N×K] (plus a bias [N]) with the rows that break
/// kernels planted among random ones: all-zero rows, one value of 1e30 among small ones, and
/// rows whose every value quantizes to ±127 (in W with A's signs and against them, so that
/// vpmaddubsw's pair sums reach ±2·127·127 = ±32258, the int16 edge of the AVX2 scheme).
private struct Operands {
    let m: Int, k: Int, n: Int
    var a: [Float], w: [Float], bias: [Float]

    /// `extremeWeight` is W's planted large value (1e30; smaller where a float32 product must stay finite).
    init(m: Int, k: Int, n: Int, seed: UInt64, extremeWeight: Float = 1e30) {
        (self.m, self.k, self.n) = (m, k, n)
        var rng = SeededGenerator(seed: seed)
        let signs: [Float] = (0..<k).map { _ in rng.next() % 2 == 0 ? 1 : -1 }
        a = (0..<m * k).map { _ in rng.nextFloat(in: -1, 1) }
        w = (0..<n * k).map { _ in rng.nextFloat(in: -0.5, 0.5) }
        bias = (0..<n).map { _ in rng.nextFloat(in: -1, 1) }
        for r in 0..<m where m > 1 {
            switch r % 5 {
            case 1: for j in 0..<k { a[r * k + j] = 0 }
            case 2: for j in 0..<k { a[r * k + j] *= 1e-3 }; a[r * k + (r * 7) % k] = 1e30
            case 3: for j in 0..<k { a[r * k + j] = 2.5 * signs[j] }
            default: break
            }
        }
        for row in 0..<n where n > 1 {
            switch row % 5 {
            case 1: for j in 0..<k { w[row * k + j] = 0 }
            case 2: for j in 0..<k { w[row * k + j] = 0.75 * signs[j] }
            case 3: for j in 0..<k { w[row * k + j] = -0.75 * signs[j] }
            case 4: w[row * k + (row * 3) % k] = extremeWeight
            default: break
            }
        }
    }

    func quantized(_ kernel: Int8Kernel, bias useBias: Bool = true) -> QuantizedWeights {
        w.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                QuantizedWeights(blocks: [(w.baseAddress!, k)], rows: n, bias: useBias ? b.baseAddress : nil, kernel: kernel)
            }
        }
    }
}

/// C [m×N] = weights' product with rows `range` of A, through `multiply`.
private func product(_ weights: QuantizedWeights, _ a: [Float], rows range: Range<Int>, threads: Int = 1) -> [Float] {
    let (k, n) = (weights.k, weights.n)
    var c = [Float](repeating: .nan, count: range.count * n)
    a.withUnsafeBufferPointer { a in
        c.withUnsafeMutableBufferPointer { c in
            weights.multiply(a.baseAddress! + range.lowerBound * k, lda: k, rows: range.count, into: c.baseAddress!,
                             ldc: n, threads: threads)
        }
    }
    return c
}

private func bits(_ x: [Float]) -> [UInt32] { x.map(\.bitPattern) }

/// The awkward shapes: every m with every K, N cycling through its values.
private let awkward: [(m: Int, k: Int, n: Int)] = {
    let ms = [1, 3, 7, 17, 64, 320], ks = [1, 3, 31, 33, 257, 768], ns = [1, 15, 17, 1000]
    var shapes: [(Int, Int, Int)] = []
    for (i, m) in ms.enumerated() { for (j, k) in ks.enumerated() { shapes.append((m, k, ns[(i + j) % ns.count])) } }
    // Beam 5 and 6 rows: the AVX2 kernel's one-pass row counts above its 4-row blocks.
    return shapes + [(5, 257, 1000), (6, 33, 17), (6, 768, 15)]
}()

@Suite struct QuantizedWeightsTests {
    @Test func bestKernelIsAvailable() {
        #expect(Int8Kernel.best.isAvailable)
        #expect(Int8Kernel.reference.isAvailable)
        if Int8Kernel.avx2.isAvailable { #expect(Int8Kernel.best != .reference) }
        if Int8Kernel.avx512vnni.isAvailable { #expect(Int8Kernel.best == .avx512vnni) }
    }

    /// Weights: s_w = max|w|/127 per row, q = rne(w/s_w), a zero row has scale 0, blocks side by side.
    @Test func weightQuantizationFollowsTheDefinition() {
        // W = [0.5, -1.27 | 0.0127, 0] over [0, 0 | 0, 0]: two [2×2] blocks, row 1 zero in both.
        let xb: [Float] = [0.5, -1.27, 0, 0]
        let yb: [Float] = [0.0127, 0, 0, 0]
        let weights = xb.withUnsafeBufferPointer { p in
            yb.withUnsafeBufferPointer { q in
                QuantizedWeights(blocks: [(p.baseAddress!, 2), (q.baseAddress!, 2)], rows: 2, bias: nil, kernel: .reference)
            }
        }
        #expect(weights.k == 4 && weights.n == 2)
        let s = Float(1.27) / 127
        #expect(weights.scales == [s, 0])
        let expected: [Int8] = [Int8((0.5 / s).rounded(.toNearestOrEven)), -127, Int8((0.0127 / s).rounded(.toNearestOrEven)), 0,
                                0, 0, 0, 0]
        #expect(weights.quantizedRows == expected)
        #expect(weights.bias == [0, 0])
    }

    /// The reference kernel computes the documented formula: Σ qa·qw exactly in integers, then
    /// bias + (s_a·s_w)·Σ, checked against the same arithmetic written here in Swift.
    @Test func referenceIsTheDefinition() {
        let o = Operands(m: 7, k: 33, n: 17, seed: 11)
        let weights = o.quantized(.reference)
        let c = product(weights, o.a, rows: 0..<o.m)
        let (qa, sa) = o.a.withUnsafeBufferPointer { weights.quantizeActivations($0.baseAddress!, lda: o.k, rows: o.m) }
        let (qw, sw) = (weights.quantizedRows, weights.scales)
        for r in 0..<o.m {
            let largest = (0..<o.k).map { abs(o.a[r * o.k + $0]) }.max()!
            #expect(sa[r] == largest / 127)
            for row in 0..<o.n {
                var sum: Int32 = 0
                for j in 0..<o.k { sum += Int32(qa[r * o.k + j]) * Int32(qw[row * o.k + j]) }
                let scale = sa[r] * sw[row]
                let value = Float(sum) * scale
                #expect(c[r * o.n + row].bitPattern == (value + o.bias[row]).bitPattern, "row \(r), column \(row)")
            }
        }
    }

    /// Zero rows of A or W give exactly the bias; quantized values stay in −127…127.
    @Test func zeroRowsGiveTheBiasAndValuesStayInRange() {
        let o = Operands(m: 7, k: 31, n: 15, seed: 5)
        let weights = o.quantized(.best)
        let c = product(weights, o.a, rows: 0..<o.m)
        for column in 0..<o.n { #expect(c[1 * o.n + column] == o.bias[column]) }   // row 1 of A is zero
        for r in 0..<o.m { #expect(c[r * o.n + 1] == o.bias[1]) }                    // row 1 of W is zero
        #expect(weights.scales[1] == 0)
        #expect(weights.quantizedRows.allSatisfy { $0 >= -127 })
        #expect(weights.quantizedRows.contains(127) && weights.quantizedRows.contains(-127))
        let (qa, _) = o.a.withUnsafeBufferPointer { weights.quantizeActivations($0.baseAddress!, lda: o.k, rows: o.m) }
        #expect(qa.allSatisfy { $0 >= -127 })
    }

    private func expectKernelEqualsReference(_ kernel: Int8Kernel) {
        for (index, shape) in awkward.enumerated() {
            let o = Operands(m: shape.m, k: shape.k, n: shape.n, seed: UInt64(100 + index))
            let fast = product(o.quantized(kernel), o.a, rows: 0..<o.m)
            let slow = product(o.quantized(.reference), o.a, rows: 0..<o.m)
            #expect(bits(fast) == bits(slow), "\(kernel) differs from the reference at m \(shape.m) K \(shape.k) N \(shape.n)")
        }
    }

    /// Every int8 kernel this CPU can run (AVX2, AVX512-VNNI) equals the reference bit for bit on
    /// every awkward shape (39 of them). A kernel the CPU lacks cannot run and is not counted as a
    /// skip: the test's property is about the kernels this machine has, and `best` is one of them.
    @Test func everyKernelThisCPUHasEqualsTheReference() {
        let available = Int8Kernel.allCases.filter { $0 != .reference && $0.isAvailable }
        #expect(available.contains(Int8Kernel.best) || Int8Kernel.best == .reference)
        for kernel in available { expectKernelEqualsReference(kernel) }
    }

    /// int8 against the float32 product (PackedWeights) within the analytic quantization bound.
    /// With â = s_a·qa, |a−â| ≤ s_a/2 and ŵ = s_w·qw, |w−ŵ| ≤ s_w/2 (round to nearest; |ŵ| ≤ |w| + s_w/2):
    ///   |Σ a·w − Σ â·ŵ| = |Σ a(w−ŵ) + (a−â)ŵ| ≤ (s_w/2)·‖a‖₁ + (s_a/2)·(‖w‖₁ + K·s_w/2),
    /// and both sides carry float32 rounding, at most (K+3)·2⁻²³·(Σ|a·w| + |b|) together. The
    /// activation scale is applied as a·(127/max), one rounding more: the bound is taken 0.1 % wider.
    @Test func int8IsWithinTheQuantizationBoundOfFloat32() {
        for (m, k, n) in [(1, 1, 1), (3, 31, 17), (7, 257, 15), (17, 768, 100), (64, 33, 1000)] {
            // A's 1e30 times W's 1e4 stays finite in float32, so the two products can be compared.
            let o = Operands(m: m, k: k, n: n, seed: UInt64(m * 7 + k), extremeWeight: 1e4)
            let weights = o.quantized(.best)
            let int8 = product(weights, o.a, rows: 0..<m)
            var float32 = [Float](repeating: 0, count: m * n)
            o.w.withUnsafeBufferPointer { w in
                o.bias.withUnsafeBufferPointer { b in
                    let packed = PackedWeights(blocks: [(w.baseAddress!, k)], rows: n, bias: b.baseAddress!)
                    o.a.withUnsafeBufferPointer { a in
                        float32.withUnsafeMutableBufferPointer { packed.multiply(a.baseAddress!, lda: k, rows: m, into: $0.baseAddress!, ldc: n, threads: 1) }
                    }
                }
            }
            var worstRatio = 0.0
            for r in 0..<m {
                let row = (0..<k).map { Double(o.a[r * k + $0]) }
                let sa = row.map(abs).max()! / 127
                for column in 0..<n {
                    let wr = (0..<k).map { Double(o.w[column * k + $0]) }
                    let sw = wr.map(abs).max()! / 127
                    let l1a = row.reduce(0) { $0 + abs($1) }, l1w = wr.reduce(0) { $0 + abs($1) }
                    let magnitude = zip(row, wr).reduce(0) { $0 + abs($1.0 * $1.1) } + abs(Double(o.bias[column]))
                    let bound = 1.001 * (sw / 2 * l1a + sa / 2 * (l1w + Double(k) * sw / 2))
                        + Double(k + 3) * 0x1p-23 * magnitude
                    let error = abs(Double(int8[r * n + column]) - Double(float32[r * n + column]))
                    #expect(error <= bound, "m \(m) K \(k) N \(n) at (\(r), \(column)): error \(error) > bound \(bound)")
                    if bound > 0 { worstRatio = max(worstRatio, error / bound) }
                }
            }
            // K = 1 can be exact; every other shape's worst error is a visible share of the bound.
            if k > 1 { #expect(worstRatio > 0.01, "bound too loose to test anything: m \(m) K \(k) N \(n), worst error/bound \(worstRatio)") }
        }
    }

    /// The bits depend neither on the thread count nor on how rows are grouped into calls.
    @Test func threadsAndRowGroupingDoNotChangeTheBits() {
        let o = Operands(m: 67, k: 257, n: 1000, seed: 9)
        for kernel in Int8Kernel.allCases where kernel.isAvailable {
            let weights = o.quantized(kernel)
            let whole = product(weights, o.a, rows: 0..<o.m, threads: 1)
            for threads in [2, 3] { #expect(bits(product(weights, o.a, rows: 0..<o.m, threads: threads)) == bits(whole)) }
            for size in [1, 3, 5, 6, 8] {
                var grouped: [Float] = []
                var first = 0
                while first < o.m {
                    let last = min(o.m, first + size)
                    grouped += product(weights, o.a, rows: first..<last, threads: 2)
                    first = last
                }
                #expect(bits(grouped) == bits(whole), "\(kernel), rows \(size) at a time")
            }
        }
    }

    /// A shortlist's sub-matrix gives exactly those columns of the full product.
    @Test func selectingEqualsTheFullProductsColumns() {
        let o = Operands(m: 17, k: 33, n: 1000, seed: 4)
        let full = o.quantized(.best)
        let c = product(full, o.a, rows: 0..<o.m)
        let selected: [Int32] = [999, 0, 17, 17, 500, 2, 3, 4, 1]
        let sub = full.selecting(rows: selected)
        #expect(sub.n == selected.count && sub.k == o.k)
        let s = product(sub, o.a, rows: 0..<o.m)
        for r in 0..<o.m {
            for (i, column) in selected.enumerated() {
                #expect(s[r * selected.count + i].bitPattern == c[r * o.n + Int(column)].bitPattern)
            }
        }
    }

    /// `columns` (the decoder's first layer without its embedding columns) keeps the slice's int8
    /// values and the full rows' scales, the bias only where asked, and its product is that of
    /// weights rebuilt from exactly those values (panels and VNNI compensation of the slice), bit
    /// for bit; `product(columns:)` refuses empty and outside ranges.
    @Test func columnsAreTheSliceWithTheFullRowsScales() throws {
        let o = Operands(m: 7, k: 37, n: 33, seed: 6)
        let full = o.quantized(.best)
        let fullRows = full.quantizedRows
        for (range, useBias) in [(0..<13, true), (13..<37, false), (0..<37, true), (36..<37, false)] {
            let part = full.columns(range, bias: useBias)
            #expect(part.n == o.n && part.k == range.count && part.hasBias == useBias)
            var slice: [Int8] = []
            for row in 0..<o.n { slice += fullRows[(row * o.k + range.lowerBound)..<(row * o.k + range.upperBound)] }
            #expect(part.quantizedRows == slice && part.scales == full.scales)
            #expect(part.bias == (useBias ? full.bias : [Float](repeating: 0, count: o.n)))
            let rebuilt = try QuantizedWeights(quantized: slice, scales: full.scales, bias: useBias ? full.bias : nil,
                                               n: o.n, k: range.count)
            var a: [Float] = []
            for r in 0..<o.m { a += o.a[(r * o.k + range.lowerBound)..<(r * o.k + range.upperBound)] }
            #expect(bits(product(part, a, rows: 0..<o.m)) == bits(product(rebuilt, a, rows: 0..<o.m)))
        }
        #expect(full.product(columns: 5..<5, bias: false) == nil && full.product(columns: 30..<38, bias: false) == nil)
        #expect(full.product(columns: 30..<37, bias: false)?.k == 7)
    }

    /// The stored form (int8 rows, scales, bias) rebuilds weights with the same product, bit for bit.
    @Test func storedFormRoundTrips() throws {
        let o = Operands(m: 5, k: 31, n: 17, seed: 8)
        for useBias in [true, false] {
            let original = o.quantized(.best, bias: useBias)
            let loaded = try QuantizedWeights(quantized: original.quantizedRows, scales: original.scales,
                                              bias: useBias ? original.bias : nil, n: o.n, k: o.k)
            #expect(loaded.quantizedRows == original.quantizedRows && loaded.scales == original.scales)
            #expect(loaded.bias == original.bias && loaded.hasBias == useBias)
            #expect(bits(product(loaded, o.a, rows: 0..<o.m)) == bits(product(original, o.a, rows: 0..<o.m)))
        }
    }

    /// A malformed stored form is a thrown error naming the problem, never a trap.
    @Test func malformedStoredFormThrows() {
        func message(_ q: [Int8], _ s: [Float], _ b: [Float]?, _ n: Int, _ k: Int) -> String? {
            do { _ = try QuantizedWeights(quantized: q, scales: s, bias: b, n: n, k: k); return nil } catch { return "\(error)" }
        }
        #expect(message([1, 2, 3], [1], nil, 1, 2)?.contains("3 values") == true)
        #expect(message([1, 2], [1, 1], nil, 1, 2)?.contains("2 scales") == true)
        #expect(message([1, 2], [1], [0, 0], 1, 2)?.contains("2 biases") == true)
        #expect(message([1, -128], [1], nil, 1, 2)?.contains("-128") == true)
        #expect(message([1, 2], [-1], nil, 1, 2)?.contains("scale") == true)
        #expect(message([1, 2], [.nan], nil, 1, 2)?.contains("scale") == true)
        #expect(message([], [], nil, 0, 2)?.contains("non-empty") == true)
        #expect(message([1, 2], [1], nil, 1, 2) == nil)
    }
}
