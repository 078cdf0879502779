import Basics
import Kernels

/// Incremental decoding over rows (hypotheses) for greedy and beam search. Row r of the state
/// belongs to one hypothesis; `reorder` moves states when the beam keeps, copies or drops them
/// (Marian's `select`). Holds per layer h (and c for cells with a memory), [rows, H] each. Each step
/// runs the decoder layers through ``RecurrentLayer``'s one-step API, the same step code training uses.
public final class InferenceSession {
    public let model: Seq2SeqModel
    /// The decoder's prepared weights (float32 packed for steps with few rows, or int8 for every
    /// step; see ``DecoderWeights``); nil: always BLAS on the model's float32 weights.
    public let packed: DecoderWeights?
    /// Per-phase timing (bench only); nil normally.
    public var profiler: PhaseProfiler?
    public private(set) var rowCount = 0
    private var hidden: [FloatBuffer], cell: [FloatBuffer]
    /// Scratch: [rows, E] embeddings and the layers' step workspace.
    private let input = FloatBuffer()
    private let workspace = StepWorkspace()
    /// Per layer [rows, H]: a residual layer's output plus its input.
    private let residualSums: [FloatBuffer]
    private var spareHidden: [FloatBuffer], spareCell: [FloatBuffer]
    /// Attention: the encoder's top outputs of the encoded sentences [S·B, H] (shared by every
    /// hypothesis of a sentence, never copied per row), each row's sentence [rows], the attentional
    /// state h̃ of the last step [rows, H] (the next step's input feed) and the caches.
    private let memory = FloatBuffer()
    public private(set) var rowSentence: [Int32] = []
    private var feed = FloatBuffer(), spareFeed = FloatBuffer()
    private let attentionState = AttentionState()
    private let joinedInput = FloatBuffer()
    /// Tied embeddings with E ≠ H: the output layer's input h̃·Pᵀ [rows, E].
    private let projected = FloatBuffer()
    /// An ensemble member's logits [rows, W] before its weighted log-softmax.
    private let mixLogits = FloatBuffer()
    /// Each encoded sentence's length and the encoder's reading direction (alignment positions).
    private var sourceLengths: [Int] = []
    /// The attention caches hold the alignments of the current rows' last step (cleared by reorder).
    private var alignmentsCurrent = false
    /// The output layer restricted to a subset of ids (``restrictOutput(to:)``); nil: all V ids.
    private var restricted: RestrictedOutput?

    /// `packed` must be a snapshot of `model`'s current weights (see ``DecoderWeights``).
    public init(model: Seq2SeqModel, packed: DecoderWeights? = nil) {
        self.model = model
        self.packed = packed
        let l = model.config.layers
        hidden = (0..<l).map { _ in FloatBuffer() }
        cell = (0..<l).map { _ in FloatBuffer() }
        spareHidden = (0..<l).map { _ in FloatBuffer() }
        spareCell = (0..<l).map { _ in FloatBuffer() }
        residualSums = (0..<l).map { _ in FloatBuffer() }
    }

    /// Source steps the encoder runs at once: a longer source is encoded chunk by chunk, so a
    /// sentence of any length is encoded in bounded memory. A bidirectional encoder reads each
    /// sentence whole (its backward direction starts at the last token), so there memory grows
    /// with the source length.
    public static let encoderChunkSteps = 256

    /// Encodes sentences (ids without </s>), rows = sources.count; row i = sentence i. An empty
    /// sentence starts from the zero state.
    public func encode(_ sources: [[Int32]]) {
        // int8 makes no oneDNN product: its parallel parts run on the pool's own workers.
        if packed?.precision == .int8 && !WorkerPool.ownThreadsOnly { return WorkerPool.withOwnThreads { encode(sources) } }
        let h = model.config.hidden
        rowCount = sources.count
        guard !sources.isEmpty else { return }
        let padded = sources.map { $0.isEmpty ? [TokenID.pad] : $0 }
        var rng = SeededGenerator(seed: 0)
        model.encode(Batch(sources: padded, targets: sources.map { _ in [] }), dropout: false, rng: &rng,
                     chunkSteps: InferenceSession.encoderChunkSteps, packed: packed?.encoder)
        rowSentence = (0..<rowCount).map { Int32($0) }
        sourceLengths = sources.map(\.count)
        alignmentsCurrent = false
        if let attention = model.attention {
            let lengths = padded.map(\.count), steps = lengths.max() ?? 1
            let m = memory.reserve(steps * rowCount * h)
            m.update(from: model.encoder.output(layer: model.config.layers - 1), count: steps * rowCount * h)
            attention.prepare(attentionState, memory: m, sourceSteps: steps, lengths: lengths)
            feed.reserve(rowCount * h).update(repeating: 0, count: rowCount * h)
        }
        for l in 0..<model.config.layers {
            hidden[l].reserve(rowCount * h).update(from: model.encoder.finalHidden(layer: l), count: rowCount * h)
            if let finalCell = model.encoder.finalCell(layer: l) { cell[l].reserve(rowCount * h).update(from: finalCell, count: rowCount * h) }
            for (r, s) in sources.enumerated() where s.isEmpty {
                (hidden[l].pointer + r * h).update(repeating: 0, count: h)
                if model.encoder.hasMemory { (cell[l].pointer + r * h).update(repeating: 0, count: h) }
            }
        }
    }

