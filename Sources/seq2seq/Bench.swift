import ArgumentParser

/// `seq2seq bench …`: the project's own benchmarks (release builds only give figures worth quoting).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: shard reading, training steps, decoding, GEMM libraries, int8 kernels, the MPI gradient exchange, BPE.",
        subcommands: [BenchShards.self, BenchTrain.self, BenchTranslate.self, BenchGemm.self, BenchInt8.self, BenchAllreduce.self, BenchBPE.self, BenchLibrary.self]
    )
}
