import Basics
import Kernels

/// The encoder-decoder of Sutskever, Vinyals & Le (2014), with the recurrent cell of the config
/// (LSTM by default; GRU, Elman tanh, IRNN).
///
/// Source embeddings → L-layer recurrent encoder reading each source sentence reversed (by default) →
/// its final state (h, and c for the LSTM) of every layer starts the L-layer decoder → target embeddings of <s> y1…yn feed
/// the decoder (teacher forcing) → linear output → softmax cross-entropy over y1…yn </s>, padding
/// masked. Dropout (Zaremba et al. 2014) on the outputs of every layer but the encoder's top one
/// (between layers, and before the output layer; after a residual layer's sum). Initialisation
/// U(−0.08, 0.08) for every parameter in store order, then each cell's own (`RecurrentCell.initialize`:
/// LSTM forget bias 1; IRNN identity recurrence). A bidirectional encoder (H/2 per direction) and
/// residual stacks are `RecurrentStack`'s.
///
/// Everything runs time-major on [steps·B, ·] matrices; workspaces live in the layers and grow only
/// when a larger batch arrives, so a training step allocates nothing after warm-up.
public final class Seq2SeqModel {
    public let config: ModelConfig
    public let parameters: ParameterStore

    let encoder: RecurrentStack
    let decoder: RecurrentStack
    let output: OutputLayer
    /// Tied embeddings with E ≠ H: P [E, H], the output layer reads p = h̃·Pᵀ [rows, E] (its weight
    /// is the target embedding [V, E]); nil otherwise.
    let outputProjection: (values: UnsafeMutablePointer<Scalar>, gradients: UnsafeMutablePointer<Scalar>, count: Int)?
    /// Global attention of the decoder over the encoder's top outputs (nil: the Sutskever model).
    let attention: GlobalAttention?
    /// The attention caches of the last training forward pass.
    let attentionState = AttentionState()
    let sourceEmbedding, targetEmbedding: (values: UnsafeMutablePointer<Scalar>, gradients: UnsafeMutablePointer<Scalar>, count: Int)

    // Workspaces of the last forward pass.
    /// [S·B] source ids in reading order (reversed per sentence if configured), 0 after the end.
    private var sourceIDs: [Int32] = []
    /// [S·B]: 1 for a real source step, 0 for padding.
    private let sourceMask = FloatBuffer()
    /// [S·B, E] and [T·B, E].
    private let encoderInput = FloatBuffer(), decoderInput = FloatBuffer()
    private var dropoutActive = false
    /// Per encoder layer, (h, c) [B, H] carried from one chunk of `encode` to the next (c unused
    /// by cells without a memory).
    private let chunkState: [(h: FloatBuffer, c: FloatBuffer)]
    /// Positions t·B+b with a real target, and those targets.
    private var targetPositions: [Int32] = []
    private var targets: [Int32] = []
    /// [P, H] decoder top outputs at the target positions; [T·B, H] gradient of the decoder top.
    private let outputRows = FloatBuffer(), topGradient = FloatBuffer()
    /// Tied embeddings with E ≠ H: p = h̃·Pᵀ of the output rows [P, E], and dL/dh̃ of those rows [P, H].
    private let projectedRows = FloatBuffer(), projectedGradient = FloatBuffer()
    /// Attention: [T·B, H] h̃ after dropout (what the output layer and input feeding read), its
    /// dropout mask, and [B, H] zeros (the first step's input feed).
    private let attended = FloatBuffer(), attendedMask = FloatBuffer(), stepInput = FloatBuffer()
    private var lastShape = (batch: 0, source: 0, target: 0)
    private var lastBatch: Batch?
    /// Called by `trainStep`'s backward pass with stage s (an index into ``gradientStages``) as
    /// soon as the gradients of that stage's tensors are final for this batch, s = 0, 1, … in order
    /// (what an overlapped exchange of the gradients between MPI ranks starts from). nil: not called.
    public var gradientStageReady: ((Int) -> Void)?
    /// The parameters' float ranges (in `parameters`' buffer) whose gradients become final together
    /// during the backward pass, in the order they do: the output layer (and its projection), the
    /// decoder with attention, the target embedding, the encoder, the source embedding. Every float
    /// is in exactly one stage; a tied embedding is in the stage of its last writer. The stages
    /// depend on the architecture only, not on the batch.
    public private(set) lazy var gradientStages: [[Range<Int>]] = {
        var stages = [[Range<Int>]](repeating: [], count: 5)
        for tensor in parameters.tensors {
            let stage: Int
            if tensor.name.hasPrefix("output.") { stage = 0 }
            else if tensor.name.hasPrefix("decoder.") || tensor.name.hasPrefix("attention.") { stage = 1 }
            else if tensor.name == "target_embedding" {
                // Tied: the output layer's gradient reaches it first, the embeddings' last.
                stage = config.tieEmbeddings == .all ? 4 : 2
            } else if tensor.name.hasPrefix("encoder.") { stage = 3 }
            else { stage = 4 }
            let range = tensor.offset..<(tensor.offset + tensor.shape.reduce(1, *))
            if let last = stages[stage].last, last.upperBound == range.lowerBound {
                stages[stage][stages[stage].count - 1] = last.lowerBound..<range.upperBound
            } else {
                stages[stage].append(range)
            }
        }
        return stages
    }()
    /// Per-phase timing (bench only); nil normally.
    public var profiler: PhaseProfiler? {
        didSet {
            encoder.profiler = profiler
            decoder.profiler = profiler
            output.profiler = profiler
            attention?.profiler = profiler
        }
    }

