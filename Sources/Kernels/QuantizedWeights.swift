import CInt8
import Glibc
import Dispatch

/// The int8 kernels `QuantizedWeights` can run; `best` is the fastest this CPU has, found at run
/// time (`__builtin_cpu_supports`), so one binary serves AVX2-only and AVX512-VNNI machines.
/// Every kernel gives the same bits (the int32 sums are exact and the float epilogue is shared).
public enum Int8Kernel: String, CaseIterable, Sendable {
    /// Plain C over the row-major int8 rows: the definition the others are tested against.
    case reference
    /// `vpmaddubsw` + `vpmaddwd` + `vpaddd` with the sign trick (intgemm, FBGEMM): 2 int8
    /// multiply-adds per int32 lane per instruction triple, twice a float32 FMA's.
    case avx2
    /// `vpdpbusd` on (a+128) as u8 × w as s8, minus 128·Σw per output row (FBGEMM, oneDNN).
    case avx512vnni

    /// Whether this CPU can run the kernel.
    public var isAvailable: Bool { cint8_kernel_available(code) != 0 }

    /// The fastest available kernel: AVX512-VNNI, else AVX2, else the reference.
    public static let best: Int8Kernel = [.avx512vnni, .avx2].first { $0.isAvailable } ?? .reference

    var code: Int32 {
        switch self {
        case .reference: Int32(CINT8_REFERENCE)
        case .avx2: Int32(CINT8_AVX2)
        case .avx512vnni: Int32(CINT8_AVX512VNNI)
        }
    }
}

/// A weight matrix W [N×K] (N out, K in) quantized to int8 with one scale per output row, for
/// decoding products `C[m×N] = bias + A[m×K]·Wᵀ` with any m (1 at greedy batch 1, 320 at beam 5 ×
/// batch 64). The int8 twin of `PackedWeights`, with the same API.
///
/// Quantization follows PyTorch's `quantize_dynamic` with per-row weight scales (and Marian's and
/// CTranslate2's int8 decoding): symmetric, s_w[n] = max_k |W[n,k]| / 127, q = round-to-nearest-
/// even(W/s_w) in [−127, 127] (never −128, which keeps the AVX2 kernel saturation-free); each
/// multiply quantizes every row of A the same way (s_a[r] = max_k |A[r,k]| / 127, q = rne(A·127/max)).
/// The product is `C[r,n] = bias[n] + (s_a[r]·s_w[n])·Σ_k qa[r,k]·qw[n,k]` with the sum in int32
/// (exact for K ≤ `maximumColumns`); an all-zero row of W (or of A) has scale 0 and gives the bias.
/// Non-finite values are quantized as 0 and left out of the maximum.
///
/// The kernels (C target CInt8: reference, AVX2 after intgemm/FBGEMM, AVX512-VNNI after FBGEMM)
/// read W as panels of 16 output rows × groups of 4 k; a pass over a panel serves 4 rows of A (all
/// of them up to 6: beam 5) on AVX2 or 8 on VNNI, and blocks of panels stay in L2 while every block
/// of rows passes, so W is read from memory once per call. Each output depends only on its own row of A and row of W, so the
/// result does not depend on m, on how rows are grouped, on the thread count (threads split
/// panels) nor on the kernel: bit for bit.
public final class QuantizedWeights {
    /// Output width N (columns of C).
    public let n: Int
    /// Reduction length K (columns of A).
    public let k: Int
    /// The kernel `multiply` runs (default `Int8Kernel.best`); set another to compare them.
    /// Setting one this CPU lacks is a programmer error.
    public var kernel: Int8Kernel {
        didSet { precondition(kernel.isAvailable, "QuantizedWeights: kernel \(kernel) is not available on this CPU") }
    }
    /// Largest K whose int32 sums cannot overflow: 127·127·K < 2³¹.
    public static let maximumColumns = 131_072

