import Kernels

/// The weights of translation prepared once, in one ``Precision``: per decoder layer a
/// ``PackedLayer`` (for most cells [Wx | Wh] with its bias as one product, so a step's gates are
/// one pass, `[x | h]·[Wx | Wh]ᵀ + b`), attention's W_c (and mlp's W_q), and the output layer
/// [V×H] with its bias.
///
/// float32: ``PackedWeights``, used for steps with at most ``PackedWeights/maximumRows`` rows (a
/// beam or two); larger steps use the model's own weights through BLAS; the encoder runs on BLAS.
/// int8: ``QuantizedWeights`` for steps of every size, the encoder's layers included (each
/// reading step one product over [x_t | h_{t−1}]), quantized here or read back from their stored
/// form (`seq2seq quantize`). The embeddings stay float32.
///
/// A snapshot of the model's current weights: build it after loading or training, once, and
/// share it between searches (packing copies all decoder weights).
public final class DecoderWeights {
    public let precision: Precision
    /// Steps with more rows than this use the model's float32 weights through BLAS.
    public let maximumRows: Int
    /// Per decoder layer: N = G·H, K = In + H (or In and H apart).
    let layers: [PackedLayer]
    /// N = V, K = H.
    let output: any WeightProduct
    /// W_c (and W_q) of the attention, if any.
    let attention: PackedAttention?
    /// float32 only: per decoder layer Wxᵀ and Whᵀ, for steps of more than ``maximumRows`` rows
    /// (see ``TransposedLayer``); nil in int8.
    let transposedLayers: [TransposedLayer]?
    /// float32 only: W_Uᵀ [H, V], the output layer for steps of more than ``maximumRows`` rows.
    let transposedOutput: UnsafeMutablePointer<Scalar>?
    /// int8 only: the encoder's layers, [x_t | h_{t−1}]·[Wx | Wh]ᵀ + b per step (nil in float32,
    /// whose encoder runs one BLAS input projection over all steps and a recurrent GEMM per step).
    let encoder: StackProducts?
    /// Every product with its name, in encoder (int8 only), decoder, attention, output order (the
    /// names of the stored int8 form: `encoder.layers.L[.reverse].joint`, `decoder.layers.L.joint`
    /// (or `.input` and `.recurrent`), `attention.output`, `attention.query`, `output`).
    public let products: [(name: String, product: any WeightProduct)]

    /// Makes the product called `name`: W = `blocks` side by side [N×ΣK_i], `rows` = N, an
    /// optional bias [N].
    public typealias Packer = (_ name: String, _ blocks: [(weights: UnsafePointer<Scalar>, columns: Int)], _ rows: Int,
                               _ bias: UnsafePointer<Scalar>?) throws -> any WeightProduct

    /// Prepares `model`'s current decoder weights in `precision` (int8: quantized here).
    /// `embeddingTableLimit` (bytes): the largest ``EmbeddingGates`` table to build in int8
    /// (tests pass 0 to keep the embedding columns in the int8 product).
    public convenience init(model: Seq2SeqModel, precision: Precision = .float32, embeddingTableLimit: Int = DecoderWeights.embeddingTableLimit) {
        self.init(model: model, precision: precision, embeddingTableLimit: embeddingTableLimit) { _, blocks, rows, bias in
            Self.product(blocks, rows: rows, bias: bias, precision: precision)
        }
    }

    /// int8 weights from their stored form: `stored(name, N, K)` returns the quantized rows [N×K]
    /// and scales [N] of the product `name` (the bias comes from `model`). Throws what `stored`
    /// throws, or `QuantizedWeights.FormatError` for a malformed stored form.
    public convenience init(model: Seq2SeqModel, int8 stored: (_ name: String, _ n: Int, _ k: Int) throws -> (rows: [Int8], scales: [Float])) throws {
        try self.init(model: model, precision: .int8) { name, blocks, n, bias in
            #if SCALAR_DOUBLE
            _ = try stored(name, n, blocks.reduce(0) { $0 + $1.columns })  // (keeps the closure throwing, as in the Float build)
            preconditionFailure("int8 decoding runs on Float weights; the SCALAR_DOUBLE build checks gradients only")
            #else
            let k = blocks.reduce(0) { $0 + $1.columns }
            let (rows, scales) = try stored(name, n, k)
            return try QuantizedWeights(quantized: rows, scales: scales, bias: bias.map { Array(UnsafeBufferPointer(start: $0, count: n)) },
                                        n: n, k: k)
            #endif
        }
    }

