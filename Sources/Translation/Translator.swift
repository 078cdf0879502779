import Foundation
import Basics
import Decoding
import Lexicon
import Model
import ModelFolder
import Text

/// One translation of one input line.
public struct Translation: Sendable, Equatable {
    public var text: String
    /// The target tokens (words or subword pieces, in reading order) before detokenization; the
    /// alignment and ``tokenLogProbs`` index them.
    public var tokens: [String]
    /// Length-normalised score used to rank hypotheses (see ``SearchOptions``).
    public var score: Double
    /// Sum of token log-probabilities (natural log), </s> included.
    public var logProb: Double
    /// Per output token (before detokenization), the source token (of the tokenized input line)
    /// with the highest attention weight when it was produced; nil for a model without attention.
    public var alignment: [Int]?
    /// The log-probability of each target token (natural log, in reading order, aligned with
    /// ``tokens``), then that of </s>: they sum to ``logProb``.
    public var tokenLogProbs: [Double]
    /// With rescoring (``Translator/rescoring``): the rescoring models' mean log-probability of
    /// this translation (natural log, </s> included); nil otherwise.
    public var rescoringLogProb: Double?

    public init(text: String, score: Double, logProb: Double, alignment: [Int]? = nil, rescoringLogProb: Double? = nil,
                tokens: [String] = [], tokenLogProbs: [Double] = []) {
        self.text = text
        self.tokenLogProbs = tokenLogProbs
        self.tokens = tokens
        self.score = score
        self.logProb = logProb
        self.alignment = alignment
        self.rescoringLogProb = rescoringLogProb
    }

    /// The hard alignment as Marian prints it: `s-t` pairs (source token, target token, from 0)
    /// separated by spaces, one per target token; "" without an alignment.
    public var alignmentPairs: String {
        (alignment ?? []).enumerated().map { "\($0.element)-\($0.offset)" }.joined(separator: " ")
    }
}

/// A translation setting the model cannot serve (one line for the user).
public struct TranslationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What to do with `<unk>` in the output.
public enum UnknownWordPolicy: String, Sendable, CaseIterable {
    /// Never emit `<unk>`: the search picks the best known word instead.
    case forbid
    /// Emit `<unk>` when it scores best and print it literally.
    case keep
    /// Emit `<unk>` when it scores best, then copy in its place the source token it is aligned to
    /// (the highest attention weight; Luong et al. 2015b). Needs a model with attention.
    case replace
}

/// ``Translator`` under a name that a module with its own `Translator` (the `Seq2Seq` library's
/// front door) can still spell: `Translation.Translator` would name a member of the struct
/// ``Translation``.
public typealias TranslationEngine = Translator

/// One model of a ``Translator``: its folder, weights, prepared decoder, source reading and
/// shortlist. Members of one translator share the target vocabulary; each reads the source with its
/// own normalization, tokenization, subword model and vocabulary.
public struct TranslatorMember {
    /// The model folder (read side only).
    public let directory: SavedModel
    public let model: Seq2SeqModel
    /// The decoder's weights prepared once in the chosen precision (float32: packed for few-row
    /// steps, batch 1 with a beam; int8: every step), shared by every search.
    public let packed: DecoderWeights
    /// The lexical shortlist of this member's folder, or nil.
    public let shortlist: Shortlist?
    let sourceSegmenter: TextSegmenter

    /// Source ids for one raw line as this member reads it (empty for an empty or all-space line).
    public func sourceIDs(_ line: String) -> [Int32] {
        directory.sourceVocabulary.ids(sourceSegmenter.tokens(line))
    }
}

/// N-best rescoring with second models, usually right-to-left ones (`train --target-order
/// right-to-left`; Liu et al. 2016, Sennrich et al. 2016): the search keeps its `beam` best
/// finished hypotheses, each rescoring model scores every one of them by forced decoding (in its
/// own target order, reading the source its own way), and they are re-ranked by
///
///     score = ((1 − λ)·log p(y | x) + λ·log p_R(y | x)) / lp(|y| + 1),
///
/// where log p is the search's (ensemble's) log-probability, log p_R the mean of the rescoring
/// models' log-probabilities, and lp the search's length penalty (GNMT, ((5 + n)/6)^α with the
/// same α; the length counts </s>). λ = 0 keeps the search's ranking of its `beam` finalists.
public struct Rescoring {
    /// The rescoring models (they share the translator's target vocabulary).
    public let members: [TranslatorMember]
    /// λ in [0, 1].
    public let weight: Double
}

