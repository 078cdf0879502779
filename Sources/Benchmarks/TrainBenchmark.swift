import Kernels
import Model

/// Times training steps of the model on synthetic full-length batches, the same step and FLOP
/// count as the PyTorch peer (shared/peers/torch_seq2seq.py), so that GFLOP/s figures compare.
///
/// One step: `trainStep`, scale to the mean-token loss, clip the global norm at 5, SGD with lr 0.7
/// (the paper's), which leaves the gradients zero for the next step. FLOPs are counted analytically
/// from the GEMMs only, as the peer counts them (see `flopsPerStep`).
public struct TrainBenchmark: Sendable {
    public var model: ModelConfig
    /// B, S, T
    public var batchSize: Int, sourceLength: Int, targetLength: Int

    public init(model: ModelConfig, batchSize: Int, sourceLength: Int, targetLength: Int) {
        self.model = model
        self.batchSize = batchSize
        self.sourceLength = sourceLength
        self.targetLength = targetLength
    }

    /// The peer's named sizes.
    public static func preset(_ name: String) -> TrainBenchmark? {
        switch name {
        case "small":
            return TrainBenchmark(model: ModelConfig(sourceVocabularySize: 8000, targetVocabularySize: 8000,
                                                     embedding: 256, hidden: 256, layers: 2),
                                  batchSize: 64, sourceLength: 16, targetLength: 16)
        case "medium":
            return TrainBenchmark(model: ModelConfig(sourceVocabularySize: 16000, targetVocabularySize: 16000,
                                                     embedding: 512, hidden: 512, layers: 2),
                                  batchSize: 64, sourceLength: 20, targetLength: 20)
        default: return nil
        }
    }

    /// GEMM FLOPs of one training step (the peer's `train_flops`): per time step an L-layer stack
    /// with g gate blocks (LSTM 4, GRU 3, Elman 1) does 2·B·g·H·(In + H) per layer, a bidirectional
    /// one twice with H/2 per direction (the decoder's first layer reads E + H with input feeding);
    /// attention per decoder step 2·B·S·H·2 (scores, contexts) + 2·B·2H·H (W_c), plus 2·B·H·H
    /// (general: W_a; mlp: W_q) and 2·B·S·H (mlp: v), and for mlp 2·B·S·H·H once (the keys);
    /// the output layer 2·B·T·H·V; a step is 3 × forward.
    public var flopsPerStep: Double {
        let (b, e, h, l) = (Double(batchSize), Double(model.embedding), Double(model.hidden), Double(model.layers))
        let g = Double(model.cell == .lstm ? 4 : model.cell == .gru ? 3 : 1)
        func stack(_ input: Double, bidirectional: Bool) -> Double {
            if bidirectional {
                let u = h / 2
                return 2 * (2 * b * g * u * ((input + u) + (l - 1) * (h + u)))
            }
            return 2 * b * g * h * ((input + h) + (l - 1) * 2 * h)
        }
        let (s, t) = (Double(sourceLength), Double(targetLength))
        var attention = 0.0
        if model.attention != .none {
            var perStep = 2 * b * s * h * 2 + 2 * b * 2 * h * h
            if model.attention == .general { perStep += 2 * b * h * h }
            if model.attention == .mlp { perStep += 2 * b * h * h + 2 * b * s * h }
            attention = t * perStep + (model.attention == .mlp ? 2 * b * s * h * h : 0)
        }
        let forward = s * stack(e, bidirectional: model.bidirectional)
            + t * stack(model.feedsAttention ? e + h : e, bidirectional: false) + attention
            + 2 * b * t * h * Double(model.targetVocabularySize)
        return 3 * forward
    }

    /// The figures of one `run`.
    public struct Result: Sendable {
        /// Wall time of every timed step, seconds.
        public var stepSeconds: [Double]
        public var medianStepSeconds: Double
        /// B·T / median step time; B·(S+T) / median step time.
        public var targetTokensPerSecond: Double, tokensPerSecond: Double
        public var gflops: Double
        public var firstLoss: Double, lastLoss: Double
        /// Time per phase summed over the timed steps (seconds), when profiling was on.
        public var phases: [(name: String, seconds: Double)]
        /// FNV-1a over the final weights' bits: equal runs must print equal checksums.
        public var weightsChecksum: UInt64
    }

    /// Synthetic batches as in the peer: ids uniform in 4..<V, every sentence full length, the
    /// target's last token </s>; `count` batches cycled.
    public func batches(count: Int, seed: UInt64) -> [Batch] {
        var rng = SeededGenerator(seed: seed)
        func id(_ v: Int) -> Int32 { Int32(4 + Int(rng.next() % UInt64(v - 4))) }
        return (0..<count).map { _ in
            let sources = (0..<batchSize).map { _ in (0..<sourceLength).map { _ in id(model.sourceVocabularySize) } }
            let targets = (0..<batchSize).map { _ in (0..<(targetLength - 1)).map { _ in id(model.targetVocabularySize) } }
            return Batch(sources: sources, targets: targets)
        }
    }

    /// Runs `warmup` untimed then `steps` timed steps with `threads` BLAS threads.
    public func run(steps: Int, warmup: Int, threads: Int, seed: UInt64 = 1234, profile: Bool = false) -> Result {
        precondition(steps >= 1 && targetLength >= 1 && sourceLength >= 1 && batchSize >= 1)
        BLAS.setThreads(threads)
        let network = Seq2SeqModel(config: model, seed: seed)
        network.profiler = profile ? PhaseProfiler() : nil
        let data = batches(count: 4, seed: seed)
        let sgd = SGD()
        let clock = ContinuousClock()
        var times: [Double] = [], losses: [Double] = []
        for i in 0..<(warmup + steps) {
            if i == warmup { network.profiler?.reset() }
            let start = clock.now
            let r = network.trainStep(data[i % data.count], dropoutSeed: UInt64(i))
            let optimize = {
                let norm = scaleGradients(network.parameters, by: 1 / Float(r.tokens))
                sgd.step(network.parameters, learningRate: 0.7, gradientScale: clipFactor(norm: norm, maxNorm: 5))
            }
            if let profiler = network.profiler {
                profiler.measure("optimizer: norm, clip, SGD, zero", optimize)
            } else {
                optimize()
            }
            let elapsed = clock.now - start
            if i >= warmup {
                times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
                losses.append(r.lossSum / Double(r.tokens))
            }
        }
        let median = times.sorted()[times.count / 2]
        return Result(
            stepSeconds: times, medianStepSeconds: median,
            targetTokensPerSecond: Double(batchSize * targetLength) / median,
            tokensPerSecond: Double(batchSize * (sourceLength + targetLength)) / median,
            gflops: flopsPerStep / median / 1e9, firstLoss: losses.first!, lastLoss: losses.last!,
            phases: network.profiler?.totals ?? [], weightsChecksum: network.parameters.checksum())
    }
}