    /// Builds the network and draws its initial weights from `seed` (same seed, same weights).
    public init(config: ModelConfig, seed: UInt64) {
        precondition((try? config.validate()) != nil, "invalid ModelConfig: \(config)")
        self.config = config
        let (e, h, l) = (config.embedding, config.hidden, config.layers)
        // A tied target embedding gets the output layer's dense gradient: no block of it is skipped.
        let sparse: Set<String> = switch config.tieEmbeddings {
        case .none: ["source_embedding", "target_embedding"]
        case .decoder: ["source_embedding"]
        case .all: []
        }
        let store = ParameterStore(layout: Seq2SeqModel.layout(config), sparse: sparse, aliases: Seq2SeqModel.aliases(config))
        parameters = store
        sourceEmbedding = store.view("source_embedding")
        targetEmbedding = store.view("target_embedding")
        encoder = RecurrentStack(cell: config.cell, layerNorm: config.layerNorm, layers: l, inputSize: e, hidden: h, bidirectional: config.bidirectional,
                                 residual: config.residual, dropout: Scalar(config.dropout), store: store, prefix: "encoder")
        decoder = RecurrentStack(cell: config.cell, layerNorm: config.layerNorm, layers: l, inputSize: config.feedsAttention ? e + h : e, hidden: h,
                                 bidirectional: false, residual: config.residual, dropout: Scalar(config.dropout), store: store,
                                 prefix: "decoder")
        attention = config.attention == .none ? nil : GlobalAttention(score: config.attention, hidden: h, store: store, prefix: "attention")
        let projects = Self.projectsOutput(config)
        output = OutputLayer(vocabulary: config.targetVocabularySize, hidden: projects ? e : h, store: store)
        outputProjection = projects ? store.view("output.projection") : nil
        chunkState = (0..<l).map { _ in (FloatBuffer(), FloatBuffer()) }

        var rng = SeededGenerator(seed: seed)
        for i in 0..<parameters.count { parameters.values[i] = rng.nextFloat(in: -0.08, 0.08) }
        // Then what the cell asks for (LSTM: forget bias 1; IRNN: identity recurrence, see the cells).
        var normal = SeededGenerator(seed: seed ^ 0x4952_4E4E)
        for layer in encoder.forwardLayers + encoder.backwardLayers + decoder.forwardLayers {
            layer.cell.initialize(layer, normal: &normal)
        }
    }

