import ArgumentParser
import Foundation
import Kernels

/// `--gemm auto|onednn|openblas|reference` and `--max-isa`, shared by `train`, `translate`,
/// `evaluate`, `serve`, `demo`, `bench train` and `bench translate`. Without the option, `SEQ2SEQ_GEMM` in the environment decides;
/// without either, `auto` (oneDNN on CPUs with AVX2+FMA, OpenBLAS below; see `GemmBackend.automatic`).
struct GemmArguments: ParsableArguments {
    @Option(help: ArgumentHelp(
        "GEMM backend: auto (oneDNN on CPUs with AVX2+FMA, else OpenBLAS), onednn, openblas, or reference (the same bits on every x86-64 CPU, slower). Default: $SEQ2SEQ_GEMM, else auto.",
        valueName: "backend"))
    var gemm: String?
    @Option(help: ArgumentHelp(
        "Cap oneDNN's and our float32 kernels' instruction set at avx2 or scalar, to measure what an older CPU gets (default: the CPU's best; the int8 kernels are not capped).",
        valueName: "isa"))
    var maxISA: VectorPath?

    /// The choice from the option, else the environment, else auto.
    /// - Throws: `ValidationError` naming the option or the variable and the accepted values.
    func choice() throws -> GemmBackend.Choice {
        if let gemm {
            guard let choice = GemmBackend.Choice(gemm) else {
                throw ValidationError("--gemm must be \(GemmBackend.choiceNames), got '\(gemm)'")
            }
            return choice
        }
        if let value = ProcessInfo.processInfo.environment["SEQ2SEQ_GEMM"], !value.isEmpty {
            guard let choice = GemmBackend.Choice(value) else {
                throw ValidationError("SEQ2SEQ_GEMM must be \(GemmBackend.choiceNames), got '\(value)'")
            }
            return choice
        }
        return .auto
    }

    /// Checks the choice (called from `validate()`, so a bad value stops before anything runs).
    func check() throws {
        _ = try choice()
        if let maxISA, !maxISA.isAvailable { throw ValidationError("--max-isa \(maxISA.rawValue): this CPU does not have it") }
    }

    /// Makes the chosen backend the process's and sets the one thread budget (`BLAS.setThreads`);
    /// returns the backend. With `warn`, prints `GemmBackend.slownessWarning` when there is one.
    @discardableResult
    func apply(threads: Int, warn: Bool = false) throws -> GemmBackend {
        try check()
        if let maxISA { try GemmBackend.limitInstructionSet(to: maxISA) }
        GemmBackend.select(try choice())
        BLAS.setThreads(threads)
        if warn, let warning = GemmBackend.slownessWarning(for: GemmBackend.current) { printError(warning) }
        return GemmBackend.current
    }
}

extension VectorPath: ExpressibleByArgument {}
