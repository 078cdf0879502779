import Foundation
@testable import Kernels
import CVector
import Testing

private func randomArray(_ count: Int, _ rng: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in rng.nextFloat(in: -1, 1) }
}

/// Serialized: `twoThreadsAreReproducible` and `threadsCanBeSet` change the process's one thread
/// budget, and a product run while another test changed it would be a 1-thread product beside a
/// 2-thread one (different bits by design: CI once failed so).
@Suite(.serialized) struct GemmTests {
    /// Awkward shapes, every transpose combination, alpha/beta ≠ trivial.
    /// Every backend, awkward shapes, every transpose combination, alpha/beta ≠ trivial.
    @Test(arguments: GemmBackend.allCases)
    func everyBackendMatchesTheDoubleLoop(_ backend: GemmBackend) {
        for shape in [(1, 1, 1), (3, 7, 17), (17, 3, 7), (7, 17, 1), (1, 17, 3), (33, 65, 17), (40, 90, 300)] {
            for transposes in [(false, false), (true, false), (false, true), (true, true)] {
                GemmBackend.withBackend(backend) { gemmMatchesReference(shape: shape, transposes: transposes) }
            }
        }
    }

    func gemmMatchesReference(shape: (Int, Int, Int), transposes: (Bool, Bool)) {
        let (m, n, k) = shape
        let (ta, tb) = transposes
        var rng = SeededGenerator(seed: UInt64(m * 1000 + n * 10 + k))
        // Padded leading dimensions so that lda/ldb/ldc are honoured, not assumed.
        let lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3
        let a = randomArray((ta ? k : m) * lda, &rng), b = randomArray((tb ? n : k) * ldb, &rng)
        let c0 = randomArray(m * ldc, &rng)
        var fast = c0, slow = c0
        BLAS.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.7, a: a, lda: lda, b: b, ldb: ldb,
                  beta: 0.3, c: &fast, ldc: ldc)
        BLAS.referenceGemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.7, a: a, lda: lda, b: b, ldb: ldb,
                           beta: 0.3, c: &slow, ldc: ldc)
        let worst = zip(fast, slow).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * Float(k + 1), "max diff \(worst)")
    }

    /// The copy of Aᵀ's operand to a row stride off the multiples of 4 KiB (what oneDNN gets for a
    /// weight gradient, `OneDNN.restridesTransposedOperand`) moves A, not the
    /// product: with and without it the product of a weight gradient's shape (A [k, m] with rows
    /// 1,024 floats apart) agrees with the reference, and with the other.
    @Test func oneDNNsRestridedTransposedOperandGivesTheSameProduct() {
        var rng = SeededGenerator(seed: 31)
        let (m, n, k, lda) = (1024, 40, 64, 1024)
        let a = randomArray(k * lda, &rng), b = randomArray(k * n, &rng), c0 = randomArray(m * n, &rng)
        var expected = c0
        BLAS.referenceGemm(transA: true, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: n,
                           beta: 1, c: &expected, ldc: n)
        var results: [[Float]] = []
        for restride in [false, true] {
            let c = oneDNNProduct(transA: true, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: n,
                                  beta: 1, c0: c0, ldc: n, restride: restride)
            let worst = zip(c, expected).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5 * Float(k + 1), "restride \(restride): max diff \(worst)")
            results.append(c)
        }
        let apart = zip(results[0], results[1]).map { abs($0 - $1) }.max()!
        #expect(apart <= 1e-5 * Float(k + 1), "with and without the copy: max diff \(apart)")
    }

    /// The weight gradient's whole path at 2 threads: A [k, m] with rows 2,048 floats apart, which
    /// `gemm` re-strides (the copy's columns split between the threads) and then splits by rows of C
    /// (m off the 16-row blocks, so the last block is partial) is the same product as the reference,
    /// and as oneDNN's own product of A without the copy.
    @Test func oneDNNsRestridedRowSplitProductIsTheProduct() {
        let before = BLAS.threads
        BLAS.setThreads(2)
        defer { BLAS.setThreads(before) }
        var rng = SeededGenerator(seed: 43)
        let (m, n, k, lda) = (1032, 128, 128, 2048)
        #expect(OneDNN.split(transA: true, transB: false, m: m, n: n, k: k, threads: 2) == .rows)
        #expect(OneDNN.restridesTransposedOperand(transA: true, lda: lda))
        let a = randomArray(k * lda, &rng), b = randomArray(k * n, &rng), c0 = randomArray(m * n, &rng)
        var expected = c0
        BLAS.referenceGemm(transA: true, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: n,
                           beta: 1, c: &expected, ldc: n)
        let split = oneDNNProduct(transA: true, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: n,
                                  beta: 1, c0: c0, ldc: n)
        let whole = oneDNNProduct(transA: true, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: n,
                                  beta: 1, c0: c0, ldc: n, restride: false, split: .whole)
        let tolerance = 1e-5 * Float(k + 1)
        #expect(zip(split, expected).map { abs($0 - $1) }.max()! <= tolerance)
        #expect(zip(split, whole).map { abs($0 - $1) }.max()! <= tolerance)
    }

    /// `OneDNN.gemm` on copies of the operands, C starting from `c0`, with its rules overridden.
    func oneDNNProduct(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
                       b: [Float], ldb: Int, beta: Float, c0: [Float], ldc: Int, restride: Bool? = nil,
                       split: OneDNN.Split? = nil) -> [Float] {
        var c = c0
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    OneDNN.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.baseAddress!, lda: lda,
                                b: b.baseAddress!, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc, restride: restride,
                                split: split)
                }
            }
        }
        return c
    }

    /// A product split across the threads (one single-threaded oneDNN product per thread on its
    /// own columns or rows of C, `OneDNN.split`) is the same product, for all four transpositions:
    /// awkward m and n (not multiples of the 16-row/column blocks), alpha and beta ≠ trivial, with
    /// and without the split, against the reference.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func oneDNNsSplitsGiveTheSameProduct(ta: Bool, tb: Bool) {
        let before = BLAS.threads
        BLAS.setThreads(2)
        defer { BLAS.setThreads(before) }
        var rng = SeededGenerator(seed: 37)
        let (m, n, k) = (70, 203, 50), ldc = n + 5
        let lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1
        let a = randomArray((ta ? k : m) * lda, &rng), b = randomArray((tb ? n : k) * ldb, &rng), c0 = randomArray(m * ldc, &rng)
        var expected = c0
        BLAS.referenceGemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.7, a: a, lda: lda, b: b, ldb: ldb,
                           beta: 0.3, c: &expected, ldc: ldc)
        for split in [OneDNN.Split.whole, .columns, .rows] {
            let c = oneDNNProduct(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.7, a: a, lda: lda, b: b, ldb: ldb,
                                  beta: 0.3, c0: c0, ldc: ldc, split: split)
            let worst = zip(c, expected).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5 * Float(k + 1), "split \(split): max diff \(worst)")
            // Outside C's m×n block (the padding of each row) nothing is written.
            for i in 0..<m { #expect(c[(i * ldc + n)..<(i * ldc + ldc)] == c0[(i * ldc + n)..<(i * ldc + ldc)]) }
        }
    }

    @Test func betaZeroIgnoresGarbage() {
        var c: [Float] = [.nan, .nan]
        BLAS.gemm(m: 1, n: 2, k: 1, a: [2], lda: 1, b: [3, 4], ldb: 2, beta: 0, c: &c, ldc: 2)
        #expect(c == [6, 8])
    }

    /// The reference backend computes exactly what `cgemm.h` defines, on every vector path this CPU
    /// has: the float32 sum over k in increasing order with every product and sum rounded (no FMA),
    /// then alpha and beta; compared bit for bit with that loop written out in Swift (which never
    /// contracts a·b+c), at 1 and 2 threads.
    @Test func referenceBackendGivesTheDefinedBitsOnEveryPath() {
        let before = (ReferenceGemm.path, Parallel.threads)
        defer { (ReferenceGemm.path, Parallel.threads) = before }
        var rng = SeededGenerator(seed: 5)
        for (m, n, k) in [(1, 1, 1), (5, 33, 9), (13, 17, 70), (64, 100, 64), (7, 300, 200)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.7, 0.3)] {
                    let lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 1
                    let a = randomArray((ta ? k : m) * lda, &rng), b = randomArray((tb ? n : k) * ldb, &rng)
                    let c0 = randomArray(m * ldc, &rng)
                    var expected = c0
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum: Float = 0
                            for p in 0..<k {
                                let product = (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j])
                                sum = sum + product
                            }
                            if alpha != 1 { sum = alpha * sum }
                            let old = c0[i * ldc + j]
                            expected[i * ldc + j] = beta == 0 ? sum : beta == 1 ? sum + old : sum + beta * old
                        }
                    }
                    for path in VectorPath.allCases where path.isAvailable {
                        for threads in [1, 2] {
                            ReferenceGemm.path = path
                            var c = c0
                            ReferenceGemm.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                               b: b, ldb: ldb, beta: beta, c: &c, ldc: ldc, threads: threads)
                            #expect(c.map(\.bitPattern) == expected.map(\.bitPattern),
                                    "\(path) \(threads) thread(s) m\(m) n\(n) k\(k) \(ta) \(tb) alpha \(alpha) beta \(beta)")
                        }
                    }
                }
            }
        }
    }

    /// Two threads must give the same bits run after run, on every backend (the training
    /// determinism rests on it).
    @Test(arguments: GemmBackend.allCases)
    func twoThreadsAreReproducible(_ backend: GemmBackend) {
        GemmBackend.withBackend(backend) { twoThreadsAreReproducible() }
    }

    func twoThreadsAreReproducible() {
        let before = BLAS.threads
        BLAS.setThreads(2)
        var rng = SeededGenerator(seed: 77)
        let (m, n, k) = (96, 300, 130)
        let a = randomArray(m * k, &rng), b = randomArray(n * k, &rng)
        var first = [Float](repeating: 0, count: m * n), second = first
        BLAS.gemm(transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, beta: 0, c: &first, ldc: n)
        BLAS.gemm(transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, beta: 0, c: &second, ldc: n)
        #expect(first == second)
        BLAS.setThreads(before)
    }

    @Test func threadsCanBeSet() {
        let before = BLAS.threads
        BLAS.setThreads(1)
        #expect(BLAS.threads == 1)
        BLAS.setThreads(before)
    }
}

