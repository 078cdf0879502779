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

    public init(sourceVocabularySize: Int, targetVocabularySize: Int, embedding: Int = 256, hidden: Int = 256,
                layers: Int = 2, dropout: Float = 0, reverseSource: Bool = true) {
        self.sourceVocabularySize = sourceVocabularySize
        self.targetVocabularySize = targetVocabularySize
        self.embedding = embedding
        self.hidden = hidden
        self.layers = layers
        self.dropout = dropout
        self.reverseSource = reverseSource
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
    }
}

/// An error of the Model module with a user-facing message.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
