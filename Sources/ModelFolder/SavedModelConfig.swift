import Model
import Text

/// The part of a model folder's `config.json` that inference needs: format name and version, the
/// network (``ModelConfig``) and the tokenizer options of both sides. The file's other sections
/// (the training options) are left to the Training module.
public struct SavedModelConfig: Codable, Equatable, Sendable {
    /// The value of `format` in every model folder's `config.json`.
    public static let formatName = "seq2seq-model"
    /// The `formatVersion` this seq2seq reads and writes.
    public static let currentVersion = 1

    public var format = SavedModelConfig.formatName
    public var formatVersion = SavedModelConfig.currentVersion
    /// The seq2seq version that wrote the folder (informational).
    public var toolVersion: String
    public var model: ModelConfig
    public var sourceTokenizer: TokenizerOptions
    public var targetTokenizer: TokenizerOptions

    public init(toolVersion: String, model: ModelConfig, sourceTokenizer: TokenizerOptions, targetTokenizer: TokenizerOptions) {
        self.toolVersion = toolVersion
        self.model = model
        self.sourceTokenizer = sourceTokenizer
        self.targetTokenizer = targetTokenizer
    }
}