@Suite struct ActivationTests {
    /// The buffer forms (CVector's kernels) give, on every instruction-set path this CPU has, the
    /// bits of the element functions written in Swift, across the clamp bounds and lengths that are
    /// not a multiple of any vector width.
    @Test func bufferFormsGiveTheElementBitsOnEveryPath() {
        let before = VectorKernels.path
        defer { VectorKernels.path = before }
        var rng = SeededGenerator(seed: 8)
        let values = (0..<1037).map { _ in rng.nextFloat(in: -12, 12) } + [0, -0, 7.9053111, -7.9053111, 9, -9, 1e-30]
        for path in VectorPath.allCases where path.isAvailable {
            VectorKernels.path = path
            var t = values, s = values
            t.withUnsafeMutableBufferPointer { Activation.tanh($0) }
            s.withUnsafeMutableBufferPointer { Activation.sigmoid($0) }
            #expect(t.map(\.bitPattern) == values.map { Activation.tanh($0).bitPattern }, "tanh, \(path)")
            #expect(s.map(\.bitPattern) == values.map { Activation.sigmoid($0).bitPattern }, "sigmoid, \(path)")
        }
    }

    @Test func tanhAndSigmoidMatchLibm() {
        var worstTanh = 0.0, worstSigmoid = 0.0
        var x: Float = -20
        while x <= 20 {
            worstTanh = max(worstTanh, abs(Double(Activation.tanh(x)) - Foundation.tanh(Double(x))))
            worstSigmoid = max(worstSigmoid, abs(Double(Activation.sigmoid(x)) - 1 / (1 + Foundation.exp(-Double(x)))))
            x += 0.001
        }
        #expect(worstTanh <= 1e-6, "tanh max error \(worstTanh)")
        #expect(worstSigmoid <= 1e-6, "sigmoid max error \(worstSigmoid)")
        #expect(Activation.tanh(0) == 0)
        #expect(Activation.tanh(1000) <= 1 && Activation.tanh(-1000) >= -1)
    }

