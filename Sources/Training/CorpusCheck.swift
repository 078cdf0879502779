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
    /// Spearman's rank correlation in [-1, 1] between a sampled pair's position and its source
    /// length in tokens: about 0 for a shuffled corpus, near 1 (or -1) for one sorted by length.
    public let lengthOrderCorrelation: Double

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
        var lengths: [Int] = []
        var shard = 0
        while sampled < sampleSize && shard < shards.shardCount {
            let reader = try ShardReader(shards: shards, index: shard)
            while sampled < sampleSize, let pair = try reader.next() {
                let source = preparer.sourceIDs(pair.source), target = preparer.targetIDs(pair.target)
                sourceTokens += source.count
                sourceUnknown += source.lazy.filter { $0 == TokenID.unknown }.count
                targetTokens += target.count
                targetUnknown += target.lazy.filter { $0 == TokenID.unknown }.count
                lengths.append(source.count)
                sampled += 1
            }
            shard += 1
        }
        pairsSampled = sampled
        sourceUnknownRate = sourceTokens == 0 ? 0 : Double(sourceUnknown) / Double(sourceTokens)
        targetUnknownRate = targetTokens == 0 ? 0 : Double(targetUnknown) / Double(targetTokens)
        lengthOrderCorrelation = Self.spearman(lengths)
    }

    /// Spearman's ρ between positions 0..<n and `values` (ties get their mean rank): the Pearson
    /// correlation of the two rank vectors; 0 when either is constant or n < 2.
    static func spearman(_ values: [Int]) -> Double {
        let n = values.count
        guard n >= 2 else { return 0 }
        let order = values.indices.sorted { (values[$0], $0) < (values[$1], $1) }
        var ranks = [Double](repeating: 0, count: n)
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && values[order[j + 1]] == values[order[i]] { j += 1 }
            let mean = Double(i + j) / 2
            for k in i...j { ranks[order[k]] = mean }
            i = j + 1
        }
        let mean = Double(n - 1) / 2
        var covariance = 0.0, positionVariance = 0.0, rankVariance = 0.0
        for (position, rank) in ranks.enumerated() {
            let dp = Double(position) - mean, dr = rank - mean
            covariance += dp * dr
            positionVariance += dp * dp
            rankVariance += dr * dr
        }
        guard rankVariance > 0 else { return 0 }
        return covariance / (positionVariance * rankVariance).squareRoot()
    }

    /// Whether the sample looks sorted by length (ascending or descending): at least 100 pairs and
    /// |ρ| ≥ 0.8 (a shuffled sample of that size stays below 0.3 all but never).
    public var looksSortedByLength: Bool {
        pairsSampled >= 100 && abs(lengthOrderCorrelation) >= 0.8
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
