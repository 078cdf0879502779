import Corpus
import Foundation
import Testing

/// `ShardSet.part(_:of:)`: the disjoint, shard-granular parts that data-parallel training reads.
@Suite struct ShardPartTests {
    /// 3 parts of 7 shards (5 pairs each, the last 3): shards 0,3,6 / 1,4 / 2,5; every pair in
    /// exactly one part, each part's totals those of its shards, and a stream over a part returns
    /// exactly the part's pairs.
    @Test func partsAreDisjointWholeShardsCoveringTheCorpus() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 33, pairsPerShard: 5)
        #expect(set.shardCount == 7)
        var seen: [Int] = []
        for p in 0..<3 {
            let part = try set.part(p, of: 3)
            #expect(part.manifest.shards.map(\.name) == stride(from: p, to: 7, by: 3).map { set.manifest.shards[$0].name })
            #expect(part.pairCount == part.manifest.shards.reduce(0) { $0 + $1.pairs })
            let stream = try BatchStream(shards: part, options: BatchingOptions(batchSize: 4, windowSize: 8, seed: 3),
                                         epoch: 0, resumeFrom: nil, prepare: { $0 }, length: { $0.source.utf8.count })
            var streamed: [Int] = []
            while let batch = try stream.next() { streamed += batch.map(pairID) }
            #expect(streamed.sorted() == (try readAll(part)).map(pairID).sorted())
            #expect(streamed.count == part.pairCount)
            seen += streamed
        }
        #expect(seen.sorted() == Array(0..<33))
    }

    @Test func onePartIsTheWholeCorpus() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 12, pairsPerShard: 5)
        #expect(try set.part(0, of: 1) === set)
    }

    @Test func morePartsThanShardsIsRefusedSayingHowToReshard() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 12, pairsPerShard: 5)
        #expect {
            _ = try set.part(0, of: 4)
        } throws: { error in
            "\(error)".contains("3 shards for 4 data parts") && "\(error)".contains("--pairs-per-shard")
        }
        #expect(throws: CorpusError.self) { _ = try set.part(4, of: 4) }
    }
}
