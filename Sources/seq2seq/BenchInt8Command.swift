import ArgumentParser
import Benchmarks
import Foundation
import Kernels

/// `seq2seq bench int8`: the core's int8 and float32 multiply-add peaks, then the int8 kernel
/// against float32 PackedWeights, OpenBLAS sgemm and oneDNN's int8 GEMM at decoding shapes.
struct BenchInt8: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "int8",
        abstract: "int8 multiply-add peak and int8 kernels vs float32 at decoding shapes (release build).",
        discussion: """
            (a) peak GOPS (1 multiply-add = 2 ops) of independent chains of float32 FMAs, of AVX2's \
            vpmaddubsw+vpmaddwd+vpaddd and of AVX512-VNNI's vpdpbusd (where the CPU has it), on 1 \
            thread and on --threads. (b) per product shape (W [N×K]) and row count m: the time of one \
            product C[m×N] = bias + A·Wᵀ and its GOPS for the int8 kernel (QuantizedWeights: \
            quantize A, int32 sums, dequantize), float32 PackedWeights and OpenBLAS cblas_sgemm, \
            and (c) oneDNN's dnnl_gemm_u8s8s32 when Debian's libdnnl2 is installed (its int32 \
            GEMM alone, checked against our exact sums on the first 5 rows: without VNNI its \
            vpmaddubsw pair sums saturate in int16, so some sums are inexact). Best of --repeats or \
            more runs per cell.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "Threads for the products (and the second peak column).") var threads: Int = 2
    @Option(help: "Comma-separated row counts m.") var rows: String = "1,5,64,320"
    @Option(help: "Comma-separated shapes: output-small (8000×256), lstm-gates (1024×768), attention (256×512), output-medium (16000×512).")
    var shapes: String = "output-small,lstm-gates,attention,output-medium"
    @Option(help: "Comma-separated int8 kernels to time: best, reference, avx2, avx512vnni (unavailable ones are skipped).")
    var kernels: String = "best"
    @Option(help: "Timed repeats per cell (the fastest counts; small products repeat more).") var repeats: Int = 5
    @Flag(help: "Leave out oneDNN even when it is installed.") var noDnnl = false
    @Option(help: "text or json.") var format: Format = .text

    func validate() throws {
        try checkThreads(threads)
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard !rowCounts.isEmpty, rowCounts.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else {
            throw ValidationError("--rows must be comma-separated counts between 1 and 4096, got \(rows)")
        }
        for key in shapes.split(separator: ",") where !Int8Benchmark.shapes.contains(where: { $0.key == key }) {
            throw ValidationError("--shapes: unknown shape '\(key)' (\(Int8Benchmark.shapes.map(\.key).joined(separator: ", ")))")
        }
        for name in kernels.split(separator: ",") where name != "best" && Int8Kernel(rawValue: String(name)) == nil {
            throw ValidationError("--kernels: unknown kernel '\(name)' (best, reference, avx2, avx512vnni)")
        }
    }

    private var rowCounts: [Int] { rows.split(separator: ",").compactMap { Int($0) } }

    func run() throws {
        let out = StandardOutput.shared
        var selected: [Int8Kernel] = []
        for name in kernels.split(separator: ",") {
            let kernel = name == "best" ? Int8Kernel.best : Int8Kernel(rawValue: String(name))!
            if !kernel.isAvailable { printError("bench int8: skipping kernel \(kernel): not available on this CPU"); continue }
            if !selected.contains(kernel) { selected.append(kernel) }
        }
        let cpu = Self.cpuDescription()
        var json: [String] = []
        if format == .text {
            try out.writeLine("bench int8 on \(cpu); int8 kernel by dispatch: \(Int8Kernel.best.rawValue)")
            try out.writeLine("(a) peak, GOPS (1 multiply-add = 2 ops)".padding(toLength: 50, withPad: " ", startingAt: 0)
                + "1 thread".leftPadded(12) + (threads > 1 ? "\(threads) threads".leftPadded(12) : ""))
        }
        for loop in Int8Benchmark.PeakLoop.allCases {
            guard loop.isAvailable else {
                if format == .text { try out.writeLine("\(loop.rawValue): not on this CPU") }
                continue
            }
            let one = Int8Benchmark.peak(loop, threads: 1), all = threads > 1 ? Int8Benchmark.peak(loop, threads: threads) : one
            if format == .text {
                try out.writeLine(loop.rawValue.padding(toLength: 50, withPad: " ", startingAt: 0)
                    + fmt(one).leftPadded(12) + (threads > 1 ? fmt(all).leftPadded(12) : ""))
            } else {
                json.append("{\"peak\":\"\(loop)\",\"threads\":1,\"gops\":\(fmt(one))}")
                json.append("{\"peak\":\"\(loop)\",\"threads\":\(threads),\"gops\":\(fmt(all))}")
            }
        }

        let openBLAS = try GemmLibrary.openBLAS(threads: threads)
        Parallel.threads = threads
        var dnnl: Int8GemmLibrary?
        if !noDnnl {
            do { dnnl = try Int8GemmLibrary.dnnl(threads: threads) } catch {
                printError("bench int8: skipping oneDNN: \(error) (Debian: libdnnl2)")
            }
        }
        let columns = selected.map { "int8 \($0.rawValue)" } + ["f32 packed", "f32 openblas"] + (dnnl.map { [$0.name] } ?? [])
        if format == .text {
            try out.writeLine("(b, c) \(threads) thread(s): µs per product / GOPS; dnnl = its int32 GEMM alone")
            try out.writeLine("shape".padding(toLength: 15, withPad: " ", startingAt: 0) + "m".leftPadded(4)
                + "N×K".leftPadded(11) + columns.map { $0.leftPadded(20) }.joined())
        }
        var rng = SeededGenerator(seed: 16)
        let keys = Set(shapes.split(separator: ",").map(String.init))
        for shape in Int8Benchmark.shapes where keys.contains(shape.key) {
            let (n, k) = (shape.n, shape.k)
            let w = (0..<n * k).map { _ in rng.nextFloat(in: -0.1, 0.1) }, bias = (0..<n).map { _ in rng.nextFloat(in: -1, 1) }
            let (packed, quantized) = w.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    (PackedWeights(blocks: [(w.baseAddress!, k)], rows: n, bias: b.baseAddress!),
                     QuantizedWeights(blocks: [(w.baseAddress!, k)], rows: n, bias: b.baseAddress!))
                }
            }
            let w8 = quantized.quantizedRows
            for m in rowCounts {
                let a = (0..<m * k).map { _ in rng.nextFloat(in: -1, 1) }
                var c = [Float](repeating: 0, count: m * n)
                let ops = 2 * Double(m) * Double(n) * Double(k)
                var cells: [(name: String, seconds: Double, note: String)] = []
                for kernel in selected {
                    quantized.kernel = kernel
                    let t = time(ops) { a.withUnsafeBufferPointer { a in c.withUnsafeMutableBufferPointer {
                        quantized.multiply(a.baseAddress!, lda: k, rows: m, into: $0.baseAddress!, ldc: n, threads: threads) } } }
                    cells.append(("int8 \(kernel.rawValue)", t, ""))
                }
                quantized.kernel = .best
                let tp = time(ops) { a.withUnsafeBufferPointer { a in c.withUnsafeMutableBufferPointer {
                    packed.multiply(a.baseAddress!, lda: k, rows: m, into: $0.baseAddress!, ldc: n, threads: threads) } } }
                cells.append(("f32 packed", tp, ""))
                let tb = time(ops) { a.withUnsafeBufferPointer { a in w.withUnsafeBufferPointer { w in c.withUnsafeMutableBufferPointer {
                    openBLAS.call(false, true, m, n, k, a.baseAddress!, k, w.baseAddress!, k, 0, $0.baseAddress!, n) } } } }
                cells.append(("f32 openblas", tb, ""))
                if let dnnl {
                    let q = a.withUnsafeBufferPointer { quantized.quantizeActivations($0.baseAddress!, lda: k, rows: m).q }
                    let a8 = q.map { UInt8(Int($0) + 128) }
                    var sums = [Int32](repeating: 0, count: m * n)
                    let td = time(ops) { a8.withUnsafeBufferPointer { a8 in w8.withUnsafeBufferPointer { w8 in sums.withUnsafeMutableBufferPointer {
                        dnnl.call(m, n, k, a8.baseAddress!, w8.baseAddress!, $0.baseAddress!) } } } }
                    // Exact int32 sums of the first rows, from our reference kernel.
                    let checked = min(m, 5)
                    let exact = a.withUnsafeBufferPointer { quantized.referenceSums($0.baseAddress!, lda: k, rows: checked).sums }
                    // Without VNNI, oneDNN sums u8×s8 pairs with vpmaddubsw, whose int16 saturates
                    // ((a+128)·w pairs reach 2·255·127): its sums are then not exact.
                    let wrong = zip(sums.prefix(checked * n), exact).filter { $0 != $1 }.count
                    cells.append((dnnl.name, td, wrong == 0 ? "" : " (\(wrong)/\(exact.count) inexact)"))
                }
                if format == .text {
                    try out.writeLine(shape.name.padding(toLength: 15, withPad: " ", startingAt: 0) + "\(m)".leftPadded(4)
                        + "\(n)×\(k)".leftPadded(11)
                        + cells.map { (fmt($0.seconds * 1e6) + " / " + fmt(ops / $0.seconds / 1e9) + $0.note).leftPadded(20) }.joined())
                } else {
                    let per = cells.map { "\"\($0.name)\":{\"us\":\(fmt($0.seconds * 1e6)),\"gops\":\(fmt(ops / $0.seconds / 1e9)),\"exact\":\($0.note.isEmpty)}" }
                    json.append("{\"shape\":\"\(shape.name)\",\"m\":\(m),\"n\":\(n),\"k\":\(k),\"threads\":\(threads),\"results\":{\(per.joined(separator: ","))}}")
                }
            }
        }
        if format == .json {
            try out.writeLine("{\"cpu\":\"\(cpu)\",\"kernel\":\"\(Int8Kernel.best.rawValue)\",\"measurements\":[\(json.joined(separator: ","))]}")
        }
    }

    /// Seconds of the fastest of at least `repeats` runs (more for small products, up to 0.3 s).
    private func time(_ ops: Double, _ body: () -> Void) -> Double {
        body()
        let reps = max(repeats, min(200, Int(3e9 / ops)))
        var best = Double.infinity
        for _ in 0..<reps {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return best
    }

    /// "AMD EPYC … (flags: avx2 fma, no avx512_vnni)" from /proc/cpuinfo.
    static func cpuDescription() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let lines = info.split(separator: "\n")
        let model = lines.first { $0.hasPrefix("model name") }?.split(separator: ":", maxSplits: 1).last?
            .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let flags = Set(lines.first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let listed = ["avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni"].map { flags.contains($0) ? $0 : "no \($0)" }
        return "\(model) (\(listed.joined(separator: ", ")))"
    }

    private func fmt(_ x: Double) -> String { String(format: "%.1f", x) }
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}