    static let panelWidth = Int(CINT8_PANEL)
    /// K rounded up to a multiple of 4 (one group of k per int32 lane).
    let k4: Int
    let panelCount: Int
    /// [N][K] row-major, the stored form.
    let rows: UnsafeMutablePointer<Int8>
    /// [panelCount][K4/4][16][4]: see `CInt8`'s header.
    let packed: UnsafeMutablePointer<Int8>
    /// [panelCount·16] s_w, zero-padded.
    let rowScales: UnsafeMutablePointer<Float>
    /// [panelCount·16] bias, zero-padded.
    let rowBias: UnsafeMutablePointer<Float>
    /// [panelCount·16] 128·Σ_k qw[n,k] (the VNNI kernel's compensation).
    let compensation: UnsafeMutablePointer<Int32>
    /// Whether a bias was given (the stored form then carries it).
    public let hasBias: Bool

    /// Allocates zeroed storage; the callers fill `rows`, `rowScales`, `rowBias`, then `pack()`.
    private init(n: Int, k: Int, hasBias: Bool, kernel: Int8Kernel) {
        precondition(n > 0 && k > 0, "QuantizedWeights: empty matrix [\(n)×\(k)]")
        precondition(k <= Self.maximumColumns, "QuantizedWeights: K = \(k) exceeds \(Self.maximumColumns)")
        precondition(kernel.isAvailable, "QuantizedWeights: kernel \(kernel) is not available on this CPU")
        self.n = n
        self.k = k
        self.hasBias = hasBias
        self.kernel = kernel
        k4 = (k + 3) / 4 * 4
        panelCount = (n + Self.panelWidth - 1) / Self.panelWidth
        let padded = panelCount * Self.panelWidth
        rows = .allocate(capacity: n * k)
        rows.initialize(repeating: 0, count: n * k)
        packed = .allocate(capacity: padded * k4)
        packed.initialize(repeating: 0, count: padded * k4)
        rowScales = .allocate(capacity: padded)
        rowScales.initialize(repeating: 0, count: padded)
        rowBias = .allocate(capacity: padded)
        rowBias.initialize(repeating: 0, count: padded)
        compensation = .allocate(capacity: padded)
        compensation.initialize(repeating: 0, count: padded)
    }

    /// Quantizes `blocks` (each row-major [N×K_i], leading dimension K_i) placed side by side into
    /// one K = ΣK_i (an LSTM's [Wx | Wh]), one scale per output row over all its blocks, plus an
    /// optional bias [N] kept in float32.
    public convenience init(blocks: [(weights: UnsafePointer<Scalar>, columns: Int)], rows n: Int,
                            bias b: UnsafePointer<Scalar>?, kernel: Int8Kernel = .best) {
        precondition(!blocks.isEmpty && blocks.allSatisfy { $0.columns > 0 }, "QuantizedWeights: empty matrix")
        let k = blocks.reduce(0) { $0 + $1.columns }
        self.init(n: n, k: k, hasBias: b != nil, kernel: kernel)
        for row in 0..<n {
            var largest: Float = 0
            for (weights, columns) in blocks {
                for j in 0..<columns {
                    let v = abs(Float(weights[row * columns + j]))
                    if v.isFinite && v > largest { largest = v }
                }
            }
            let scale = largest / 127
            rowScales[row] = scale
            guard largest > 0 else { continue }
            var offset = 0
            for (weights, columns) in blocks {
                for j in 0..<columns {
                    let x = Float(weights[row * columns + j])
                    rows[row * k + offset + j] = x.isFinite ? Int8(min(127, max(-127, (x / scale).rounded(.toNearestOrEven)))) : 0
                }
                offset += columns
            }
        }
        if let b { for row in 0..<n { rowBias[row] = Float(b[row]) } }
        pack()
    }

