import ArgumentParser
import Benchmarks
import Foundation
import Kernels
import Model

/// `seq2seq bench gemm`: times candidate sgemm libraries on the GEMM shapes of a training step.
struct BenchGemm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time the GEMM backends (oneDNN, OpenBLAS, reference; BLIS if installed) on the GEMM shapes of a training step.",
        discussion: """
            onednn, openblas and reference are the backends of `--gemm` (through the same call \
            training makes); blis (Debian libblis4-pthread) is loaded at run time if installed. For \
            each shape of `bench train --preset P`, prints the best-of-repeats GFLOP/s per library, \
            then the whole step's GEMM time (each shape times its count per step), its GFLOP/s and \
            its fraction of the measured float32 FMA peak at the same thread count. Every library \
            is checked against OpenBLAS first.
            """)

    @Option(help: "small or medium (the bench train presets).") var preset: String = "medium"
    @Option(help: "Comma-separated: onednn, openblas, reference, blis (default: the three backends, and blis if installed).")
    var libraries: String?
    @Option(help: "Threads per library.") var threads: Int = 2
    @Option(help: "Timed repeats per shape (the fastest counts).") var repeats: Int = 5
    @Option(help: "text or json.") var format: String = "text"
    @Option(help: ArgumentHelp("Cap oneDNN, the reference GEMM and the peak loop at avx2 or scalar (what an older CPU gets).", valueName: "isa"))
    var maxISA: VectorPath?

    func validate() throws {
        guard TrainBenchmark.preset(preset) != nil else { throw ValidationError("--preset must be small or medium, got \(preset)") }
        guard format == "text" || format == "json" else { throw ValidationError("--format must be text or json, got \(format)") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        try checkThreads(threads)
    }

    func run() throws {
        if let maxISA { try GemmBackend.limitInstructionSet(to: maxISA) }
        let shapes = TrainBenchmark.preset(preset)!.gemmShapes
        func load(_ name: Substring) throws -> GemmLibrary {
            switch name {
            case "onednn", "dnnl": return GemmLibrary.backend(.onednn, threads: threads)
            case "openblas": return GemmLibrary.backend(.openblas, threads: threads)
            case "reference": return GemmLibrary.backend(.reference, threads: threads)
            case "blis": return try GemmLibrary.blis(threads: threads)
            default: throw CLIError("--libraries: unknown library '\(name)' (onednn, openblas, reference, blis)")
            }
        }
        var libraries: [GemmLibrary] = []
        if let names = self.libraries {
            libraries = try names.split(separator: ",").map(load)
        } else {
            libraries = try ["onednn", "openblas", "reference"].map(load)
            if let blis = try? load("blis") { libraries.append(blis) }
        }
        let bench = GemmStepBench(shapes: shapes)
        let figures = try bench.run(libraries, reference: try GemmLibrary.openBLAS(threads: threads), repeats: repeats)
        let stepSeconds = figures.map(\.stepSeconds)
        var rows: [String] = []
        for (index, shape) in shapes.enumerated() {
            let gflops = figures.map { $0.shapeGFLOPs[index] }
            if format == "json" {
                let per = zip(libraries, gflops).map { "\"\($0.name)\":\(fmt($1))" }.joined(separator: ",")
                rows.append("{\"shape\":\"\(shape.name)\",\"m\":\(shape.m),\"n\":\(shape.n),\"k\":\(shape.k),"
                    + "\"trans_a\":\(shape.transA),\"trans_b\":\(shape.transB),\"count\":\(shape.count),\"gflops\":{\(per)}}")
            } else {
                let name = "\(shape.name) \(shape.transA ? "T" : "N")\(shape.transB ? "T" : "N") \(shape.m)×\(shape.n)×\(shape.k) ×\(shape.count)"
                rows.append(name.padding(toLength: 62, withPad: " ", startingAt: 0)
                    + gflops.map { fmt($0).leftPadded(10) }.joined())
            }
        }
        let stepFlops = bench.stepFlops
        // 0 on a CPU without FMA: the fractions then print as 0 (a nan would make the JSON invalid).
        let measuredPeak = Int8Benchmark.float32Peak(threads: threads, allowAVX512: maxISA == nil || maxISA == .avx512)
        let peak = measuredPeak > 0 ? measuredPeak : .infinity
        let cpu = CPUInfo.current
        if format == "json" {
            let step = zip(libraries, stepSeconds).map {
                "\"\($0.name)\":{\"ms\":\(fmt($1 * 1e3)),\"gflops\":\(fmt(stepFlops / $1 / 1e9)),\"fraction_of_peak\":\(String(format: "%.3f", stepFlops / $1 / 1e9 / peak))}"
            }
            try StandardOutput.shared.writeLine("{\"preset\":\"\(preset)\",\"threads\":\(threads),\"cpu\":\"\(cpu.modelName)\",\"cpu_isa\":\"\(cpu.vectorISA)\","
                + "\"gemm_auto\":\"\(GemmBackend.automatic.backend.rawValue)\",\"onednn_isa\":\"\(GemmBackend.onednn.instructionSet)\","
                + "\"openblas_core\":\"\(BLAS.coreName)\",\"fma_peak_gflops\":\(fmt(peak)),"
                + "\"shapes\":[\(rows.joined(separator: ","))],\"step\":{\(step.joined(separator: ","))}}")
            return
        }
        try StandardOutput.shared.writeLine("bench gemm \(preset), \(threads) thread(s), GFLOP/s (best of \(repeats)+ runs per shape); CPU \(cpu.modelName) (\(cpu.vectorISA)), oneDNN \(GemmBackend.onednn.instructionSet), OpenBLAS core \(BLAS.coreName)")
        try StandardOutput.shared.writeLine("shape (op, m×n×k, per step)".padding(toLength: 62, withPad: " ", startingAt: 0)
            + libraries.map { $0.name.leftPadded(10) }.joined())
        for row in rows { try StandardOutput.shared.writeLine(row) }
        try StandardOutput.shared.writeLine("whole step's GEMMs, ms".padding(toLength: 62, withPad: " ", startingAt: 0)
            + stepSeconds.map { fmt($0 * 1e3).leftPadded(10) }.joined())
        try StandardOutput.shared.writeLine("whole step's GEMMs, GFLOP/s".padding(toLength: 62, withPad: " ", startingAt: 0)
            + stepSeconds.map { fmt(stepFlops / $0 / 1e9).leftPadded(10) }.joined())
        try StandardOutput.shared.writeLine("whole step's GEMMs, % of the FMA peak (\(fmt(peak)) GFLOP/s)".padding(toLength: 62, withPad: " ", startingAt: 0)
            + stepSeconds.map { fmt(100 * stepFlops / $0 / 1e9 / peak).leftPadded(10) }.joined())
    }

    private func fmt(_ x: Double) -> String { String(format: "%.1f", x) }
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}
