/// Text ↔ model tokens for one side of a model: the tokenizer, then BPE pieces when the
/// vocabulary was built with codes (`TokenizerOptions.bpeCodes`), joined with
/// `SubwordJoiner.tokenizerSeparator` so that undoing them is lossless; or, when the vocabulary was
/// built with a SentencePiece model (`TokenizerOptions.sentencePiece`), that model's pieces of the
/// raw line instead of the tokenizer's tokens.
///
/// Not thread-safe (ICU iterators, the BPE cache): one per thread.
public final class TextSegmenter {
    public let tokenizer: Tokenizer
    /// nil when the side uses whole tokens.
    public let encoder: BPEEncoder?
    /// nil unless the side uses SentencePiece.
    public let sentencePiece: SentencePieceModel?
    /// The encoder `tokens(_:dropout:)` uses: `encoder` itself, or, when a dropout vocabulary is
    /// given, the same codes checking pieces against it (subword-nmt's `apply-bpe --dropout
    /// --vocabulary`).
    private let dropoutEncoder: BPEEncoder?

    /// - Parameters:
    ///   - options: the vocabulary's tokenizer options.
    ///   - codes: the BPE codes the vocabulary was built with (nil when it records none).
    ///   - codesPath: names the codes in errors.
    ///   - dropoutVocabulary: the side's vocabulary tokens (non-final pieces spelled with
    ///     `SubwordJoiner.tokenizerSeparator`; the reserved names are left out). When given, a
    ///     piece that `tokens(_:dropout:)` makes and the vocabulary lacks is split again by undoing
    ///     the merges that made it, down to known pieces, as `subword-nmt apply-bpe --dropout P
    ///     --vocabulary V` does (`BPEEncoder`'s `knownPieces`). Such pieces are mostly partial
    ///     merges that plain segmentation never makes, so `vocab --bpe-codes` never counted them,
    ///     and pieces `--min-count` or `--max-size` dropped; without the check they are `<unk>`
    ///     in training. A vocabulary that `vocab --bpe-codes` counted on the training text holds
    ///     both forms of every character seen at least --min-count times (unless --max-size cut
    ///     them), so every piece ends in known ones but such rare characters. Plain segmentation (`tokens(_:)`,
    ///     validation and translation) is unaffected and keeps such pieces (`<unk>`).
    /// - Throws: `TextError.malformedSubwords` naming `codesPath` when the codes are not the ones
    ///   `options` records, or codes are given for options that record none; the tokenizer's errors.
    public init(options: TokenizerOptions, codes: BPECodes?, codesPath: String = "BPE codes",
                sentencePiece: SentencePieceModel? = nil, sentencePiecePath: String = "SentencePiece model",
                dropoutVocabulary: [String]? = nil) throws {
        tokenizer = try Tokenizer(options: options)
        switch (options.sentencePiece, sentencePiece) {
        case (nil, nil): self.sentencePiece = nil
        case let (recorded?, model?):
            guard model.checksum == recorded else {
                throw TextError.malformedSubwords(file: sentencePiecePath, line: 1,
                    hint: "this SentencePiece model (checksum \(model.checksum)) is not the one the vocabulary was built with (\(recorded))")
            }
            self.sentencePiece = model
        case let (recorded?, nil):
            throw TextError.malformedSubwords(file: sentencePiecePath, line: 1,
                hint: "missing: the vocabulary was built with a SentencePiece model (checksum \(recorded))")
        case let (nil, model?):
            throw TextError.malformedSubwords(file: sentencePiecePath, line: 1,
                hint: "the vocabulary was built without a SentencePiece model, but one (checksum \(model.checksum)) was given")
        }
        switch (options.bpeCodes, codes) {
        case (nil, nil):
            encoder = nil
        case let (recorded?, codes?):
            guard codes.checksum == recorded else {
                throw TextError.malformedSubwords(file: codesPath, line: 1,
                    hint: "these BPE codes (checksum \(codes.checksum)) are not the ones the vocabulary was built with (\(recorded))")
            }
            encoder = try BPEEncoder(codes: codes, separator: SubwordJoiner.tokenizerSeparator)
        case let (recorded?, nil):
            throw TextError.malformedSubwords(file: codesPath, line: 1,
                hint: "missing: the vocabulary was built with BPE codes (checksum \(recorded))")
        case let (nil, codes?):
            throw TextError.malformedSubwords(file: codesPath, line: 1,
                hint: "the vocabulary was built without BPE codes, but codes (checksum \(codes.checksum)) were given")
        }
        if let encoder, let dropoutVocabulary {
            dropoutEncoder = try BPEEncoder(codes: encoder.codes, separator: SubwordJoiner.tokenizerSeparator,
                                            knownPieces: dropoutVocabulary)
        } else {
            dropoutEncoder = encoder
        }
    }

    /// The model tokens of one line: tokens, split into pieces when the side uses BPE.
    public func tokens(_ line: String) -> [String] {
        if let sentencePiece { return sentencePiece.pieces(line) }
        let tokens = tokenizer.tokenize(line)
        return encoder.map { $0.segment(tokens) } ?? tokens
    }

    /// As `tokens(_:)`, with BPE-dropout (Provilkov et al. 2020) drawn from `dropout`, pieces
    /// checked against the dropout vocabulary when one was given; whole tokens when the side uses
    /// no BPE.
    public func tokens(_ line: String, dropout: inout BPEDropout?) -> [String] {
        if let sentencePiece { return sentencePiece.pieces(line) }
        let tokens = tokenizer.tokenize(line)
        return dropoutEncoder.map { $0.segment(tokens, dropout: &dropout) } ?? tokens
    }

    /// Text from model tokens: pieces joined back into tokens, then detokenized.
    public func text(_ tokens: [String]) -> String {
        if let sentencePiece { return sentencePiece.text(tokens) }
        return Detokenizer.detokenize(encoder == nil ? tokens : SubwordJoiner.join(tokens, separator: SubwordJoiner.tokenizerSeparator))
    }
}