    @Test func expMatchesLibm() {
        var worst = 0.0
        var x: Float = -87
        while x <= 88 {
            let reference = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(Activation.exp(x)) - reference) / reference)
            x += 0.0137
        }
        #expect(worst <= 5e-7, "exp max relative error \(worst)")
        let lanes = SIMD8<Float>(-90, -20.5, -1, 0, 0.3, 7, 50, 100)
        let vector = Activation.exp(lanes)
        for i in 0..<8 { #expect(vector[i] == Activation.exp(lanes[i])) }
        #expect(Activation.exp(0) == 1)
        #expect(Activation.exp(-1000) < 1e-37 && Activation.exp(-1000) >= 0)
    }

    @Test func buffersMatchScalar() {
        var rng = SeededGenerator(seed: 3)
        var a = randomArray(37, &rng).map { $0 * 8 }
        let original = a
        a.withUnsafeMutableBufferPointer { Activation.tanh($0) }
        #expect(a == original.map { Activation.tanh($0) })
        a = original
        a.withUnsafeMutableBufferPointer { Activation.sigmoid($0) }
        #expect(a == original.map { Activation.sigmoid($0) })
    }

    @Test(arguments: [-3.0, -0.5, 0.0, 0.7, 2.5] as [Float])
    func derivativesMatchFiniteDifferences(x: Float) {
        let h = 1e-3
        let dt = (Foundation.tanh(Double(x) + h) - Foundation.tanh(Double(x) - h)) / (2 * h)
        #expect(abs(Double(Activation.tanhDerivative(output: Activation.tanh(x))) - dt) < 1e-5)
        func s(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        let ds = (s(Double(x) + h) - s(Double(x) - h)) / (2 * h)
        #expect(abs(Double(Activation.sigmoidDerivative(output: Activation.sigmoid(x))) - ds) < 1e-5)
    }
}

