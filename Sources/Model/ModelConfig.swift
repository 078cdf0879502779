/// Hyper-parameters of the encoder-decoder LSTM (Sutskever, Vinyals & Le 2014). Recorded in the
/// model folder so that `translate` rebuilds exactly this network (including source reversal).
public struct ModelConfig: Codable, Equatable, Sendable {
    public var sourceVocabularySize: Int
    public var targetVocabularySize: Int
    /// E
    public var embedding: Int
    /// H
    public var hidden: Int
    /// L, the depth of both the encoder and the decoder.
    public var layers: Int
    /// Dropout probability between stacked layers and before the output layer (Zaremba et al. 2014).
    public var dropout: Float
    /// Read the source right to left (the paper's trick: short dependencies at the start).
    public var reverseSource: Bool
    /// The recurrent cell of the encoder and the decoder (absent from older config files: LSTM).
    public var cell: CellType
    /// The encoder reads the source both ways with H/2 units per direction; its outputs and each
    /// layer's final state are the two directions concatenated [forward | backward] (OpenNMT-py's
    /// `brnn`). Absent from older config files: false.
    public var bidirectional: Bool
    /// Residual connections (He et al. 2016; Wu et al. 2016): from the second layer on, each
    /// layer's input is added to its output, in the encoder and the decoder. Absent: false.
    public var residual: Bool

    public init(sourceVocabularySize: Int, targetVocabularySize: Int, embedding: Int = 256, hidden: Int = 256,
                layers: Int = 2, dropout: Float = 0, reverseSource: Bool = true, cell: CellType = .lstm,
                bidirectional: Bool = false, residual: Bool = false) {
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
        case bidirectional, residual
    }

    /// Decodes a config; keys added after the first format (`cell`) decode to their old meaning.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sourceVocabularySize = try c.decode(Int.self, forKey: .sourceVocabularySize)
        targetVocabularySize = try c.decode(Int.self, forKey: .targetVocabularySize)
        embedding = try c.decode(Int.self, forKey: .embedding)
        hidden = try c.decode(Int.self, forKey: .hidden)
        layers = try c.decode(Int.self, forKey: .layers)
        dropout = try c.decode(Float.self, forKey: .dropout)
        reverseSource = try c.decode(Bool.self, forKey: .reverseSource)
        cell = try c.decodeIfPresent(CellType.self, forKey: .cell) ?? .lstm
        bidirectional = try c.decodeIfPresent(Bool.self, forKey: .bidirectional) ?? false
        residual = try c.decodeIfPresent(Bool.self, forKey: .residual) ?? false
    }

    /// Throws a `ModelError` whose message names the offending setting.
    public func validate() throws {
        // 4 ids are reserved: <pad> 0, <unk> 1, <s> 2, </s> 3.
        if sourceVocabularySize < 4 {
            throw ModelError("source vocabulary size must be at least 4 (pad, unk, <s>, </s>), got \(sourceVocabularySize)")
        }
        if targetVocabularySize < 4 {
            throw ModelError("target vocabulary size must be at least 4 (pad, unk, <s>, </s>), got \(targetVocabularySize)")
        }
        if embedding < 1 { throw ModelError("embedding size must be at least 1, got \(embedding)") }
        if hidden < 1 { throw ModelError("hidden size must be at least 1, got \(hidden)") }
        if layers < 1 { throw ModelError("number of layers must be at least 1, got \(layers)") }
        if !(dropout >= 0 && dropout < 1) { throw ModelError("dropout must be in [0, 1), got \(dropout)") }
        if bidirectional && hidden % 2 != 0 {
            throw ModelError("a bidirectional encoder needs an even hidden size (H/2 units per direction), got \(hidden)")
        }
        if residual && layers < 2 {
            throw ModelError("residual connections join stacked layers (from the second on): they need at least 2 layers, got \(layers)")
        }
    }
}

/// An error of the Model module with a user-facing message.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
