import Basics
import Foundation

/// How `BatchStream` shuffles and batches.
public struct BatchingOptions: Codable, Sendable, Equatable {
    /// Most sentences in a batch.
    public var batchSize: Int
    /// When set, a batch also stops before its padded size (longest length × count) would
    /// exceed this many tokens; a single longer item still forms a batch of one.
    public var tokenBudget: Int?
    /// Pairs read, shuffled and length-sorted together. Memory holds at most
    /// `prefetchWindows + 2` windows of prepared items.
    public var windowSize: Int
    public var seed: UInt64
    /// Windows the background reader may finish ahead of the consumer.
    public var prefetchWindows: Int

    public init(batchSize: Int = 64, tokenBudget: Int? = nil, windowSize: Int = 10_000, seed: UInt64 = 1,
                prefetchWindows: Int = 1) {
        self.batchSize = batchSize
        self.tokenBudget = tokenBudget
        self.windowSize = windowSize
        self.seed = seed
        self.prefetchWindows = prefetchWindows
    }

    private enum CodingKeys: String, CodingKey { case batchSize, tokenBudget, windowSize, seed, prefetchWindows }

    /// Missing keys take the defaults, so configurations saved before a field existed still load.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = BatchingOptions()
        batchSize = try container.decode(Int.self, forKey: .batchSize, default: defaults.batchSize)
        tokenBudget = try container.decodeIfPresent(Int.self, forKey: .tokenBudget)
        windowSize = try container.decode(Int.self, forKey: .windowSize, default: defaults.windowSize)
        seed = try container.decode(UInt64.self, forKey: .seed, default: defaults.seed)
        prefetchWindows = try container.decode(Int.self, forKey: .prefetchWindows, default: defaults.prefetchWindows)
    }

    func validate() throws {
        guard batchSize > 0 else { throw CorpusError.invalidOptions(reason: "batch size must be positive") }
        guard windowSize > 0 else { throw CorpusError.invalidOptions(reason: "window size must be positive") }
        guard prefetchWindows > 0 else { throw CorpusError.invalidOptions(reason: "prefetch windows must be positive") }
        if let tokenBudget, tokenBudget <= 0 { throw CorpusError.invalidOptions(reason: "token budget must be positive") }
    }
}

/// Where a `BatchStream` stands inside one epoch; save it with a checkpoint and pass it back
/// as `resumeFrom` to continue with exactly the batches an uninterrupted run would return.
///
/// The epoch's pairs form one stream (shards concatenated in the epoch's shard order) cut into
/// windows of `windowSize` pairs. A position is the start of the current window in that stream,
/// how many of its batches were already returned, and the window's generator state.
public struct StreamPosition: Codable, Equatable, Sendable {
    public var epoch: Int
    /// Pairs of the epoch's stream before the current window (a multiple of the window size).
    public var windowStart: Int
    /// Batches of the current window already returned.
    public var batchesConsumed: Int
    /// Index into the epoch's shard order and pair offset inside that shard where the window
    /// starts (informational: derived from `windowStart` and the manifest).
    public var shardOrderIndex: Int
    public var pairOffsetInShard: Int
    /// Generator state at the window start; checked on resume so a position saved with another
    /// seed, window size, batch size or token budget is refused instead of giving other batches.
    public var rngState: UInt64

    public init(epoch: Int, windowStart: Int, batchesConsumed: Int, shardOrderIndex: Int, pairOffsetInShard: Int,
                rngState: UInt64) {
        self.epoch = epoch
        self.windowStart = windowStart
        self.batchesConsumed = batchesConsumed
        self.shardOrderIndex = shardOrderIndex
        self.pairOffsetInShard = pairOffsetInShard
        self.rngState = rngState
    }
}