@Suite struct SoftmaxTests {
    /// The row maximum behind every softmax (kept in 16 lanes) is the running maximum: exp(x − m)
    /// and m + log Σ come out bit for bit as the running maximum gives them, on every path, for
    /// widths around the 16 lanes, ties of +0 and −0 at the top and −∞ entries.
    @Test func rowMaximumIsTheRunningMaximum() {
        var rng = SeededGenerator(seed: 41)
        for width in [1, 2, 15, 16, 17, 31, 33, 40, 100] {
            for kind in 0..<3 {
                var row = randomArray(width, &rng).map { $0 * 5 - 3 }
                if kind == 1 { for j in stride(from: 0, to: width, by: 3) { row[j] = j % 2 == 0 ? 0 : -0.0 } }
                if kind == 2 { for j in stride(from: 1, to: width, by: 4) { row[j] = -.infinity } }
                var m = -Float.infinity
                for v in row where v > m { m = v }
                for path in VectorPath.allCases where path.isAvailable {
                    var x = row, lse: [Float] = [0], inv: [Float] = [0]
                    cvector_exp_rows(path.code, &x, 1, width, nil, &lse, &inv)
                    let expected = row.map { Activation.exp($0 - m) }
                    #expect(x.map(\.bitPattern) == expected.map(\.bitPattern), "\(path) width \(width) kind \(kind)")
                    var sum: Float = 0
                    var lanes = [Float](repeating: 0, count: 16)
                    var j = 0
                    while j + 16 <= width { for l in 0..<16 { lanes[l] = lanes[l] + expected[j + l] }; j += 16 }
                    for l in 0..<16 { sum = sum + lanes[l] }
                    while j < width { sum = sum + expected[j]; j += 1 }
                    #expect(lse[0].bitPattern == (m + logf(sum)).bitPattern, "\(path) width \(width) kind \(kind)")
                }
            }
        }
    }

