import Basics
@testable import Corpus
import Foundation
import Testing
import TestSupport

/// Thread-safe counter for calls made on the stream's reader thread.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}

@Suite struct BatchStreamTests {
    static let options = BatchingOptions(batchSize: 4, windowSize: 16, seed: 42)

    static func stream(_ set: ShardSet, _ options: BatchingOptions = options, epoch: Int = 0,
                       from position: StreamPosition? = nil) throws -> BatchStream<SentencePair> {
        try BatchStream(shards: set, options: options, epoch: epoch, resumeFrom: position,
                        prepare: { $0 }, length: { Fixture.spaceTokens($0.source) })
    }

    /// Every batch as pair ids, plus the position after each batch.
    static func drain(_ stream: BatchStream<SentencePair>) throws -> (batches: [[Int]], positions: [StreamPosition]) {
        var batches: [[Int]] = []
        var positions: [StreamPosition] = []
        while let batch = try stream.next() {
            batches.append(batch.map(pairID))
            positions.append(stream.position)
        }
        return (batches, positions)
    }

    @Test(arguments: [(1, 100), (16, 13), (7, 1000), (100, 5)])
    func everyPairExactlyOncePerEpoch(windowSize: Int, pairsPerShard: Int) throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 101, pairsPerShard: pairsPerShard)
        var options = Self.options
        options.windowSize = windowSize
        for epoch in 0..<2 {
            let ids = try Self.drain(Self.stream(set, options, epoch: epoch)).batches.flatMap { $0 }
            #expect(ids.sorted() == Array(0..<101))
        }
    }

    @Test func batchesAreLengthSortedAndRespectLimits() throws {
        var rng = SplitMix64(seed: 3)
        let items = (0..<50).map { ($0, $0 * 7 % 11 + 1) }   // (id, length)
        for budget in [nil, 12, 30] as [Int?] {
            let options = BatchingOptions(batchSize: 5, tokenBudget: budget, windowSize: 50)
            let batches = WindowProducer.makeBatches(items, options: options, length: { $0.1 }, rng: &rng)
            #expect(batches.flatMap { $0 }.map(\.0).sorted() == Array(0..<50))
            for batch in batches {
                let lengths = batch.map(\.1)
                #expect(lengths == lengths.sorted())
                #expect(batch.count <= 5)
                if let budget, batch.count > 1 { #expect(lengths.max()! * batch.count <= budget) }
            }
            // Batches cover disjoint length ranges of the sorted window.
            let ordered = batches.sorted { ($0.first!.1, $0.last!.1) < ($1.first!.1, $1.last!.1) }
            #expect(ordered.flatMap { $0.map(\.1) } == items.map(\.1).sorted())
        }
    }

    @Test func sameSeedSameBatchesOtherEpochOrSeedDiffers() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 120, pairsPerShard: 17)
        let a = try Self.drain(Self.stream(set)).batches
        let b = try Self.drain(Self.stream(set)).batches
        let otherEpoch = try Self.drain(Self.stream(set, epoch: 1)).batches
        var reseeded = Self.options
        reseeded.seed = 43
        let otherSeed = try Self.drain(Self.stream(set, reseeded)).batches
        #expect(a == b)
        #expect(a != otherEpoch)
        #expect(a != otherSeed)
        #expect(try Self.stream(set).shardOrder != Self.stream(set, epoch: 3).shardOrder
                || Self.stream(set).shardOrder != Self.stream(set, epoch: 4).shardOrder)
    }

    @Test func resumingFromAnySavedPositionGivesTheSameRemainingBatches() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 90, pairsPerShard: 11)
        for options in [Self.options, BatchingOptions(batchSize: 8, tokenBudget: 20, windowSize: 25, seed: 9)] {
            let full = try Self.drain(Self.stream(set, options, epoch: 2))
            #expect(full.positions.last?.windowStart == 90)
            for k in full.positions.indices {
                // Round-trip the position through JSON as a checkpoint would.
                let saved = try JSONDecoder().decode(StreamPosition.self,
                                                     from: JSONEncoder().encode(full.positions[k]))
                let resumed = try Self.drain(Self.stream(set, options, epoch: 2, from: saved))
                #expect(resumed.batches == Array(full.batches[(k + 1)...]), "resumed after batch \(k)")
                #expect(resumed.positions == Array(full.positions[(k + 1)...]))
            }
        }
    }

    @Test func positionLocatesShardAndOffset() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 50, pairsPerShard: 10)
        let stream = try Self.stream(set, BatchingOptions(batchSize: 100, windowSize: 16, seed: 1))
        _ = try stream.next()
        #expect(stream.position.windowStart == 16)
        #expect(stream.position.shardOrderIndex == 1)
        #expect(stream.position.pairOffsetInShard == 6)
        #expect(stream.position.batchesConsumed == 0)
    }

    @Test func foreignPositionIsRefused() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 40, pairsPerShard: 10)
        let stream = try Self.stream(set)
        _ = try stream.next()
        var other = Self.options
        other.seed = 1
        #expect(throws: CorpusError.self) { _ = try Self.stream(set, other, from: stream.position) }
        #expect(throws: CorpusError.self) { _ = try Self.stream(set, epoch: 1, from: stream.position) }
        var wider = Self.options
        wider.batchSize += 1
        #expect(throws: CorpusError.self) { _ = try Self.stream(set, wider, from: stream.position) }
        #expect(throws: Never.self) { _ = try Self.stream(set, from: stream.position) }
    }

    @Test func droppedPairsAreSkipped() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 60, pairsPerShard: 7)
        let stream = try BatchStream(shards: set, options: Self.options, epoch: 0, resumeFrom: nil,
                                     prepare: { pairID($0) % 3 == 0 ? nil : pairID($0) }, length: { $0 % 5 })
        var ids: [Int] = []
        while let batch = try stream.next() { ids += batch }
        #expect(ids.sorted() == (0..<60).filter { $0 % 3 != 0 })
    }

    @Test func readerThreadStaysWithinTheWindowBound() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 400, pairsPerShard: 50)
        let prepared = CallCounter()
        let options = BatchingOptions(batchSize: 2, windowSize: 10, seed: 5, prefetchWindows: 1)
        var stream: BatchStream<SentencePair>? = try BatchStream(
            shards: set, options: options, epoch: 0, resumeFrom: nil,
            prepare: { prepared.increment(); return $0 }, length: { $0.source.utf8.count })
        _ = try stream!.next()
        Thread.sleep(forTimeInterval: 0.2)
        // One window being consumed, `prefetchWindows` queued, one being built.
        #expect(prepared.count <= (options.prefetchWindows + 2) * options.windowSize)
        stream = nil   // deinit stops and joins the reader thread
        let after = prepared.count
        Thread.sleep(forTimeInterval: 0.05)
        #expect(prepared.count == after)
    }

    @Test func corruptShardSurfacesThroughNext() throws {
        let dir = TempDir()
        let set = try makeNumberedCorpus(dir, count: 30, pairsPerShard: 10)
        let path = set.path(ofShard: 1)
        var bytes = Array(FileManager.default.contents(atPath: path)!)
        bytes.removeLast(5)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let stream = try Self.stream(set)
        do {
            while try stream.next() != nil {}
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("shard-00001.zst"))
        }
    }
}