    /// The target ids the output layer scores from now on (until the next call): `ids` ascending,
    /// without repeats, each below V; nil scores the whole vocabulary again. A restricted `step`
    /// computes the logits of these ids only (their rows of W and b gathered here, once), takes the
    /// log-softmax over them alone and writes compact rows of U = ids.count values (column j is id
    /// ids[j]; see ``step(previousTokens:logProbs:)``): a lexical shortlist's vocabulary
    /// restriction, the same for every row of the batch.
    public func restrictOutput(to ids: [Int32]?) {
        guard let ids else {
            restricted = nil
            return
        }
        let v = model.config.targetVocabularySize
        precondition(!ids.isEmpty, "restrictOutput: no ids")
        precondition(ids.first! >= 0 && Int(ids.last!) < v && zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 },
                     "restrictOutput: ids must be ascending, unique and below V = \(v)")
        restricted = RestrictedOutput(model.output, ids: ids, weights: packed)
    }

    /// The ids `step` scores (ascending); nil: the whole target vocabulary.
    public var outputIDs: [Int32]? { restricted?.ids }

    /// For each live row, feeds previousTokens[r] (first step: <s>) and writes the log-softmax over
    /// the target vocabulary into logProbs[r·V ..< (r+1)·V]; when the output is restricted, the
    /// log-softmax over ``outputIDs`` (U ids) into logProbs[r·U ..< (r+1)·U] instead, column j
    /// being id outputIDs[j]. logProbs.count ≥ rowCount·V (rowCount·U when restricted).
    public func step(previousTokens: [Int32], logProbs: UnsafeMutableBufferPointer<Scalar>) {
        step(previousTokens: previousTokens, logProbs: logProbs, mix: nil)
    }

    /// An ensemble member's step (``step(previousTokens:logProbs:)`` otherwise): writes
    /// weight·(the log-probabilities) into `logProbs`, [rowCount, W], when `accumulate` is false,
    /// and adds them to it when true (the product rounded, then the sum: the order of a mix
    /// Σᵢ wᵢ·log pᵢ built one member at a time); `weight` finite and > 0, `logProbs.count ≥
    /// rowCount·W`. The logits stay in the session's own scratch, so the mix costs no pass of its
    /// own over the rows.
    public func step(previousTokens: [Int32], weightedInto logProbs: UnsafeMutableBufferPointer<Scalar>,
                     weight: Scalar, accumulate: Bool) {
        step(previousTokens: previousTokens, logProbs: logProbs, mix: Mix(weight: weight, accumulate: accumulate))
    }

    /// How a step's log-probabilities reach the caller's buffer: in place (nil) or weighted.
    private struct Mix {
        let weight: Scalar
        let accumulate: Bool
    }

    /// The log-softmax's arguments, for its parts on the pool's threads.
    private struct LogSoftmaxPart {
        let logits: UnsafeMutablePointer<Scalar>, logProbs: UnsafeMutablePointer<Scalar>, width: Int, mix: Mix?
    }

    private func step(previousTokens: [Int32], logProbs: UnsafeMutableBufferPointer<Scalar>, mix: Mix?) {
        if packed?.precision == .int8 && !WorkerPool.ownThreadsOnly {
            return WorkerPool.withOwnThreads { step(previousTokens: previousTokens, logProbs: logProbs, mix: mix) }
        }
        let (e, h, v, rows) = (model.config.embedding, model.config.hidden, model.config.targetVocabularySize, rowCount)
        precondition(previousTokens.count == rows, "step: \(previousTokens.count) tokens for \(rows) rows")
        precondition(previousTokens.allSatisfy { $0 >= 0 && Int($0) < v }, "step: a previous token outside 0..<\(v)")
        let width = restricted?.ids.count ?? v
        precondition(logProbs.count >= rows * width, "step: logProbs holds \(logProbs.count) floats, needs \(rows)·\(width)")
        guard rows > 0 else { return }
        let usePacked = packed.map { rows <= $0.maximumRows } ?? false
        var input: UnsafePointer<Scalar>
        let embedded = usePacked && packed?.layers.first?.embedded != nil
        if embedded {
            // int8: the first layer looks its gates' embedding part up by token (``EmbeddingGates``)
            // and reads only the input columns after it: h̃_{t−1} with input feeding, nothing without.
            input = UnsafePointer(feed.pointer)
        } else {
            let x0 = self.input.reserve(rows * e)
            previousTokens.withUnsafeBufferPointer {
                Embedding.forward(table: model.targetEmbedding.values, width: e, ids: $0, into: x0)
            }
            input = UnsafePointer(x0)
        }
        if !embedded && model.config.feedsAttention {
            // Input feeding: [e_t; h̃_{t−1}].
            input = RecurrentLayer.joinRows(input, width: e, feed.pointer, width: h, rows: rows, into: joinedInput)
        }
        var top = timed(profiler, "decode: recurrent layers") {
            previousTokens.withUnsafeBufferPointer { layers(input: input, rows: rows, packed: usePacked, tokens: $0) }
        }
        if let attention = model.attention {
            top = timed(profiler, "decode: attention") {
                attention.begin(attentionState, steps: 1, rowSentence: rowSentence)
                let attended = attention.forward(attentionState, steps: 0..<1, queries: top,
                                                 packed: usePacked ? packed?.attention : nil)
                feed.reserve(rows * h).update(from: attended, count: rows * h)
                alignmentsCurrent = true
                return UnsafePointer(feed.pointer)
            }
        }
        // The logits go where the log-probabilities go, or, for a weighted step, to the scratch.
        let out = mix == nil ? logProbs.baseAddress! : mixLogits.reserve(rows * width)
        // Tied embeddings with E ≠ H: the output layer reads h̃·Pᵀ (width E).
        top = model.outputInput(top, rows: rows, buffer: projected)
        let outputWidth = model.output.hidden
        if let restricted {
            timed(profiler, "decode: output layer") {
                restricted.logits(input: top, rows: rows, into: out)
            }
            return logSoftmax(out, rows: rows, width: width, into: logProbs.baseAddress!, mix: mix)
        }
        timed(profiler, "decode: output layer") {
            if usePacked, let packed {
                packed.output.multiply(top, lda: outputWidth, rows: rows, into: out, ldc: v)
            } else if let transposed = packed?.transposedOutput {
                // Many rows: h·(W_Uᵀ) in the NN form on the snapshot's copy, then the bias.
                BLAS.gemm(m: rows, n: v, k: outputWidth, a: top, lda: outputWidth, b: transposed, ldb: v, beta: 0, c: out, ldc: v)
                Vector.addRowVector(model.output.bias, to: out, rows: rows, width: v)
            } else {
                model.output.logits(input: top, rows: rows, into: out)
            }
        }
        logSoftmax(out, rows: rows, width: v, into: logProbs.baseAddress!, mix: mix)
    }

    /// The log-softmax of the logits [rows, W]: in place without `mix` (then `logits` is
    /// `logProbs`), else weighted into `logProbs`. Rows are independent: split across the threads
    /// BLAS uses.
    private func logSoftmax(_ logits: UnsafeMutablePointer<Scalar>, rows: Int, width: Int,
                            into logProbs: UnsafeMutablePointer<Scalar>, mix: Mix?) {
        timed(profiler, "decode: log-softmax") {
            let rowsPart = LogSoftmaxPart(logits: logits, logProbs: logProbs, width: width, mix: mix)
            Parallel.forEachPart(rows * width, granularity: width, context: rowsPart) { raw, lo, hi in
                let p = raw.load(as: LogSoftmaxPart.self)
                if let mix = p.mix {
                    Softmax.weightedLogSoftmaxRows(p.logits + lo, into: p.logProbs + lo, rows: (hi - lo) / p.width,
                                                   width: p.width, weight: mix.weight, accumulate: mix.accumulate)
                } else {
                    Softmax.logSoftmaxRows(p.logits + lo, rows: (hi - lo) / p.width, width: p.width)
                }
            }
        }
    }

    /// The decoder layers on the first layer's input, [rows, In] (with ``EmbeddingGates`` only its
    /// columns after E; the embedding's part comes from `tokens`); returns the top layer's output, [rows, H].
    /// `tokens`: the rows' previous ids, for a first layer that looks its embedding part up.
    private func layers(input x0: UnsafePointer<Scalar>, rows: Int, packed usePacked: Bool,
                        tokens: UnsafeBufferPointer<Int32>) -> UnsafePointer<Scalar> {
        model.decoder.step(input: x0, rows: rows, hidden: hidden, cell: cell, workspace: workspace,
                           packed: usePacked ? packed?.layers : nil, residualSums: residualSums, tokens: tokens,
                           transposed: usePacked ? nil : packed?.transposedLayers)
    }

    /// New row i takes the state of old row rows[i] (rows may repeat or drop rows); rowCount
    /// becomes rows.count.
    public func reorder(_ rows: [Int32]) {
        precondition(rows.allSatisfy { $0 >= 0 && Int($0) < rowCount }, "reorder: row index outside 0..<\(rowCount)")
        timed(profiler, "decode: reorder states") { gather(rows) }
        alignmentsCurrent = false
        rowCount = rows.count
    }

    private func gather(_ rows: [Int32]) {
        let h = model.config.hidden
        for l in 0..<model.config.layers {
            let nh = spareHidden[l].reserve(rows.count * h), nc = spareCell[l].reserve(rows.count * h)
            let memory = model.decoder.hasMemory
            rows.withUnsafeBufferPointer {
                Vector.gatherRows(hidden[l].pointer, rows: $0, width: h, into: nh)
                if memory { Vector.gatherRows(cell[l].pointer, rows: $0, width: h, into: nc) }
            }
            swap(&hidden[l], &spareHidden[l])
            swap(&cell[l], &spareCell[l])
        }
        if model.attention != nil {
            let nf = spareFeed.reserve(rows.count * h)
            rows.withUnsafeBufferPointer { Vector.gatherRows(feed.pointer, rows: $0, width: h, into: nf) }
            swap(&feed, &spareFeed)
            rowSentence = rows.map { rowSentence[Int($0)] }
        }
    }

    /// The source position (in the sentence's token order) with the highest weight in row r's
    /// alignment at the last `step` (the lower position on ties); nil as for ``alignment(row:)``.
    public func alignedSourcePosition(row r: Int) -> Int? {
        guard let attention = model.attention, alignmentsCurrent, r >= 0, r < rowCount else { return nil }
        let weights = attention.alignment(attentionState, step: 0, row: r)
        let n = sourceLengths[Int(rowSentence[r])]
        guard n > 0 else { return nil }
        var best = 0
        for s in 0..<n where weights[s] > weights[best] { best = s }
        if model.config.reverseSource {
            // Reading position s is token n−1−s; among equal weights keep the lower token position.
            var bestToken = n - 1 - best
            for s in 0..<n where weights[s] == weights[best] { bestToken = min(bestToken, n - 1 - s) }
            return bestToken
        }
        return best
    }

    /// The alignment of row r at the last `step` over its sentence's source tokens, [n] in source
    /// order (token i of the sentence as given to ``encode(_:)``), summing to 1 (empty for an empty
    /// sentence); nil without attention, or when no step ran since the last `encode` or `reorder`.
    public func alignment(row r: Int) -> [Scalar]? {
        guard let attention = model.attention, alignmentsCurrent, r >= 0, r < rowCount else { return nil }
        let weights = attention.alignment(attentionState, step: 0, row: r)
        let n = sourceLengths[Int(rowSentence[r])]
        // The encoder read the sentence reversed when configured: reading position s is token n−1−s.
        return (0..<n).map { weights[model.config.reverseSource ? n - 1 - $0 : $0] }
    }

    /// Layer l's hidden state of row r, [H] (for tests and diagnostics).
    public func hiddenState(layer l: Int, row r: Int) -> [Scalar] {
        Array(UnsafeBufferPointer(start: hidden[l].pointer + r * model.config.hidden, count: model.config.hidden))
    }

    /// Layer l's cell state of row r, [H] (for tests).
    func cellState(layer l: Int, row r: Int) -> [Scalar] {
        Array(UnsafeBufferPointer(start: cell[l].pointer + r * model.config.hidden, count: model.config.hidden))
    }
}