    /// Tensor names and shapes in store (and checkpoint) order; a tied tensor appears once (see
    /// ``aliases(_:)``).
    public static func layout(_ config: ModelConfig) -> [(name: String, shape: [Int])] {
        let (e, h) = (config.embedding, config.hidden)
        var layout: [(name: String, shape: [Int])] = config.tieEmbeddings == .all ? [] : [("source_embedding", [config.sourceVocabularySize, e])]
        layout.append(("target_embedding", [config.targetVocabularySize, e]))
        layout += RecurrentStack.layout(cell: config.cell, layerNorm: config.layerNorm, layers: config.layers, inputSize: e, hidden: h,
                                        bidirectional: config.bidirectional, prefix: "encoder")
        layout += RecurrentStack.layout(cell: config.cell, layerNorm: config.layerNorm, layers: config.layers,
                                        inputSize: config.feedsAttention ? e + h : e,
                                        hidden: h, bidirectional: false, prefix: "decoder")
        layout += GlobalAttention.layout(score: config.attention, hidden: h, prefix: "attention")
        if projectsOutput(config) { layout.append(("output.projection", [e, h])) }
        let output = OutputLayer.layout(vocabulary: config.targetVocabularySize, hidden: projectsOutput(config) ? e : h)
        return layout + (config.tieEmbeddings == .none ? output : output.filter { $0.name != "output.weight" })
    }

    /// Tied embeddings with E ≠ H: h̃ is projected to E before the output layer (``outputProjection``).
    static func projectsOutput(_ config: ModelConfig) -> Bool {
        config.tieEmbeddings != .none && config.embedding != config.hidden
    }

    /// The output layer's input for `rows` rows of h̃ [rows, H]: h̃ itself, or p = h̃·Pᵀ [rows, E]
    /// into `buffer` with tied embeddings and E ≠ H.
    func outputInput(_ top: UnsafePointer<Scalar>, rows: Int, buffer: FloatBuffer) -> UnsafePointer<Scalar> {
        guard let projection = outputProjection else { return top }
        let (e, h) = (config.embedding, config.hidden)
        let p = buffer.reserve(rows * e)
        BLAS.gemm(transB: true, m: rows, n: e, k: h, a: top, lda: h, b: projection.values, ldb: h, beta: 0, c: p, ldc: e)
        return UnsafePointer(p)
    }

    /// The tied names of `config` (``ModelConfig/tieEmbeddings``) and the tensor each one is.
    public static func aliases(_ config: ModelConfig) -> [String: String] {
        switch config.tieEmbeddings {
        case .none: [:]
        case .decoder: ["output.weight": "target_embedding"]
        case .all: ["output.weight": "target_embedding", "source_embedding": "target_embedding"]
        }
    }

    /// Whether `trainStep` records the encoder's ‖∂L/∂h_t‖ by source position (see
    /// `sourceGradientNorms`). Recording only reads gradients: the training numerics are the same.
    public var recordsGradientFlow: Bool {
        get { encoder.forwardLayers[0].hiddenGradientNorms != nil }
        set { encoder.forwardLayers[0].hiddenGradientNorms = newValue ? FloatBuffer() : nil }
    }

    /// After a `trainStep` with `recordsGradientFlow`: for each sentence b of the batch, ‖∂L_b/∂h_t‖
    /// of the first encoder layer's (forward direction's) state h_t right after it read source token
    /// p, for p = 0 ..< len_b (source order, whatever the reading direction), L_b the sentence's
    /// summed NLL. Empty when not recording.
    public func sourceGradientNorms() -> [[Double]] {
        guard let norms = encoder.forwardLayers[0].hiddenGradientNorms, let batch = lastBatch else { return [] }
        let b = batch.batchSize
        return (0..<b).map { row in
            let length = Int(batch.sourceLengths[row])
            return (0..<length).map { p in
                let step = config.reverseSource ? length - 1 - p : p
                return Double(norms.pointer[step * b + row])
            }
        }
    }

    /// Forward and backward pass over one batch. ADDS the gradient of `lossSum` (the summed NLL in
    /// nats over non-pad targets, not its mean) into `parameters.gradients`; the caller scales
    /// (e.g. by 1/tokens or 1/B) with `scaleGradients` if it wants a mean. The gradients must be
    /// zero before (they are after `ParameterStore.zeroGradients` and after an optimizer step).
    public func trainStep(_ batch: Batch, dropoutSeed: UInt64) -> (lossSum: Double, tokens: Int) {
        let loss = forward(batch, dropoutSeed: config.dropout > 0 ? dropoutSeed : nil, training: true)
        backward()
        return (loss, targets.count)
    }

    /// Forward only, no dropout: (summed NLL in nats, counted target tokens).
    public func evaluate(_ batch: Batch) -> (lossSum: Double, tokens: Int) {
        let loss = forward(batch, dropoutSeed: nil)
        return (loss, targets.count)
    }

