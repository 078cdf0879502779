/// The architecture of the recurrent encoder-decoder (Sutskever, Vinyals & Le 2014, with the cell,
/// directions and residual connections chosen in `train`): the one source of truth, recorded in
/// the model folder's `config.json` in sections (`cell`, `encoder`, `decoder`), so that
/// `translate` rebuilds exactly this network (including source reversal).
///
/// Decoded through `Codable` with a default for every key an older `config.json` may lack (the
/// defaults are today's behaviour); only the two vocabulary sizes are required. Decoding checks
/// types only: call ``validate()`` before building a model from a decoded value.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// V of the source side (embedding rows), at least 4 and at most ``maximumVocabularySize``.
    public var sourceVocabularySize: Int
    /// V of the target side (embedding rows and output classes).
    public var targetVocabularySize: Int
    /// E, at most ``maximumWidth``.
    public var embedding: Int
    /// H, at most ``maximumWidth``.
    public var hidden: Int
    /// L, the depth of both the encoder and the decoder, at most ``maximumLayers``.
    public var layers: Int
    /// Dropout probability between stacked layers and before the output layer (Zaremba et al. 2014).
    public var dropout: Float
    /// Read the source right to left (the paper's trick: short dependencies at the start).
    public var reverseSource: Bool
    /// The recurrent cell of the encoder and the decoder (absent from older config files: LSTM).
    public var cell: CellType
    /// Layer normalization in every recurrent cell (Ba et al. 2016; LSTM and GRU only: see
    /// ``LayerNormLSTMCell``). Recorded in the `cell` section; absent: false.
    public var layerNorm: Bool
    /// The encoder reads the source both ways with H/2 units per direction; its outputs and each
    /// layer's final state are the two directions concatenated [forward | backward] (OpenNMT-py's
    /// `brnn`). Absent from older config files: false.
    public var bidirectional: Bool
    /// Residual connections (He et al. 2016; Wu et al. 2016): from the second layer on, each
    /// layer's input is added to its output, in the encoder and the decoder; dropout then applies to
    /// the sum. Absent: false.
    public var residual: Bool
    /// Global attention of the decoder over the encoder's top outputs (Luong et al. 2015 `dot`,
    /// `general`; Bahdanau et al. 2015 `mlp`), or none: the Sutskever model. Absent: none.
    public var attention: AttentionType
    /// With attention: the attentional state h̃_{t−1} is fed to the decoder's first layer with the
    /// embedding, as [embedding; h̃] (Luong et al. 2015, §3.3). Absent: true (ignored without attention).
    public var inputFeed: Bool

    /// The order the decoder writes the target in: left to right (the default), or right to left
    /// (trained on reversed target sentences; `translate` reverses its output back), the second
    /// model of right-to-left n-best rescoring (Liu et al. 2016; Sennrich et al. 2016, WMT).
    /// Absent: left to right.
    public var targetOrder: TargetOrder
    /// Tied embeddings (Press & Wolf 2017; Inan et al. 2017): `decoder` makes the output layer's
    /// weight the target embedding [V, E] (when E ≠ H, h̃ is first projected to E by
    /// `output.projection` [E, H]), `all` also the source embedding (one joint vocabulary,
    /// V_source = V_target). The shared tensor is stored once, as `target_embedding`. Absent: none.
    public var tieEmbeddings: TiedEmbeddings

    /// The decoder's first layer reads [embedding; h̃_{t−1}] (E + H wide) rather than the embedding (E).
    public var feedsAttention: Bool { attention != .none && inputFeed }

    /// Upper bound of either vocabulary size: 2^24 ids (16.7 M words; ids must stay exact in a Float).
    public static let maximumVocabularySize = 1 << 24
    /// Upper bound of E and H: 65,536.
    public static let maximumWidth = 1 << 16
    /// Upper bound of L: 64 layers.
    public static let maximumLayers = 64
    /// Upper bound of the total parameter count: 2^31 floats (8 GiB of weights; training holds
    /// three to four times that).
    public static let maximumParameterCount = 1 << 31

    public init(sourceVocabularySize: Int, targetVocabularySize: Int, embedding: Int = 256, hidden: Int = 256,
                layers: Int = 2, dropout: Float = 0, reverseSource: Bool = true, cell: CellType = .lstm,
                bidirectional: Bool = false, residual: Bool = false, attention: AttentionType = .none, inputFeed: Bool = true,
                targetOrder: TargetOrder = .leftToRight, tieEmbeddings: TiedEmbeddings = .none, layerNorm: Bool = false) {
        self.layerNorm = layerNorm
        self.targetOrder = targetOrder
        self.tieEmbeddings = tieEmbeddings
        self.attention = attention
        self.inputFeed = inputFeed
        self.cell = cell
        self.bidirectional = bidirectional
        self.residual = residual
        self.sourceVocabularySize = sourceVocabularySize
        self.targetVocabularySize = targetVocabularySize
        self.embedding = embedding
        self.hidden = hidden
        self.layers = layers
        self.dropout = dropout
        self.reverseSource = reverseSource
    }

    private enum CodingKeys: String, CodingKey {
        case sourceVocabularySize, targetVocabularySize, embedding, hidden, layers, dropout, reverseSource, cell
        case bidirectional, residual, encoder, decoder
    }
    private enum CellKeys: String, CodingKey { case type, layerNorm }
    private enum EncoderKeys: String, CodingKey { case layers, hidden, bidirectional, residual, reverseSource }
    private enum DecoderKeys: String, CodingKey { case layers, hidden, residual, attention, inputFeed, targetOrder, tieEmbeddings }

    /// Writes the architecture in sections, the one place it is recorded:
    ///
    ///     {"sourceVocabularySize": V, "targetVocabularySize": V, "embedding": E, "dropout": p,
    ///      "cell": {"type": "lstm|gru|rnn-tanh|irnn", "layerNorm": n},
    ///      "encoder": {"layers": L, "hidden": H, "bidirectional": b, "residual": r, "reverseSource": s},
    ///      "decoder": {"layers": L, "hidden": H, "residual": r, "attention": "none|dot|general|mlp",
    ///                  "inputFeed": f, "targetOrder": "left-to-right|right-to-left",
    ///                  "tieEmbeddings": "none|decoder|all"}}
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sourceVocabularySize, forKey: .sourceVocabularySize)
        try c.encode(targetVocabularySize, forKey: .targetVocabularySize)
        try c.encode(embedding, forKey: .embedding)
        try c.encode(dropout, forKey: .dropout)
        var cellSection = c.nestedContainer(keyedBy: CellKeys.self, forKey: .cell)
        try cellSection.encode(cell, forKey: .type)
        try cellSection.encode(layerNorm, forKey: .layerNorm)
        var encoderSection = c.nestedContainer(keyedBy: EncoderKeys.self, forKey: .encoder)
        try encoderSection.encode(layers, forKey: .layers)
        try encoderSection.encode(hidden, forKey: .hidden)
        try encoderSection.encode(bidirectional, forKey: .bidirectional)
        try encoderSection.encode(residual, forKey: .residual)
        try encoderSection.encode(reverseSource, forKey: .reverseSource)
        // Alike on purpose: each section encodes its own keys, one line per field.
        var decoderSection = c.nestedContainer(keyedBy: DecoderKeys.self, forKey: .decoder)
        try decoderSection.encode(layers, forKey: .layers)
        try decoderSection.encode(hidden, forKey: .hidden)
        try decoderSection.encode(residual, forKey: .residual)
        try decoderSection.encode(attention, forKey: .attention)
        try decoderSection.encode(inputFeed, forKey: .inputFeed)
        try decoderSection.encode(targetOrder, forKey: .targetOrder)
        try decoderSection.encode(tieEmbeddings, forKey: .tieEmbeddings)
    }

    /// Decodes a config in sections (see `encode(to:)`) or in the flat form of older files (keys
    /// `hidden`, `layers`, `reverseSource` at the top, no cell); every key but the vocabulary sizes
    /// may be missing and then takes the default of the memberwise initializer (today's
    /// behaviour: LSTM, one direction, no residual). Throws `DecodingError` for a missing
    /// vocabulary size, a value of the wrong type, or sections that disagree (the decoder starts
    /// from the encoder's final states layer by layer, so both have the same L and H, and one
    /// residual setting serves both).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ModelConfig(sourceVocabularySize: 0, targetVocabularySize: 0)
        // A value of the wrong kind (4.5, "4", 1e30 for a size) is reported with its key.
        func value<K: CodingKey, T: Decodable>(_ container: KeyedDecodingContainer<K>, _ type: T.Type, _ key: K,
                                               _ kind: String) throws -> T? {
            do {
                return try container.decodeIfPresent(type, forKey: key)
            } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath + [key],
                                                        debugDescription: "\(key.stringValue) must be \(kind)"))
            }
        }
        func required(_ key: CodingKeys) throws -> Int {
            guard let size = try value(c, Int.self, key, "a whole number") else {
                throw DecodingError.keyNotFound(key, .init(codingPath: c.codingPath, debugDescription: "\(key.stringValue) is missing"))
            }
            return size
        }
        func disagree(_ what: String) -> DecodingError {
            DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [CodingKeys.decoder],
                                              debugDescription: "encoder and decoder \(what) differ; this seq2seq needs them equal"))
        }
        let cellKinds = "one of \(CellType.allCases.map(\.rawValue))"
        sourceVocabularySize = try required(.sourceVocabularySize)
        targetVocabularySize = try required(.targetVocabularySize)
        embedding = try value(c, Int.self, .embedding, "a whole number") ?? defaults.embedding
        dropout = try value(c, Float.self, .dropout, "a number") ?? defaults.dropout
        if let section = try? c.nestedContainer(keyedBy: CellKeys.self, forKey: .cell) {
            cell = try value(section, CellType.self, .type, cellKinds) ?? .lstm
            layerNorm = try value(section, Bool.self, .layerNorm, "true or false") ?? false
        } else {
            cell = try value(c, CellType.self, .cell, cellKinds) ?? .lstm
            layerNorm = false
        }
        if c.contains(.encoder) || c.contains(.decoder) {
            // Either section may be missing; its keys then take the other's values or the defaults.
            let e = c.contains(.encoder) ? try c.nestedContainer(keyedBy: EncoderKeys.self, forKey: .encoder) : nil
            let d = c.contains(.decoder) ? try c.nestedContainer(keyedBy: DecoderKeys.self, forKey: .decoder) : nil
            let decoderLayers = try d.flatMap { try value($0, Int.self, .layers, "a whole number") }
            let decoderHidden = try d.flatMap { try value($0, Int.self, .hidden, "a whole number") }
            let decoderResidual = try d.flatMap { try value($0, Bool.self, .residual, "true or false") }
            layers = try e.flatMap { try value($0, Int.self, .layers, "a whole number") } ?? decoderLayers ?? defaults.layers
            hidden = try e.flatMap { try value($0, Int.self, .hidden, "a whole number") } ?? decoderHidden ?? defaults.hidden
            residual = try e.flatMap { try value($0, Bool.self, .residual, "true or false") } ?? decoderResidual ?? false
            bidirectional = try e.flatMap { try value($0, Bool.self, .bidirectional, "true or false") } ?? false
            reverseSource = try e.flatMap { try value($0, Bool.self, .reverseSource, "true or false") } ?? defaults.reverseSource
            attention = try d.flatMap { try value($0, AttentionType.self, .attention, "one of \(AttentionType.allCases.map(\.rawValue))") } ?? .none
            inputFeed = try d.flatMap { try value($0, Bool.self, .inputFeed, "true or false") } ?? true
            targetOrder = try d.flatMap { try value($0, TargetOrder.self, .targetOrder, "one of \(TargetOrder.allCases.map(\.rawValue))") } ?? .leftToRight
            tieEmbeddings = try d.flatMap { try value($0, TiedEmbeddings.self, .tieEmbeddings, "one of \(TiedEmbeddings.allCases.map(\.rawValue))") } ?? .none
            if (decoderLayers ?? layers) != layers { throw disagree("layers") }
            if (decoderHidden ?? hidden) != hidden { throw disagree("hidden sizes") }
            if (decoderResidual ?? residual) != residual { throw disagree("residual settings") }
        } else {
            hidden = try value(c, Int.self, .hidden, "a whole number") ?? defaults.hidden
            layers = try value(c, Int.self, .layers, "a whole number") ?? defaults.layers
            reverseSource = try value(c, Bool.self, .reverseSource, "true or false") ?? defaults.reverseSource
            bidirectional = try value(c, Bool.self, .bidirectional, "true or false") ?? false
            residual = try value(c, Bool.self, .residual, "true or false") ?? false
            attention = .none
            inputFeed = true
            targetOrder = .leftToRight
            tieEmbeddings = .none
        }
    }

    /// Throws a `ModelError` whose message names the offending key (as spelled in `config.json`)
    /// when a size is outside its documented bounds, the dropout is outside [0, 1), or the whole
    /// network would exceed ``maximumParameterCount``. Nothing is allocated.
    public func validate() throws {
        func bounded(_ key: String, _ value: Int, _ low: Int, _ high: Int, _ why: String) throws {
            guard value >= low && value <= high else {
                throw ModelError("\(key) must be in \(low)...\(high)\(why), got \(value)")
            }
        }
        // 4 ids are reserved: <pad> 0, <unk> 1, <s> 2, </s> 3.
        try bounded("sourceVocabularySize", sourceVocabularySize, 4, Self.maximumVocabularySize, " (4 ids are reserved)")
        try bounded("targetVocabularySize", targetVocabularySize, 4, Self.maximumVocabularySize, " (4 ids are reserved)")
        try bounded("embedding", embedding, 1, Self.maximumWidth, "")
        try bounded("hidden", hidden, 1, Self.maximumWidth, "")
        try bounded("layers", layers, 1, Self.maximumLayers, "")
        if !(dropout >= 0 && dropout < 1) { throw ModelError("dropout must be in [0, 1), got \(dropout)") }
        if bidirectional && hidden % 2 != 0 {
            throw ModelError("a bidirectional encoder needs an even hidden size (H/2 units per direction), got \(hidden)")
        }
        if residual && layers < 2 {
            throw ModelError("residual connections join stacked layers (from the second on): they need at least 2 layers, got \(layers)")
        }
        if layerNorm && !cell.supportsLayerNorm {
            throw ModelError("layer normalization is defined for lstm and gru cells, not \(cell.rawValue)")
        }
        if tieEmbeddings == .all && sourceVocabularySize != targetVocabularySize {
            throw ModelError("tying all embeddings needs one joint vocabulary, got \(sourceVocabularySize) source and \(targetVocabularySize) target entries")
        }
        // Within the bounds above every product and the sum stay below 2^47: no overflow.
        let count = parameterCount
        if count > Self.maximumParameterCount {
            throw ModelError("the network would have \(count) parameters, more than the \(Self.maximumParameterCount) this seq2seq allows; lower embedding, hidden, layers or the vocabulary sizes")
        }
    }

    /// Total number of floats in the network's parameter store (`Seq2SeqModel.layout`), computed
    /// without allocating; `Int.max` when it would overflow. Call it on a config whose `layers`
    /// is bounded (``validate()`` checks the bounds first): the layout lists every layer.
    public var parameterCount: Int {
        var total = 0
        for tensor in Seq2SeqModel.layout(self) {
            var size = 1
            for d in tensor.shape {
                let (p, overflow) = size.multipliedReportingOverflow(by: d)
                if overflow || d < 0 { return Int.max }
                size = p
            }
            let (sum, overflow) = total.addingReportingOverflow(size)
            if overflow { return Int.max }
            total = sum
        }
        return total
    }
}

/// The order of the target sentence the decoder writes (``ModelConfig/targetOrder``).
public enum TargetOrder: String, Codable, CaseIterable, Sendable {
    case leftToRight = "left-to-right"
    case rightToLeft = "right-to-left"
}

/// Which embeddings share one tensor (``ModelConfig/tieEmbeddings``).
public enum TiedEmbeddings: String, Codable, CaseIterable, Sendable {
    case none
    /// The output layer's weight is the target embedding.
    case decoder
    /// The source embedding too (a joint vocabulary).
    case all
}

/// The decoder's attention over the encoder's outputs (`train --attention`).
public enum AttentionType: String, Codable, CaseIterable, Sendable {
    /// No attention: the decoder sees the source only through the encoder's final states (Sutskever et al. 2014).
    case none
    /// score(h_t, h_s) = h_sᵀ h_t (Luong et al. 2015).
    case dot
    /// score(h_t, h_s) = h_sᵀ W_a h_t (Luong et al. 2015).
    case general
    /// score(h_t, h_s) = vᵀ tanh(W_k h_s + W_q h_t + b_q) (Bahdanau et al. 2015's additive score).
    case mlp
}

/// An error of the Model module with a user-facing message.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
