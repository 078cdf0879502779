import ArgumentParser
import Benchmarks
import Foundation
import Kernels
import Model

/// `seq2seq bench train`: times training steps on synthetic data (see `TrainBenchmark`).
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time training steps (forward, backward, clip 5, SGD) on synthetic full-length batches.",
        discussion: """
            Prints target tokens/s, source+target tokens/s and GFLOP/s, with FLOPs counted \
            analytically exactly like the PyTorch peer. Presets: small (8000/8000 vocab, E256 H256 \
            L2 B64 S16 T16) and medium (16000/16000, E512 H512 L2 B64 S20 T20); explicit flags \
            override the preset. Figures are only meaningful from a release build.
            """)

    @Option(help: "small or medium.") var preset: String = "small"
    @Option(help: "Source vocabulary size.") var sourceVocab: Int?
    @Option(help: "Target vocabulary size.") var targetVocab: Int?
    @Option(help: "Embedding size E.") var embedding: Int?
    @Option(help: "Hidden size H.") var hidden: Int?
    @Option(help: "Layers L.") var layers: Int?
    @Option(help: "Recurrent cell: lstm, gru, rnn-tanh or irnn (the peer's --cell).") var cell: CellType?
    @Flag(help: "Bidirectional encoder, H/2 per direction, source not reversed (the peer's --bidirectional).")
    var bidirectional = false
    @Flag(help: "Residual connections from the second layer on.") var residual = false
    @Option(help: "Attention: none, dot, general or mlp, with input feeding (the peer's --attention).") var attention: AttentionType?
    @Flag(help: "With --attention: no input feeding (the peer always feeds).") var noInputFeed = false
    @Option(help: "Batch size B.") var batchSize: Int?
    @Option(help: "Source length S.") var sourceLength: Int?
    @Option(help: "Target length T.") var targetLength: Int?
    @Option(help: "Timed steps.") var steps: Int = 20
    @Option(help: "Untimed warm-up steps.") var warmup: Int = 3
    @Option(help: "Threads in all (use 1 if anything else runs on a 2-core machine).") var threads: Int = 2
    @OptionGroup var gemmArguments: GemmArguments
    @Option(help: "text or json.") var format: String = "text"
    @Flag(help: "Also report time per phase (GEMM kinds, LSTM pointwise, softmax, optimizer).") var profile = false

    func validate() throws {
        guard TrainBenchmark.preset(preset) != nil else { throw ValidationError("--preset must be small or medium, got \(preset)") }
        guard format == "text" || format == "json" else { throw ValidationError("--format must be text or json, got \(format)") }
        guard steps >= 1, warmup >= 0 else { throw ValidationError("--steps must be at least 1, --warmup at least 0") }
        try checkThreads(threads)
        try gemmArguments.check()
        for (name, value) in [("--batch-size", batchSize), ("--source-length", sourceLength), ("--target-length", targetLength)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        }
        try benchmark().model.validate()
    }

    private func benchmark() -> TrainBenchmark {
        var b = TrainBenchmark.preset(preset)!
        if let sourceVocab { b.model.sourceVocabularySize = sourceVocab }
        if let targetVocab { b.model.targetVocabularySize = targetVocab }
        if let embedding { b.model.embedding = embedding }
        if let hidden { b.model.hidden = hidden }
        if let layers { b.model.layers = layers }
        if let cell { b.model.cell = cell }
        if bidirectional { b.model.bidirectional = true; b.model.reverseSource = false }
        if residual { b.model.residual = true }
        if let attention { b.model.attention = attention }
        if noInputFeed { b.model.inputFeed = false }
        if let batchSize { b.batchSize = batchSize }
        if let sourceLength { b.sourceLength = sourceLength }
        if let targetLength { b.targetLength = targetLength }
        return b
    }

    func run() throws {
        let bench = benchmark()
        let backend = try gemmArguments.apply(threads: threads)
        let r = bench.run(steps: steps, warmup: warmup, threads: threads, profile: profile)
        let m = bench.model
        let sorted = r.stepSeconds.sorted()
        // Right after the timed steps: how far apart two of the CPUs are now (a VM's vCPUs can move
        // between sharing an L3 and not, which moves a 2-thread step by 10 %; see doctor).
        let roundTrip = threads > 1 ? CoreRoundTrip.measure(trips: 30_000, repeats: 1) : nil
        if format == "json" {
            var fields: [(String, String)] = [
                ("preset", "\"\(preset)\""), ("source_vocab", "\(m.sourceVocabularySize)"),
                ("target_vocab", "\(m.targetVocabularySize)"), ("embedding", "\(m.embedding)"), ("hidden", "\(m.hidden)"),
                ("layers", "\(m.layers)"), ("cell", "\"\(m.cell.rawValue)\""), ("bidirectional", "\(m.bidirectional)"),
                ("residual", "\(m.residual)"), ("attention", "\"\(m.attention.rawValue)\""), ("input_feed", "\(m.feedsAttention)"),
                ("batch", "\(bench.batchSize)"), ("source_length", "\(bench.sourceLength)"),
                ("target_length", "\(bench.targetLength)"), ("threads", "\(threads)"),
                ("gemm", "\"\(backend.rawValue)\""), ("gemm_isa", "\"\(backend.instructionSet)\""),
                ("cpu", "\"\(CPUInfo.current.modelName)\""), ("cpu_isa", "\"\(CPUInfo.current.vectorISA)\""), ("steps", "\(steps)"),
                ("warmup", "\(warmup)"), ("step_ms_median", fmt(r.medianStepSeconds * 1e3)),
                ("step_ms_min", fmt(sorted.first! * 1e3)), ("step_ms_max", fmt(sorted.last! * 1e3)),
                ("target_tokens_per_s", fmt(r.targetTokensPerSecond)), ("tokens_per_s", fmt(r.tokensPerSecond)),
                ("gflops", fmt(r.gflops)), ("gflop_per_step", fmt(bench.flopsPerStep / 1e9)),
                ("first_loss", fmt(r.firstLoss)), ("last_loss", fmt(r.lastLoss)),
                ("weights_checksum", "\"\(String(r.weightsChecksum, radix: 16))\""),
                ("core_round_trip_ns", roundTrip.map { fmt($0.nanoseconds) } ?? "null"),
            ]
            if profile {
                let phases = r.phases.map { "\"\($0.name)\":\(fmt($0.seconds / Double(steps) * 1e3))" }
                fields.append(("phase_ms_per_step", "{\(phases.joined(separator: ","))}"))
            }
            try StandardOutput.shared.writeLine("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
            return
        }
        try StandardOutput.shared.writeLine("bench train \(preset) \(m.architectureDescription): V \(m.sourceVocabularySize)/\(m.targetVocabularySize) E\(m.embedding) H\(m.hidden) L\(m.layers) B\(bench.batchSize) S\(bench.sourceLength) T\(bench.targetLength), \(threads) thread(s), GEMM \(backend.rawValue) (\(backend.instructionSet)), \(steps) steps after \(warmup) warm-up")
        try StandardOutput.shared.writeLine("step ms: median \(fmt(r.medianStepSeconds * 1e3)), min \(fmt(sorted.first! * 1e3)), max \(fmt(sorted.last! * 1e3))")
        try StandardOutput.shared.writeLine("target tokens/s \(fmt(r.targetTokensPerSecond)), source+target tokens/s \(fmt(r.tokensPerSecond)), GFLOP/s \(fmt(r.gflops)) (\(fmt(bench.flopsPerStep / 1e9)) GFLOP/step)")
        try StandardOutput.shared.writeLine("loss per token: first \(fmt(r.firstLoss)), last \(fmt(r.lastLoss)); weights checksum \(String(r.weightsChecksum, radix: 16))")
        if let roundTrip {
            try StandardOutput.shared.writeLine("CPU \(roundTrip.cpus[0]) ↔ \(roundTrip.cpus[1]): \(fmt(roundTrip.nanoseconds)) ns a cache line's round trip, right after the steps")
        }
        if profile {
            let total = r.stepSeconds.reduce(0, +)
            let tracked = r.phases.reduce(0) { $0 + $1.seconds }
            for (name, seconds) in r.phases.sorted(by: { $0.seconds > $1.seconds }) + [("other (embedding, dropout, gathers, timers)", total - tracked)] {
                try StandardOutput.shared.writeLine("  \(name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(fmt(seconds / Double(steps) * 1e3)) ms/step  \(fmt(100 * seconds / total))%")
            }
        }
    }

    private func fmt(_ x: Double) -> String { String(format: "%.2f", x) }
}