    // MARK: Forward

    /// Runs the network over `batch` and returns the summed NLL; dropout when a seed is given.
    /// `training`: `backward` follows at once (the output layer then adds part of the bias gradient
    /// already); without it no gradient is touched.
    func forward(_ batch: Batch, dropoutSeed: UInt64?, training: Bool = false) -> Double {
        let (b, s, t) = (batch.batchSize, batch.sourceLength, batch.targetLength)
        let (e, h, layers) = (config.embedding, config.hidden, config.layers)
        var rng = SeededGenerator(seed: dropoutSeed ?? 0)
        dropoutActive = dropoutSeed != nil && config.dropout > 0
        lastShape = (b, s, t)
        lastBatch = batch

        encode(batch, dropout: dropoutActive, rng: &rng)

        let decoderInput = self.decoderInput.reserve(t * b * e)
        batch.targetInput.withUnsafeBufferPointer {
            Embedding.forward(table: targetEmbedding.values, width: e, ids: $0, into: decoderInput)
        }
        // The state bridge: decoder layer l starts from encoder layer l's final state.
        let bridge = (0..<layers).map { (h: encoder.finalHidden(layer: $0), c: encoder.finalCell(layer: $0)) }
        let x: UnsafePointer<Scalar>
        if let attention {
            x = attend(attention, batch: batch, embeddings: decoderInput, bridge: bridge, rng: &rng)
        } else {
            x = decoder.forward(input: decoderInput, steps: t, batch: b, mask: nil, initial: bridge,
                                applyDropout: dropoutActive, dropTop: true, rng: &rng)
        }

        // Only rows with a real target reach the output layer: padding costs no GEMM work.
        targetPositions.removeAll(keepingCapacity: true)
        targets.removeAll(keepingCapacity: true)
        for (position, id) in batch.targetOutput.enumerated() where id != TokenID.pad {
            targetPositions.append(Int32(position))
            targets.append(id)
        }
        let rows = outputRows.reserve(targets.count * h)
        targetPositions.withUnsafeBufferPointer { Vector.gatherRows(x, rows: $0, width: h, into: rows) }
        let input = outputInput(rows, rows: targets.count, buffer: projectedRows)
        return targets.withUnsafeBufferPointer { output.forward(input: input, targets: $0, training: training) }
    }

    /// The attentional decoder over the target embeddings [T·B, E]: returns h̃ after dropout,
    /// [T·B, H]. With input feeding the decoder runs step by step, step t reading [e_t; h̃_{t−1}]
    /// (h̃_0 = 0; the embedding columns are projected for all steps at once); without, the decoder
    /// runs over all steps at once and attention follows.
    private func attend(_ attention: GlobalAttention, batch: Batch, embeddings: UnsafePointer<Scalar>,
                        bridge: [(h: UnsafePointer<Scalar>, c: UnsafePointer<Scalar>?)], rng: inout SeededGenerator) -> UnsafePointer<Scalar> {
        let (b, s, t) = (batch.batchSize, batch.sourceLength, batch.targetLength)
        let (e, h) = (config.embedding, config.hidden)
        attention.prepare(attentionState, memory: encoder.output(layer: config.layers - 1), sourceSteps: s,
                          lengths: batch.sourceLengths.map { Int($0) })
        attention.begin(attentionState, steps: t)
        let out = attended.reserve(t * b * h)
        let mask: UnsafeMutablePointer<Scalar>? = dropoutActive ? attendedMask.reserve(t * b * h) : nil
        /// h̃ rows of steps `range` into `out`, with dropout.
        func keep(_ ht: UnsafePointer<Scalar>, steps range: Range<Int>) {
            let first = range.lowerBound * b * h, count = range.count * b * h
            if let mask {
                let p = Scalar(config.dropout), scale = 1 / (1 - p)
                for i in 0..<count { mask[first + i] = rng.nextUnitFloat() < p ? 0 : scale }
                for i in 0..<count { out[first + i] = ht[i] * mask[first + i] }
            } else {
                (out + first).update(from: ht, count: count)
            }
        }
        if config.inputFeed {
            // The embedding columns of [e_t; h̃_{t−1}] are known for every step: projected at once.
            decoder.beginSteps(steps: t, batch: b, initial: bridge, applyDropout: dropoutActive, preset: embeddings, presetColumns: e)
            let zero = stepInput.reserve(b * h)
            zero.update(repeating: 0, count: b * h)
            for step in 0..<t {
                let feed = step == 0 ? UnsafePointer(zero) : UnsafePointer(out + (step - 1) * b * h)
                let top = decoder.forwardStep(step, input: feed, rng: &rng)
                keep(attention.forward(attentionState, steps: step..<(step + 1), queries: top), steps: step..<(step + 1))
            }
        } else {
            let top = decoder.forward(input: embeddings, steps: t, batch: b, mask: nil, initial: bridge,
                                      applyDropout: dropoutActive, dropTop: false, rng: &rng)
            keep(attention.forward(attentionState, steps: 0..<t, queries: top), steps: 0..<t)
        }
        return UnsafePointer(out)
    }

