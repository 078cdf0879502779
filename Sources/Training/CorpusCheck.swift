import Basics
import Corpus
import Foundation

/// What the first pairs of a shard folder say before training starts (`train` prints it and may
/// refuse): the share of `<unk>` on each side under the run's vocabularies, which catches swapped
/// vocabularies, a vocabulary built from the wrong file and swapped TSV columns, and whether the
/// pairs are ordered by length (`train` shuffles only within windows, so a sorted corpus would
/// train on its shortest sentences first).
public struct CorpusCheck: Sendable, Equatable {
    /// Pairs read from the start of the folder (in shard order).
    public let pairsSampled: Int
    /// Fraction in [0, 1] of the sampled source tokens (subword pieces, `</s>` excluded) that are
    /// `<unk>` under the source vocabulary.
    public let sourceUnknownRate: Double
    /// The same for the target side.
    public let targetUnknownRate: Double
    /// Of the adjacent sampled pairs whose source token counts differ, the fraction where the
    /// count grows: about 0.5 for a shuffled corpus, near 1 (or 0) for one sorted by length.
    public let lengthIncreaseFraction: Double
    /// How many adjacent pairs differed in length (the fraction above is noise below ~50).
    public let lengthChanges: Int

    /// Above this `<unk>` rate on either side `train` warns.
    public static let warningUnknownRate = 0.10
    /// Above this `<unk>` rate on either side `train` refuses to start unless `--allow-unk`.
    public static let refusalUnknownRate = 0.50

    /// Reads up to `sampleSize` pairs from the start of `shards` and maps them with `preparer`
    /// (plain subwords, no dropout, no length limit).
    /// - Throws: `CorpusError` when a shard cannot be read.
    public init(shards: ShardSet, preparer: PairPreparer, sampleSize: Int = 2000) throws {
        var sampled = 0
        var sourceTokens = 0, sourceUnknown = 0, targetTokens = 0, targetUnknown = 0
        var increases = 0, changes = 0
        var previousLength: Int?
        var shard = 0
        while sampled < sampleSize && shard < shards.shardCount {
            let reader = try ShardReader(shards: shards, index: shard)
            while sampled < sampleSize, let pair = try reader.next() {
                let source = preparer.sourceIDs(pair.source), target = preparer.targetIDs(pair.target)
                sourceTokens += source.count
                sourceUnknown += source.lazy.filter { $0 == TokenID.unknown }.count
                targetTokens += target.count
                targetUnknown += target.lazy.filter { $0 == TokenID.unknown }.count
                if let previousLength, previousLength != source.count {
                    changes += 1
                    if source.count > previousLength { increases += 1 }
                }
                previousLength = source.count
                sampled += 1
            }
            shard += 1
        }
        pairsSampled = sampled
        sourceUnknownRate = sourceTokens == 0 ? 0 : Double(sourceUnknown) / Double(sourceTokens)
        targetUnknownRate = targetTokens == 0 ? 0 : Double(targetUnknown) / Double(targetTokens)
        lengthChanges = changes
        lengthIncreaseFraction = changes == 0 ? 0.5 : Double(increases) / Double(changes)
    }

    /// Whether the sample looks sorted by length (ascending or descending): at least 50 changes of
    /// length, at least 90 % of them in one direction.
    public var looksSortedByLength: Bool {
        lengthChanges >= 50 && (lengthIncreaseFraction >= 0.9 || lengthIncreaseFraction <= 0.1)
    }

    /// The side ("source"/"target") and rate of the worse `<unk>` rate.
    public var worstSide: (side: String, rate: Double) {
        sourceUnknownRate >= targetUnknownRate ? ("source", sourceUnknownRate) : ("target", targetUnknownRate)
    }

    /// One line for the start of a run: the `<unk>` rate of each side, in percent.
    public var summary: String {
        String(format: "<unk> in the first %d pairs: source %.1f %%, target %.1f %%",
               pairsSampled, 100 * sourceUnknownRate, 100 * targetUnknownRate)
    }
}