/// One epoch of shuffled, length-bucketed batches with a resumable position.
///
/// Order of work: shards are visited in a seeded random order (seed, epoch); their pairs form a
/// stream cut into windows of `windowSize` pairs; each window is passed through `prepare`
/// (nil drops a pair), shuffled, sorted by `length` (ties keep the shuffled order), cut into
/// batches by sentence count and optional token budget, and the batches are shuffled. Reading,
/// decompressing, `prepare`, `length` and batching all run on one background thread that fills
/// a bounded queue of finished windows, so the caller's thread only pops batches. Memory is
/// bounded by the window and buffer sizes, not by the corpus size. The thread stops at the end
/// of the epoch or when the stream is deallocated.
///
/// `prepare` and `length` run on the background thread: they must not touch state the caller
/// mutates meanwhile.
public final class BatchStream<Item> {
    public let options: BatchingOptions
    public let epoch: Int
    /// Shard indices (into the manifest) in this epoch's visiting order.
    public let shardOrder: [Int]
    private let shards: ShardSet
    private let channel: WindowChannel<Item>
    private var window: FinishedWindow<Item>?
    private var nextBatch = 0
    private var skipInFirstWindow: Int
    private var ended = false
    public private(set) var position: StreamPosition

    public convenience init(shards: ShardSet, options: BatchingOptions, epoch: Int, resumeFrom: StreamPosition?,
                            prepare: @escaping (SentencePair) -> Item?, length: @escaping (Item) -> Int) throws {
        try self.init(shards: shards, options: options, epoch: epoch, resumeFrom: resumeFrom,
                      prepareAt: { pair, _ in prepare(pair) }, length: length)
    }

    /// As the other initializer; `prepareAt` also receives the pair's index in this epoch's
    /// stream (0 for its first pair), the same on a resumed run (BPE-dropout seeds from it).
    public init(shards: ShardSet, options: BatchingOptions, epoch: Int, resumeFrom: StreamPosition?,
                prepareAt prepare: @escaping (SentencePair, Int) -> Item?, length: @escaping (Item) -> Int) throws {
        try options.validate()
        try shards.checkShardsPresent()
        self.options = options
        self.epoch = epoch
        self.shards = shards
        var orderRNG = SplitMix64(seed: SplitMix64.derive(options.seed, UInt64(bitPattern: Int64(epoch)), 0x5348_4152_44))
        var order = Array(shards.manifest.shards.indices)
        orderRNG.shuffle(&order)
        shardOrder = order

        let start = resumeFrom?.windowStart ?? 0
        if let resume = resumeFrom {
            guard resume.epoch == epoch else {
                throw CorpusError.badPosition(reason: "position is for epoch \(resume.epoch), stream is epoch \(epoch)")
            }
            guard start >= 0, start <= shards.pairCount, start % options.windowSize == 0 || start == shards.pairCount,
                  resume.batchesConsumed >= 0 else {
                throw CorpusError.badPosition(reason: "window start \(start) does not fit this corpus and window size \(options.windowSize)")
            }
            guard resume.rngState == BatchStream.windowState(options: options, epoch: epoch, windowStart: start) else {
                throw CorpusError.badPosition(reason: "position was saved with other batching options (seed, window, batch size or token budget)")
            }
        }
        skipInFirstWindow = resumeFrom?.batchesConsumed ?? 0
        position = BatchStream.makePosition(shards: shards, order: order, options: options, epoch: epoch,
                                            windowStart: start, batchesConsumed: skipInFirstWindow)
        channel = WindowChannel(capacity: options.prefetchWindows)
        let producer = WindowProducer(shards: shards, order: order, options: options, epoch: epoch,
                                      firstWindowStart: start, channel: channel, prepare: prepare, length: length)
        let thread = Thread { producer.run() }
        thread.name = "seq2seq.BatchStream"
        thread.start()
    }

    deinit { channel.shutDown() }

    /// The window's generator state. Every batching setting goes in, so a position saved under
    /// other settings fails the resume check instead of silently selecting other batches.
    static func windowState(options: BatchingOptions, epoch: Int, windowStart: Int) -> UInt64 {
        SplitMix64.derive(options.seed, UInt64(bitPattern: Int64(epoch)), UInt64(options.windowSize),
                          UInt64(options.batchSize), UInt64(bitPattern: Int64(options.tokenBudget ?? -1)),
                          UInt64(windowStart))
    }

