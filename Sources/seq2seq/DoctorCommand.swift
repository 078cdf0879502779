import ArgumentParser
import Benchmarks
import Foundation
import Kernels

/// `seq2seq doctor`: what this machine's CPU is, which GEMM backend `auto` picks and why, and how
/// close each backend comes to the CPU's measured float32 FMA peak on a training step's GEMMs.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Report the CPU, the GEMM backends and the one auto picks, and their speed against the FMA peak.",
        discussion: """
            Prints the CPU's model name, family and model, the instruction sets that matter (AVX2, \
            FMA, AVX-512, VNNI, BF16, AMX), its cores, each GEMM backend with its version and the \
            instruction set its kernels use (OpenBLAS's core name is flagged when it is below the \
            CPU's), the backend --gemm auto picks and why, the int8 kernel decoding uses, the \
            measured float32 FMA peak, the round trip of a cache line between two of its CPUs, and \
            the GFLOP/s of each backend on one training step's GEMMs (`bench gemm --preset P` \
            shapes) with the fraction of the peak. Takes about 10 seconds \
            with --preset small. Set nothing in the environment: this is what a run would get.
            """)

    @Option(help: "text or json.") var format: String = "text"
    @Option(help: "Threads in all, for the peak and the step GEMMs (default: the online cores).") var threads: Int?
    @Option(help: "small or medium: the training step whose GEMM shapes are timed.") var preset: String = "small"
    @Flag(help: "Skip the timings (peak, round trip and step GEMMs): identification only.") var noTimings = false

    func validate() throws {
        guard format == "text" || format == "json" else { throw ValidationError("--format must be text or json, got \(format)") }
        guard TrainBenchmark.preset(preset) != nil else { throw ValidationError("--preset must be small or medium, got \(preset)") }
        if let threads { try checkThreads(threads) }
    }

    /// The report; Codable so that `--format json` is Foundation's encoding of the same fields.
    struct Report: Codable {
        // Alike on purpose: plain Codable fields, one per figure the report shows.
        struct Backend: Codable {
            var name: String
            var version: String
            var instructionSet: String
            /// Set for OpenBLAS when its core's kernels are below the CPU's instruction set.
            var warning: String?
            var stepGFLOPs: Double?
            var fractionOfPeak: Double?
        }
        var cpuModelName: String
        var vendor: String
        var family: Int
        var model: Int
        var stepping: Int
        var cores: Int
        var instructionSets: [String: Bool]
        var openblasCore: String
        var backends: [Backend]
        var auto: String
        var autoReason: String
        var int8Kernel: String
        var threads: Int
        var preset: String
        var fmaPeakGFLOPs: Double?
        /// A cache line's round trip between the first two CPUs the process may use, ns, and those
        /// CPUs (nil: one CPU, or no timings).
        var coreRoundTripNs: Double?
        var coreRoundTripCpus: [Int]?
    }

    func run() throws {
        let cpu = CPUInfo.current
        let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let threads = self.threads ?? cores
        let automatic = GemmBackend.automatic
        var report = Report(
            cpuModelName: cpu.modelName, vendor: cpu.vendor, family: cpu.family, model: cpu.model, stepping: cpu.stepping,
            cores: cores, instructionSets: Dictionary(uniqueKeysWithValues: cpu.features.map { ($0.name, $0.present) }),
            openblasCore: BLAS.coreName,
            backends: GemmBackend.allCases.map { backend in
                Report.Backend(name: backend.rawValue, version: backend.version, instructionSet: backend.instructionSet,
                               warning: backend == .openblas ? GemmBackend.slownessWarning(for: .openblas) : nil)
            },
            auto: automatic.backend.rawValue, autoReason: automatic.reason, int8Kernel: Int8Kernel.best.rawValue,
            threads: threads, preset: preset)
        if !noTimings {
            let peak = Int8Benchmark.float32Peak(threads: threads)
            report.fmaPeakGFLOPs = peak
            if let roundTrip = CoreRoundTrip.measure() {
                (report.coreRoundTripCpus, report.coreRoundTripNs) = (roundTrip.cpus, roundTrip.nanoseconds)
            }
            let libraries = GemmBackend.allCases.map { GemmLibrary.backend($0, threads: threads) }
            let bench = GemmStepBench(shapes: TrainBenchmark.preset(preset)!.gemmShapes)
            let figures = try bench.run(libraries, reference: try GemmLibrary.openBLAS(threads: threads), repeats: 3)
            for (index, figure) in figures.enumerated() {
                let gflops = bench.stepFlops / figure.stepSeconds / 1e9
                report.backends[index].stepGFLOPs = gflops
                report.backends[index].fractionOfPeak = peak > 0 ? gflops / peak : nil
            }
        }
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try StandardOutput.shared.writeLine(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        var lines: [String] = []
        lines.append("CPU          \(cpu.modelName) (\(cpu.vendor), family \(cpu.family) model \(cpu.model) stepping \(cpu.stepping)), \(cores) online core(s)")
        lines.append("has          " + cpu.features.filter(\.present).map(\.name).joined(separator: " "))
        let missing = cpu.features.filter { !$0.present }.map(\.name)
        if !missing.isEmpty { lines.append("lacks        " + missing.joined(separator: " ")) }
        lines.append("GEMM backends")
        for backend in report.backends {
            var line = "  \(backend.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(backend.instructionSet)"
            line += backend.name == "openblas" ? ", core \(report.openblasCore)" : ""
            line += " — \(backend.version)"
            lines.append(line)
            if let warning = backend.warning { lines.append("             \(warning)") }
        }
        lines.append("auto picks   \(automatic.backend.rawValue): \(automatic.reason)")
        lines.append("int8 kernel  \(Int8Kernel.best.rawValue)")
        if let peak = report.fmaPeakGFLOPs {
            lines.append("FMA peak     \(String(format: "%.1f", peak)) GFLOP/s float32 at \(threads) thread(s)")
            if let roundTrip = report.coreRoundTripNs, let cpus = report.coreRoundTripCpus {
                lines.append("CPU \(cpus[0]) ↔ \(cpus[1])    \(String(format: "%.0f", roundTrip)) ns a cache line's round trip (about 100 ns or less: one shared L3; 300 ns or more: separate core complexes)")
            }
            lines.append("step GEMMs   bench gemm --preset \(preset) shapes, \(threads) thread(s):")
            for backend in report.backends {
                guard let gflops = backend.stepGFLOPs else { continue }
                let fraction = backend.fractionOfPeak.map { String(format: "%.0f %% of peak", 100 * $0) } ?? ""
                lines.append("  \(backend.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(format: "%7.1f", gflops)) GFLOP/s  \(fraction)")
            }
        }
        for line in lines { try StandardOutput.shared.writeLine(line) }
    }
}