/// Text in, text out: reapplies the model's recorded normalization, tokenization, BPE pieces,
/// vocabulary and (inside the model) source reversal, decodes with beam search, joins pieces and
/// detokenizes.
///
/// With several members (an ensemble: ``init(directories:checkpoint:weights:searchOptions:unknownWords:precision:useShortlist:)``),
/// every member encodes the line as it reads it and each beam step scores the weighted mean of
/// the members' log-probabilities (``EnsembleScorer``); the output is detokenized and aligned as
/// the first member does it.
public final class Translator {
    /// The models, first the one whose target side, alignments and source lengths are used.
    public let members: [TranslatorMember]
    /// The members' weights (normalised to sum to 1).
    public let weights: [Float]
    /// The first member's model folder.
    public var directory: SavedModel { members[0].directory }
    /// The first member's model.
    public var model: Seq2SeqModel { members[0].model }
    /// The first member's prepared decoder weights.
    public var packed: DecoderWeights { members[0].packed }
    private let targetSegmenter: TextSegmenter
    public var searchOptions: SearchOptions
    public let unknownWords: UnknownWordPolicy
    /// The lexical shortlist of a single model (nil: every step scores all V ids; each batch's
    /// output layer runs over the union of its source words' lists and the frequent list). nil for
    /// an ensemble, whose batches are decoded over the union of every member's lists (all V when
    /// a member has none): see ``TranslatorMember/shortlist``.
    public var shortlist: Shortlist? { members.count == 1 ? members[0].shortlist : nil }
    /// N-best rescoring after the search (nil: none).
    public private(set) var rescoring: Rescoring?

    /// Loads the chosen weights of `directory` (checked against its config before the network is
    /// built) and prepares the decoder in `precision` (int8: from the folder's stored int8 copy of
    /// that checkpoint when `seq2seq quantize` made one, else quantized here). Throws a
    /// `ModelFolderError` naming the weights file, the tokenizer's error, or a ``TranslationError``
    /// when `unknownWords` is `.replace` and the model has no attention. With `useShortlist`, the
    /// folder's `shortlist.bin` restricts decoding when there is one (``SavedModel/loadShortlist()``;
    /// a corrupt or mismatched file is its `ModelFolderError`).
    public convenience init(directory: SavedModel, checkpoint: CheckpointChoice = .best,
                            searchOptions: SearchOptions = SearchOptions(), unknownWords: UnknownWordPolicy = .forbid,
                            precision: Precision = .float32, useShortlist: Bool = false) throws {
        try self.init(directories: [directory], checkpoint: checkpoint, searchOptions: searchOptions,
                      unknownWords: unknownWords, precision: precision, useShortlist: useShortlist)
    }

    /// An ensemble of the folders' chosen weights (one folder: the plain translator), each loaded
    /// and prepared as ``init(directory:checkpoint:searchOptions:unknownWords:precision:useShortlist:)``
    /// does. `weights` (one per folder, finite and > 0; default equal) weigh the members'
    /// log-probabilities. Throws what loading a folder throws, or a ``TranslationError`` when the
    /// folders' target vocabularies differ (naming the first folder and the one that differs), the
    /// weights do not fit, or `unknownWords` is `.replace` and the first model has no attention.
    public convenience init(directories: [SavedModel], checkpoint: CheckpointChoice = .best, weights: [Float]? = nil,
                            searchOptions: SearchOptions = SearchOptions(), unknownWords: UnknownWordPolicy = .forbid,
                            precision: Precision = .float32, useShortlist: Bool = false) throws {
        guard !directories.isEmpty else { throw TranslationError("an ensemble needs at least one model") }
        try Self.checkCompatible(directories, weights: weights)
        var members: [TranslatorMember] = []
        for directory in directories {
            let shortlist = useShortlist ? try directory.loadShortlist() : nil
            let model = try directory.loadModel(checkpoint)
            // int8: the stored copy of `seq2seq quantize` when there is one (the same bits as quantizing here).
            let int8Path = try directory.int8CopyPath(checkpoint)
            let stored = precision == .int8 && FileManager.default.fileExists(atPath: int8Path)
                ? try Int8Copy.read(int8Path, model: model) : nil
            members.append(TranslatorMember(directory: directory, model: model,
                                            packed: stored ?? DecoderWeights(model: model, precision: precision),
                                            shortlist: shortlist, sourceSegmenter: try directory.sourceSegmenter()))
        }
        try self.init(members: members, weights: weights, searchOptions: searchOptions, unknownWords: unknownWords)
    }

