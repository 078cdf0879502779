import Text
import TranslationMetrics

/// The toolkit's tokenizer on its own: ICU word boundaries with joiner marks (`￭`) where there was
/// no space, so ``detokenize(_:)`` restores the text exactly (`seq2seq tokenize` / `detokenize`).
public struct WordTokenizer: Sendable {
    private let options: TokenizerOptions

    /// `language`: the ICU locale of the text (e.g. "de"); `lowercase`: fold case after NFC
    /// normalization. Throws ``Seq2SeqError/invalidOption(_:)`` when ICU cannot open a word
    /// iterator for the language.
    public init(language: String = "en", lowercase: Bool = false) throws {
        var options = TokenizerOptions()
        options.language = language
        options.lowercase = lowercase
        do { _ = try Tokenizer(options: options) } catch { throw Seq2SeqError.invalidOption("\(error)") }
        self.options = options
    }

    /// The tokens of `text` (an empty list for empty or all-space text).
    public func tokenize(_ text: String) -> [String] {
        // A tokenizer per call: ICU break iterators are not thread-safe, and this type is Sendable.
        ((try? Tokenizer(options: options))?.tokenize(text)) ?? []
    }

    /// Joins tokens made by ``tokenize(_:)`` back into text (joiner marks glue, others take a space).
    public func detokenize(_ tokens: [String]) -> String {
        Detokenizer.detokenize(tokens)
    }
}

/// Corpus-level scores as sacreBLEU 2.6 computes them (`seq2seq bleu`): BLEU with its 13a
/// tokenization and exponential smoothing, and chrF (character 6-grams, β = 2).
public enum Scores {
    /// BLEU in [0, 100] of `hypotheses` against one or more reference sets (`references[k][i]` is
    /// reference k of hypothesis i; every set as long as `hypotheses`), optionally lowercased.
    public static func bleu(hypotheses: [String], references: [[String]], lowercase: Bool = false) throws -> Double {
        try check(hypotheses, references)
        return BLEU(lowercase: lowercase).corpusScore(hypotheses: hypotheses, references: references).score
    }

    /// chrF in [0, 100] (character n-grams up to 6, β = 2), arguments as ``bleu(hypotheses:references:lowercase:)``.
    public static func chrF(hypotheses: [String], references: [[String]], lowercase: Bool = false) throws -> Double {
        try check(hypotheses, references)
        return CHRF(lowercase: lowercase).corpusScore(hypotheses: hypotheses, references: references).score
    }

    private static func check(_ hypotheses: [String], _ references: [[String]]) throws {
        guard !references.isEmpty else { throw Seq2SeqError.invalidOption("give at least one set of references") }
        for (k, set) in references.enumerated() where set.count != hypotheses.count {
            throw Seq2SeqError.invalidOption("reference set \(k) has \(set.count) lines for \(hypotheses.count) hypotheses")
        }
    }
}