    /// The row kernels give the same bits on every instruction-set path this CPU has; the
    /// cross-entropy gradient is exp_rows' row (its exp(x − max) matching `Activation.exp` element
    /// by element) times 1/Σ, less `uniform`, less `hit` at the target, bit for bit, its rows sum
    /// to 1 − hit − width·uniform (0 for dz = softmax − onehot), and the column sums it adds are the
    /// rows added in order.
    @Test(arguments: [(Float(1), Float(0)), (Float(0.9), Float(0.1) / 1003)])
    func rowKernelsGiveTheSameBitsOnEveryPath(hit: Float, uniform: Float) {
        let before = VectorKernels.path
        defer { VectorKernels.path = before }
        var rng = SeededGenerator(seed: 4)
        let (rows, width) = (3, 1003)
        let logits = (0..<(rows * width)).map { _ in rng.nextFloat(in: -30, 30) }
        let bias = (0..<width).map { _ in rng.nextFloat(in: -1, 1) }
        let targets: [Int32] = [0, 517, 1002]
        var results: [[UInt32]] = []
        for path in VectorPath.allCases where path.isAvailable {
            VectorKernels.path = path
            var e = logits, g = logits, l = logits
            var lse = [Float](repeating: 0, count: rows), inv = lse, gradientLSE = lse
            let start = (0..<width).map { Float($0 % 7) - 3 }
            var sums = start
            cvector_exp_rows(path.code, &e, rows, width, bias, &lse, &inv)
            Softmax.crossEntropyGradientRows(&g, rows: rows, width: width, adding: bias, targets: targets, hit: hit,
                                             uniform: uniform, logSumExp: &gradientLSE, columnSums: &sums)
            Softmax.logSoftmaxRows(&l, rows: rows, width: width)
            #expect(gradientLSE.map(\.bitPattern) == lse.map(\.bitPattern))
            for r in 0..<rows {
                let row = (0..<width).map { logits[r * width + $0] + bias[$0] }
                let m = row.max()!
                #expect((0..<width).allSatisfy { e[r * width + $0].bitPattern == Activation.exp(row[$0] - m).bitPattern })
                let expected = (0..<width).map { j -> Float in
                    var d = uniform != 0 ? e[r * width + j] * inv[r] - uniform : e[r * width + j] * inv[r]
                    if j == Int(targets[r]) { d = d - hit }
                    return d
                }
                #expect((0..<width).allSatisfy { g[r * width + $0].bitPattern == expected[$0].bitPattern })
                let total = (0..<width).reduce(0.0) { $0 + Double(g[r * width + $1]) }
                #expect(abs(total - (1 - Double(hit) - Double(width) * Double(uniform))) < 1e-5)
            }
            // The column sums: start + row 0 + row 1 + row 2, in that order.
            let expectedSums = (0..<width).map { j in (0..<rows).reduce(start[j]) { $0 + g[$1 * width + j] } }
            #expect(sums.map(\.bitPattern) == expectedSums.map(\.bitPattern))
            results.append((g + lse + inv + l + sums).map(\.bitPattern))
        }
        #expect(Set(results).count == 1)
    }

    /// The ensemble's weighted log-softmax is the in-place log-softmax, scaled and added by hand in
    /// the documented order (w·l, then y + w·l), bit for bit on every path; weight 1 without
    /// accumulating is the in-place kernel itself; the logits are not written.
    @Test func weightedLogSoftmaxIsTheLogSoftmaxMixedByHand() {
        let before = VectorKernels.path
        defer { VectorKernels.path = before }
        var rng = SeededGenerator(seed: 9)
        let (rows, width) = (4, 1003)
        let a = (0..<(rows * width)).map { _ in rng.nextFloat(in: -30, 30) }
        let b = (0..<(rows * width)).map { _ in rng.nextFloat(in: -30, 30) }
        let (wa, wb): (Float, Float) = (0.3, 0.7)
        for path in VectorPath.allCases where path.isAvailable {
            VectorKernels.path = path
            var la = a, lb = b
            Softmax.logSoftmaxRows(&la, rows: rows, width: width)
            Softmax.logSoftmaxRows(&lb, rows: rows, width: width)
            let expected = (0..<(rows * width)).map { wa * la[$0] + wb * lb[$0] }
            var mixed = [Float](repeating: .nan, count: rows * width), plain = mixed
            var (xa, xb) = (a, b)
            mixed.withUnsafeMutableBufferPointer { y in
                Softmax.weightedLogSoftmaxRows(&xa, into: y.baseAddress!, rows: rows, width: width, weight: wa, accumulate: false)
                Softmax.weightedLogSoftmaxRows(&xb, into: y.baseAddress!, rows: rows, width: width, weight: wb, accumulate: true)
            }
            plain.withUnsafeMutableBufferPointer { y in
                Softmax.weightedLogSoftmaxRows(a, into: y.baseAddress!, rows: rows, width: width, weight: 1, accumulate: false)
            }
            #expect(mixed.map(\.bitPattern) == expected.map(\.bitPattern), "path \(path)")
            #expect(plain.map(\.bitPattern) == la.map(\.bitPattern), "path \(path)")
            #expect(xa == a && xb == b)
        }
    }