    private init(model: Seq2SeqModel, precision: Precision, embeddingTableLimit: Int = DecoderWeights.embeddingTableLimit,
                 pack: Packer) rethrows {
        self.precision = precision
        maximumRows = precision == .float32 ? PackedWeights.maximumRows : Int.max
        let h = model.output.hidden  // H, or E when tied embeddings project h̃ first
        var layers: [PackedLayer] = []
        for (l, layer) in model.decoder.forwardLayers.enumerated() {
            layers.append(try PackedLayer(layer, name: "decoder.layers.\(l)", pack: pack))
        }
        if precision == .int8, let first = layers.first {
            layers[0].embedded = Self.embeddingGates(model.decoder.forwardLayers[0], packed: first,
                                                     embeddings: model.targetEmbedding.values,
                                                     vocabulary: model.config.targetVocabularySize, width: model.config.embedding,
                                                     limit: embeddingTableLimit)
        }
        self.layers = layers
        if precision == .float32 {
            transposedLayers = model.decoder.forwardLayers.map(TransposedLayer.init)
            let v = model.config.targetVocabularySize
            let output = UnsafeMutablePointer<Scalar>.allocate(capacity: h * v)
            Vector.transpose(model.output.weight, rows: v, columns: h, into: output)
            transposedOutput = output
        } else {
            (transposedLayers, transposedOutput) = (nil, nil)
        }
        encoder = precision == .int8 ? try StackProducts(model.encoder, name: "encoder.layers", pack: pack) : nil
        attention = try model.attention.map { try PackedAttention($0, name: "attention", pack: pack) }
        output = try pack("output", [(UnsafePointer(model.output.weight), h)], model.config.targetVocabularySize, model.output.bias)
        var products: [(name: String, product: any WeightProduct)] = []
        func add(_ layer: PackedLayer, _ name: String) {
            if let joint = layer.joint { products.append(("\(name).joint", joint)) }
            if let input = layer.input { products.append(("\(name).input", input)) }
            if let recurrent = layer.recurrent { products.append(("\(name).recurrent", recurrent)) }
        }
        if let encoder {
            for (l, layer) in encoder.forward.enumerated() { add(layer, "encoder.layers.\(l)") }
            for (l, layer) in encoder.backward.enumerated() { add(layer, "encoder.layers.\(l).reverse") }
        }
        for (l, layer) in layers.enumerated() { add(layer, "decoder.layers.\(l)") }
        if let attention {
            products.append(("attention.output", attention.output))
            if let query = attention.query { products.append(("attention.query", query)) }
        }
        products.append(("output", output))
        self.products = products
    }

    deinit { transposedOutput?.deallocate() }

    /// The stored form of int8 weights, per product in ``products`` order: its name, N, K, the
    /// quantized rows [N×K] and the scales [N]. Precondition: `precision` is int8.
    public func storedInt8Form() -> [(name: String, n: Int, k: Int, rows: [Int8], scales: [Float])] {
        #if SCALAR_DOUBLE
        preconditionFailure("int8 decoding runs on Float weights; the SCALAR_DOUBLE build checks gradients only")
        #else
        products.map { name, product in
            guard let q = product as? QuantizedWeights else { preconditionFailure("DecoderWeights: \(name) is not int8") }
            return (name, q.n, q.k, q.quantizedRows, q.scales)
        }
        #endif
    }

    /// int8: the output layer's rows `ids` (a shortlist) as their own product [U×H], equal to those
    /// columns of the full product bit for bit; nil in float32.
    public func output(selecting ids: [Int32]) -> (any WeightProduct)? {
        #if SCALAR_DOUBLE
        return nil
        #else
        return (output as? QuantizedWeights)?.selecting(rows: ids)
        #endif
    }

    /// The largest ``EmbeddingGates`` table int8 decoding builds, in bytes (64 MiB: V·G·H·4, e.g.
    /// V = 16,000 with 4×256 LSTM gates); a larger vocabulary keeps the embedding columns in the
    /// int8 product, as float32 does.
    public static let embeddingTableLimit = 64 << 20

    /// Whether int8 decoding looks the first layer's embedding part up for V target ids and gate
    /// width G·H (see ``embeddingTableLimit``).
    public static func usesEmbeddingTable(vocabulary v: Int, gateWidth: Int, limit: Int = embeddingTableLimit) -> Bool {
        let bytes = v.multipliedReportingOverflow(by: gateWidth * MemoryLayout<Scalar>.size)
        return !bytes.overflow && bytes.partialValue <= limit
    }

    /// The first decoder layer's ``EmbeddingGates``: table [V, G·H] = E·W_eᵀ + b through BLAS
    /// (E [V, E] the target embeddings, W_e the first E columns of Wx) and the rest of its int8
    /// products; nil when the products do not split or the table would pass `limit` bytes.
    static func embeddingGates(_ layer: RecurrentLayer, packed: PackedLayer, embeddings: UnsafePointer<Scalar>,
                               vocabulary v: Int, width e: Int, limit: Int) -> EmbeddingGates? {
        guard usesEmbeddingTable(vocabulary: v, gateWidth: layer.gateWidth, limit: limit) else { return nil }
        let rest: (any WeightProduct)?
        if let joint = packed.joint {
            guard let split = joint.product(columns: e..<joint.k, bias: false) else { return nil }
            rest = split
        } else if let input = packed.input {
            if layer.inputSize == e {
                rest = nil
            } else {
                guard let split = input.product(columns: e..<input.k, bias: false) else { return nil }
                rest = split
            }
        } else {
            return nil
        }
        let gw = layer.gateWidth, table = FloatBuffer(), t = table.reserve(v * gw)
        for r in 0..<v { (t + r * gw).update(from: layer.bias, count: gw) }
        BLAS.gemm(transB: true, m: v, n: gw, k: e, a: embeddings, lda: e, b: layer.wx, ldb: layer.inputSize, beta: 1, c: t, ldc: gw)
        return EmbeddingGates(table: table, columns: e, rest: rest)
    }

    /// W = the blocks side by side [N×ΣK_i] with an optional bias [N], in `precision`.
    static func product(_ blocks: [(weights: UnsafePointer<Scalar>, columns: Int)], rows n: Int, bias: UnsafePointer<Scalar>?,
                        precision: Precision) -> any WeightProduct {
        switch precision {
        case .float32: return PackedWeights(blocks: blocks, rows: n, bias: bias)
        case .int8:
            #if SCALAR_DOUBLE
            preconditionFailure("int8 decoding runs on Float weights; the SCALAR_DOUBLE build checks gradients only")
            #else
            return QuantizedWeights(blocks: blocks, rows: n, bias: bias)
            #endif
        }
    }
}