    static func makePosition(shards: ShardSet, order: [Int], options: BatchingOptions, epoch: Int,
                             windowStart: Int, batchesConsumed: Int) -> StreamPosition {
        let (orderIndex, offset) = shards.locate(windowStart, order: order)
        return StreamPosition(epoch: epoch, windowStart: windowStart, batchesConsumed: batchesConsumed,
                              shardOrderIndex: orderIndex, pairOffsetInShard: offset,
                              rngState: windowState(options: options, epoch: epoch, windowStart: windowStart))
    }

    /// The next batch, or nil at the end of the epoch.
    public func next() throws -> [Item]? {
        while !ended {
            if let window, nextBatch < window.batches.count {
                let batch = window.batches[nextBatch]
                nextBatch += 1
                if nextBatch < window.batches.count {
                    position.batchesConsumed = nextBatch
                } else {
                    // Finished windows are recorded as "next window, nothing consumed" so a
                    // resumed run does not re-read a window it would skip entirely.
                    position = BatchStream.makePosition(shards: shards, order: shardOrder, options: options, epoch: epoch,
                                                        windowStart: window.start + window.pairs, batchesConsumed: 0)
                }
                return batch
            }
            guard let popped = try channel.pop() else {
                ended = true
                window = nil
                return nil
            }
            window = popped
            nextBatch = 0
            if skipInFirstWindow > 0 {
                guard skipInFirstWindow <= popped.batches.count else {
                    throw CorpusError.badPosition(reason: "position says \(skipInFirstWindow) batches consumed, window has \(popped.batches.count)")
                }
                nextBatch = skipInFirstWindow
                skipInFirstWindow = 0
            }
            if nextBatch == popped.batches.count {
                position = BatchStream.makePosition(shards: shards, order: shardOrder, options: options, epoch: epoch,
                                                    windowStart: popped.start + popped.pairs, batchesConsumed: 0)
            }
        }
        return nil
    }
}

/// A window after batching: its place in the stream and its batches in return order.
struct FinishedWindow<Item> {
    var start: Int
    var pairs: Int
    var batches: [[Item]]
}

/// Bounded hand-off of finished windows from the reader thread to the consumer.
final class WindowChannel<Item> {
    private let condition = NSCondition()
    private var queue: [FinishedWindow<Item>] = []
    private let capacity: Int
    private var cancelled = false
    private var producerDone = false
    private var failure: Error?

    init(capacity: Int) { self.capacity = capacity }

    var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    /// Blocks while the queue is full; returns false when the consumer has gone away.
    func push(_ window: FinishedWindow<Item>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        queue.append(window)
        condition.broadcast()
        return true
    }

    /// Called once by the producer as its last act.
    func finish(error: Error?) {
        condition.lock()
        failure = error
        producerDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// Next window; nil once the producer finished and the queue is drained; rethrows its error.
    func pop() throws -> FinishedWindow<Item>? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !producerDone { condition.wait() }
        if !queue.isEmpty {
            let window = queue.removeFirst()
            condition.broadcast()
            return window
        }
        if let failure { throw failure }
        return nil
    }

    /// Tells the producer to stop and waits until its thread has left `run()`.
    func shutDown() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        while !producerDone { condition.wait() }
        condition.unlock()
    }
}

/// The background half of a `BatchStream`: reads pairs, prepares, windows and batches them.
final class WindowProducer<Item> {
    let shards: ShardSet
    let order: [Int]
    let options: BatchingOptions
    let epoch: Int
    let firstWindowStart: Int
    let channel: WindowChannel<Item>
    let prepare: (SentencePair, Int) -> Item?
    let length: (Item) -> Int