    @Test(arguments: [1, 3, 17, 300, 513])
    func logSoftmaxMatchesDouble(width: Int) {
        var rng = SeededGenerator(seed: UInt64(width))
        let rows = 3
        let x = randomArray(rows * width, &rng).map { $0 * 30 }
        var log = x, probabilities = x
        var lse = [Float](repeating: 0, count: rows)
        log.withUnsafeMutableBufferPointer { Softmax.logSoftmaxRows($0.baseAddress!, rows: rows, width: width) }
        probabilities.withUnsafeMutableBufferPointer { p in
            lse.withUnsafeMutableBufferPointer { Softmax.softmaxRows(p.baseAddress!, rows: rows, width: width, logSumExp: $0.baseAddress!) }
        }
        for r in 0..<rows {
            let row = x[(r * width)..<((r + 1) * width)].map(Double.init)
            let m = row.max()!
            let reference = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
            #expect(abs(Double(lse[r]) - reference) < 1e-4)
            for j in 0..<width {
                #expect(abs(Double(log[r * width + j]) - (row[j] - reference)) < 1e-4)
                #expect(abs(Double(probabilities[r * width + j]) - Foundation.exp(row[j] - reference)) < 1e-6)
            }
        }
    }
}

@Suite struct VectorTests {
    @Test(arguments: [0, 1, 7, 8, 17, 5000])
    func sumOfSquares(count: Int) {
        var rng = SeededGenerator(seed: 9)
        let x = randomArray(count, &rng)
        let expected = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        let got = x.withUnsafeBufferPointer { Vector.sumOfSquares($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: count) }
        #expect(abs(got - expected) <= 1e-5 * max(1, expected))
    }

    /// The chunked, parallel reduction gives the same bits with 1 and 2 threads.
    @Test func parallelLoopsIndependentOfThreadCount() {
        var rng = SeededGenerator(seed: 10)
        let n = 300_001
        let x = randomArray(n, &rng)
        let before = Parallel.threads
        func run(_ threads: Int) -> Double {
            Parallel.threads = threads
            return x.withUnsafeBufferPointer { Vector.sumOfSquares($0.baseAddress!, count: n) }
        }
        let one = run(1), two = run(2)
        Parallel.threads = before
        #expect(one == two)
        var z = x
        z.withUnsafeMutableBufferPointer { Vector.zero($0.baseAddress!, count: n) }
        #expect(z.allSatisfy { $0 == 0 })
    }

    /// The transpose is the definition, y[j][i] = x[i][j], on every vector path this CPU has, for
    /// shapes off the 16×16 tiles and one large enough to be split across the threads.
    @Test(arguments: [(1, 1), (3, 17), (17, 3), (16, 32), (33, 50), (300, 1030)])
    func transposeIsTheDefinitionOnEveryPath(rows: Int, columns: Int) {
        var rng = SeededGenerator(seed: UInt64(rows * 7 + columns))
        let x = randomArray(rows * columns, &rng)
        var expected = [Float](repeating: 0, count: rows * columns)
        for i in 0..<rows { for j in 0..<columns { expected[j * rows + i] = x[i * columns + j] } }
        for path in VectorPath.allCases where path.isAvailable {
            var y = [Float](repeating: .nan, count: rows * columns)
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    cvector_transpose(path.code, x.baseAddress!, rows, columns, 0, columns, y.baseAddress!, rows)
                }
            }
            #expect(y.map(\.bitPattern) == expected.map(\.bitPattern), "\(path) \(rows)×\(columns)")
        }
        var y = [Float](repeating: .nan, count: rows * columns)
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { Vector.transpose(x.baseAddress!, rows: rows, columns: columns, into: $0.baseAddress!) }
        }
        #expect(y.map(\.bitPattern) == expected.map(\.bitPattern))
        // Into rows `rows + 5` apart: the same values, the padding untouched.
        let stride = rows + 5
        var padded = [Float](repeating: 7, count: columns * stride)
        x.withUnsafeBufferPointer { x in
            padded.withUnsafeMutableBufferPointer {
                Vector.transpose(x.baseAddress!, rows: rows, columns: columns, into: $0.baseAddress!, outputStride: stride)
            }
        }
        for j in 0..<columns {
            #expect(padded[(j * stride)..<(j * stride + rows)].map(\.bitPattern) == expected[(j * rows)..<(j * rows + rows)].map(\.bitPattern))
            #expect(padded[(j * stride + rows)..<(j * stride + stride)].allSatisfy { $0 == 7 })
        }
    }

    /// The parallel column sums over rows a stride apart (the re-strided gate gradients, whose bias
    /// gradient is summed from them; the width off the 16-column blocks) give the bits of the
    /// one-thread sums and never read the padding between rows.
    @Test func parallelColumnSumsOfRowsAStrideApart() {
        var rng = SeededGenerator(seed: 12)
        let (rows, width, stride) = (300, 1000, 1040)
        var x = randomArray(rows * stride, &rng)
        for r in 0..<rows { for j in width..<stride { x[r * stride + j] = .nan } }
        let start = randomArray(width, &rng)
        let before = Parallel.threads
        defer { Parallel.threads = before }
        func run(_ threads: Int) -> [Float] {
            Parallel.threads = threads
            var sums = start
            x.withUnsafeBufferPointer { x in
                sums.withUnsafeMutableBufferPointer { y in
                    Vector.addColumnSumsInParallel(of: x.baseAddress!, rows: rows, width: width, rowStride: stride, into: y.baseAddress!)
                }
            }
            return sums
        }
        var expected = start
        for r in 0..<rows { for j in 0..<width { expected[j] += x[r * stride + j] } }
        #expect(run(1) == expected)
        #expect(run(2) == expected)
    }

    @Test func columnSumsAndRowVector() {
        var x: [Float] = [1, 2, 3, 4, 5, 6]   // [2, 3]
        var sums: [Float] = [10, 0, 0]
        Vector.addColumnSums(of: x, rows: 2, width: 3, into: &sums)
        #expect(sums == [15, 7, 9])
        Vector.addRowVector([1, 1, 2], to: &x, rows: 2, width: 3)
        #expect(x == [2, 3, 5, 5, 6, 8])
    }

    @Test func workspaceGrowsOnlyWhenNeeded() {
        let buffer = FloatBuffer()
        let p = buffer.reserve(100)
        #expect(buffer.reserve(50) == p)
        #expect(buffer.capacity == 100)
        buffer.reserve(200)
        #expect(buffer.capacity == 200)
    }
}