    /// Backward through ``attend`` from dL/d(h̃ after dropout) [T·B, H] (overwritten): the decoder's and
    /// attention's gradients; returns dL/d(target embeddings) [T·B, E]. dL/dM is left in the attention state.
    private func attendBackward(_ attention: GlobalAttention, topGradient g: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<Scalar> {
        let (b, _, t) = lastShape
        let h = config.hidden
        let mask: UnsafePointer<Scalar>? = dropoutActive ? UnsafePointer(attendedMask.pointer) : nil
        attention.beginBackward(attentionState)
        if config.inputFeed {
            decoder.beginBackwardSteps()
            var feed: UnsafePointer<Scalar>?
            for step in stride(from: t - 1, through: 0, by: -1) {
                let gs = g + step * b * h
                if let feed { Vector.axpy(1, feed, gs, count: b * h) }
                if let mask { for i in 0..<(b * h) { gs[i] *= mask[step * b * h + i] } }
                let dq = attention.backward(attentionState, steps: step..<(step + 1), outputGradient: gs)
                feed = decoder.backwardStep(step, outputGradient: dq)   // dL/dh̃_{t−1}, [B, H]
            }
            decoder.finishBackwardSteps()
            attention.finishBackward(attentionState)
            return decoder.presetInputGradient
        }
        if let mask { for i in 0..<(t * b * h) { g[i] *= mask[i] } }
        let dq = attention.backward(attentionState, steps: 0..<t, outputGradient: g)
        attention.finishBackward(attentionState)
        return decoder.backward(outputGradient: UnsafeMutablePointer(mutating: dq), finalHiddenGradients: Array(repeating: nil, count: config.layers),
                                finalCellGradients: Array(repeating: nil, count: config.layers))
    }

    /// Runs the encoder over the batch's sources; afterwards `encoder.finalHidden(layer:)`/`finalCell(layer:)` hold
    /// each layer's state after each sentence's last real token. Dropout when `dropout` is set.
    ///
    /// `chunkSteps` (inference): the reading steps are run at most this many at a time, each chunk
    /// starting from the state the previous one ended in, so the memory the encoder holds does not
    /// grow with the source length (training keeps every step for backward: one chunk).
    /// `packed` (inference): the encoder's prepared products (``DecoderWeights``' int8 encoder).
    func encode(_ batch: Batch, dropout applyDropout: Bool, rng: inout SeededGenerator, chunkSteps: Int = .max,
                packed: StackProducts? = nil) {
        let (b, s) = (batch.batchSize, batch.sourceLength)
        let (e, h, layers) = (config.embedding, config.hidden, config.layers)
        precondition(chunkSteps >= 1)
        // The backward direction of a bidirectional encoder needs the whole sentence: one chunk.
        // Attention reads every position of the sentence: one chunk too.
        let chunkSteps = config.bidirectional || config.attention != .none ? Int.max : chunkSteps
        prepareSource(batch)
        var start = 0
        repeat {
            let steps = min(chunkSteps, s - start)
            let encoderInput = self.encoderInput.reserve(steps * b * e)
            sourceIDs.withUnsafeBufferPointer {
                Embedding.forward(table: sourceEmbedding.values, width: e, ids: UnsafeBufferPointer(rebasing: $0[(start * b)..<((start + steps) * b)]),
                                  into: encoderInput)
            }
            var initial: [(h: UnsafePointer<Scalar>, c: UnsafePointer<Scalar>?)]?
            if start > 0 {
                // Each layer still holds the previous chunk's final state: carry a copy over.
                initial = (0..<layers).map { l in
                    let carried = chunkState[l]
                    carried.h.reserve(b * h).update(from: encoder.finalHidden(layer: l), count: b * h)
                    var c: UnsafePointer<Scalar>?
                    if let finalCell = encoder.finalCell(layer: l) {
                        carried.c.reserve(b * h).update(from: finalCell, count: b * h)
                        c = UnsafePointer(carried.c.pointer)
                    }
                    return (UnsafePointer(carried.h.pointer), c)
                }
            }
            _ = encoder.forward(input: encoderInput, steps: steps, batch: b, mask: UnsafePointer(sourceMask.pointer + start * b),
                                initial: initial, applyDropout: applyDropout, dropTop: false, rng: &rng, packed: packed)
            start += steps
        } while start < s
    }

    /// Fills `sourceIDs` in reading order and `sourceMask`: step t of sentence b reads token
    /// len_b−1−t when reversed (t otherwise) while t < len_b, and is padding afterwards.
    private func prepareSource(_ batch: Batch) {
        let (b, s) = (batch.batchSize, batch.sourceLength)
        sourceIDs.removeAll(keepingCapacity: true)
        sourceIDs.append(contentsOf: repeatElement(0, count: s * b))
        let mask = sourceMask.reserve(s * b)
        for row in 0..<b {
            let length = Int(batch.sourceLengths[row])
            for step in 0..<s {
                let real = step < length
                mask[step * b + row] = real ? 1 : 0
                if real {
                    let read = config.reverseSource ? length - 1 - step : step
                    sourceIDs[step * b + row] = batch.source[read * b + row]
                }
            }
        }
    }

    // MARK: Backward

    /// Backward through the last `forward`, adding into `parameters.gradients`.
    func backward() {
        guard let batch = lastBatch else { preconditionFailure("backward before forward") }
        let (b, _, t) = lastShape
        let (h, layers) = (config.hidden, config.layers)

        output.backward()
        let top = topGradient.reserve(t * b * h)
        top.update(repeating: 0, count: t * b * h)
        var dRows = UnsafePointer(output.inputGradient.pointer)
        if let projection = outputProjection {
            // p = h̃·Pᵀ: dP += dpᵀ·h̃ [E, H], dh̃ = dp·P [P, H].
            let (e, n) = (config.embedding, targetPositions.count)
            BLAS.gemm(transA: true, m: e, n: h, k: n, a: dRows, lda: e, b: outputRows.pointer, ldb: h, beta: 1,
                      c: projection.gradients, ldc: h)
            let d = projectedGradient.reserve(n * h)
            BLAS.gemm(m: n, n: h, k: e, a: dRows, lda: e, b: projection.values, ldb: h, beta: 0, c: d, ldc: h)
            dRows = UnsafePointer(d)
        }
        for (r, position) in targetPositions.enumerated() {
            (top + Int(position) * h).update(from: dRows + r * h, count: h)
        }
        gradientStageReady?(0)
        let gradient: UnsafeMutablePointer<Scalar>
        if let attention {
            gradient = attendBackward(attention, topGradient: top)
        } else {
            gradient = decoder.backward(outputGradient: top, finalHiddenGradients: Array(repeating: nil, count: layers),
                                        finalCellGradients: Array(repeating: nil, count: layers))
        }
        gradientStageReady?(1)
        batch.targetInput.withUnsafeBufferPointer {
            Embedding.backward(gradTable: targetEmbedding.gradients, width: config.embedding, ids: $0, outputGradient: gradient, store: parameters)
        }
        gradientStageReady?(2)

        // The encoder's top outputs get attention's memory gradient (unused without attention); its
        // final states got the decoder's initial-state gradients.
        let upper = encoder.backward(outputGradient: attention == nil ? nil : attentionState.memoryGradient.pointer,
                                     finalHiddenGradients: (0..<layers).map { decoder.initialHiddenGradient(layer: $0) },
                                     finalCellGradients: (0..<layers).map { decoder.initialCellGradient(layer: $0) })
        gradientStageReady?(3)
        sourceIDs.withUnsafeBufferPointer {
            Embedding.backward(gradTable: sourceEmbedding.gradients, width: config.embedding, ids: $0, outputGradient: upper, store: parameters)
        }
        gradientStageReady?(4)
    }
}
