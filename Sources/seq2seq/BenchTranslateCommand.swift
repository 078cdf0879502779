import ArgumentParser
import Basics
import Decoding
import Foundation
import Kernels
import Model
import Translation

/// `seq2seq bench translate`: decoding throughput of a randomly initialised model on synthetic
/// sources, the same measurement as the PyTorch peer's `--mode decode` (max length 2·|source|).
struct BenchTranslate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Time greedy and beam-search decoding on synthetic input (release build).")

    enum Preset: String, ExpressibleByArgument, CaseIterable { case small, medium }
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "small: 8000/8000 vocab, E256 H256 L2, source length 16; medium: 16000/16000, 512, 512, 2, 20.")
    var preset: Preset = .small
    // Alike on purpose: option declarations, one per flag; `bench train` declares its own.
    @Option(help: "Source vocabulary size (overrides the preset).") var sourceVocab: Int?
    @Option(help: "Target vocabulary size.") var targetVocab: Int?
    @Option(help: "Embedding size.") var embedding: Int?
    @Option(help: "Hidden size.") var hidden: Int?
    @Option(help: "Layers.") var layers: Int?
    @Option(help: "Recurrent cell: lstm, gru, rnn-tanh or irnn (the peer's --cell).") var cell: CellType?
    @Flag(help: "Bidirectional encoder (the peer's --bidirectional).") var bidirectional = false
    @Option(help: "Attention: none, dot, general or mlp, with input feeding (the peer's --attention).") var attention: AttentionType?
    @Option(help: "Source length (outputs may run to twice this).") var sourceLength: Int?
    @Option(help: "Comma-separated batch sizes.") var batches: String = "1,64"
    @Option(help: "Comma-separated kinds: greedy, beam.") var kinds: String = "greedy,beam"
    @Option(help: "Beam size for the beam kind (default 5).") var beam: Int?
    @Option(help: "Sentences decoded at batch 1 (default 40; batched runs decode 3 batches).") var sentences: Int?
    @Option(help: "Threads in all (GEMM backend and our own kernels).") var threads: Int = 2
    @OptionGroup var gemmArguments: GemmArguments
    @Option(help: "text or json (one JSON object per measurement, key sentences_per_s).") var format: Format = .text
    @Flag(inversion: .prefixedNo, help: "Decode steps with few rows on the packed decoder weights (as translate does); --no-packed: BLAS only.")
    var packed = true
    @OptionGroup var decoder: DecoderArguments
    @Option(help: "Restrict each batch's output layer to S target ids (</s> and S−1 others drawn at random, seeded), as a lexical shortlist does; the restriction's gathering and packing is timed too.")
    var shortlistSize: Int?
    @Flag(help: "Also report time per phase (encoder, recurrent layers, output layer, log-softmax, search).") var profile = false
    @Flag(help: "Count heap allocations (runs itself again with libseq2seq-malloc-counter.so preloaded, from the binary's folder): per output token in all, and per extra token in the steady state (the difference between decoding to 2·|source| and 3·|source| tokens).")
    var countAllocations = false

    func run() throws {
        try checkThreads(threads)
        if countAllocations && MallocCounter.count == nil { try MallocCounter.runAgainPreloaded() }
        let backend = try gemmArguments.apply(threads: threads)
        let medium = preset == .medium
        let config = ModelConfig(
            sourceVocabularySize: sourceVocab ?? (medium ? 16000 : 8000),
            targetVocabularySize: targetVocab ?? (medium ? 16000 : 8000),
            embedding: embedding ?? (medium ? 512 : 256), hidden: hidden ?? (medium ? 512 : 256),
            layers: layers ?? 2, reverseSource: !bidirectional, cell: cell ?? .lstm, bidirectional: bidirectional,
            attention: attention ?? .none)
        try config.validate()
        let length = sourceLength ?? (medium ? 20 : 16)
        guard length >= 1 && length <= 10_000 else { throw ValidationError("--source-length must be between 1 and 10000") }
        let model = Seq2SeqModel(config: config, seed: 1)
        if decoder.precision == .int8 && !packed { throw ValidationError("--precision int8 decodes on the int8 weights; drop --no-packed") }
        let weights = packed ? DecoderWeights(model: model, precision: decoder.precision) : nil
        var rng = SeededGenerator(seed: 7)
        func randomSources(_ count: Int) -> [[Int32]] {
            (0..<count).map { _ in
                (0..<length).map { _ in Int32(4 + Int(rng.next() % UInt64(config.sourceVocabularySize - 4))) }
            }
        }
        let batchSizes = try batches.split(separator: ",").map { part -> Int in
            guard let b = Int(part), b > 0, b <= 100_000 else { throw ValidationError("--batches: bad batch size '\(part)'") }
            return b
        }
        let kindList = kinds.split(separator: ",").map(String.init)
        if beam != nil && !kindList.contains("beam") { throw ValidationError("--beam only applies to --kinds beam") }
        if sentences != nil && !batchSizes.contains(1) { throw ValidationError("--sentences only applies to batch size 1 (--batches)") }
        let beam = self.beam ?? 5, sentences = self.sentences ?? 40
        guard beam >= 1 && beam <= 1000 else { throw ValidationError("--beam must be between 1 and 1000") }
        guard sentences >= 1 else { throw ValidationError("--sentences must be at least 1") }
        if let shortlistSize, !(1...config.targetVocabularySize).contains(shortlistSize) {
            throw ValidationError("--shortlist-size must be between 1 and the target vocabulary size \(config.targetVocabularySize)")
        }
        var shortlistRNG = SeededGenerator(seed: 11)
        /// S ascending ids: </s> and S−1 others (a partial Fisher–Yates shuffle of the rest).
        func randomShortlist() -> [Int32]? {
            guard let size = shortlistSize else { return nil }
            var pool = (0..<Int32(config.targetVocabularySize)).filter { $0 != TokenID.end }
            for i in 0..<(size - 1) {
                let j = i + Int(shortlistRNG.next() % UInt64(pool.count - i))
                pool.swapAt(i, j)
            }
            return (pool.prefix(size - 1) + [TokenID.end]).sorted()
        }
        for kind in kindList {
            guard kind == "greedy" || kind == "beam" else { throw ValidationError("--kinds: unknown kind '\(kind)'") }
            var options = SearchOptions()
            options.beamSize = kind == "beam" ? beam : 1
            options.maxLengthRatio = 2
            options.maxLengthOffset = 0
            options.lengthPenalty = 0.6
            for batchSize in batchSizes {
                let count = batchSize == 1 ? sentences : batchSize * 3
                let inputs = randomSources(count)
                // Warm-up (workspaces, page faults), then timed.
                _ = decode(model, weights, Array(inputs.prefix(batchSize)), options, nil, randomShortlist())
                // Drawn before the clock starts: one set per batch.
                let shortlists = stride(from: 0, to: inputs.count, by: batchSize).map { _ in randomShortlist() }
                var outputTokens = 0
                let profiler = profile ? PhaseProfiler() : nil
                let start = Date()
                var i = 0
                while i < inputs.count {
                    let chunk = Array(inputs[i..<min(i + batchSize, inputs.count)])
                    outputTokens += decode(model, weights, chunk, options, profiler, shortlists[i / batchSize]).reduce(0) { $0 + ($1.first?.tokens.count ?? 0) + 1 }
                    i += batchSize
                }
                let seconds = Date().timeIntervalSince(start)
                let perSecond = Double(count) / seconds
                if format == .json {
                    try StandardOutput.shared.writeLine("{\"kind\":\"\(kind)\",\"beam\":\(options.beamSize),\"batch\":\(batchSize),\"sentences\":\(count),"
                        + "\"sentences_per_s\":\(perSecond),\"mean_output_tokens\":\(Double(outputTokens) / Double(count)),"
                        + "\"max_length\":\(2 * length),\"shortlist_size\":\(shortlistSize.map(String.init) ?? "null"),\"preset\":\"\(preset.rawValue)\",\"threads\":\(threads),\"packed\":\(packed),"
                        + "\"precision\":\"\(decoder.precision.rawValue)\",\"gemm\":\"\(backend.rawValue)\",\"gemm_isa\":\"\(backend.instructionSet)\","
                        + "\"cpu\":\"\(CPUInfo.current.modelName)\",\"cpu_isa\":\"\(CPUInfo.current.vectorISA)\"}")
                } else {
                    try StandardOutput.shared.writeLine("\(kind) beam \(options.beamSize) batch \(batchSize)\(decoder.precision == .int8 ? " int8" : ""): \(String(format: "%.1f", perSecond)) sentences/s"
                        + " (\(count) sentences, mean output \(String(format: "%.1f", Double(outputTokens) / Double(count))) tokens incl. </s>, "
                        + "max \(2 * length)" + (shortlistSize.map { ", shortlist \($0) ids" } ?? "") + "; GEMM \(backend.rawValue))")
                }
                if let profiler { try printPhases(profiler, total: seconds) }
                if countAllocations, let count = MallocCounter.count {
                    try reportAllocations(count, model, weights, inputs, batchSize: batchSize, options,
                                          shortlists: shortlists)
                }
            }
        }
    }

    /// Mallocs per output token over the whole decode (encoding and search set-up included), and
    /// per extra token when the same batches decode to 3·|source| instead of 2·|source| tokens: the
    /// steady state of a step.
    private func reportAllocations(_ count: @convention(c) () -> Int, _ model: Seq2SeqModel, _ weights: DecoderWeights?,
                                   _ inputs: [[Int32]], batchSize: Int, _ options: SearchOptions, shortlists: [[Int32]?]) throws {
        func measure(_ ratio: Double) -> (mallocs: Int, tokens: Int) {
            var options = options
            options.maxLengthRatio = ratio
            options.earlyStopping = false
            var tokens = 0, i = 0
            let before = count()
            while i < inputs.count {
                let chunk = Array(inputs[i..<min(i + batchSize, inputs.count)])
                for hypotheses in decode(model, weights, chunk, options, nil, shortlists[i / batchSize]) {
                    tokens += (hypotheses.first?.tokens.count ?? 0) + 1
                }
                i += batchSize
            }
            return (count() - before, tokens)
        }
        let short = measure(2), long = measure(3)
        let extra = long.tokens - short.tokens
        try StandardOutput.shared.writeLine(String(format: "  allocations: %.2f per output token in all (%d over %d tokens); %@ per extra token in the steady state (%d over %d tokens)",
            Double(short.mallocs) / Double(max(1, short.tokens)), short.mallocs, short.tokens,
            extra > 0 ? String(format: "%.2f", Double(long.mallocs - short.mallocs) / Double(extra)) : "n/a",
            long.mallocs - short.mallocs, extra))
    }

    private func printPhases(_ profiler: PhaseProfiler, total: Double) throws {
        let tracked = profiler.totals.reduce(0) { $0 + $1.seconds }
        for (name, seconds) in profiler.totals + [("search: selection, bookkeeping (rest)", total - tracked)] {
            try StandardOutput.shared.writeLine("  \(name.padding(toLength: 40, withPad: " ", startingAt: 0)) \(String(format: "%6.1f", 100 * seconds / total))%")
        }
    }

    private func decode(_ model: Seq2SeqModel, _ weights: DecoderWeights?, _ sources: [[Int32]],
                        _ options: SearchOptions, _ profiler: PhaseProfiler?, _ outputIDs: [Int32]?) -> [[Hypothesis]] {
        let encode = { ModelScorer(model: model, packed: weights, sources: sources, outputIDs: outputIDs) }
        let scorer = profiler?.measure("decode: encoder", encode) ?? encode()
        scorer.profiler = profiler
        let lengths = sources.map(\.count)
        return BeamSearch.search(scorer, sourceLengths: lengths, options: options)
    }
}

/// The allocation count of libseq2seq-malloc-counter.so when it is preloaded (nil otherwise).
enum MallocCounter {
    static let count: (@convention(c) () -> Int)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "seq2seq_malloc_count") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) () -> Int).self)
    }()

    /// Replaces this process with the same command run with the counter preloaded (LD_PRELOAD, as
    /// only this benchmark sets it); throws when the library is not beside the binary.
    static func runAgainPreloaded() throws -> Never {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let library = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("libseq2seq-malloc-counter.so").path
        guard FileManager.default.fileExists(atPath: library) else {
            throw CLIError("--count-allocations needs \(library): build it with `swift build -c release --product seq2seq-malloc-counter`")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = [library, environment["LD_PRELOAD"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
        let arguments = [executable] + CommandLine.arguments.dropFirst()
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(executable, argv, envp)
        throw CLIError("--count-allocations: could not run \(executable) again (errno \(errno))")
    }
}