@Suite struct SeededGeneratorTests {
    @Test func deterministicAndCodable() throws {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        for _ in 0..<10 { #expect(a.next() == b.next()) }
        let data = try JSONEncoder().encode(a)
        var c = try JSONDecoder().decode(SeededGenerator.self, from: data)
        #expect(a.next() == c.next())
        #expect(SeededGenerator(seed: 1) != SeededGenerator(seed: 2))
    }

    @Test func unitFloatsAreInRangeAndSpread() {
        var rng = SeededGenerator(seed: 5)
        var sum = 0.0
        for _ in 0..<10000 {
            let u = rng.nextUnitFloat()
            #expect(u >= 0 && u < 1)
            sum += Double(u)
        }
        #expect(abs(sum / 10000 - 0.5) < 0.02)
    }
}

@Suite struct PackedWeightsTests {
    /// bias + A·[W1 | W2]ᵀ against the double-precision reference, for row counts on both sides of
    /// the 6-row kernel, N not a multiple of the 16-wide panel, odd K, padded leading dimensions,
    /// and with one and two threads (the split must not change a single bit).
    @Test(arguments: [1, 2, 5, 6, 7, 13], [(37, 5, 4), (16, 1, 8), (100, 19, 0)])
    func multiplyMatchesReference(rows m: Int, shape: (Int, Int, Int)) {
        let (n, k1, k2) = shape
        var rng = SeededGenerator(seed: UInt64(m * 100 + n))
        let w1 = randomArray(n * k1, &rng), w2 = randomArray(n * max(k2, 1), &rng), bias = randomArray(n, &rng)
        let k = k1 + k2, lda = k + 3, ldc = n + 2
        let a = randomArray(m * lda, &rng)
        var blocks: [(weights: UnsafePointer<Float>, columns: Int)] = []
        let packed = w1.withUnsafeBufferPointer { p1 in
            w2.withUnsafeBufferPointer { p2 in
                blocks = [(p1.baseAddress!, k1)]
                if k2 > 0 { blocks.append((p2.baseAddress!, k2)) }
                return PackedWeights(blocks: blocks, rows: n, bias: bias)
            }
        }
        #expect(packed.n == n && packed.k == k)
        // The reference: W = [W1 | W2] as one [n×k] matrix, C = bias + A·Wᵀ.
        var w = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            for j in 0..<k1 { w[i * k + j] = w1[i * k1 + j] }
            for j in 0..<k2 { w[i * k + k1 + j] = w2[i * k2 + j] }
        }
        var expected = [Float](repeating: 0, count: m * ldc)
        for r in 0..<m { for j in 0..<n { expected[r * ldc + j] = bias[j] } }
        BLAS.referenceGemm(transB: true, m: m, n: n, k: k, a: a, lda: lda, b: w, ldb: k, beta: 1, c: &expected, ldc: ldc)
        var results: [[Float]] = []
        for threads in [1, 2] {
            var c = [Float](repeating: .nan, count: m * ldc)
            packed.multiply(a, lda: lda, rows: m, into: &c, ldc: ldc, threads: threads)
            for r in 0..<m {
                for j in 0..<n {
                    #expect(abs(c[r * ldc + j] - expected[r * ldc + j]) <= 1e-5 * Float(k + 1), "row \(r) col \(j)")
                }
                // Padding columns of C are left alone.
                let padding = c[(r * ldc + n)..<(r * ldc + ldc)]
                #expect(padding.allSatisfy { $0.isNaN })
            }
            results.append(c)
        }
        #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern))
    }