    init(shards: ShardSet, order: [Int], options: BatchingOptions, epoch: Int, firstWindowStart: Int,
         channel: WindowChannel<Item>, prepare: @escaping (SentencePair, Int) -> Item?, length: @escaping (Item) -> Int) {
        self.shards = shards
        self.order = order
        self.options = options
        self.epoch = epoch
        self.firstWindowStart = firstWindowStart
        self.channel = channel
        self.prepare = prepare
        self.length = length
    }

    func run() {
        do {
            try produce()
            channel.finish(error: nil)
        } catch {
            channel.finish(error: error)
        }
    }

    private func produce() throws {
        let cursor = try PairCursor(shards: shards, order: order, start: firstWindowStart)
        var windowStart = firstWindowStart
        var items: [Item] = []
        while windowStart < shards.pairCount {
            items.removeAll(keepingCapacity: true)
            var consumed = 0
            while consumed < options.windowSize, let pair = try cursor.next() {
                if let item = prepare(pair, windowStart + consumed) { items.append(item) }
                consumed += 1
                if consumed & 1023 == 0 && channel.isCancelled { return }
            }
            if consumed == 0 { break }
            var rng = SplitMix64(seed: BatchStream<Item>.windowState(options: options, epoch: epoch, windowStart: windowStart))
            let batches = WindowProducer.makeBatches(items, options: options, length: length, rng: &rng)
            if !channel.push(FinishedWindow(start: windowStart, pairs: consumed, batches: batches)) { return }
            windowStart += consumed
        }
        if windowStart < shards.pairCount && !channel.isCancelled {
            throw CorpusError.corruptShard(path: shards.directory, detail: "shards hold fewer pairs than the manifest's \(shards.pairCount)")
        }
    }

    /// Shuffle, sort by length (ties in shuffled order), cut by count and token budget, shuffle batches.
    static func makeBatches(_ items: [Item], options: BatchingOptions, length: (Item) -> Int,
                            rng: inout SplitMix64) -> [[Item]] {
        var order = Array(items.indices)
        rng.shuffle(&order)
        // Sort keys (length, rank in shuffled order): deterministic whatever sort Swift uses.
        var keys = [(length: Int, rank: Int, index: Int)]()
        keys.reserveCapacity(order.count)
        for (rank, index) in order.enumerated() { keys.append((length(items[index]), rank, index)) }
        keys.sort { $0.length != $1.length ? $0.length < $1.length : $0.rank < $1.rank }

        var batches: [[Item]] = []
        var batch: [Item] = []
        var longest = 0
        for key in keys {
            let newLongest = max(longest, key.length)
            let full = batch.count == options.batchSize
                || (options.tokenBudget.map { newLongest * (batch.count + 1) > $0 } ?? false)
            if !batch.isEmpty && full {
                batches.append(batch)
                batch = []
                longest = key.length
            } else {
                longest = newLongest
            }
            batch.append(items[key.index])
        }
        if !batch.isEmpty { batches.append(batch) }
        rng.shuffle(&batches)
        return batches
    }
}

/// Pairs of the epoch's stream from a given offset, shard after shard in the epoch's order.
final class PairCursor {
    private let shards: ShardSet
    private let order: [Int]
    private var orderIndex = 0
    private var reader: ShardReader?

    init(shards: ShardSet, order: [Int], start: Int) throws {
        self.shards = shards
        self.order = order
        // Whole shards before the start are skipped using the manifest, without reading them.
        let (firstIndex, remaining) = shards.locate(start, order: order)
        orderIndex = firstIndex
        if remaining > 0 {
            let reader = try ShardReader(shards: shards, index: order[orderIndex])
            if try reader.skip(remaining) != remaining {
                throw CorpusError.corruptShard(path: reader.path, detail: "fewer pairs than the manifest says")
            }
            self.reader = reader
        }
    }

    func next() throws -> SentencePair? {
        while orderIndex < order.count {
            if reader == nil { reader = try ShardReader(shards: shards, index: order[orderIndex]) }
            if let pair = try reader!.next() { return pair }
            reader = nil
            orderIndex += 1
        }
        return nil
    }
}
