import ArgumentParser
import Basics
import Distributed
import Foundation
import Training

/// `seq2seq bench allreduce`: times the gradient exchange of data-parallel training under mpirun.
struct BenchAllreduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time the gradient exchange between MPI ranks (run under mpirun).",
        discussion: """
            Sums a buffer of one model's gradient size over the ranks, as training does (fixed rank \
            order: MPI_Alltoallv, add, MPI_Allgatherv), and with Open MPI's own MPI_Allreduce for \
            comparison (its order of summation is its own). Prints, from rank 0, the median and \
            fastest time per exchange and the bus bandwidth 2(N−1)/N × bytes / time. Presets: the \
            gradient sizes of the small (8.25 M floats), medium (33.0 M) and Multi30k (13.9 M) models.
            """)

    @Option(help: "small, medium or multi30k.") var preset: String = "multi30k"
    @Option(help: "Floats in the buffer (overrides --preset).") var floats: Int?
    @Option(name: .customLong("repeat"), help: "Timed exchanges.") var repetitions: Int = 20

    func validate() throws {
        guard floats != nil || Self.presetFloats(preset) != nil else {
            throw ValidationError("--preset must be small, medium or multi30k, got \(preset)")
        }
        if let floats, floats < 1 || floats > Int(Int32.max) { throw ValidationError("--floats must be in 1...\(Int32.max)") }
        guard repetitions >= 1 else { throw ValidationError("--repeat must be at least 1") }
    }

    /// Gradient floats of the named model (its parameter count).
    static func presetFloats(_ name: String) -> Int? {
        var o = TrainingOptions()
        let vocabularies: (Int, Int)
        switch name {
        case "small": o.embedding = 256; o.hidden = 256; vocabularies = (8000, 8000)
        case "medium": o.embedding = 512; o.hidden = 512; vocabularies = (16000, 16000)
        case "multi30k": o.embedding = 256; o.hidden = 512; vocabularies = (7891, 5904)
        default: return nil
        }
        return o.parameterCount(sourceVocabularySize: vocabularies.0, targetVocabularySize: vocabularies.1)
    }

    func run() throws {
        guard Communicator.isLaunchedByMPI else {
            throw CLIError("bench allreduce measures an exchange between MPI ranks: run it under mpirun -np N (N ≥ 2)")
        }
        let world = try Communicator.world()
        defer { world.finalize() }
        let count = floats ?? Self.presetFloats(preset)!
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        var generator = SplitMix64(seed: UInt64(world.rank) + 1)
        func time(_ exchange: () throws -> Void) throws -> [Double] {
            var seconds: [Double] = []
            for i in 0...repetitions {
                for j in 0..<count { buffer[j] = Float(Int32(truncatingIfNeeded: generator.next())) / 2_147_483_648 }
                try world.barrier()
                let start = Date()
                try exchange()
                if i > 0 { seconds.append(Date().timeIntervalSince(start)) }   // the first is warm-up
            }
            // Rank 0 reports the slowest rank's time of each exchange.
            var slowest = seconds
            try world.allreduce(&slowest, .max)
            return slowest.sorted()
        }
        let fixed = try time { try world.sumInRankOrder(buffer) }
        let native = try time { try world.allreduce(buffer, .sum) }
        guard world.rank == 0 else { return }
        let bytes = Double(count) * 4, n = Double(world.size)
        func line(_ name: String, _ seconds: [Double]) -> String {
            let median = seconds[seconds.count / 2], best = seconds[0]
            let bus = 2 * (n - 1) / n * bytes / median / 1e9
            return String(format: "%@: median %.1f ms, fastest %.1f ms, bus bandwidth %.2f GB/s", name, median * 1000, best * 1000, bus)
        }
        try StandardOutput.shared.writeLine(String(format: "%d ranks on %@, %.1f MB (%d floats), %d exchanges",
                                                   world.size, world.processorName, bytes / 1e6, count, repetitions))
        try StandardOutput.shared.writeLine(line("fixed-order sum (training)", fixed))
        try StandardOutput.shared.writeLine(line("MPI_Allreduce (Open MPI's order)", native))
    }
}