    /// Large enough to be split across two threads: the same bits as one thread.
    @Test func threadSplitIsBitIdentical() {
        var rng = SeededGenerator(seed: 5)
        let (m, n, k) = (5, 1000, 300)
        let w = randomArray(n * k, &rng), a = randomArray(m * k, &rng)
        let packed = w.withUnsafeBufferPointer { PackedWeights(blocks: [($0.baseAddress!, k)], rows: n, bias: nil) }
        var outputs: [[UInt32]] = []
        for threads in [1, 2] {
            var c = [Float](repeating: 0, count: m * n)
            packed.multiply(a, lda: k, rows: m, into: &c, ldc: n, threads: threads)
            outputs.append(c.map(\.bitPattern))
        }
        #expect(outputs[0] == outputs[1])
    }

    /// Every kernel path this CPU has (AVX-512, AVX2+FMA, scalar fmaf) gives the bits of the FMA
    /// chain written out in Swift (bias, then `addingProduct` over k in increasing order), for row
    /// counts that exercise the 1-row four-panel kernel and the 6-row kernel, and N past a panel.
    @Test func everyPathGivesTheFMAChainBits() {
        let before = PackedWeights.path
        defer { PackedWeights.path = before }
        var rng = SeededGenerator(seed: 21)
        let (n, k) = (83, 45)
        let w = randomArray(n * k, &rng), bias = randomArray(n, &rng), a = randomArray(13 * k, &rng)
        let packed = w.withUnsafeBufferPointer { PackedWeights(blocks: [($0.baseAddress!, k)], rows: n, bias: bias) }
        for m in [1, 4, 6, 13] {
            var expected = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var sum = bias[j]
                    for p in 0..<k { sum = sum.addingProduct(a[i * k + p], w[j * k + p]) }
                    expected[i * n + j] = sum
                }
            }
            for path in VectorPath.allCases where path.isAvailable {
                PackedWeights.path = path
                var c = [Float](repeating: 0, count: m * n)
                packed.multiply(a, lda: k, rows: m, into: &c, ldc: n, threads: 1)
                #expect(c.map(\.bitPattern) == expected.map(\.bitPattern), "path \(path), \(m) rows")
            }
        }
    }

    /// A row's result does not depend on the rows multiplied with it (1-row and 6-row kernels,
    /// row groups of 6): the same bits alone as inside a product of 13 rows.
    @Test func rowResultIndependentOfRowCount() {
        var rng = SeededGenerator(seed: 9)
        let (n, k) = (70, 33)
        let w = randomArray(n * k, &rng), bias = randomArray(n, &rng), a = randomArray(13 * k, &rng)
        let packed = w.withUnsafeBufferPointer { PackedWeights(blocks: [($0.baseAddress!, k)], rows: n, bias: bias) }
        var all = [Float](repeating: 0, count: 13 * n)
        packed.multiply(a, lda: k, rows: 13, into: &all, ldc: n, threads: 1)
        for r in 0..<13 {
            var one = [Float](repeating: 0, count: n)
            a.withUnsafeBufferPointer { packed.multiply($0.baseAddress! + r * k, lda: k, rows: 1, into: &one, ldc: n, threads: 1) }
            #expect(one.map(\.bitPattern) == all[(r * n)..<((r + 1) * n)].map(\.bitPattern), "row \(r)")
        }
    }
}
