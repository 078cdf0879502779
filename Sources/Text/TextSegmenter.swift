/// Text ↔ model tokens for one side of a model: the tokenizer, then BPE pieces when the
/// vocabulary was built with codes (`TokenizerOptions.bpeCodes`), joined with
/// `SubwordJoiner.tokenizerSeparator` so that undoing them is lossless.
///
/// Not thread-safe (ICU iterators, the BPE cache): one per thread.
public final class TextSegmenter {
    public let tokenizer: Tokenizer
    /// nil when the side uses whole tokens.
    public let encoder: BPEEncoder?

    /// - Parameters:
    ///   - options: the vocabulary's tokenizer options.
    ///   - codes: the BPE codes the vocabulary was built with (nil when it records none).
    ///   - codesPath: names the codes in errors.
    /// - Throws: `TextError.malformedSubwords` naming `codesPath` when the codes are not the ones
    ///   `options` records, or codes are given for options that record none; the tokenizer's errors.
    public init(options: TokenizerOptions, codes: BPECodes?, codesPath: String = "BPE codes") throws {
        tokenizer = try Tokenizer(options: options)
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
    }

    /// The model tokens of one line: tokens, split into pieces when the side uses BPE.
    public func tokens(_ line: String) -> [String] {
        let tokens = tokenizer.tokenize(line)
        return encoder.map { $0.segment(tokens) } ?? tokens
    }

    /// As `tokens(_:)`, with BPE-dropout (Provilkov et al. 2020) drawn from `dropout`; whole
    /// tokens when the side uses no BPE.
    public func tokens(_ line: String, dropout: inout BPEDropout?) -> [String] {
        let tokens = tokenizer.tokenize(line)
        return encoder.map { $0.segment(tokens, dropout: &dropout) } ?? tokens
    }

    /// Text from model tokens: pieces joined back into tokens, then detokenized.
    public func text(_ tokens: [String]) -> String {
        Detokenizer.detokenize(encoder == nil ? tokens : SubwordJoiner.join(tokens, separator: SubwordJoiner.tokenizerSeparator))
    }
}