    /// wᵢ / Σ w, summed in Double (so weights near Float's limits neither overflow nor vanish
    /// before the division).
    static func normalized(_ weights: [Float]) -> [Float] {
        let total = weights.reduce(0.0) { $0 + Double($1) }
        return weights.map { Float(Double($0) / total) }
    }

    /// Refuses folders that cannot form one ensemble: different target vocabularies (the search
    /// adds the members' rows id by id), different target orders (with `sameOrder`), or weights
    /// that are not one finite positive number per folder.
    static func checkCompatible(_ directories: [SavedModel], weights: [Float]?, sameOrder: Bool = true) throws {
        if let weights {
            guard weights.count == directories.count else {
                throw TranslationError("\(weights.count) ensemble weights for \(directories.count) models: give one per --model")
            }
            guard weights.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw TranslationError("ensemble weights must be finite and greater than 0")
            }
            guard normalized(weights).allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw TranslationError("ensemble weights \(weights) are too far apart: a normalised weight rounds to 0")
            }
        }
        let first = directories[0]
        for other in directories.dropFirst() where other.targetVocabulary.tokens != first.targetVocabulary.tokens {
            throw TranslationError("\(other.path): its target vocabulary differs from that of \(first.path) "
                                   + "(\(other.targetVocabulary.count) and \(first.targetVocabulary.count) entries); "
                                   + "models translated together (an ensemble, --rescore-with) must share the target vocabulary")
        }
        for other in directories.dropFirst() where sameOrder && other.config.model.targetOrder != first.config.model.targetOrder {
            throw TranslationError("\(other.path) writes targets \(other.config.model.targetOrder.rawValue) and \(first.path) "
                                   + "\(first.config.model.targetOrder.rawValue): an ensemble's members must write in one order "
                                   + "(rescore with the other order: --rescore-with)")
        }
    }

    /// Rescores every search's finalists with the chosen weights of `directories` (see
    /// ``Rescoring``) from now on; `weight` is λ in [0, 1]. Throws what loading a folder throws, or
    /// a ``TranslationError`` when a folder's target vocabulary is not the translator's or λ is
    /// outside [0, 1].
    public func rescore(with directories: [SavedModel], checkpoint: CheckpointChoice = .best, weight: Double) throws {
        guard weight.isFinite && weight >= 0 && weight <= 1 else {
            throw TranslationError("the rescoring weight must be in [0, 1], got \(weight)")
        }
        try Self.checkCompatible([directory] + directories, weights: nil, sameOrder: false)
        var loaded: [TranslatorMember] = []
        for other in directories {
            let model = try other.loadModel(checkpoint)
            loaded.append(TranslatorMember(directory: other, model: model, packed: DecoderWeights(model: model, precision: .float32),
                                           shortlist: nil, sourceSegmenter: try other.sourceSegmenter()))
        }
        rescoring = Rescoring(members: loaded, weight: weight)
    }

    /// Translates with `model` as its weights are now (training's validation BLEU decodes the
    /// network being trained): the decoder is packed here, so after the weights change make a new
    /// translator. `model` must be built from `directory`'s config; `decoderWeights`, when given,
    /// must be prepared from it in `precision`. Throws the tokenizer's error, or
    /// a ``TranslationError`` when `unknownWords` is `.replace` and the model has no attention.
    /// `shortlist`, when given, must be built for the folder's vocabularies (as `loadShortlist`
    /// checks).
    public convenience init(directory: SavedModel, model: Seq2SeqModel, searchOptions: SearchOptions = SearchOptions(),
                            unknownWords: UnknownWordPolicy = .forbid, precision: Precision = .float32,
                            decoderWeights: DecoderWeights? = nil, shortlist: Shortlist? = nil) throws {
        precondition(model.config == directory.config.model, "Translator: the model is not the folder's")
        precondition(shortlist.map { $0.sourceVocabularySize == model.config.sourceVocabularySize
                                     && $0.targetVocabularySize == model.config.targetVocabularySize } ?? true,
                     "Translator: the shortlist is not built for the folder's vocabularies")
        precondition(decoderWeights.map { $0.precision == precision } ?? true, "Translator: decoder weights of another precision")
        let member = TranslatorMember(directory: directory, model: model,
                                      packed: decoderWeights ?? DecoderWeights(model: model, precision: precision),
                                      shortlist: shortlist, sourceSegmenter: try directory.sourceSegmenter())
        try self.init(members: [member], weights: nil, searchOptions: searchOptions, unknownWords: unknownWords)
    }

    private init(members: [TranslatorMember], weights: [Float]?, searchOptions: SearchOptions,
                 unknownWords: UnknownWordPolicy) throws {
        if unknownWords == .replace && members[0].model.config.attention == .none {
            throw TranslationError("\(members[0].directory.path): replacing <unk> needs a model with attention (train --attention), this one has none")
        }
        self.unknownWords = unknownWords
        self.members = members
        self.weights = Self.normalized(weights ?? [Float](repeating: 1, count: members.count))
        targetSegmenter = try members[0].directory.targetSegmenter()
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

    /// Source ids for one raw line as the first member reads it (empty for an empty or all-space
    /// line). Never cut: the encoder reads a source of any length in chunks of bounded memory
    /// (`InferenceSession.encode`; a bidirectional encoder reads each sentence whole).
    public func sourceIDs(_ line: String) -> [Int32] {
        members[0].sourceIDs(line)
    }

    /// The ids a batch is decoded over: the union of every member's shortlist for its own reading
    /// of the batch; nil (all V) when a member has no shortlist.
    private func outputIDs(_ sources: [[[Int32]]]) -> [Int32]? {
        var union = Set<Int32>()
        for (member, memberSources) in zip(members, sources) {
            guard let ids = member.shortlist?.outputIDs(for: memberSources) else { return nil }
            if members.count == 1 { return ids }
            union.formUnion(ids)
        }
        return union.sorted()
    }

    /// Translates lines together (one batched search); result i belongs to line i and holds up to
    /// `searchOptions.nBest` translations, best first. Empty inputs give one empty translation.
    /// With a ``shortlist``, the batch is decoded over the union of its lines' lists.
    public func translate(_ lines: [String]) -> [[Translation]] {
        let tokenized = lines.map { members[0].sourceSegmenter.tokens($0) }
        let sources = tokenized.map { directory.sourceVocabulary.ids($0) }
        var results = [[Translation]](repeating: [Translation(text: "", score: 0, logProb: 0)], count: lines.count)
        let live = sources.indices.filter { !sources[$0].isEmpty }
        if live.isEmpty { return results }
        // Member i's reading of the live lines (the first member's is the one above).
        let memberSources = members.indices.map { i in i == 0 ? live.map { sources[$0] } : live.map { members[i].sourceIDs(lines[$0]) } }
        let ids = outputIDs(memberSources)
        let scorers = zip(members, memberSources).map { member, memberSources in
            ModelScorer(model: member.model, packed: member.packed, sources: memberSources, outputIDs: ids)
        }
        let scorer: any StepScorer = scorers.count == 1 ? scorers[0] : EnsembleScorer(members: scorers, weights: weights)
        let lengths = live.map { sources[$0].count }
        var options = searchOptions
        if rescoring != nil { options.nBest = options.beamSize }  // every finalist is rescored
        var hypotheses = BeamSearch.search(scorer, sourceLengths: lengths, options: options)
        var rescored: [[Double?]] = hypotheses.map { $0.map { _ in nil } }
        if let rescoring {
            (hypotheses, rescored) = rescore(hypotheses, lines: live.map { lines[$0] }, with: rescoring)
        }
        let rightToLeft = model.config.targetOrder == .rightToLeft
        for (k, index) in live.enumerated() {
            results[index] = zip(hypotheses[k], rescored[k]).map { hypothesis, rescoringLogProb in
                // A right-to-left model wrote the sentence backwards: read it (and its alignment) forwards.
                let ids = rightToLeft ? Array(hypothesis.tokens.reversed()) : hypothesis.tokens
                var tokens = ids.map { directory.targetVocabulary.token($0) }
                let alignment = hypothesis.alignment.map { rightToLeft ? $0.reversed().map(Int.init) : $0.map(Int.init) }
                if unknownWords == .replace, let alignment {
                    // Luong et al. 2015b: <unk> becomes the source token it attended to most, joiner
                    // marks included, so detokenization glues it as it was glued in the source.
                    for (j, id) in ids.enumerated() where id == TokenID.unknown {
                        tokens[j] = tokenized[index][alignment[j]]
                    }
                }
                return Translation(text: targetSegmenter.text(tokens), score: hypothesis.score,
                                   logProb: hypothesis.logProb, alignment: alignment, rescoringLogProb: rescoringLogProb,
                                   tokens: tokens, tokenLogProbs: Self.readingOrder(hypothesis.tokenLogProbs, tokens: ids.count,
                                                                                    reversed: rightToLeft))
            }
        }
        return results
    }

    /// A right-to-left model's per-token log-probabilities in reading order (the tokens' part
    /// reversed, </s>'s kept last).
    static func readingOrder(_ values: [Double], tokens: Int, reversed: Bool) -> [Double] {
        guard reversed, values.count >= tokens else { return values }
        return Array(values[..<tokens].reversed()) + values[tokens...]
    }

    /// Re-ranks each sentence's finalists by ``Rescoring``'s score and keeps `searchOptions.nBest`;
    /// returns them with their rescoring log-probabilities.
    private func rescore(_ found: [[Hypothesis]], lines: [String], with rescoring: Rescoring) -> ([[Hypothesis]], [[Double?]]) {
        let flat = found.enumerated().flatMap { s, list in list.map { (sentence: Int32(s), hypothesis: $0) } }
        guard !flat.isEmpty else { return (found, found.map { $0.map { _ in nil } }) }
        var total = [Double](repeating: 0, count: flat.count)
        for member in rescoring.members {
            let scorer = ModelScorer(model: member.model, packed: member.packed, sources: lines.map { member.sourceIDs($0) })
            let reverse = member.model.config.targetOrder != model.config.targetOrder
            let targets = flat.map { reverse ? Array($0.hypothesis.tokens.reversed()) : $0.hypothesis.tokens }
            let logProbs = ForcedDecoding.logProbabilities(scorer, sentenceOfRow: flat.map(\.sentence), targets: targets,
                                                           bos: TokenID.start, eos: TokenID.end)
            for i in total.indices { total[i] += logProbs[i] }
        }
        let λ = rescoring.weight, count = Double(rescoring.members.count)
        var lists = found.map { _ in [(Hypothesis, Double)]() }
        for (i, entry) in flat.enumerated() {
            var h = entry.hypothesis
            let other = total[i] / count
            h.score = ((1 - λ) * h.logProb + λ * other) / lengthPenalty(length: h.tokens.count + 1, alpha: searchOptions.lengthPenalty)
            lists[Int(entry.sentence)].append((h, other))
        }
        // Stable: equal scores keep the search's order.
        let ranked = lists.map { list in
            list.enumerated().sorted { a, b in a.element.0.score != b.element.0.score ? a.element.0.score > b.element.0.score : a.offset < b.offset }
                .prefix(searchOptions.nBest).map(\.element)
        }
        return (ranked.map { $0.map(\.0) }, ranked.map { $0.map { Optional($0.1) } })
    }
}