    /// The stored form was malformed (wrong counts, −128, or a negative or non-finite scale).
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Rebuilds weights from their stored form (`quantizedRows`, `scales`, `bias`), without
    /// quantizing again: `quantized` [N×K] row-major int8 in [−127, 127], `scales` [N] finite ≥ 0,
    /// `bias` [N] or nil.
    /// - Throws: `FormatError` naming what is wrong (the caller adds the file).
    public convenience init(quantized: [Int8], scales: [Float], bias: [Float]?, n: Int, k: Int,
                            kernel: Int8Kernel = .best) throws {
        guard n > 0, k > 0, k <= Self.maximumColumns else {
            throw FormatError(description: "int8 weights: shape [\(n)×\(k)] must be non-empty with K ≤ \(Self.maximumColumns)")
        }
        guard quantized.count == n * k else {
            throw FormatError(description: "int8 weights: \(quantized.count) values for shape [\(n)×\(k)]")
        }
        guard scales.count == n else { throw FormatError(description: "int8 weights: \(scales.count) scales for \(n) rows") }
        if let bias, bias.count != n { throw FormatError(description: "int8 weights: \(bias.count) biases for \(n) rows") }
        if let row = scales.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
            throw FormatError(description: "int8 weights: scale of row \(row) is \(scales[row]), not a finite value ≥ 0")
        }
        if let index = quantized.firstIndex(of: -128) {
            throw FormatError(description: "int8 weights: value -128 at row \(index / k), column \(index % k) (the range is -127…127)")
        }
        self.init(n: n, k: k, hasBias: bias != nil, kernel: kernel)
        rows.update(from: quantized, count: n * k)
        rowScales.update(from: scales, count: n)
        if let bias { rowBias.update(from: bias, count: n) }
        pack()
    }

    /// Fills the panels and the compensation from `rows`.
    private func pack() {
        let w = Self.panelWidth
        for row in 0..<n {
            let (p, lane) = (row / w, row % w)
            var sum: Int32 = 0
            for j in 0..<k {
                let v = rows[row * k + j]
                packed[((p * (k4 / 4) + j / 4) * w + lane) * 4 + j % 4] = v
                sum += Int32(v)
            }
            compensation[row] = 128 * sum
        }
    }

    deinit {
        rows.deallocate()
        packed.deallocate()
        rowScales.deallocate()
        rowBias.deallocate()
        compensation.deallocate()
    }

    /// The int8 values [N×K], row-major (the stored form).
    public var quantizedRows: [Int8] { Array(UnsafeBufferPointer(start: rows, count: n * k)) }
    /// s_w [N]: the float value of row n is `scales[n]·quantizedRows[n·K + k]`.
    public var scales: [Float] { Array(UnsafeBufferPointer(start: rowScales, count: n)) }
    /// The bias [N] in float32 (zeros when packed without one).
    public var bias: [Float] { Array(UnsafeBufferPointer(start: rowBias, count: n)) }

    /// The sub-matrix of the given output rows (a vocabulary shortlist), [rows.count×K], in that
    /// order: its product equals those columns of the full product bit for bit. Rows may repeat.
    public func selecting(rows selected: [Int32]) -> QuantizedWeights {
        precondition(!selected.isEmpty && selected.allSatisfy { $0 >= 0 && Int($0) < n },
                     "QuantizedWeights.selecting: rows must be non-empty and in 0..<\(n)")
        let sub = QuantizedWeights(n: selected.count, k: k, hasBias: hasBias, kernel: kernel)
        for (i, row) in selected.enumerated() {
            let row = Int(row)
            (sub.rows + i * k).update(from: rows + row * k, count: k)
            sub.rowScales[i] = rowScales[row]
            sub.rowBias[i] = rowBias[row]
        }
        sub.pack()
        return sub
    }

    /// The columns `range` of W as their own product [N×range.count], with the same int8 values
    /// and row scales s_w, and the bias when `bias` (else none): the decoder's first layer without
    /// its embedding columns (looked up instead). Its activations are quantized per row of its own
    /// columns, so the parts' products do not add up to the whole's bits. The product equals that
    /// of weights rebuilt from those values (``init(quantized:scales:bias:n:k:kernel:)``), bit for
    /// bit. Precondition: `range` is a non-empty part of 0..<K.
    public func columns(_ range: Range<Int>, bias: Bool) -> QuantizedWeights {
        precondition(!range.isEmpty && range.lowerBound >= 0 && range.upperBound <= k,
                     "QuantizedWeights.columns: \(range) is not a non-empty part of 0..<\(k)")
        let width = range.count
        let sub = QuantizedWeights(n: n, k: width, hasBias: bias && hasBias, kernel: kernel)
        for row in 0..<n {
            (sub.rows + row * width).update(from: rows + row * k + range.lowerBound, count: width)
            sub.rowScales[row] = rowScales[row]
            if bias { sub.rowBias[row] = rowBias[row] }
        }
        sub.pack()
        return sub
    }

    /// ``columns(_:bias:)`` behind ``WeightProduct``; nil for an empty range or one outside 0..<K.
    public func product(columns range: Range<Int>, bias: Bool) -> (any WeightProduct)? {
        range.isEmpty || range.lowerBound < 0 || range.upperBound > k ? nil : columns(range, bias: bias)
    }

    /// `C[m×N] = bias + A[m×K]·Wᵀ` in int8 (overwrites C). A rows have leading dimension `lda` ≥ K,
    /// C rows `ldc` ≥ N. Panels are split across `threads` threads when the product is large; the
    /// bits do not depend on it.
    public func multiply(_ a: UnsafePointer<Scalar>, lda: Int, rows m: Int, into c: UnsafeMutablePointer<Scalar>, ldc: Int,
                         threads: Int = Parallel.threads) {
        precondition(lda >= k && ldc >= n && m >= 0, "QuantizedWeights.multiply: bad leading dimensions")
        if m == 0 { return }
        // The quantized activations go into this thread's scratch (grown, never shrunk): no
        // allocation per call once the largest shape has been seen.
        let scratch = ActivationScratch.current
        scratch.reserve(rows: m, width: k4)
        let q = scratch.q, magnitude = scratch.magnitude, shifted = scratch.shifted, scales = scratch.scales
        cint8_quantize_rows(a, lda, m, k, k4, q, magnitude, shifted, scales)
        var weights = cint8_weights(packed: packed, rows: rows, scales: rowScales, bias: rowBias,
                                    compensation: compensation, n: n, k: k, k4: k4)
        let code = kernel.code, panelCount = panelCount
        withUnsafePointer(to: &weights) { weights in
            // Blocks of at most `rowBlock` rows, one after the other: a block's activations (2 bytes
            // per k and row on AVX2) stay in L2 while the panels stream past them. Without it, 320
            // rows × K = 768 (490 KB) overflowed a 512 KB L2 and the kernel ran at 2/3 of its
            // 64-row speed (`bench int8`). Each output depends on its own row only: same bits.
            var first = 0
            while first < m {
                let count = min(Self.rowBlock, m - first)
                var activations = cint8_activations(q: q + first * k4, magnitude: magnitude + first * k4,
                                                    shifted: shifted + first * k4, scales: scales + first, m: count)
                let out = c + first * ldc
                // int8 runs about twice as fast as float32, so a split pays from twice PackedWeights' size.
                let parts = threads > 1 && count * n * k >= 1 << 19 ? min(threads, panelCount) : 1
                withUnsafePointer(to: &activations) { activations in
                    if parts == 1 {
                        cint8_multiply(code, weights, activations, out, ldc, 0, panelCount)
                        return
                    }
                    // The parts' arguments in a struct on this stack: nothing is allocated per call.
                    var job = Job(code: code, weights: weights, activations: activations, out: out, ldc: ldc,
                                  panelCount: panelCount, parts: parts)
                    withUnsafePointer(to: &job) { job in
                        WorkerPool.shared.run(parts: parts, context: job) { raw, part in
                            let job = raw.load(as: Job.self)
                            cint8_multiply(job.code, job.weights, job.activations, job.out, job.ldc,
                                           job.panelCount * part / job.parts, job.panelCount * (part + 1) / job.parts)
                        }
                    }
                }
                first += count
            }
        }
    }

    /// One split product's arguments (see `multiply`).
    private struct Job {
        let code: Int32
        let weights: UnsafePointer<cint8_weights>, activations: UnsafePointer<cint8_activations>
        let out: UnsafeMutablePointer<Float>, ldc: Int, panelCount: Int, parts: Int
    }

    /// Rows of A multiplied per pass (see `multiply`).
    static let rowBlock = 64

    /// The exact int32 sums Σ_k qa[r,k]·qw[n,k] [m×N] of the reference kernel, with A quantized
    /// as `multiply` does (for checking integer GEMMs of other libraries).
    public func referenceSums(_ a: UnsafePointer<Scalar>, lda: Int, rows m: Int) -> (sums: [Int32], scales: [Float]) {
        precondition(lda >= k && m > 0, "QuantizedWeights.referenceSums: bad shape")
        var q = [Int8](repeating: 0, count: m * k4), magnitude = [UInt8](repeating: 0, count: m * k4)
        var shifted = magnitude, scales = [Float](repeating: 0, count: m), sums = [Int32](repeating: 0, count: m * n)
        cint8_quantize_rows(a, lda, m, k, k4, &q, &magnitude, &shifted, &scales)
        q.withUnsafeBufferPointer { q in
            magnitude.withUnsafeBufferPointer { magnitude in
                shifted.withUnsafeBufferPointer { shifted in
                    scales.withUnsafeBufferPointer { s in
                        var weights = cint8_weights(packed: packed, rows: rows, scales: rowScales, bias: rowBias,
                                                    compensation: compensation, n: n, k: k, k4: k4)
                        var activations = cint8_activations(q: q.baseAddress, magnitude: magnitude.baseAddress,
                                                            shifted: shifted.baseAddress, scales: s.baseAddress, m: m)
                        cint8_reference_sums(&weights, &activations, &sums)
                    }
                }
            }
        }
        return (sums, scales)
    }

    /// Quantizes rows of A as `multiply` does: q [m×K] (row-major, leading dimension K) and s_a [m].
    public func quantizeActivations(_ a: UnsafePointer<Scalar>, lda: Int, rows m: Int) -> (q: [Int8], scales: [Float]) {
        var q = [Int8](repeating: 0, count: m * k4), magnitude = [UInt8](repeating: 0, count: m * k4)
        var shifted = magnitude, scales = [Float](repeating: 0, count: m)
        cint8_quantize_rows(a, lda, m, k, k4, &q, &magnitude, &shifted, &scales)
        var rowsQ = [Int8](repeating: 0, count: m * k)
        for r in 0..<m { for j in 0..<k { rowsQ[r * k + j] = q[r * k4 + j] } }
        return (rowsQ, scales)
    }
}

