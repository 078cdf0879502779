import Basics
import Decoding
import Model
import ModelFolder
import Text

/// One translation of one input line.
public struct Translation: Sendable {
    public var text: String
    /// Length-normalised score used to rank hypotheses (see ``SearchOptions``).
    public var score: Double
    /// Sum of token log-probabilities (natural log), </s> included.
    public var logProb: Double
}

/// What to do with `<unk>` in the output.
public enum UnknownWordPolicy: String, Sendable, CaseIterable {
    /// Never emit `<unk>`: the search picks the best known word instead.
    case forbid
    /// Emit `<unk>` when it scores best and print it literally.
    case keep
}

/// Text in, text out: reapplies the model's recorded normalization, tokenization, vocabulary and
/// (inside the model) source reversal, decodes with beam search, and detokenizes.
public final class Translator {
    /// The model folder translated with (read side only).
    public let directory: SavedModel
    public let model: Seq2SeqModel
    /// The decoder packed once for few-row steps (batch 1 with a beam), shared by every search.
    private let packed: DecoderWeights
    private let sourceTokenizer: Tokenizer
    public var searchOptions: SearchOptions

    /// Loads the chosen weights of `directory` (checked against its config before the network is
    /// built). Throws a `ModelFolderError` naming the weights file, or the tokenizer's error.
    public init(directory: SavedModel, checkpoint: CheckpointChoice = .best,
                searchOptions: SearchOptions = SearchOptions(), unknownWords: UnknownWordPolicy = .forbid) throws {
        self.directory = directory
        model = try directory.loadModel(checkpoint)
        packed = DecoderWeights(model: model)
        sourceTokenizer = try Tokenizer(options: directory.sourceVocabulary.options)
        var options = searchOptions
        options.bos = TokenID.start
        options.eos = TokenID.end
        var forbidden = Set(options.forbidden)
        forbidden.insert(TokenID.pad)
        forbidden.insert(TokenID.start)
        if unknownWords == .forbid { forbidden.insert(TokenID.unknown) }
        options.forbidden = forbidden.sorted()
        self.searchOptions = options
    }

    /// Source ids for one raw line (empty for an empty or all-space line). Never cut: the encoder
    /// reads a source of any length in chunks of bounded memory (`InferenceSession.encode`; a
    /// bidirectional encoder reads each sentence whole).
    public func sourceIDs(_ line: String) -> [Int32] {
        directory.sourceVocabulary.ids(sourceTokenizer.tokenize(line))
    }

    /// Translates lines together (one batched search); result i belongs to line i and holds up to
    /// `searchOptions.nBest` translations, best first. Empty inputs give one empty translation.
    public func translate(_ lines: [String]) -> [[Translation]] {
        let sources = lines.map(sourceIDs)
        var results = [[Translation]](repeating: [Translation(text: "", score: 0, logProb: 0)], count: lines.count)
        let live = sources.indices.filter { !sources[$0].isEmpty }
        if live.isEmpty { return results }
        let scorer = ModelScorer(model: model, packed: packed, sources: live.map { sources[$0] })
        let lengths = live.map { sources[$0].count }
        let hypotheses = BeamSearch.search(scorer, sourceLengths: lengths, options: searchOptions)
        for (k, index) in live.enumerated() {
            results[index] = hypotheses[k].map { hypothesis in
                let tokens = hypothesis.tokens.map { directory.targetVocabulary.token($0) }
                return Translation(text: Detokenizer.detokenize(tokens), score: hypothesis.score,
                                   logProb: hypothesis.logProb)
            }
        }
        return results
    }
}
