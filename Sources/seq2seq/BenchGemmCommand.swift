import ArgumentParser
import Benchmarks
import Foundation
import Kernels
import Model

/// `seq2seq bench gemm`: times candidate sgemm libraries on the GEMM shapes of a training step.
struct BenchGemm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time sgemm libraries (OpenBLAS, BLIS, oneDNN) on the GEMM shapes of a training step.",
        discussion: """
            OpenBLAS is the linked one; BLIS (Debian libblis4-pthread) and oneDNN (libdnnl2) are \
            loaded at run time if installed. For each shape of `bench train --preset P`, prints the \
            best-of-repeats GFLOP/s per library, then the whole step's GEMM time (each shape times \
            its count per step) and its GFLOP/s. Every library is checked against OpenBLAS first.
            """)

    @Option(help: "small or medium (the bench train presets).") var preset: String = "medium"
    @Option(help: "Comma-separated: openblas, blis, dnnl (default: openblas and whichever of the others is installed).")
    var libraries: String?
    @Option(help: "Threads per library.") var threads: Int = 2
    @Option(help: "Timed repeats per shape (the fastest counts).") var repeats: Int = 5
    @Option(help: "text or json.") var format: String = "text"

    func validate() throws {
        guard TrainBenchmark.preset(preset) != nil else { throw ValidationError("--preset must be small or medium, got \(preset)") }
        guard format == "text" || format == "json" else { throw ValidationError("--format must be text or json, got \(format)") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        try checkThreads(threads)
    }

    func run() throws {
        let shapes = TrainBenchmark.preset(preset)!.gemmShapes
        func load(_ name: Substring) throws -> GemmLibrary {
            switch name {
            case "openblas": return try GemmLibrary.openBLAS(threads: threads)
            case "blis": return try GemmLibrary.blis(threads: threads)
            case "dnnl": return try GemmLibrary.dnnl(threads: threads)
            default: throw CLIError("--libraries: unknown library '\(name)' (openblas, blis, dnnl)")
            }
        }
        var libraries: [GemmLibrary] = []
        if let names = self.libraries {
            libraries = try names.split(separator: ",").map(load)
        } else {
            for name in ["openblas", "blis", "dnnl"] as [Substring] {
                do { libraries.append(try load(name)) } catch {
                    printError("bench gemm: skipping \(name): \(error) (Debian: libblis4-pthread, libdnnl2)")
                }
            }
        }
        // Operands sized for the largest shape, filled once with values in [-1, 1).
        let size = shapes.map { max($0.m * $0.k, $0.k * $0.n, $0.m * $0.n) }.max()!
        var rng = SeededGenerator(seed: 3)
        let a = (0..<size).map { _ in rng.nextFloat(in: -1, 1) }, b = (0..<size).map { _ in rng.nextFloat(in: -1, 1) }
        var c = [Float](repeating: 0, count: size), expected = c
        let reference = try GemmLibrary.openBLAS(threads: threads)
        var stepSeconds = [Double](repeating: 0, count: libraries.count)
        var rows: [String] = []
        for shape in shapes {
            let lda = shape.transA ? shape.m : shape.k, ldb = shape.transB ? shape.k : shape.n
            func multiply(_ library: GemmLibrary, _ out: inout [Float]) {
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { o in
                            library.call(shape.transA, shape.transB, shape.m, shape.n, shape.k, a.baseAddress!, lda,
                                         b.baseAddress!, ldb, 0, o.baseAddress!, shape.n)
                        }
                    }
                }
            }
            multiply(reference, &expected)
            var gflops: [Double] = []
            for (i, library) in libraries.enumerated() {
                multiply(library, &c)
                let worst = zip(c.prefix(shape.m * shape.n), expected.prefix(shape.m * shape.n)).map { abs($0 - $1) }.max()!
                guard worst <= 1e-4 * Float(shape.k) else {
                    throw CLIError("\(library.name): wrong result on \(shape.name) (max difference \(worst))")
                }
                var best = Double.infinity
                let reps = max(repeats, min(50, Int(2e9 / shape.flops)))  // small shapes: more repeats
                for _ in 0..<reps {
                    let start = DispatchTime.now().uptimeNanoseconds
                    multiply(library, &c)
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
                }
                stepSeconds[i] += best * Double(shape.count)
                gflops.append(shape.flops / best / 1e9)
            }
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
        let stepFlops = shapes.reduce(0) { $0 + $1.flops * Double($1.count) }
        if format == "json" {
            let step = zip(libraries, stepSeconds).map { "\"\($0.name)\":{\"ms\":\(fmt($1 * 1e3)),\"gflops\":\(fmt(stepFlops / $1 / 1e9))}" }
            try StandardOutput.shared.writeLine("{\"preset\":\"\(preset)\",\"threads\":\(threads),\"shapes\":[\(rows.joined(separator: ","))],\"step\":{\(step.joined(separator: ","))}}")
            return
        }
        try StandardOutput.shared.writeLine("bench gemm \(preset), \(threads) thread(s), GFLOP/s (best of \(repeats)+ runs per shape)")
        try StandardOutput.shared.writeLine("shape (op, m×n×k, per step)".padding(toLength: 62, withPad: " ", startingAt: 0)
            + libraries.map { $0.name.leftPadded(10) }.joined())
        for row in rows { try StandardOutput.shared.writeLine(row) }
        try StandardOutput.shared.writeLine("whole step's GEMMs, ms".padding(toLength: 62, withPad: " ", startingAt: 0)
            + stepSeconds.map { fmt($0 * 1e3).leftPadded(10) }.joined())
        try StandardOutput.shared.writeLine("whole step's GEMMs, GFLOP/s".padding(toLength: 62, withPad: " ", startingAt: 0)
            + stepSeconds.map { fmt(stepFlops / $0 / 1e9).leftPadded(10) }.joined())
    }

    private func fmt(_ x: Double) -> String { String(format: "%.1f", x) }
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}