extension QuantizedWeights: WeightProduct {}


/// Per-thread buffers for `QuantizedWeights.multiply`'s quantized activations (int8 values,
/// magnitudes and shifted bytes [M×K4], scales [M]): reused by every call on the thread, grown when a
/// larger shape arrives, freed when the thread ends.
final class ActivationScratch {
    private(set) var q = UnsafeMutablePointer<Int8>.allocate(capacity: 1)
    private(set) var magnitude = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    private(set) var shifted = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    private(set) var scales = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var bytes = 1, rows = 1

    deinit {
        q.deallocate(); magnitude.deallocate(); shifted.deallocate(); scales.deallocate()
    }

    /// Room for `rows` rows of `width` bytes (and `rows` scales).
    func reserve(rows m: Int, width: Int) {
        if m * width > bytes {
            bytes = m * width
            q.deallocate(); magnitude.deallocate(); shifted.deallocate()
            q = .allocate(capacity: bytes)
            magnitude = .allocate(capacity: bytes)
            shifted = .allocate(capacity: bytes)
        }
        if m > rows {
            rows = m
            scales.deallocate()
            scales = .allocate(capacity: rows)
        }
    }

    /// The calling thread's scratch (made on first use; released with the thread).
    static var current: ActivationScratch {
        if let stored = pthread_getspecific(key) {
            return Unmanaged<ActivationScratch>.fromOpaque(stored).takeUnretainedValue()
        }
        let made = ActivationScratch()
        pthread_setspecific(key, Unmanaged.passRetained(made).toOpaque())
        return made
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { stored in
            if let stored { Unmanaged<ActivationScratch>.fromOpaque(stored).release() }
        }
        return key
    }()
}
